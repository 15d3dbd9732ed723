/**
 * Boulevard: request signing pinned to a vector computed with openssl, webhook verification
 * computed for real (valid, tampered, stale, missing), each webhook type mapped, the query-cost
 * bucket under a nocked API answering with cost reports and 429s, polling and the booking check
 * — against nock and a real PGlite database.
 */
import { readFileSync, rmSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClinicConfig } from '../../src/config/schema.js';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase, rows } from '../../src/db/client.js';
import { canonicalEventSchema } from '../../src/ingest/events.js';
import { createLogger } from '../../src/log.js';
import { connectorConfigDir, SECRETS } from '../../test/helpers/connector-stack.js';
import { SharedCostBucket } from '../cost-budget.js';
import { ApiCallCounter } from '../http.js';
import { createConnectorRuntime } from '../shared.js';
import type { ApiContext } from '../types.js';
import { boulevardApi } from './client.js';
import { boulevardAuthorization, boulevardWebhookSignature } from './constants.js';
import { boulevardConnector } from './index.js';
import { boulevardWebhook, verifyBoulevard } from './webhook.js';

const API = 'https://blvd.test';
const PATH = '/api/2020-01/admin';
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'));
const APPT = fixture('api-appointment');
const CLIENT = fixture('api-client');
const isQuery = (root: string) => (b: { query?: string }) =>
  typeof b.query === 'string' && new RegExp(`\\b${root}\\(`).test(b.query);

let database: Database;
let clinic: ClinicConfig;
let configDir: string;

