/**
 * Mindbody end to end on the real stack: signed webhook → inbox → re-read through the (nocked)
 * API → sequence running on the Temporal dev server. Also: duplicates, ordering, bad input, the
 * vendor API failing, and Temporal down for a while.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { and, eq, sql } from 'drizzle-orm';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { siteLocal } from '../../connectors/mindbody/index.js';
import { appointments, clients, inboxEvents, sequences } from '../../src/db/schema.js';
import { statusQuery } from '../../workflows/definitions.js';
import { type ConnectorStack, SECRETS, startConnectorStack, until } from '../helpers/connector-stack.js';

const CLINIC = 'mb-clinic';
const TZ = 'America/Los_Angeles';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const API = 'https://api.mindbody.test';
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../connectors/mindbody/fixtures/${name}.json`, import.meta.url), 'utf8'));

let stack: ConnectorStack;

/** Signed as Mindbody does, computed here independently of our verifier. */
function signed(payload: unknown, key = SECRETS.MB_SIGNATURE_KEY!): { raw: string; headers: Record<string, string> } {
  const raw = JSON.stringify(payload);
  return {
    raw,
    headers: {
      'x-mindbody-signature': `sha256=${createHmac('sha256', Buffer.from(key, 'utf8')).update(raw).digest('base64')}`,
    },
  };
}

const send = (payload: unknown) => {
  const d = signed(payload);
  return stack.post('/webhooks/mindbody', d.raw, d.headers);
};

/** An appointmentBooking.updated delivery (the fixture with our own ids and times). */
function updated(o: {
  messageId: string;
  appointmentId: string;
  uniqueId: string;
  clientId: string;
  status: string;
  start: number;
  at?: number;
}) {
  const f = fixture('webhook-appointment-updated-completed');
  f.messageId = o.messageId;
  f.eventInstanceOriginationDateTime = new Date(o.at ?? Date.now() - 60_000).toISOString();
  Object.assign(f.eventData, {
    appointmentId: Number(o.appointmentId),
    status: o.status,
    clientId: o.clientId,
    clientUniqueId: Number(o.uniqueId),
    startDateTime: new Date(o.start).toISOString(),
    endDateTime: new Date(o.start + 30 * 60_000).toISOString(),
  });
  return f;
}

function apiAppointment(o: { id: string; clientId: string; status: string; start: number; sessionTypeId?: number }) {
  const a = fixture('api-staffappointments').Appointments[0];
  return {
    ...a,
    Id: Number(o.id),
    ClientId: o.clientId,
    Status: o.status,
    StartDateTime: siteLocal(o.start, TZ),
    EndDateTime: siteLocal(o.start + 30 * 60_000, TZ),
    SessionTypeId: o.sessionTypeId ?? 17,
  };
}

function apiClient(o: { id: string; uniqueId: string; texts?: boolean; emails?: boolean; email?: string }) {
  const c = fixture('api-clients').Clients[0];
  return {
    ...c,
    Id: o.id,
    UniqueId: Number(o.uniqueId),
    SendPromotionalTexts: o.texts ?? true,
    SendPromotionalEmails: o.emails ?? true,
    Email: o.email ?? c.Email,
  };
}

const page = <K extends string>(key: K, items: unknown[]) => ({
  PaginationResponse: { RequestedLimit: 100, RequestedOffset: 0, PageSize: items.length, TotalResults: items.length },
  [key]: items,
});

/** The re-reads a completion webhook causes. */
function mockCompletionReads(a: ReturnType<typeof apiAppointment>, c: ReturnType<typeof apiClient>) {
  nock(API)
    .get('/public/v6/appointment/staffappointments')
    .query((q) => q['request.appointmentIds'] === String(a.Id))
    .matchHeader('api-key', SECRETS.MB_API_KEY!)
    .matchHeader('siteid', '-99')
    .matchHeader('authorization', 'staff-token-1')
    .reply(200, page('Appointments', [a]));
  nock(API)
    .get('/public/v6/client/clients')
    .query((q) => q['request.clientIDs'] === c.Id)
    .reply(200, page('Clients', [c]));
}

const inboxRows = (prefix: string) =>
  stack.database.db
    .select()
    .from(inboxEvents)
    .where(and(eq(inboxEvents.clinicId, CLINIC), sql`${inboxEvents.dedupeKey} like ${`mindbody:${prefix}%`}`));

