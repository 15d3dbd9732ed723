/**
 * The Jane App connector (partner API). Completion is never pushed: polling finds `arrived`
 * appointments whose `end_at` has passed; webhooks (booked/cancelled/rescheduled/uncancelled)
 * name an appointment that is read from the API when processed.
 * https://developers.janeapp.com/api
 */
import { completedAppointmentIds, readState, writeState } from '../../src/db/connector-store.js';
import { RebookError } from '../../src/errors.js';
import type { CanonicalEvent } from '../../src/ingest/events.js';
import type { InboxItem, VendorEvent } from '../../src/ingest/inbox.js';
import { createVendorHttp, type VendorHttp } from '../http.js';
import { SharedRateLimiter } from '../rate-budget.js';
import { readSealedState, writeSealedState } from '../sealed-state.js';
import { credential, requireCredential } from '../shared.js';
import { type ApiContext, type BookingConnector, type ClientRecord, requireRuntime } from '../types.js';
import {
  JANE_BOOKING_HORIZON_MS,
  JANE_PAGE_LIMIT,
  JANE_POLL_LOOKBACK_MS,
  JANE_POLL_OVERLAP_MS,
  JANE_RATE_LIMIT,
} from './constants.js';
import { refreshTokens } from './oauth.js';
import {
  appointmentSchema,
  type JaneAppointment,
  type JanePatient,
  page,
  patientSchema,
  treatmentSchema,
} from './schemas.js';
import { janeWebhook } from './webhook.js';

const PLATFORM = 'jane';
/** connector_state key of the clinic's current refresh token (sealed: connectors/sealed-state.ts). */
export const JANE_REFRESH_STATE_KEY = 'oauth.refresh_token';

export interface JaneClient {
  appointments(q: Record<string, string>): Promise<JaneAppointment[]>;
  appointment(id: string): Promise<JaneAppointment | undefined>;
  patient(id: string): Promise<JanePatient | undefined>;
  treatments(): Promise<{ id: string; name: string; price?: number | null }[]>;
}

export function janeClient(ctx: ApiContext): JaneClient {
  const { clinic, runtime, db } = ctx;
  return runtime.memo(`jane/${clinic.id}`, () => {
    const apiBaseUrl = clinic.connector!.apiBaseUrl!;
    const clientId = requireCredential(clinic, 'clientId', runtime.secrets);
    const clientSecret = credential(clinic, 'clientSecret', runtime.secrets);
    const common = {
      platform: PLATFORM,
      clinicId: clinic.id,
      baseURL: apiBaseUrl,
      counter: runtime.counter,
      log: runtime.log,
      sleep: runtime.sleep,
      ...(runtime.retry ? { retry: runtime.retry } : {}),
    };
    let access: { token: string; expiresAt: number } | undefined;
    const tokenHttp = createVendorHttp(common);
    async function accessToken(): Promise<string> {
      if (access && access.expiresAt > runtime.now()) return access.token;
      // The one `rebook connect jane` stored (or the last rotation), else the configured credential.
      const refreshToken =
        (await readSealedState(db, clinic.id, PLATFORM, JANE_REFRESH_STATE_KEY, runtime.secrets)) ??
        requireCredential(clinic, 'refreshToken', runtime.secrets);
      const t = await refreshTokens(tokenHttp, {
        apiBaseUrl,
        clientId,
        ...(clientSecret ? { clientSecret } : {}),
        refreshToken,
      });
      // Refresh tokens rotate: the new one replaces the spent one before anything else happens.
      if (t.refresh_token && t.refresh_token !== refreshToken)
        await writeSealedState(db, clinic.id, PLATFORM, JANE_REFRESH_STATE_KEY, t.refresh_token, runtime.secrets);
      access = { token: t.access_token, expiresAt: runtime.now() + (t.expires_in ?? 3600) * 1000 - 60_000 };
      return access.token;
    }
    // The limit is per endpoint and clinic: one shared window (and one HTTP client) for each.
    const endpoints = new Map<string, VendorHttp>();
    const http = (endpoint: string) => {
      let h = endpoints.get(endpoint);
      if (!h) {
        h = createVendorHttp({
          ...common,
          limiter: new SharedRateLimiter({
            db,
            clinicId: clinic.id,
            platform: PLATFORM,
            scope: endpoint,
            rate: JANE_RATE_LIMIT,
            runtime,
          }),
          headers: async () => ({ authorization: `Bearer ${await accessToken()}` }),
          onUnauthorized: async () => {
            access = undefined;
            return true;
          },
        });
        endpoints.set(endpoint, h);
      }
      return h;
    };
    const appointmentPage = page(appointmentSchema);
    return {
      // https://developers.janeapp.com/api#list-appointments — cursor paging
      async appointments(q) {
        const out: JaneAppointment[] = [];
        let cursor: string | undefined;
        do {
          const r = await http('appointments').request(
            {
              method: 'GET',
              url: '/appointments',
              params: { ...q, 'page[limit]': JANE_PAGE_LIMIT, ...(cursor ? { 'page[cursor]': cursor } : {}) },
            },
            appointmentPage,
          );
          out.push(...r.items);
          cursor = r.hasNextPage && r.cursor ? r.cursor : undefined;
        } while (cursor);
        return out;
      },
      async appointment(id) {
        return http('appointments').request(
          { method: 'GET', url: `/appointments/${encodeURIComponent(id)}` },
          appointmentSchema,
          { allow404: true },
        );
      },
      async patient(id) {
        return http('patients').request({ method: 'GET', url: `/patients/${encodeURIComponent(id)}` }, patientSchema, {
          allow404: true,
        });
      },
      async treatments() {
        const list = page(treatmentSchema);
        const out: { id: string; name: string; price?: number | null }[] = [];
        let cursor: string | undefined;
        do {
          const r = await http('treatments').request(
            {
              method: 'GET',
              url: '/treatments',
              params: { 'page[limit]': JANE_PAGE_LIMIT, ...(cursor ? { 'page[cursor]': cursor } : {}) },
            },
            list,
          );
          out.push(
            ...r.items.map((t) => ({ id: t.id, name: t.name, price: t.price == null ? null : Number(t.price) })),
          );
          cursor = r.hasNextPage && r.cursor ? r.cursor : undefined;
        } while (cursor);
        return out;
      },
    };
  });
}