beforeAll(async () => {
  nock.disableNetConnect();
  configDir = connectorConfigDir();
  clinic = createConfigStore(configDir).current().clinics.get('bl-clinic')!;
  database = await openDatabase({ pgliteMemory: true });
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(async () => {
  await database.close();
  rmSync(configDir, { recursive: true, force: true });
  nock.enableNetConnect();
});

describe('request authentication', () => {
  it('signs blvd-admin-v1 + business id + unix seconds with the base64-decoded secret (vector computed with openssl)', () => {
    expect(
      boulevardAuthorization({
        apiKey: SECRETS.BLVD_API_KEY!,
        apiSecret: SECRETS.BLVD_API_SECRET!,
        businessId: '9b1c7a3e-52f0-4c1e-8d1e-2f0b3a4c5d60',
        unixSeconds: 1767225600,
      }),
    ).toBe(
      'Basic Ymx2ZC1hcGkta2V5LTRjMmE6elZRbnVlcVMrNjgwUnMzN1h2S2JXY0VEV2RibzlTVmxrTFdxNUlNSTZUZz1ibHZkLWFkbWluLXYxOWIxYzdhM2UtNTJmMC00YzFlLThkMWUtMmYwYjNhNGM1ZDYwMTc2NzIyNTYwMA==',
    );
  });
});

describe('webhook verification', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const t = String(now / 1000);
  const raw = Buffer.from('{"id":"e1"}');
  const delivery = (header?: string, body = raw) => ({
    rawBody: body,
    headers: header === undefined ? {} : { 'x-blvd-signature': header },
  });
  const verify =
    (d: ReturnType<typeof delivery>, at = now) =>
    () =>
      verifyBoulevard(d, clinic, SECRETS, at);

  it('HMAC-SHA256 of "<t>.<raw body>", hex (vector computed with openssl)', () => {
    expect(boulevardWebhookSignature(SECRETS.BLVD_WEBHOOK_SECRET!, '1767225600', raw)).toBe(
      '09426181c9e085e2e332ef06883ec1ea7172ef4fd9beda1e2b431f998948c7f9',
    );
  });

  it('accepts a valid delivery; refuses tampered, stale, missing and unreadable ones and a clinic without a secret', () => {
    const sig = boulevardWebhookSignature(SECRETS.BLVD_WEBHOOK_SECRET!, t, raw);
    expect(verify(delivery(`t=${t},v1=${sig}`))).not.toThrow();
    expect(verify(delivery(`t=${t},v1=${sig}`), now + 4 * 60_000)).not.toThrow();
    const refused = (f: () => void, msg: RegExp) =>
      expect(f).toThrow(expect.objectContaining({ code: 'unauthorized', message: expect.stringMatching(msg) }));
    refused(verify(delivery(`t=${t},v1=${sig}`, Buffer.from('{"id":"e2"}'))), /invalid/);
    refused(verify(delivery(`t=${Number(t) + 1},v1=${sig}`)), /invalid/);
    refused(verify(delivery(`t=${t},v1=${sig}`), now + 6 * 60_000), /outside/);
    refused(verify(delivery(`t=${t},v1=${sig}`), now - 6 * 60_000), /outside/);
    refused(verify(delivery()), /missing/);
    refused(verify(delivery(sig)), /unreadable/);
    const noSecret = { ...clinic, connector: { ...clinic.connector!, credentials: {} } };
    expect(() => verifyBoulevard(delivery(`t=${t},v1=${sig}`), noSecret, SECRETS, now)).toThrow(/not configured/);
  });
});

describe('webhook → inbox', () => {
  it.each([
    [
      'webhook-appointment-completed',
      'webhook.appointment',
      'urn:blvd:Appointment:5b2e9c1a-0d4f-4e8b-9a7c-1f2e3d4c5b6a',
    ],
    [
      'webhook-appointment-rescheduled',
      'webhook.appointment',
      'urn:blvd:Appointment:8c4d2e1f-7a6b-4c3d-9e8f-0a1b2c3d4e5f',
    ],
    ['webhook-client-created', 'webhook.client', 'urn:blvd:Client:7e6d5c4b-3a2f-4e1d-8c9b-0a1f2e3d4c5b'],
  ])('%s → %s naming the resource', (name, kind, resourceId) => {
    const body = fixture(name);
    const { items } = boulevardWebhook.toInbox(body, clinic);
    expect(items).toEqual([
      {
        dedupeKey: `boulevard:${body.id}`,
        eventType: `boulevard:${body.event}`,
        occurredAt: new Date(body.timestamp).toISOString(),
        vendor: {
          platform: 'boulevard',
          kind,
          data: { event: body.event, resourceId, occurredAt: new Date(body.timestamp).toISOString() },
        },
      },
    ]);
  });

  it('every appointment event is accepted; another business is not found; a bad envelope names the field', () => {
    for (const event of [
      'APPOINTMENT_CREATED',
      'APPOINTMENT_CONFIRMED',
      'APPOINTMENT_CANCELLED',
      'APPOINTMENT_UPDATED',
    ])
      expect(
        boulevardWebhook.toInbox({ ...fixture('webhook-appointment-completed'), event }, clinic).items,
      ).toHaveLength(1);
    const m = fixture('webhook-membership-created');
    expect(boulevardWebhook.toInbox(m, clinic).items).toMatchObject([
      { vendor: { platform: 'boulevard', kind: 'webhook.membership', data: { resourceId: m.resource.id } } },
    ]);
    expect(boulevardWebhook.toInbox({ ...m, event: 'GIFT_CARD_SOLD' }, clinic)).toEqual({
      items: [],
      ignoredType: 'GIFT_CARD_SOLD',
    });
    expect(() =>
      boulevardWebhook.toInbox({ ...fixture('webhook-appointment-completed'), businessId: 'other' }, clinic),
    ).toThrow(expect.objectContaining({ code: 'not_found' }));
    const { resource: _r, ...noResource } = fixture('webhook-appointment-completed');
    expect(() => boulevardWebhook.toInbox(noResource, clinic)).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        details: { issues: [expect.objectContaining({ path: 'body.resource' })] },
      }),
    );
  });
});

function context(now: () => number, sleeps: number[] = []): ApiContext {
  let extra = 0;
  return {
    db: database.db,
    clinic,
    runtime: {
      ...createConnectorRuntime({
        secrets: SECRETS,
        log: createLogger({ level: 'silent' }),
        counter: new ApiCallCounter(),
        now: () => now() + extra,
        sleep: async (ms) => {
          sleeps.push(ms);
          extra += ms;
        },
      }),
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    },
  };
}

