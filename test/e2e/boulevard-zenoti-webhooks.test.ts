/**
 * Boulevard and Zenoti end to end on the real stack (dev server, PGlite, HTTP server, worker):
 * a signed completion webhook starts a sequence, a signed booking webhook ends it. Vendor APIs
 * (the re-reads) through nock.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { and, eq, sql } from 'drizzle-orm';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appointments, clients, inboxEvents, sequences } from '../../src/db/schema.js';
import { type ConnectorStack, SECRETS, startConnectorStack, until } from '../helpers/connector-stack.js';

const DAY = 86_400_000;
const load = (platform: string, name: string) =>
  JSON.parse(readFileSync(new URL(`../../connectors/${platform}/fixtures/${name}.json`, import.meta.url), 'utf8'));

let stack: ConnectorStack;

const inbox = (clinicId: string, key: string) =>
  stack.database.db
    .select()
    .from(inboxEvents)
    .where(and(eq(inboxEvents.clinicId, clinicId), eq(inboxEvents.dedupeKey, key)));
const count = async () => (await stack.database.db.select({ n: sql<number>`count(*)::int` }).from(inboxEvents))[0]!.n;
const sequencesOf = async (clinicId: string, externalId: string) =>
  (
    await stack.database.db
      .select({ s: sequences })
      .from(sequences)
      .innerJoin(clients, eq(clients.id, sequences.clientId))
      .where(and(eq(sequences.clinicId, clinicId), eq(clients.externalId, externalId)))
  ).map((r) => r.s);
const processed = (clinicId: string, key: string) =>
  until(`${key} processed`, async () => (await inbox(clinicId, key)).some((r) => r.status === 'done'));

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  stack = await startConnectorStack();
}, 120_000);
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(async () => {
  await stack?.stop();
  nock.enableNetConnect();
});

describe('Boulevard', () => {
  const API = 'https://blvd.test';
  const PATH = '/api/2020-01/admin';
  const APPT = load('boulevard', 'api-appointment');
  const CLIENT = load('boulevard', 'api-client');
  const isQuery = (root: string, id?: string) => (b: { query?: string; variables?: { id?: string } }) =>
    typeof b.query === 'string' && new RegExp(`\\b${root}\\(`).test(b.query) && (!id || b.variables?.id === id);
  const signedPost = (body: unknown, o: { secret?: string; t?: number } = {}) => {
    const raw = JSON.stringify(body);
    const t = String(o.t ?? Math.floor(Date.now() / 1000));
    const v1 = createHmac('sha256', o.secret ?? SECRETS.BLVD_WEBHOOK_SECRET!)
      .update(`${t}.${raw}`)
      .digest('hex');
    return stack.post('/webhooks/boulevard/bl-clinic', raw, { 'x-blvd-signature': `t=${t},v1=${v1}` });
  };

  it('APPOINTMENT_COMPLETED (signed) → re-read FINAL → sequence started; APPOINTMENT_CREATED for a future visit → sequence ends as booked', async () => {
    const completed = {
      ...APPT,
      startAt: new Date(Date.now() - 2 * 3_600_000).toISOString(),
      endAt: new Date(Date.now() - 3_600_000).toISOString(),
    };
    nock(API)
      .post(PATH, isQuery('appointment', APPT.id))
      .matchHeader('authorization', /^Basic /)
      .reply(200, { data: { appointment: completed } });
    nock(API)
      .post(PATH, isQuery('client', CLIENT.id))
      .reply(200, { data: { client: CLIENT } });
    const hook = { ...load('boulevard', 'webhook-appointment-completed'), timestamp: new Date().toISOString() };
    expect(await signedPost(hook)).toMatchObject({ status: 200, body: { status: 'accepted' } });
    // A redelivery is kept once.
    expect((await signedPost(hook)).status).toBe(200);
    await processed('bl-clinic', `boulevard:${hook.id}`);
    const [seq] = await until('sequence started', async () => sequencesOf('bl-clinic', CLIENT.id));
    expect(seq).toMatchObject({ treatmentType: 'neuromodulator', running: true });
    expect(await inbox('bl-clinic', `boulevard:${hook.id}`)).toHaveLength(1);
    const [c] = await stack.database.db
      .select()
      .from(clients)
      .where(and(eq(clients.clinicId, 'bl-clinic'), eq(clients.externalId, CLIENT.id)));
    expect(c).toMatchObject({ firstName: 'Marisol', consentSms: false, consentEmail: true });
    const [appt] = await stack.database.db
      .select()
      .from(appointments)
      .where(and(eq(appointments.clinicId, 'bl-clinic'), eq(appointments.externalId, APPT.id)));
    expect(appt).toMatchObject({ status: 'completed', priceCents: 52500 });

    const nextId = 'urn:blvd:Appointment:8c4d2e1f-7a6b-4c3d-9e8f-0a1b2c3d4e5f';
    const startAt = new Date(Date.now() + 90 * DAY).toISOString();
    nock(API)
      .post(PATH, isQuery('appointment', nextId))
      .reply(200, { data: { appointment: { ...APPT, id: nextId, state: 'BOOKED', startAt, endAt: null } } });
    const created = {
      ...load('boulevard', 'webhook-appointment-rescheduled'),
      id: 'blvd-evt-created-1',
      event: 'APPOINTMENT_CREATED',
      timestamp: new Date().toISOString(),
    };
    expect((await signedPost(created)).status).toBe(200);
    const [closed] = await until('sequence booked', async () =>
      (await sequencesOf('bl-clinic', CLIENT.id)).filter((s) => s.outcome === 'booked'),
    );
    expect(closed).toMatchObject({ workflowId: seq!.workflowId, outcome: 'booked' });
  });

  it('refuses tampered, stale and unsigned deliveries and another business; ignores unknown events; stores nothing', async () => {
    const before = await count();
    const hook = {
      ...load('boulevard', 'webhook-appointment-completed'),
      id: 'blvd-refused',
      timestamp: new Date().toISOString(),
    };
    expect(await signedPost(hook, { secret: 'not-the-secret' })).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthorized' } },
    });
    expect(await signedPost(hook, { t: Math.floor(Date.now() / 1000) - 3600 })).toMatchObject({ status: 401 });
    expect(await stack.post('/webhooks/boulevard/bl-clinic', JSON.stringify(hook))).toMatchObject({ status: 401 });
    expect(await signedPost({ ...hook, businessId: 'another-business' })).toMatchObject({ status: 404 });
    // Membership events are mapped now (issue 14 §3): an event type we do not use stands in.
    expect(
      await signedPost({ ...load('boulevard', 'webhook-membership-created'), event: 'GIFT_CARD_SOLD' }),
    ).toMatchObject({
      status: 200,
      body: { status: 'ignored' },
    });
    expect(await count()).toBe(before);
  });
});

describe('Zenoti', () => {
  const API = 'https://api.zenoti.test';
  const APPT = load('zenoti', 'api-appointment');
  const GUEST = load('zenoti', 'api-guest');
  const signedPost = (body: unknown, secret = SECRETS.ZENOTI_WEBHOOK_SECRET!) => {
    const raw = JSON.stringify(body);
    const sig = createHmac('sha256', secret).update(raw).digest('hex');
    return stack.post('/webhooks/zenoti', raw, { 'x-zenoti-signature': sig });
  };
  /** Center-local wall time without offset, as Zenoti answers (America/Los_Angeles for the test center). */
  const local = (ms: number) =>
    new Date(ms).toLocaleString('sv-SE', { timeZone: 'America/Los_Angeles' }).replace(' ', 'T');

  it('Appointment.Completed (signed, routed by center) → re-read closed → sequence started; AppointmentGroup.Created for a future visit → sequence ends as booked', async () => {
    nock(API)
      .get(`/v1/appointments/${APPT.appointment_id}`)
      .matchHeader('authorization', `apikey ${SECRETS.ZENOTI_API_KEY}`)
      .reply(200, {
        ...APPT,
        start_time: local(Date.now() - 2 * 3_600_000),
        end_time: local(Date.now() - 3_600_000),
      });
    nock(API).get(`/v1/guests/${GUEST.id}`).reply(200, GUEST);
    const hook = { ...load('zenoti', 'webhook-appointment-completed'), event_timestamp: new Date().toISOString() };
    expect(await signedPost(hook)).toMatchObject({ status: 200, body: { status: 'accepted' } });
    await processed('zn-clinic', `zenoti:${hook.id}`);
    const [seq] = await until('sequence started', async () => sequencesOf('zn-clinic', GUEST.id));
    expect(seq).toMatchObject({ treatmentType: 'neuromodulator', running: true });
    const [c] = await stack.database.db
      .select()
      .from(clients)
      .where(and(eq(clients.clinicId, 'zn-clinic'), eq(clients.externalId, GUEST.id)));
    expect(c).toMatchObject({ firstName: 'Ingrid', consentSms: true, consentEmail: true });

    const nextId = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
    nock(API)
      .get(`/v1/appointments/${nextId}`)
      .reply(200, {
        ...APPT,
        appointment_id: nextId,
        status: 0,
        start_time: local(Date.now() + 90 * DAY),
        end_time: null,
      });
    const group = { ...load('zenoti', 'webhook-appointment-group-created'), event_timestamp: new Date().toISOString() };
    expect((await signedPost(group)).status).toBe(200);
    const [closed] = await until('sequence booked', async () =>
      (await sequencesOf('zn-clinic', GUEST.id)).filter((s) => s.outcome === 'booked'),
    );
    expect(closed).toMatchObject({ workflowId: seq!.workflowId, outcome: 'booked' });
  });

  it('refuses tampered, stale and unsigned deliveries; an unknown center is not found; Invoice.Closed is ignored; stores nothing', async () => {
    const before = await count();
    const hook = {
      ...load('zenoti', 'webhook-appointment-completed'),
      id: 'zn-refused',
      event_timestamp: new Date().toISOString(),
    };
    expect(await signedPost(hook, 'not-the-secret')).toMatchObject({ status: 401 });
    expect(
      await signedPost({ ...hook, event_timestamp: new Date(Date.now() - 7 * 3_600_000).toISOString() }),
    ).toMatchObject({ status: 401 });
    expect(await stack.post('/webhooks/zenoti', JSON.stringify(hook))).toMatchObject({ status: 401 });
    expect(await signedPost({ ...hook, data: { ...hook.data, center_id: 'another-center' } })).toMatchObject({
      status: 404,
    });
    expect(
      await signedPost({ ...load('zenoti', 'webhook-invoice-closed'), event_timestamp: new Date().toISOString() }),
    ).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await count()).toBe(before);
  });
});