const sequenceOf = async (uniqueId: string) => {
  const rows = await stack.database.db
    .select({ s: sequences })
    .from(sequences)
    .innerJoin(clients, eq(clients.id, sequences.clientId))
    .where(and(eq(sequences.clinicId, CLINIC), eq(clients.externalId, uniqueId)));
  return rows.map((r) => r.s);
};

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  stack = await startConnectorStack();
  mockOncePerProcess();
}, 120_000);

/** Once per process: the staff token and the session-type catalog (cached for hours). */
const served = { token: false, catalog: false };
function mockOncePerProcess() {
  if (!served.token)
    nock(API)
      .post('/public/v6/usertoken/issue', { Username: SECRETS.MB_USERNAME!, Password: SECRETS.MB_PASSWORD! })
      .reply(() => {
        served.token = true;
        return [200, { TokenType: 'Bearer', AccessToken: 'staff-token-1' }];
      });
  if (!served.catalog)
    nock(API)
      .get('/public/v6/site/sessiontypes')
      .reply(() => {
        served.catalog = true;
        return [200, fixture('api-sessiontypes')];
      });
}

afterEach(() => {
  // Every mocked vendor call a test set up was made (none left over for the next test).
  const pending = nock.pendingMocks().filter((m) => !/usertoken|sessiontypes/.test(m));
  nock.cleanAll();
  mockOncePerProcess();
  expect(pending).toEqual([]);
});

afterAll(async () => {
  await stack?.stop();
  nock.enableNetConnect();
});