export function patientRecord(p: JanePatient): ClientRecord {
  const phone = p.phone_numbers?.find((n) => n.type === 'mobile') ?? p.phone_numbers?.[0];
  return {
    id: p.id,
    firstName: (p.preferred_name ?? p.first_name ?? '').trim() || 'there',
    lastName: (p.last_name ?? '').trim(),
    email: p.email?.trim() || null,
    phone: phone?.number ?? null,
    // Jane has an email-marketing flag and a do-not-email flag; no SMS marketing flag is exposed,
    // so SMS stays off unless the phone entry itself says it accepts SMS.
    consent: { email: p.send_marketing_emails === true && p.do_not_email !== true, sms: phone?.sms === true },
  };
}

async function treatmentNames(ctx: ApiContext): Promise<Map<string, { name: string; price?: number | null }>> {
  const holder = ctx.runtime.memo(`jane/${ctx.clinic.id}/catalog`, () => ({
    at: 0,
    map: new Map<string, { name: string; price?: number | null }>(),
  }));
  if (ctx.runtime.now() - holder.at > 12 * 3_600_000) {
    holder.map = new Map(
      (await janeClient(ctx).treatments()).map((t) => [t.id, { name: t.name, price: t.price ?? null }]),
    );
    holder.at = ctx.runtime.now();
  }
  return holder.map;
}

const ended = (a: JaneAppointment, now: number) => Date.parse(a.end_at ?? a.start_at) <= now;

/** One appointment as it stands now → what it means for us. */
async function fromAppointment(
  ctx: ApiContext,
  a: JaneAppointment,
  occurredAt: string | undefined,
): Promise<CanonicalEvent[]> {
  const now = ctx.runtime.now();
  const at = occurredAt ? { occurredAt } : {};
  if (!a.patient_id) throw new RebookError('validation_failed', 'appointment has no patient_id');
  if (a.state === 'arrived' && ended(a, now)) {
    const p = await janeClient(ctx).patient(a.patient_id);
    if (!p) throw new RebookError('validation_failed', 'patient not found on re-read');
    const t = a.treatment_id ? (await treatmentNames(ctx)).get(a.treatment_id) : undefined;
    return [
      {
        type: 'treatment.completed',
        ...at,
        client: patientRecord(p),
        appointmentId: a.id,
        service: { id: a.treatment_id ?? null, name: t?.name ?? `Jane treatment ${a.treatment_id ?? 'unknown'}` },
        completedAt: new Date(Math.min(Date.parse(a.end_at ?? a.start_at), now)).toISOString(),
        ...(t?.price != null ? { price: t.price } : {}),
      },
    ];
  }
  // Jane's `no_show` state is our canonical no-show (issue 11): the client is followed up with other wording.
  if (a.state === 'no_show')
    return [{ type: 'appointment.no_show', ...at, clientId: a.patient_id, appointmentId: a.id }];
  if (a.state === 'cancelled')
    return [{ type: 'appointment.cancelled', ...at, clientId: a.patient_id, appointmentId: a.id }];
  if (a.state === 'booked' && Date.parse(a.start_at) > now)
    return [
      {
        type: 'appointment.booked',
        ...at,
        clientId: a.patient_id,
        appointmentId: a.id,
        startAt: new Date(a.start_at).toISOString(),
      },
    ];
  return [];
}

