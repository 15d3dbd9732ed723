/**
 * Mindbody Public API v6 client: `Api-Key` + `SiteId` headers, a staff user token for staff-level
 * reads, limit/offset pagination. One per clinic (memoized in the connector runtime).
 * https://developers.mindbodyonline.com/PublicDocumentation/V6
 */
import type { z } from 'zod';
import { createVendorHttp, type VendorHttp } from '../http.js';
import { SharedRateLimiter } from '../rate-budget.js';
import { credential, requireCredential } from '../shared.js';
import type { ApiContext } from '../types.js';
import {
  MINDBODY_API_BASE,
  MINDBODY_CLIENT_IDS_PER_CALL,
  MINDBODY_PAGE_LIMIT,
  MINDBODY_RATE_LIMIT,
  MINDBODY_TOKEN_TTL_MS,
} from './constants.js';
import {
  type ApiAppointment,
  type ApiClient,
  type ApiClientService,
  clientServicesResponse,
  clientsResponse,
  sessionTypesResponse,
  staffAppointmentsResponse,
  userTokenResponse,
} from './schemas.js';

export interface MindbodyClient {
  appointments(q: {
    startDate: string;
    endDate: string;
    clientId?: string;
    appointmentIds?: string[];
  }): Promise<ApiAppointment[]>;
  clientsByIds(ids: string[]): Promise<ApiClient[]>;
  clientsModifiedSince(since: string): Promise<ApiClient[]>;
  sessionTypes(): Promise<{ id: string; name: string }[]>;
  /** The pricing options on a client's account (by the client's Mindbody `Id`) that pay for a session type. */
  clientServices(clientId: string, sessionTypeId?: string | null): Promise<ApiClientService[]>;
}

export function mindbodyClient(ctx: ApiContext): MindbodyClient {
  const { clinic, runtime } = ctx;
  return runtime.memo(`mindbody/${clinic.id}`, () => build(ctx));
}

function build({ clinic, runtime, db }: ApiContext): MindbodyClient {
  const apiKey = requireCredential(clinic, 'apiKey', runtime.secrets);
  const siteId = clinic.connector!.siteId!;
  const username = credential(clinic, 'username', runtime.secrets);
  const password = credential(clinic, 'password', runtime.secrets);
  const base = { 'Api-Key': apiKey, SiteId: siteId, 'Content-Type': 'application/json' };
  let token: { value: string; expiresAt: number } | undefined;

  const common = {
    platform: 'mindbody',
    clinicId: clinic.id,
    baseURL: clinic.connector?.apiBaseUrl ?? MINDBODY_API_BASE,
    counter: runtime.counter,
    log: runtime.log,
    sleep: runtime.sleep,
    // One window per site for every call, the token's included, across every process.
    limiter: new SharedRateLimiter({
      db,
      clinicId: clinic.id,
      platform: 'mindbody',
      rate: MINDBODY_RATE_LIMIT,
      runtime,
    }),
    ...(runtime.retry ? { retry: runtime.retry } : {}),
  };
  const tokenHttp = createVendorHttp({ ...common, headers: async () => base });

  // https://developers.mindbodyonline.com/PublicDocumentation/V6#issue-token
  async function userToken(): Promise<string | undefined> {
    if (!username || !password) return undefined;
    if (token && token.expiresAt > runtime.now()) return token.value;
    const r = await tokenHttp.request(
      { method: 'POST', url: '/usertoken/issue', data: { Username: username, Password: password } },
      userTokenResponse,
    );
    token = { value: r.AccessToken, expiresAt: runtime.now() + MINDBODY_TOKEN_TTL_MS };
    return token.value;
  }

  const http: VendorHttp = createVendorHttp({
    ...common,
    headers: async () => {
      const t = await userToken();
      return t ? { ...base, Authorization: t } : base;
    },
    onUnauthorized: async () => {
      if (!username) return false;
      token = undefined;
      return true;
    },
  });

  /** Every page of a limit/offset listing. */
  async function all<S extends z.ZodType<{ PaginationResponse: { TotalResults: number } }>, T>(
    url: string,
    params: Record<string, unknown>,
    schema: S,
    pick: (r: z.infer<S>) => T[],
  ): Promise<T[]> {
    const out: T[] = [];
    for (let offset = 0; ; offset += MINDBODY_PAGE_LIMIT) {
      const page = await http.request(
        { method: 'GET', url, params: { ...params, 'request.limit': MINDBODY_PAGE_LIMIT, 'request.offset': offset } },
        schema,
      );
      const items = pick(page);
      out.push(...items);
      if (items.length === 0 || offset + items.length >= page.PaginationResponse.TotalResults) return out;
    }
  }

  return {
    // https://developers.mindbodyonline.com/PublicDocumentation/V6#get-staff-appointments
    appointments(q) {
      const params: Record<string, unknown> = { 'request.startDate': q.startDate, 'request.endDate': q.endDate };
      if (q.clientId) params['request.clientId'] = q.clientId;
      if (q.appointmentIds?.length) params['request.appointmentIds'] = q.appointmentIds;
      return all('/appointment/staffappointments', params, staffAppointmentsResponse, (r) => r.Appointments);
    },
    // https://developers.mindbodyonline.com/PublicDocumentation/V6#get-clients
    async clientsByIds(ids) {
      const out: ApiClient[] = [];
      for (let i = 0; i < ids.length; i += MINDBODY_CLIENT_IDS_PER_CALL) {
        const chunk = ids.slice(i, i + MINDBODY_CLIENT_IDS_PER_CALL);
        out.push(...(await all('/client/clients', { 'request.clientIDs': chunk }, clientsResponse, (r) => r.Clients)));
      }
      return out;
    },
    clientsModifiedSince(since) {
      return all('/client/clients', { 'request.lastModifiedDate': since }, clientsResponse, (r) => r.Clients);
    },
    // https://developers.mindbodyonline.com/PublicDocumentation/V6#get-client-services
    clientServices(clientId, sessionTypeId) {
      const params: Record<string, unknown> = { 'request.clientId': clientId };
      if (sessionTypeId) params['request.sessionTypeIds'] = [sessionTypeId];
      return all('/client/clientservices', params, clientServicesResponse, (r) => r.ClientServices);
    },
    // https://developers.mindbodyonline.com/PublicDocumentation/V6#get-session-types
    async sessionTypes() {
      const r = await http.request({ method: 'GET', url: '/site/sessiontypes' }, sessionTypesResponse);
      return r.SessionTypes.map((s) => ({ id: s.Id, name: s.Name }));
    },
  };
}