describe('Mindbody webhooks', () => {
  it('answers the activation HEAD with 200', async () => {
    const res = await fetch(`${stack.url}/webhooks/mindbody`, { method: 'HEAD' });
    expect(res.status).toBe(200);
  });

  it('Completed → re-read appointment and client → sequence running, consent from the promotional flags, payload dropped', async () => {
    const start = Date.now() - 3 * HOUR;
    mockCompletionReads(
      apiAppointment({ id: '5001', clientId: '100000123', status: 'Completed', start }),
      apiClient({ id: '100000123', uniqueId: '100000123', texts: false, emails: true }),
    );
    const callsBefore = stack.counter.get('mindbody', CLINIC);
    const res = await send(
      updated({
        messageId: 'm-complete-1',
        appointmentId: '5001',
        uniqueId: '100000123',
        clientId: '100000123',
        status: 'Completed',
        start,
      }),
    );
    expect(res).toMatchObject({ status: 200, body: { status: 'accepted', stored: 1, duplicates: 0 } });

    const [row] = await until('inbox row done', async () =>
      (await inboxRows('m-complete-1')).filter((r) => r.status === 'done'),
    );
    expect(row!.payload).toBeNull();
    expect(row!.occurredAt).not.toBeNull();
    const [seq] = await sequenceOf('100000123');
    expect(seq!.treatmentType).toBe('neuromodulator');
    expect(seq!.workflowId).not.toMatch(/100000123|Rosalind|Okafor/);
    const described = await stack.client.workflow.getHandle(seq!.workflowId).describe();
    expect(described.status.name).toBe('RUNNING');
    const [client] = await stack.database.db
      .select()
      .from(clients)
      .where(and(eq(clients.clinicId, CLINIC), eq(clients.externalId, '100000123')));
    expect(client).toMatchObject({ firstName: 'Rosalind', consentSms: false, consentEmail: true });
    // Token (first call of the process), catalog, appointment, client.
    expect(stack.counter.get('mindbody', CLINIC) - callsBefore).toBeGreaterThanOrEqual(2);
  });

  it('the same delivery 5 times → one inbox row, one appointment, one sequence', async () => {
    const start = Date.now() - 5 * HOUR;
    mockCompletionReads(
      apiAppointment({ id: '5002', clientId: 'ID-77', status: 'Completed', start }),
      apiClient({ id: 'ID-77', uniqueId: '200000077' }),
    );
    const payload = updated({
      messageId: 'm-dup-1',
      appointmentId: '5002',
      uniqueId: '200000077',
      clientId: 'ID-77',
      status: 'Completed',
      start,
    });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await send(payload));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.filter((a) => a.body.status === 'duplicate')).toHaveLength(4);
    await until('sequence', async () => (await sequenceOf('200000077')).length > 0);
    expect(await inboxRows('m-dup-1')).toHaveLength(1);
    expect(
      await stack.database.db
        .select()
        .from(appointments)
        .where(and(eq(appointments.clinicId, CLINIC), eq(appointments.externalId, '5002'))),
    ).toHaveLength(1);
    expect(await sequenceOf('200000077')).toHaveLength(1);
  });

  it('booking arrives before the completion → the new sequence ends as booked', async () => {
    const treated = Date.now() - 4 * HOUR;
    const created = fixture('webhook-appointment-created');
    created.messageId = 'm-order-booked';
    created.eventInstanceOriginationDateTime = new Date(Date.now() - 30 * 60_000).toISOString();
    Object.assign(created.eventData, {
      appointmentId: 6002,
      clientId: 'ID-300',
      clientUniqueId: 300000003,
      startDateTime: new Date(Date.now() + 85 * DAY).toISOString(),
      endDateTime: new Date(Date.now() + 85 * DAY + 1_800_000).toISOString(),
    });
    expect((await send(created)).status).toBe(200);
    await until(
      'booking recorded',
      async () =>
        (
          await stack.database.db
            .select()
            .from(appointments)
            .where(
              and(
                eq(appointments.clinicId, CLINIC),
                eq(appointments.externalId, '6002'),
                eq(appointments.status, 'booked'),
              ),
            )
        ).length > 0,
    );

    mockCompletionReads(
      apiAppointment({ id: '6001', clientId: 'ID-300', status: 'Completed', start: treated }),
      apiClient({ id: 'ID-300', uniqueId: '300000003' }),
    );
    expect(
      (
        await send(
          updated({
            messageId: 'm-order-completed',
            appointmentId: '6001',
            uniqueId: '300000003',
            clientId: 'ID-300',
            status: 'Completed',
            start: treated,
            at: Date.now() - 20 * 60_000,
          }),
        )
      ).status,
    ).toBe(200);
    const [seq] = await until('sequence booked', async () =>
      (await sequenceOf('300000003')).filter((s) => s.outcome === 'booked'),
    );
    expect(seq!.outcome).toBe('booked');
  });

  it('an older update arriving after a newer one is stale: booking after cancellation, old contact after new', async () => {
    const startAt = Date.now() + 30 * DAY;
    const cancelled = fixture('webhook-appointment-cancelled-ids-only');
    cancelled.messageId = 'm-stale-cancel';
    cancelled.eventInstanceOriginationDateTime = new Date(Date.now() - 10 * 60_000).toISOString();
    cancelled.eventData = { siteId: -99, appointmentId: 7001, clientUniqueId: 400000004 };
    const booked = fixture('webhook-appointment-created');
    booked.messageId = 'm-stale-book';
    booked.eventInstanceOriginationDateTime = new Date(Date.now() - 60 * 60_000).toISOString();
    Object.assign(booked.eventData, {
      appointmentId: 7001,
      clientId: 'ID-400',
      clientUniqueId: 400000004,
      startDateTime: new Date(startAt).toISOString(),
    });
    expect((await send(cancelled)).status).toBe(200);
    await until('cancel applied', async () => (await inboxRows('m-stale-cancel')).some((r) => r.status === 'done'));
    expect((await send(booked)).status).toBe(200);
    const [row] = await until('stale booking processed', async () =>
      (await inboxRows('m-stale-book')).filter((r) => r.status === 'done'),
    );
    expect(JSON.stringify(row!.result)).toContain('"stale":true');
    const [appt] = await stack.database.db
      .select()
      .from(appointments)
      .where(and(eq(appointments.clinicId, CLINIC), eq(appointments.externalId, '7001')));
    expect(appt!.status).toBe('cancelled');

    // Contact: the newer update (t2) wins over an older one (t1) delivered later.
    const newer = fixture('webhook-client-updated');
    newer.messageId = 'm-contact-new';
    newer.eventInstanceOriginationDateTime = new Date(Date.now() - 60_000).toISOString();
    Object.assign(newer.eventData, { email: 'roz.new@example.net', sendPromotionalTexts: false });
    const older = fixture('webhook-client-updated');
    older.messageId = 'm-contact-old';
    older.eventInstanceOriginationDateTime = new Date(Date.now() - 2 * DAY).toISOString();
    Object.assign(older.eventData, { email: 'roz.old@example.net', sendPromotionalTexts: true });
    expect((await send(newer)).status).toBe(200);
    await until('newer contact applied', async () =>
      (await inboxRows('m-contact-new')).some((r) => r.status === 'done'),
    );
    expect((await send(older)).status).toBe(200);
    await until('older contact processed', async () =>
      (await inboxRows('m-contact-old')).some((r) => r.status === 'done'),
    );
    const [c] = await stack.database.db
      .select()
      .from(clients)
      .where(and(eq(clients.clinicId, CLINIC), eq(clients.externalId, '100000123')));
    expect(c).toMatchObject({ email: 'roz.new@example.net', consentSms: false });
  });

  it('clientProfileMerger: events naming the removed profile apply to the kept one', async () => {
    const merger = fixture('webhook-client-profile-merger');
    merger.eventInstanceOriginationDateTime = new Date(Date.now() - 60_000).toISOString();
    expect((await send(merger)).status).toBe(200);
    await until('merge applied', async () => (await inboxRows('MsgMerge0006')).some((r) => r.status === 'done'));
    const booked = fixture('webhook-appointment-created');
    booked.messageId = 'm-merged-booking';
    booked.eventInstanceOriginationDateTime = new Date().toISOString();
    Object.assign(booked.eventData, {
      appointmentId: 7101,
      clientId: 'OLD-999',
      clientUniqueId: 100000999,
      startDateTime: new Date(Date.now() + 20 * DAY).toISOString(),
    });
    expect((await send(booked)).status).toBe(200);
    const [appt] = await until('booking recorded', async () =>
      stack.database.db
        .select()
        .from(appointments)
        .where(and(eq(appointments.clinicId, CLINIC), eq(appointments.externalId, '7101'))),
    );
    expect(appt!.clientExternalId).toBe('100000123');
  });

  it('clientProfileMerger of two known profiles: the removed profile’s sequence continues under the kept one, and a booking of the kept one ends it', async () => {
    // Removed profile: a Botox today. Kept profile: a Botox a month ago (same type: the newer anchor wins).
    const today = Date.now() - 6 * HOUR;
    const monthAgo = Date.now() - 30 * DAY;
    mockCompletionReads(
      apiAppointment({ id: '8101', clientId: 'ID-801', status: 'Completed', start: today }),
      apiClient({ id: 'ID-801', uniqueId: '800000001' }),
    );
    expect(
      (
        await send(
          updated({
            messageId: 'm-merge-removed',
            appointmentId: '8101',
            uniqueId: '800000001',
            clientId: 'ID-801',
            status: 'Completed',
            start: today,
          }),
        )
      ).status,
    ).toBe(200);
    const [removedSeq] = await until('removed profile sequence', async () =>
      (await sequenceOf('800000001')).filter((s) => s.running),
    );
    mockCompletionReads(
      apiAppointment({ id: '8102', clientId: 'ID-802', status: 'Completed', start: monthAgo }),
      apiClient({ id: 'ID-802', uniqueId: '800000002' }),
    );
    expect(
      (
        await send(
          updated({
            messageId: 'm-merge-kept',
            appointmentId: '8102',
            uniqueId: '800000002',
            clientId: 'ID-802',
            status: 'Completed',
            start: monthAgo,
          }),
        )
      ).status,
    ).toBe(200);
    const [keptSeq] = await until('kept profile sequence', async () =>
      (await sequenceOf('800000002')).filter((s) => s.running),
    );

    const merger = fixture('webhook-client-profile-merger');
    merger.messageId = 'm-merge-both';
    merger.eventInstanceOriginationDateTime = new Date(Date.now() - 60_000).toISOString();
    Object.assign(merger.eventData, {
      keptClientId: 'ID-802',
      keptClientUniqueId: 800000002,
      removedClientUniqueId: 800000001,
    });
    expect((await send(merger)).status).toBe(200);
    await until('merge applied', async () => (await inboxRows('m-merge-both')).some((r) => r.status === 'done'));

    // The removed profile's workflow has ended; the kept one now runs from the newer treatment.
    await until(
      'removed sequence ended',
      async () =>
        (await stack.client.workflow.getHandle(removedSeq!.workflowId).describe()).status.name === 'COMPLETED',
    );
    expect((await sequenceOf('800000001')).filter((s) => s.running)).toEqual([]);
    const kept = stack.client.workflow.getHandle(keptSeq!.workflowId);
    await until(
      'kept sequence anchored on the newer treatment',
      async () => (await kept.query(statusQuery)).anchorAppointmentId === '8101',
    );
    expect((await kept.describe()).status.name).toBe('RUNNING');
    expect((await sequenceOf('800000002')).filter((s) => s.running)).toHaveLength(1);

    // A booking of the kept profile stops its marketing: nothing of the removed profile keeps sending.
    const booked = fixture('webhook-appointment-created');
    booked.messageId = 'm-merge-booked';
    booked.eventInstanceOriginationDateTime = new Date().toISOString();
    Object.assign(booked.eventData, {
      appointmentId: 8103,
      clientId: 'ID-802',
      clientUniqueId: 800000002,
      startDateTime: new Date(Date.now() + 60 * DAY).toISOString(),
    });
    expect((await send(booked)).status).toBe(200);
    // Booked: marketing stops and the sequence watches the visit (issue 11).
    const [done] = await until('kept sequence booked', async () =>
      (await sequenceOf('800000002')).filter((s) => s.outcome === 'booked'),
    );
    expect(done!.workflowId).toBe(keptSeq!.workflowId);
  });

  it('refuses bad input: signature, secret, JSON, site, size; ignores unknown types; nothing stored', async () => {
    const count = async () =>
      (await stack.database.db.select({ n: sql<number>`count(*)::int` }).from(inboxEvents))[0]!.n;
    const before = await count();
    const payload = updated({
      messageId: 'm-bad-1',
      appointmentId: '9001',
      uniqueId: '900000001',
      clientId: 'X',
      status: 'Completed',
      start: Date.now() - HOUR,
    });
    const good = signed(payload);
    expect(
      await stack.post('/webhooks/mindbody', good.raw, {
        'x-mindbody-signature': signed(payload, 'some-other-key').headers['x-mindbody-signature']!,
      }),
    ).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(await stack.post('/webhooks/mindbody', good.raw)).toMatchObject({ status: 401 });
    // Body changed after signing: the signature covers the exact bytes.
    expect(
      await stack.post('/webhooks/mindbody', good.raw.replace('Completed', 'Cancelled'), good.headers),
    ).toMatchObject({ status: 401 });
    // The site's key variable is not set: verification is never skipped.
    const noKey = { ...payload, eventData: { ...payload.eventData, siteId: 555001 } };
    expect(await stack.post('/webhooks/mindbody', JSON.stringify(noKey), signed(noKey).headers)).toMatchObject({
      status: 401,
    });
    expect(await stack.post('/webhooks/mindbody', '{"messageId":', good.headers)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_json' } },
    });
    const otherSite = { ...payload, eventData: { ...payload.eventData, siteId: 424242 } };
    expect(await stack.post('/webhooks/mindbody', JSON.stringify(otherSite), signed(otherSite).headers)).toMatchObject({
      status: 404,
    });
    const huge = { ...payload, eventData: { ...payload.eventData, notes: 'x'.repeat(1_100_000) } };
    expect(await stack.post('/webhooks/mindbody', JSON.stringify(huge), signed(huge).headers)).toMatchObject({
      status: 413,
      body: { error: { code: 'payload_too_large' } },
    });
    const envelopeless = { eventData: { siteId: -99 } };
    expect(
      await stack.post('/webhooks/mindbody', JSON.stringify(envelopeless), signed(envelopeless).headers),
    ).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(await count()).toBe(before);

    const sale = fixture('webhook-client-sale-created');
    expect(await send(sale)).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await count()).toBe(before);
  });

  it('a delivery missing a needed field is re-read; not found on the API → rejected with the reason', async () => {
    const created = fixture('webhook-appointment-created');
    created.messageId = 'm-missing-start';
    created.eventInstanceOriginationDateTime = new Date().toISOString();
    created.eventData = { siteId: -99, appointmentId: 8001, status: 'Scheduled', clientUniqueId: 100000123 };
    nock(API)
      .get('/public/v6/appointment/staffappointments')
      .query((q) => q['request.appointmentIds'] === '8001')
      .reply(200, page('Appointments', []));
    expect((await send(created)).status).toBe(200);
    const [row] = await until('rejected', async () =>
      (await inboxRows('m-missing-start')).filter((r) => r.status === 'rejected'),
    );
    expect(row!.lastError).toMatch(/^validation_failed: startDateTime missing and appointment not found on re-read/);
    expect(row!.payload).toBeNull();

    // Found on re-read: the booking is recorded with the API's start time.
    const startAt = Date.now() + 14 * DAY;
    const again = {
      ...created,
      messageId: 'm-missing-start-2',
      eventData: { ...created.eventData, appointmentId: 8002 },
    };
    nock(API)
      .get('/public/v6/appointment/staffappointments')
      .query((q) => q['request.appointmentIds'] === '8002')
      .reply(
        200,
        page('Appointments', [apiAppointment({ id: '8002', clientId: '100000123', status: 'Booked', start: startAt })]),
      );
    expect((await send(again)).status).toBe(200);
    const [appt] = await until('booking from re-read', async () =>
      stack.database.db
        .select()
        .from(appointments)
        .where(and(eq(appointments.clinicId, CLINIC), eq(appointments.externalId, '8002'))),
    );
    expect(Math.abs(appt!.startAt!.getTime() - startAt)).toBeLessThan(60_000);
  });

  it('vendor 503 then 429 (Retry-After) → retried with backoff, then processed; every attempt counted', async () => {
    const start = Date.now() - 2 * HOUR;
    const a = apiAppointment({ id: '5101', clientId: 'ID-510', status: 'Completed', start });
    nock(API).get('/public/v6/appointment/staffappointments').query(true).reply(503, 'upstream down');
    nock(API)
      .get('/public/v6/appointment/staffappointments')
      .query(true)
      .reply(429, { Error: { Code: 'TooManyRequests' } }, { 'Retry-After': '0' });
    mockCompletionReads(a, apiClient({ id: 'ID-510', uniqueId: '500000510' }));
    const before = stack.counter.get('mindbody', CLINIC);
    expect(
      (
        await send(
          updated({
            messageId: 'm-retry',
            appointmentId: '5101',
            uniqueId: '500000510',
            clientId: 'ID-510',
            status: 'Completed',
            start,
          }),
        )
      ).status,
    ).toBe(200);
    await until('sequence after retries', async () => (await sequenceOf('500000510')).length > 0);
    expect(stack.counter.get('mindbody', CLINIC) - before).toBe(4);
  });

  it('Temporal down → webhooks still answered 200 and kept; delivered once it is back', async () => {
    await stack.stopTemporal();
    const ids = ['5201', '5202', '5203'];
    for (const [i, id] of ids.entries()) {
      const start = Date.now() - (i + 2) * HOUR;
      mockCompletionReads(
        apiAppointment({ id, clientId: `ID-52${i}`, status: 'Completed', start }),
        apiClient({ id: `ID-52${i}`, uniqueId: `52000000${i}` }),
      );
      const res = await send(
        updated({
          messageId: `m-outage-${id}`,
          appointmentId: id,
          uniqueId: `52000000${i}`,
          clientId: `ID-52${i}`,
          status: 'Completed',
          start,
        }),
      );
      expect(res).toMatchObject({ status: 200, body: { status: 'accepted' } });
    }
    // Re-read done, Temporal unreachable: each row is pending with the reason, payload still kept.
    await until(
      'processing attempted',
      async () => {
        const rows = await inboxRows('m-outage-');
        return rows.length === 3 && rows.every((r) => r.status === 'pending' && r.attempts > 0);
      },
      60_000,
    );
    // Recognised as Temporal being unreachable: retried on every pass, never dead-lettered.
    expect((await inboxRows('m-outage-')).map((r) => [r.lastError, r.failures])).toEqual([
      ['temporal_unavailable', 0],
      ['temporal_unavailable', 0],
      ['temporal_unavailable', 0],
    ]);
    await stack.startTemporal();
    await until(
      'every event delivered',
      async () => (await inboxRows('m-outage-')).every((r) => r.status === 'done'),
      90_000,
    );
    for (const i of [0, 1, 2]) {
      const [seq] = await sequenceOf(`52000000${i}`);
      expect((await stack.client.workflow.getHandle(seq!.workflowId).describe()).status.name).toBe('RUNNING');
    }
  }, 180_000);
});