describe('mapping an appointment re-read from the API', () => {
  const now = Date.parse('2026-05-04T20:00:00Z');
  const resolveWith = async (appointment: Record<string, unknown>, event = 'APPOINTMENT_UPDATED') => {
    const ctx = context(() => now);
    nock(API)
      .post(PATH, isQuery('appointment'))
      .matchHeader('authorization', /^Basic /)
      .reply(200, { data: { appointment } });
    return boulevardConnector.resolve!(ctx, {
      platform: 'boulevard',
      kind: 'webhook.appointment',
      data: { event, resourceId: appointment.id, occurredAt: '2026-05-04T18:31:07.412Z' },
    });
  };

  it('FINAL → treatment completed with the client re-read, the service and the price in units', async () => {
    nock(API)
      .post(PATH, isQuery('client'))
      .reply(200, { data: { client: CLIENT } });
    expect(await resolveWith(APPT, 'APPOINTMENT_COMPLETED')).toEqual([
      {
        type: 'treatment.completed',
        occurredAt: '2026-05-04T18:31:07.412Z',
        client: {
          id: CLIENT.id,
          firstName: 'Marisol',
          lastName: 'Okafor',
          email: 'marisol.okafor@example.com',
          phone: '+13105550148',
          consent: { sms: false, email: true },
        },
        appointmentId: APPT.id,
        service: { id: 'urn:blvd:Service:2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f', name: 'Botox – 3 areas' },
        completedAt: '2026-05-04T17:45:00.000Z',
        price: 525,
      },
    ]);
  });

  it.each([
    ['BOOKED', 'APPOINTMENT_CREATED'],
    ['CONFIRMED', 'APPOINTMENT_CONFIRMED'],
    ['BOOKED', 'APPOINTMENT_RESCHEDULED'],
  ])('%s in the future (%s) → booked at its (new) start', async (state, event) => {
    const startAt = '2026-06-10T17:00:00Z';
    expect(await resolveWith({ ...APPT, state, startAt, endAt: '2026-06-10T17:45:00Z' }, event)).toEqual([
      {
        type: 'appointment.booked',
        occurredAt: '2026-05-04T18:31:07.412Z',
        clientId: CLIENT.id,
        appointmentId: APPT.id,
        startAt: '2026-06-10T17:00:00.000Z',
      },
    ]);
  });

  it('CANCELLED (a no-show included: the events layer has no no-show event) → cancelled; another location → nothing', async () => {
    expect(await resolveWith({ ...APPT, state: 'CANCELLED', cancelled: true }, 'APPOINTMENT_CANCELLED')).toEqual([
      {
        type: 'appointment.cancelled',
        occurredAt: '2026-05-04T18:31:07.412Z',
        clientId: CLIENT.id,
        appointmentId: APPT.id,
      },
    ]);
    expect(await resolveWith({ ...APPT, locationId: 'urn:blvd:Location:elsewhere' })).toEqual([]);
  });
});

describe('memberships (issue 14 §3)', () => {
  const now = Date.parse('2026-05-04T20:00:00Z');
  const resolveWith = async (membership: Record<string, unknown> | null) => {
    nock(API).post(PATH, isQuery('membership')).reply(200, { data: { membership } });
    return boulevardConnector.resolve!(
      context(() => now),
      {
        platform: 'boulevard',
        kind: 'webhook.membership',
        data: { event: 'MEMBERSHIP_CREATED', resourceId: MEMBERSHIP.id, occurredAt: '2026-05-04T18:40:00.000Z' },
      },
    );
  };
  const MEMBERSHIP = fixture('api-membership');

  it('re-read → client.membership: the member discount on every service, vouchers as credits per service, dates on the clinic’s calendar', async () => {
    const events = await resolveWith(MEMBERSHIP);
    expect(events).toEqual([
      {
        type: 'client.membership',
        occurredAt: '2026-05-04T18:40:00.000Z',
        clientId: CLIENT.id,
        plan: {
          id: MEMBERSHIP.id,
          kind: 'membership',
          name: 'Glow Club',
          status: 'active',
          renewsAt: '2026-06-01T07:00:00.000Z',
          endsAt: null,
          benefits: [
            { percentOff: 10 },
            {
              service: { id: 'urn:blvd:Service:2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f', name: 'Botox – 3 areas' },
              creditsLeft: 1,
            },
          ],
        },
      },
    ]);
    for (const e of events) expect(canonicalEventSchema.safeParse(e).success).toBe(true);
  });

  it('PAUSED → paused; another location → nothing; a membership gone → nothing', async () => {
    expect(await resolveWith({ ...MEMBERSHIP, status: 'PAUSED', endOn: '2026-12-31' })).toMatchObject([
      { plan: { status: 'paused', endsAt: '2027-01-01T07:59:00.000Z' } },
    ]);
    expect(await resolveWith({ ...MEMBERSHIP, locationId: 'urn:blvd:Location:elsewhere' })).toEqual([]);
    expect(await resolveWith(null)).toEqual([]);
  });
});

