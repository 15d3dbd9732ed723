/**
 * Vagaro and Jane webhooks end to end on the real stack (dev server, PGlite, HTTP server, worker);
 * vendor APIs through nock.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { and, eq, sql } from 'drizzle-orm';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readSealedState } from '../../connectors/sealed-state.js';
import { appointments, clients, inboxEvents, sequences } from '../../src/db/schema.js';
import { API_KEY, type ConnectorStack, SECRETS, startConnectorStack, until } from '../helpers/connector-stack.js';

const DAY = 86_400_000;
const vagaro = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../connectors/vagaro/fixtures/${name}.json`, import.meta.url), 'utf8'));
const jane = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../connectors/jane/fixtures/${name}.json`, import.meta.url), 'utf8'));
const JANE_API = 'https://kits-skin.janeapp.test';

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

describe('Vagaro', () => {
  const post = (body: unknown, token = SECRETS.VAGARO_WEBHOOK_TOKEN!, clinic = 'vg-clinic') =>
    stack.post(
      `/webhooks/vagaro/${clinic}`,
      typeof body === 'string' ? body : JSON.stringify(body),
      token ? { 'x-vagaro-signature': token } : {},
    );
  const customerId = 'vUQ1GGbpQy5dYgWYhYkD2Q==';

  it('customer.created (createdDate) then Service Completed → sequence with the assumed consent; a future Accepted booking (createdAt) ends it', async () => {
    const customer = vagaro('webhook-customer-created');
    expect(await post(customer)).toMatchObject({ status: 200, body: { status: 'accepted' } });
    await until('customer kept', async () =>
      (await inbox('vg-clinic', `vagaro:${customer.id}`)).some((r) => r.status === 'done'),
    );

    const completed = vagaro('webhook-appointment-completed');
    completed.createdDate = new Date(Date.now() - 60_000).toISOString();
    Object.assign(completed.payload, {
      startTime: new Date(Date.now() - 2 * 3_600_000).toISOString(),
      endTime: new Date(Date.now() - 3_600_000).toISOString(),
    });
    for (let i = 0; i < 5; i++) expect((await post(completed)).status).toBe(200);
    await until('completion processed', async () =>
      (await inbox('vg-clinic', `vagaro:${completed.id}`)).some((r) => r.status === 'done'),
    );
    const [seq] = await sequencesOf('vg-clinic', customerId);
    expect(seq).toMatchObject({ treatmentType: 'neuromodulator', running: true });
    expect(await inbox('vg-clinic', `vagaro:${completed.id}`)).toHaveLength(1);
    const [c] = await stack.database.db
      .select()
      .from(clients)
      .where(and(eq(clients.clinicId, 'vg-clinic'), eq(clients.externalId, customerId)));
    expect(c).toMatchObject({ firstName: 'Xiomara', consentSms: false, consentEmail: true });
    const [appt] = await stack.database.db
      .select()
      .from(appointments)
      .where(and(eq(appointments.clinicId, 'vg-clinic'), eq(appointments.externalId, completed.payload.appointmentId)));
    expect(appt).toMatchObject({ status: 'completed', priceCents: 48000 });

    const created = vagaro('webhook-appointment-created');
    created.createdAt = new Date().toISOString();
    Object.assign(created.payload, { startTime: new Date(Date.now() + 60 * DAY).toISOString() });
    expect((await post(created)).status).toBe(200);
    const [closed] = await until('sequence booked', async () =>
      (await sequencesOf('vg-clinic', customerId)).filter((s) => s.outcome === 'booked'),
    );
    expect(closed!.outcome).toBe('booked');

    // Cancelled later (a timestamp without offset, status and ids only).
    const cancelled = vagaro('webhook-appointment-cancelled');
    cancelled.createdDate = new Date(Date.now() + 1000).toISOString().replace('Z', '');
    expect((await post(cancelled)).status).toBe(200);
    await until(
      'cancellation recorded',
      async () =>
        (
          await stack.database.db
            .select()
            .from(appointments)
            .where(
              and(
                eq(appointments.clinicId, 'vg-clinic'),
                eq(appointments.externalId, created.payload.appointmentId),
                eq(appointments.status, 'cancelled'),
              ),
            )
        ).length > 0,
    );
  });

  it('refuses a wrong or missing token, an unknown clinic or business, bad JSON; ignores other types; stores nothing', async () => {
    const before = await count();
    const body = vagaro('webhook-appointment-created');
    expect(await post(body, 'vg-static-token-WRONG')).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthorized' } },
    });
    expect(await post(body, '')).toMatchObject({ status: 401 });
    expect(await post(body, SECRETS.VAGARO_WEBHOOK_TOKEN!, 'no-such-clinic')).toMatchObject({ status: 404 });
    expect(await post(body, SECRETS.VAGARO_WEBHOOK_TOKEN!, 'mb-clinic')).toMatchObject({ status: 404 });
    expect(await post({ ...body, payload: { ...body.payload, businessId: '999999' } })).toMatchObject({ status: 404 });
    expect(await post('{"id": "x",')).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    const { createdDate: _d, createdAt: _a, ...noTime } = body;
    expect(await post(noTime)).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(await post(vagaro('webhook-form-response'))).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await count()).toBe(before);
  });
});

describe('Jane', () => {
  const signedPost = (body: unknown, o: { secret?: string; ts?: string } = {}) => {
    const raw = JSON.stringify(body);
    const ts = o.ts ?? String(Math.floor(Date.now() / 1000));
    const sig = `sha256=${createHmac('sha256', o.secret ?? SECRETS.JANE_WEBHOOK_SECRET!)
      .update(`${ts}.${raw}`)
      .digest('hex')}`;
    return stack.post('/webhooks/jane/jane-clinic', raw, { 'x-jane-signature': sig, 'x-jane-timestamp': ts });
  };

  it('APPOINTMENT_BOOKED → OAuth refresh (rotated token kept) → appointment re-read → booking recorded', async () => {
    const startAt = new Date(Date.now() + 40 * DAY).toISOString();
    nock(JANE_API)
      .post(
        '/oauth/token',
        (b) =>
          b.grant_type === 'refresh_token' &&
          b.refresh_token === SECRETS.JANE_REFRESH_TOKEN &&
          b.client_id === SECRETS.JANE_CLIENT_ID,
      )
      .reply(200, {
        access_token: 'jane-access-1',
        refresh_token: 'jane-refresh-0002',
        expires_in: 7200,
        token_type: 'Bearer',
      });
    nock(JANE_API)
      .get('/api/2026-01-01/appointments/48213')
      .matchHeader('authorization', 'Bearer jane-access-1')
      .reply(200, {
        ...jane('api-appointment'),
        state: 'booked',
        start_at: startAt,
        end_at: startAt,
        arrived_at: null,
      });
    const hook = jane('webhook-appointment-booked');
    hook.event_timestamp = new Date().toISOString();
    expect(await signedPost(hook)).toMatchObject({ status: 200, body: { status: 'accepted' } });
    const [appt] = await until('booking recorded', async () =>
      stack.database.db
        .select()
        .from(appointments)
        .where(and(eq(appointments.clinicId, 'jane-clinic'), eq(appointments.externalId, '48213'))),
    );
    expect(appt).toMatchObject({ status: 'booked', clientExternalId: '9917' });
    expect(appt!.startAt!.toISOString()).toBe(startAt);
    // The rotated refresh token is kept sealed (AES-GCM), never in the clear.
    const [state] = await stack.database.db
      .execute(sql`select value from connector_state where clinic_id = 'jane-clinic' and key = 'oauth.refresh_token'`)
      .then((r) => (r as unknown as { rows: { value: string }[] }).rows);
    expect(state!.value).toMatch(/^sealed:v1:test1:/);
    expect(state!.value).not.toContain('jane-refresh-0002');
    expect(await readSealedState(stack.database.db, 'jane-clinic', 'jane', 'oauth.refresh_token', SECRETS)).toBe(
      'jane-refresh-0002',
    );
  });

  it('RESCHEDULED, CANCELLED and UNCANCELLED: each re-reads the appointment; a cancelled booking does not end a sequence, the uncancelled one does', async () => {
    const appointmentId = 50001;
    const patient = '9921';
    // Whether or not an earlier test left an access token in memory.
    nock(JANE_API)
      .post('/oauth/token')
      .optionally()
      .reply(200, { access_token: 'jane-access-1', expires_in: 7200, token_type: 'Bearer' });
    const apiState = (o: { state: string; startAt: string; cancelledAt?: string; updatedAt: string }) => ({
      ...jane('api-appointment'),
      id: appointmentId,
      patient_id: Number(patient),
      state: o.state,
      start_at: o.startAt,
      end_at: new Date(Date.parse(o.startAt) + 45 * 60_000).toISOString(),
      arrived_at: null,
      checked_in_at: null,
      cancelled_at: o.cancelledAt ?? null,
      updated_at: o.updatedAt,
    });
    const reRead = (body: Record<string, unknown>) =>
      nock(JANE_API)
        .get(`/api/2026-01-01/appointments/${appointmentId}`)
        .matchHeader('authorization', 'Bearer jane-access-1')
        .reply(200, body);
    const topic = (eventTopic: string, minutesAgo: number) => ({
      ...jane('webhook-appointment-booked'),
      event_id: `evt_topics_${eventTopic}`,
      event_topic: eventTopic,
      appointment_id: appointmentId,
      event_timestamp: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    });
    const held = async () =>
      (
        await stack.database.db
          .select()
          .from(appointments)
          .where(and(eq(appointments.clinicId, 'jane-clinic'), eq(appointments.externalId, String(appointmentId))))
      )[0];
    const processed = (eventTopic: string) =>
      until(`${eventTopic} processed`, async () =>
        (await inbox('jane-clinic', `jane:evt_topics_${eventTopic}`)).some((r) => r.status === 'done'),
      );
    const first = new Date(Date.now() + 30 * DAY).toISOString();
    const moved = new Date(Date.now() + 45 * DAY).toISOString();

    reRead(apiState({ state: 'booked', startAt: first, updatedAt: new Date(Date.now() - 5 * 60_000).toISOString() }));
    expect(await signedPost(topic('APPOINTMENT_BOOKED', 4))).toMatchObject({
      status: 200,
      body: { status: 'accepted' },
    });
    await processed('APPOINTMENT_BOOKED');
    expect(await held()).toMatchObject({ status: 'booked', clientExternalId: patient });

    reRead(apiState({ state: 'booked', startAt: moved, updatedAt: new Date(Date.now() - 4 * 60_000).toISOString() }));
    expect((await signedPost(topic('APPOINTMENT_RESCHEDULED', 3))).status).toBe(200);
    await processed('APPOINTMENT_RESCHEDULED');
    expect((await held())!.startAt!.toISOString()).toBe(moved);

    reRead(
      apiState({
        state: 'cancelled',
        startAt: moved,
        cancelledAt: new Date(Date.now() - 3 * 60_000).toISOString(),
        updatedAt: new Date(Date.now() - 3 * 60_000).toISOString(),
      }),
    );
    expect((await signedPost(topic('APPOINTMENT_CANCELLED', 2))).status).toBe(200);
    await processed('APPOINTMENT_CANCELLED');
    expect((await held())!.status).toBe('cancelled');

    // A completed Botox for the same patient (Jane completions come by polling or the API):
    // the cancelled booking does not end the new sequence.
    const completion = await stack.post(
      '/v1/clinics/jane-clinic/events',
      JSON.stringify({
        type: 'treatment.completed',
        client: {
          id: patient,
          firstName: 'Maren',
          lastName: 'Holt',
          email: 'maren.h@example.ca',
          consent: { sms: false, email: true },
        },
        appointmentId: 'J-done-1',
        service: { name: 'Botox' },
        completedAt: new Date(Date.now() - 2 * 3_600_000).toISOString(),
      }),
      { authorization: `Bearer ${API_KEY}` },
    );
    expect(completion).toMatchObject({ status: 202 });
    const [running] = await until('sequence running', async () =>
      (await sequencesOf('jane-clinic', patient)).filter((s) => s.running),
    );
    expect(await stack.client.workflow.getHandle(running!.workflowId).describe()).toMatchObject({
      status: { name: 'RUNNING' },
    });

    reRead(apiState({ state: 'booked', startAt: moved, updatedAt: new Date(Date.now() - 60_000).toISOString() }));
    expect((await signedPost(topic('APPOINTMENT_UNCANCELLED', 1))).status).toBe(200);
    await processed('APPOINTMENT_UNCANCELLED');
    expect((await held())!.status).toBe('booked');
    const [closed] = await until('sequence booked', async () =>
      (await sequencesOf('jane-clinic', patient)).filter((s) => s.outcome === 'booked'),
    );
    expect(closed).toMatchObject({ workflowId: running!.workflowId, outcome: 'booked' });
  });

  it('refuses bad signatures and stale timestamps; ignores unknown topics', async () => {
    const before = await count();
    const hook = jane('webhook-appointment-booked');
    hook.event_id = 'evt_refused';
    expect(await signedPost(hook, { secret: 'not-the-secret' })).toMatchObject({ status: 401 });
    expect(await signedPost(hook, { ts: String(Math.floor(Date.now() / 1000) - 3600) })).toMatchObject({ status: 401 });
    expect(await stack.post('/webhooks/jane/jane-clinic', JSON.stringify(hook))).toMatchObject({ status: 401 });
    expect(await signedPost({ ...hook, clinic_guid: 'another-clinic' })).toMatchObject({ status: 404 });
    expect(await signedPost(jane('webhook-unknown-topic'))).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await count()).toBe(before);
  });
});