async function resolve(ctx: ApiContext, e: VendorEvent): Promise<CanonicalEvent[]> {
  const occurredAt = typeof e.data.occurredAt === 'string' ? e.data.occurredAt : undefined;
  if (e.kind === 'poll.appointment')
    return fromAppointment(ctx, appointmentSchema.parse(e.data.appointment), occurredAt);
  const id = e.data.appointmentId;
  if (typeof id !== 'string') throw new RebookError('validation_failed', 'appointment_id missing');
  const a = await janeClient(ctx).appointment(id);
  if (!a) throw new RebookError('validation_failed', 'appointment not found on re-read');
  return fromAppointment(ctx, a, occurredAt);
}

async function poll(ctx: ApiContext) {
  const { db, clinic, runtime } = ctx;
  const now = runtime.now();
  const api = janeClient(ctx);
  const cursor = await readState(db, clinic.id, PLATFORM, 'poll.appointments');
  const since = new Date(
    cursor ? Date.parse(cursor) - JANE_POLL_OVERLAP_MS : now - JANE_POLL_LOOKBACK_MS,
  ).toISOString();
  const changed = await api.appointments({ 'updated_at[gte]': since });
  // `updated_at` does not move when an arrived appointment's end passes: look back by start too.
  const recent = await api.appointments({
    'start_at[gte]': new Date(now - JANE_POLL_LOOKBACK_MS).toISOString(),
    'state[eq]': 'arrived',
  });
  const byId = new Map([...changed, ...recent].map((a) => [a.id, a]));
  const completedIds = [...byId.values()].filter((a) => a.state === 'arrived' && ended(a, now)).map((a) => a.id);
  const done = await completedAppointmentIds(db, clinic.id, completedIds);
  const items: InboxItem[] = [];
  for (const a of byId.values()) {
    if (done.has(a.id)) continue;
    if (a.state === 'arrived' && !ended(a, now)) continue; // next poll, once it has ended
    const stamp = a.updated_at ?? a.start_at;
    items.push({
      dedupeKey: `jane:poll:${a.id}:${a.state}:${stamp}`,
      eventType: `jane:poll.appointment.${a.state}`,
      ...(a.updated_at ? { occurredAt: new Date(a.updated_at).toISOString() } : {}),
      vendor: {
        platform: PLATFORM,
        kind: 'poll.appointment',
        data: { appointment: a, ...(a.updated_at ? { occurredAt: new Date(a.updated_at).toISOString() } : {}) },
      },
    });
  }
  const stamp = new Date(now).toISOString();
  return { items, commit: () => writeState(db, clinic.id, PLATFORM, 'poll.appointments', stamp) };
}

export const janeConnector: BookingConnector = {
  platform: PLATFORM,
  remoteBookingCheck: true,
  webhook: janeWebhook,
  resolve,
  poll,
  async hasUpcomingAppointment(ctx, q) {
    const api = requireRuntime(ctx);
    const now = api.runtime.now();
    const listed = await janeClient(api).appointments({
      'patient_id[eq]': q.clientExternalId,
      'start_at[gte]': q.after,
    });
    const next = listed
      .filter(
        (a) =>
          a.id !== q.excludeAppointmentId &&
          (a.state === 'booked' || a.state === 'arrived' || a.state === 'reserved') &&
          Date.parse(a.start_at) > Date.parse(q.after) &&
          Date.parse(a.start_at) < now + JANE_BOOKING_HORIZON_MS,
      )
      .sort((x, y) => Date.parse(x.start_at) - Date.parse(y.start_at))[0];
    return next
      ? { booked: true, appointmentId: next.id, startAt: new Date(next.start_at).toISOString() }
      : { booked: false };
  },
  async lookupClient(ctx, externalId) {
    const p = await janeClient(ctx).patient(externalId);
    return p ? patientRecord(p) : undefined;
  },
  async serviceCatalog(ctx) {
    return janeClient(ctx).treatments();
  },
};
