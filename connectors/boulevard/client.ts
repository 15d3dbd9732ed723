/**
 * Boulevard Admin API client (GraphQL over POST): every request signed afresh (the token carries
 * its timestamp), a query-cost bucket per clinic that follows the cost the API reports, retries
 * through connectors/http.ts. Field and argument names are (unconfirmed) where constants.ts says so.
 */
import { z } from 'zod';
import { type CostReport, SharedCostBucket } from '../cost-budget.js';
import { createVendorHttp } from '../http.js';
import { requireCredential } from '../shared.js';
import type { ApiContext } from '../types.js';
import {
  BOULEVARD_API_URL,
  BOULEVARD_COST_EXTENSION,
  BOULEVARD_COST_RATE,
  BOULEVARD_DEFAULT_QUERY_COST,
  BOULEVARD_PAGE_SIZE,
  BOULEVARD_THROTTLED_CODE,
  boulevardAuthorization,
} from './constants.js';
import {
  appointmentSchema,
  type BoulevardAppointment,
  type BoulevardClient,
  type BoulevardMembership,
  clientSchema,
  connection,
  gqlResponse,
  membershipSchema,
  serviceSchema,
} from './schemas.js';

const PLATFORM = 'boulevard';

const APPOINTMENT_FIELDS = `id clientId startAt endAt state cancelled updatedAt locationId
  appointmentServices { serviceId price service { id name } }`;

export interface BoulevardApi {
  appointment(id: string): Promise<BoulevardAppointment | null>;
  appointments(query: string): Promise<BoulevardAppointment[]>;
  client(id: string): Promise<BoulevardClient | null>;
  membership(id: string): Promise<BoulevardMembership | null>;
  services(): Promise<{ id: string; name: string; price: number | null }[]>;
  readonly bucket: SharedCostBucket;
}

/** `{ <field>: schema }`: the shape of a GraphQL `data` with one root field. */
const rootField = (field: string, schema: z.ZodType) => z.object({ [field]: schema });

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The cost report of a GraphQL answer (constants.ts: BOULEVARD_COST_EXTENSION), if it has one. */
export function costReport(data: unknown): CostReport | undefined {
  const cost = (data as { extensions?: Record<string, unknown> } | null)?.extensions?.[BOULEVARD_COST_EXTENSION] as
    | { throttleStatus?: Record<string, unknown> }
    | undefined;
  const t = cost?.throttleStatus;
  if (!t) return undefined;
  const r: CostReport = {};
  const available = num(t.currentlyAvailable);
  const capacity = num(t.maximumAvailable);
  const restore = num(t.restoreRate);
  if (available !== undefined) r.available = available;
  if (capacity !== undefined) r.capacity = capacity;
  if (restore !== undefined) r.restorePerSecond = restore;
  return r;
}

const throttledError = (data: unknown) =>
  Array.isArray((data as { errors?: unknown } | null)?.errors) &&
  (data as { errors: { extensions?: { code?: unknown } }[] }).errors.some(
    (e) => e?.extensions?.code === BOULEVARD_THROTTLED_CODE,
  );

export function boulevardApi(ctx: ApiContext): BoulevardApi {
  const { clinic, runtime } = ctx;
  return runtime.memo(`boulevard/${clinic.id}`, () => {
    const businessId = clinic.connector!.businessId!;
    const apiKey = requireCredential(clinic, 'apiKey', runtime.secrets);
    const apiSecret = requireCredential(clinic, 'apiSecret', runtime.secrets);
    // One bucket per clinic across every process (the database holds it).
    const bucket = new SharedCostBucket({
      db: ctx.db,
      clinicId: clinic.id,
      platform: PLATFORM,
      rate: BOULEVARD_COST_RATE,
      defaultCost: BOULEVARD_DEFAULT_QUERY_COST,
      runtime,
    });
    const http = createVendorHttp({
      platform: PLATFORM,
      clinicId: clinic.id,
      baseURL: clinic.connector?.apiBaseUrl ?? BOULEVARD_API_URL,
      counter: runtime.counter,
      log: runtime.log,
      sleep: runtime.sleep,
      limiter: bucket,
      ...(runtime.retry ? { retry: runtime.retry } : {}),
      headers: async () => ({
        authorization: boulevardAuthorization({
          apiKey,
          apiSecret,
          businessId,
          unixSeconds: Math.floor(runtime.now() / 1000),
        }),
        'content-type': 'application/json',
      }),
      async onResponse({ status, data }) {
        if (status === 429 || throttledError(data)) return bucket.throttled();
        const report = costReport(data);
        if (report) await bucket.observe(report);
      },
    });
    async function gql(query: string, variables: Record<string, unknown>, data: z.ZodType): Promise<unknown> {
      const r = (await http.request({ method: 'POST', url: '', data: { query, variables } }, gqlResponse(data))) as {
        data: unknown;
      };
      return r.data;
    }
    async function paged<T>(
      field: string,
      args: string,
      argDefs: string,
      variables: Record<string, unknown>,
      fields: string,
      node: z.ZodType<T>,
    ): Promise<T[]> {
      const out: T[] = [];
      let after: string | null = null;
      const schema = connection(node);
      for (;;) {
        const q = `query Page($first: Int!, $after: String${argDefs}) { ${field}(first: $first, after: $after${args}) { edges { node { ${fields} } } pageInfo { hasNextPage endCursor } } }`;
        const d = (await gql(
          q,
          { ...variables, first: BOULEVARD_PAGE_SIZE, after },
          rootField(field, schema),
        )) as Record<string, z.infer<typeof schema>>;
        const page = d[field]!;
        out.push(...page.edges.map((e) => e.node as T));
        if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return out;
        after = page.pageInfo.endCursor;
      }
    }
    return {
      bucket,
      async appointment(id) {
        const d = await gql(
          `query Appointment($id: ID!) { appointment(id: $id) { ${APPOINTMENT_FIELDS} } }`,
          { id },
          rootField('appointment', appointmentSchema.nullable()),
        );
        return (d as { appointment: BoulevardAppointment | null }).appointment;
      },
      async appointments(query) {
        const locationId = clinic.connector?.locationId;
        return paged(
          'appointments',
          `, query: $query${locationId ? ', locationId: $locationId' : ''}`,
          `, $query: QueryString${locationId ? ', $locationId: ID!' : ''}`,
          { query, ...(locationId ? { locationId } : {}) },
          APPOINTMENT_FIELDS,
          appointmentSchema,
        );
      },
      async client(id) {
        const d = await gql(
          'query Client($id: ID!) { client(id: $id) { id firstName lastName email mobilePhone } }',
          { id },
          rootField('client', clientSchema.nullable()),
        );
        return (d as { client: BoulevardClient | null }).client;
      },
      // (unconfirmed fields) the membership a MEMBERSHIP_* webhook names.
      async membership(id) {
        const d = await gql(
          `query Membership($id: ID!) { membership(id: $id) { id clientId name status endOn nextChargeOn locationId
            vouchers { quantity services { id name } } discountPercentage } }`,
          { id },
          rootField('membership', membershipSchema.nullable()),
        );
        return (d as { membership: BoulevardMembership | null }).membership;
      },
      async services() {
        const list = await paged('services', '', '', {}, 'id name defaultPrice', serviceSchema);
        return list.map((s) => ({
          id: s.id,
          name: s.name,
          price: s.defaultPrice == null ? null : s.defaultPrice / 100,
        }));
      },
    };
  });
}