describe('query-cost budget', () => {
  const bucketRow = async (clinicId = clinic.id) =>
    rows<{ available: number; capacity: number; restore_per_second: number }>(
      await database.db.execute(
        sql`select available, capacity, restore_per_second from vendor_cost_buckets where clinic_id = ${clinicId}`,
      ),
    )[0];
  // Each test's clock starts afresh: a bucket stamped by another test's later clock would not refill.
  afterEach(async () => {
    await database.db.execute(sql`delete from vendor_cost_buckets`);
  });

  it('waits for the points the API says are left, and after a 429 for a refill of the call’s cost', async () => {
    const t = Date.parse('2026-05-04T20:00:00Z');
    const sleeps: number[] = [];
    const ctx = context(() => t, sleeps);
    const report = (available: number) => ({
      cost: {
        requestedQueryCost: 100,
        actualQueryCost: 3,
        throttleStatus: { maximumAvailable: 1000, currentlyAvailable: available, restoreRate: 50 },
      },
    });
    nock(API)
      .post(PATH, isQuery('client'))
      .reply(200, { data: { client: CLIENT }, extensions: report(30) });
    nock(API)
      .post(PATH, isQuery('client'))
      .reply(200, { data: { client: CLIENT }, extensions: report(900) });
    nock(API)
      .post(PATH, isQuery('client'))
      .reply(429, { errors: [{ message: 'throttled', extensions: { code: 'THROTTLED' } }] });
    nock(API)
      .post(PATH, isQuery('client'))
      .reply(200, { data: { client: CLIENT } });
    const api = boulevardApi(ctx);
    await api.client(CLIENT.id);
    expect(sleeps).toEqual([]);
    // 30 points left, 100 needed at 50/s: 1.4 s.
    await api.client(CLIENT.id);
    expect(sleeps).toEqual([1400]);
    expect(await bucketRow()).toEqual({ available: 900, capacity: 1000, restore_per_second: 50 });
    // The 429 empties the bucket: after the retry's own backoff, the call waits for 100 points (2 s).
    await api.client(CLIENT.id);
    expect(sleeps[1]).toBeLessThanOrEqual(2);
    expect(sleeps[2]).toBeGreaterThanOrEqual(1900);
    expect(sleeps[2]).toBeLessThanOrEqual(2000);
    expect(ctx.runtime.counter.get('boulevard', clinic.id)).toBe(4);
  });

  it('two processes spend one budget; a query dearer than the bucket waits for a full one; a wait past the limit fails retryably', async () => {
    let t = 1_000_000;
    const waits: number[] = [];
    const runtime = {
      now: () => t,
      sleep: async (ms: number) => {
        waits.push(ms);
        t += ms;
      },
    };
    const processes = [1, 2].map(
      () =>
        new SharedCostBucket({
          db: database.db,
          clinicId: 'cost-test',
          platform: 'boulevard',
          rate: { capacity: 100, restorePerSecond: 10 },
          defaultCost: 10,
          runtime,
          maxWaitMs: 9_000,
        }),
    );
    const [a, b] = processes as [SharedCostBucket, SharedCostBucket];
    // 60 + 40 empties the bucket between them: the second process's next call waits for a refill.
    await a.take(60);
    await b.take(40);
    expect(waits).toEqual([]);
    await b.take(20);
    expect(waits).toEqual([2_000]);
    // Dearer than the bucket: runs on a full bucket (and empties it) instead of never.
    t += 10_000;
    await a.take(500);
    expect(waits).toEqual([2_000]);
    expect((await bucketRow('cost-test'))!.available).toBe(0);
    // 100 points take 10 s to come back: past the 9 s limit, a retryable refusal, without waiting.
    await expect(b.take(100)).rejects.toMatchObject({ code: 'provider_unavailable' });
    expect(waits).toEqual([2_000]);
    t += 5_000;
    await b.take(100);
    expect(waits).toEqual([2_000, 5_000]);
  });
});

describe('polling, booking check and catalog', () => {
  const now = Date.parse('2026-05-04T20:00:00Z');

  it('polls appointments updated since the cursor through pages; completed ones already known are skipped next time', async () => {
    const ctx = context(() => now);
    const future = {
      ...APPT,
      id: 'urn:blvd:Appointment:future',
      state: 'BOOKED',
      startAt: '2026-06-01T17:00:00Z',
      endAt: null,
    };
    nock(API)
      .post(
        PATH,
        (b) =>
          isQuery('appointments')(b) &&
          b.variables.after === null &&
          /updatedAt >= '2026-05-03T20:00:00.000Z'/.test(b.variables.query),
      )
      .reply(200, {
        data: { appointments: { edges: [{ node: APPT }], pageInfo: { hasNextPage: true, endCursor: 'c2' } } },
      });
    nock(API)
      .post(PATH, (b) => isQuery('appointments')(b) && b.variables.after === 'c2')
      .reply(200, {
        data: { appointments: { edges: [{ node: future }], pageInfo: { hasNextPage: false, endCursor: null } } },
      });
    const r = await boulevardConnector.poll!(ctx);
    expect(r.items.map((i) => i.eventType)).toEqual([
      'boulevard:poll.appointment.FINAL',
      'boulevard:poll.appointment.BOOKED',
    ]);
    await r.commit();
    nock(API)
      .post(PATH, isQuery('client'))
      .reply(200, { data: { client: CLIENT } });
    const [event] = await boulevardConnector.resolve!(ctx, r.items[0]!.vendor);
    expect(event).toMatchObject({ type: 'treatment.completed', appointmentId: APPT.id, price: 525 });
    // The next poll starts from the stored cursor (less the overlap).
    nock(API)
      .post(
        PATH,
        (b) => isQuery('appointments')(b) && /updatedAt >= '2026-05-04T19:55:00.000Z'/.test(b.variables.query),
      )
      .reply(200, { data: { appointments: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } } });
    expect((await boulevardConnector.poll!(ctx)).items).toEqual([]);
  });

  it('booking check: the next live appointment after the anchor, the anchor and cancelled ones excluded', async () => {
    const ctx = context(() => now);
    const mk = (id: string, state: string, startAt: string, cancelled = false) => ({
      ...APPT,
      id,
      state,
      startAt,
      endAt: null,
      cancelled,
    });
    nock(API)
      .post(PATH, (b) => isQuery('appointments')(b) && b.variables.query.includes(`clientId = '${CLIENT.id}'`))
      .reply(200, {
        data: {
          appointments: {
            edges: [
              { node: APPT },
              { node: mk('urn:a:cancelled', 'CANCELLED', '2026-05-20T17:00:00Z', true) },
              { node: mk('urn:a:later', 'CONFIRMED', '2026-06-20T17:00:00Z') },
              { node: mk('urn:a:next', 'BOOKED', '2026-06-01T17:00:00Z') },
            ],
            pageInfo: { hasNextPage: false, endCursor: null },
          },
        },
      });
    expect(
      await boulevardConnector.hasUpcomingAppointment(ctx, {
        clientExternalId: CLIENT.id,
        after: '2026-05-04T17:45:00.000Z',
        excludeAppointmentId: APPT.id,
      }),
    ).toEqual({ booked: true, appointmentId: 'urn:a:next', startAt: '2026-06-01T17:00:00.000Z' });
  });

  it('service catalog in currency units; a refused call is a coded error', async () => {
    const ctx = context(() => now);
    nock(API).post(PATH, isQuery('services')).reply(200, fixture('api-services'));
    expect(await boulevardConnector.serviceCatalog!(ctx)).toEqual([
      { id: 'urn:blvd:Service:2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f', name: 'Botox – 3 areas', price: 525 },
      { id: 'urn:blvd:Service:3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a', name: 'HydraFacial Signature', price: 199 },
    ]);
    nock(API)
      .post(PATH, isQuery('client'))
      .reply(401, { errors: [{ message: 'bad token' }] });
    await expect(boulevardConnector.lookupClient!(ctx, CLIENT.id)).rejects.toMatchObject({
      code: 'provider_unavailable',
    });
  });
});
