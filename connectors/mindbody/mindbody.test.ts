/**
 * The Mindbody connector against a nocked API and a real PGlite database: signature scheme
 * (pinned vectors for the unconfirmed key encoding), polling with cursors and dedupe, the booking
 * check (cache, call counting, unreachable platform → throw), bookings and cancellations found
 * by polling.
 */
import { readFileSync, rmSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { and, eq, inArray } from 'drizzle-orm';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClinicConfig } from '../../src/config/schema.js';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { readState, writeState } from '../../src/db/connector-store.js';
import { appointments, clients, sequences } from '../../src/db/schema.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { connectorConfigDir, SECRETS } from '../../test/helpers/connector-stack.js';
import { appointmentLapsedSignal, bookedSignal } from '../../workflows/definitions.js';
import { ApiCallCounter } from '../http.js';
import { createBookingChecker, vendorResolver } from '../registry.js';
import { createConnectorRuntime, saveClientRef } from '../shared.js';
import type { ApiContext, ConnectorRuntime } from '../types.js';
import {
  MINDBODY_POLL_DEEP_HORIZON_MS,
  MINDBODY_POLL_DEEP_INTERVAL_MS,
  MINDBODY_POLL_LOOKBACK_MS,
  MINDBODY_POLL_UPCOMING_MS,
  MINDBODY_SIGNATURE_KEY_ENCODING,
} from './constants.js';
import { mindbodyConnector, siteLocal } from './index.js';
import { mindbodySignature, verifyMindbody } from './webhook.js';

const API = 'https://api.mindbody.test';
const TZ = 'America/Los_Angeles';
const DAY = 86_400_000;
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'));
const page = <K extends string>(key: K, items: unknown[]) => ({
  PaginationResponse: { RequestedLimit: 100, RequestedOffset: 0, PageSize: items.length, TotalResults: items.length },
  [key]: items,
});

let database: Database;
let clinic: ClinicConfig;
let configDir: string;
let now = Date.parse('2026-11-20T20:00:00Z');

function runtime(counter = new ApiCallCounter()): ConnectorRuntime {
  return {
    ...createConnectorRuntime({
      secrets: SECRETS,
      log: createLogger({ level: 'silent' }),
      counter,
      now: () => now,
      sleep: async () => undefined,
    }),
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  };
}
const ctx = (rt: ConnectorRuntime): ApiContext => ({ db: database.db, clinic, runtime: rt });

beforeAll(async () => {
  nock.disableNetConnect();
  configDir = connectorConfigDir();
  clinic = createConfigStore(configDir).current().clinics.get('mb-clinic')!;
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

describe('X-Mindbody-Signature', () => {
  const body = Buffer.from('{"messageId":"MsgCreated0001"}');
  it('is sha256= + base64 HMAC-SHA256 over the raw body, keyed with the key as UTF-8 (pinned vector, computed with openssl)', () => {
    expect(MINDBODY_SIGNATURE_KEY_ENCODING).toBe('utf8');
    expect(mindbodySignature(body, 'whsec_test_key')).toBe('sha256=UCcVWwXGtdkJ8HvWCKAp33kxA2Jd4y6mnm/tUsobrHU=');
  });
  it('the alternative reading (key base64-decoded first) gives a different signature, so the constant decides', () => {
    // "dGVzdC1rZXk=" decodes to "test-key"; openssl with the decoded bytes gives this value.
    expect(mindbodySignature(body, 'dGVzdC1rZXk=', 'base64')).toBe(
      'sha256=q9dxpMKUi5Ho9Aob3RxMYs+xI8nWrkNmZQsoU3lJzPM=',
    );
    expect(mindbodySignature(body, 'dGVzdC1rZXk=', 'utf8')).not.toBe(
      'sha256=q9dxpMKUi5Ho9Aob3RxMYs+xI8nWrkNmZQsoU3lJzPM=',
    );
  });
  it('verification refuses a missing key, a missing header and a wrong signature', () => {
    const good = mindbodySignature(body, SECRETS.MB_SIGNATURE_KEY!);
    expect(() =>
      verifyMindbody({ rawBody: body, headers: { 'x-mindbody-signature': good } }, clinic, SECRETS),
    ).not.toThrow();
    expect(() => verifyMindbody({ rawBody: body, headers: { 'x-mindbody-signature': good } }, clinic, {})).toThrow(
      /not configured/,
    );
    expect(() => verifyMindbody({ rawBody: body, headers: {} }, clinic, SECRETS)).toThrow(/missing/);
    expect(() =>
      verifyMindbody({ rawBody: Buffer.from(`${body} `), headers: { 'x-mindbody-signature': good } }, clinic, SECRETS),
    ).toThrow(/invalid/);
  });
});

describe('polling', () => {
  it('finds completed appointments in an overlapping window, reads their clients in one call, skips what is known, and moves the cursor only on commit', async () => {
    const rt = runtime();
    const appt = (id: number, status: string, startMs: number, clientId: string) => ({
      ...fixture('api-staffappointments').Appointments[0],
      Id: id,
      Status: status,
      ClientId: clientId,
      StartDateTime: siteLocal(startMs, TZ),
      EndDateTime: siteLocal(startMs + 1_800_000, TZ),
    });
    const client = (id: string, uniqueId: number) => ({
      ...fixture('api-clients').Clients[0],
      Id: id,
      UniqueId: uniqueId,
    });
    nock(API).post('/public/v6/usertoken/issue').reply(200, { AccessToken: 'tok' });
    nock(API).get('/public/v6/site/sessiontypes').reply(200, fixture('api-sessiontypes'));
    nock(API)
      .get('/public/v6/appointment/staffappointments')
      .query(
        (q) =>
          q['request.startDate'] === siteLocal(now - MINDBODY_POLL_LOOKBACK_MS, TZ) &&
          q['request.endDate'] === siteLocal(now + MINDBODY_POLL_UPCOMING_MS, TZ) &&
          q['request.limit'] === '100',
      )
      .reply(
        200,
        page('Appointments', [
          appt(11, 'Completed', now - 5 * 3_600_000, 'A'),
          appt(12, 'Arrived', now - 2 * 3_600_000, 'B'),
          appt(13, 'Arrived', now - 10 * 60_000, 'C'),
          appt(14, 'Booked', now + 3_600_000, 'D'),
          appt(15, 'Completed', now - 8 * 3_600_000, 'E'),
        ]),
      );
    // The first poll also scans deep ahead for bookings (nothing of interest there).
    nock(API)
      .get('/public/v6/appointment/staffappointments')
      .query(
        (q) =>
          q['request.startDate'] === siteLocal(now + MINDBODY_POLL_UPCOMING_MS, TZ) &&
          q['request.endDate'] === siteLocal(now + MINDBODY_POLL_DEEP_HORIZON_MS, TZ),
      )
      .reply(200, page('Appointments', []));
    await database.db
      .insert(appointments)
      .values({ clinicId: clinic.id, externalId: '15', clientExternalId: '9', status: 'completed' });
    nock(API)
      .get('/public/v6/client/clients')
      .query((q) => JSON.stringify(q['request.clientIDs']) === JSON.stringify(['A', 'B']))
      .reply(200, page('Clients', [client('A', 1001), client('B', 1002)]));

    const first = await mindbodyConnector.poll!(ctx(rt));
    // 11 completed, 12 arrived and ended; 13 still in progress, 14 future, 15 already known.
    expect(first.items.map((i) => i.dedupeKey)).toEqual([
      'mindbody:poll:appointment:11:completed',
      'mindbody:poll:appointment:12:completed',
    ]);
    const events = await mindbodyConnector.resolve!(ctx(rt), first.items[0]!.vendor);
    expect(events).toMatchObject([
      {
        type: 'treatment.completed',
        appointmentId: '11',
        client: { id: '1001' },
        service: { id: '17', name: 'Botox – Forehead & Crow’s Feet' },
      },
    ]);
    expect(await readState(database.db, clinic.id, 'mindbody', 'poll.appointments')).toBeUndefined();
    await first.commit();
    expect(await readState(database.db, clinic.id, 'mindbody', 'poll.appointments')).toBe(new Date(now).toISOString());
    expect(rt.counter.get('mindbody', clinic.id)).toBe(5); // token, appointments, deep scan, clients, catalog

    // Next poll, 15 minutes later: the window still reaches back a day (status changes come late),
    // clients modified since the cursor minus the overlap are read.
    now += 15 * 60_000;
    // (no deep scan: the last one is less than MINDBODY_POLL_DEEP_INTERVAL_MS old)
    nock(API)
      .get('/public/v6/appointment/staffappointments')
      .query((q) => q['request.startDate'] === siteLocal(now - MINDBODY_POLL_LOOKBACK_MS, TZ))
      .reply(200, page('Appointments', []));
    nock(API)
      .get('/public/v6/client/clients')
      .query((q) => q['request.lastModifiedDate'] === siteLocal(now - 15 * 60_000 - 3_600_000, TZ))
      .reply(
        200,
        page('Clients', [
          { ...client('A', 1001), LastModifiedDateTime: siteLocal(now - 5 * 60_000, TZ), SendPromotionalTexts: false },
        ]),
      );
    const second = await mindbodyConnector.poll!(ctx(rt));
    expect(second.items).toHaveLength(1);
    expect(second.items[0]).toMatchObject({
      eventType: 'mindbody:poll.clientModified',
      occurredAt: new Date(now - 5 * 60_000).toISOString(),
    });
    const [upd] = await mindbodyConnector.resolve!(ctx(rt), second.items[0]!.vendor);
    expect(upd).toMatchObject({ type: 'client.updated', client: { id: '1001', consent: { sms: false, email: true } } });
  });

  it('pages through listings larger than one page', async () => {
    const rt = runtime();
    await writeState(database.db, clinic.id, 'mindbody', 'poll.appointments', new Date(now - 60_000).toISOString());
    await writeState(database.db, clinic.id, 'mindbody', 'poll.clients', new Date(now - 60_000).toISOString());
    await writeState(database.db, clinic.id, 'mindbody', 'poll.deep', new Date(now - 60_000).toISOString());
    const many = Array.from({ length: 130 }, (_, i) => ({
      ...fixture('api-staffappointments').Appointments[0],
      Id: 2000 + i,
      Status: 'Booked',
      StartDateTime: siteLocal(now + 3_600_000, TZ),
      EndDateTime: siteLocal(now + 5_400_000, TZ),
    }));
    nock(API).post('/public/v6/usertoken/issue').reply(200, { AccessToken: 'tok' });
    nock(API)
      .get('/public/v6/appointment/staffappointments')
      .query((q) => q['request.offset'] === '0')
      .reply(200, { PaginationResponse: { TotalResults: 130, PageSize: 100 }, Appointments: many.slice(0, 100) });
    nock(API)
      .get('/public/v6/appointment/staffappointments')
      .query((q) => q['request.offset'] === '100')
      .reply(200, { PaginationResponse: { TotalResults: 130, PageSize: 30 }, Appointments: many.slice(100) });
    nock(API).get('/public/v6/client/clients').query(true).reply(200, page('Clients', []));
    const r = await mindbodyConnector.poll!(ctx(rt));
    expect(r.items).toEqual([]);
    expect(rt.counter.get('mindbody')).toBe(4);
  });
});

describe('polling for bookings and cancellations', () => {
  it('emits bookings of known clients and cancellations of bookings we hold, once, stamped with the poll time; a deeper scan every 12 h', async () => {
    const rt = runtime();
    const signals: { signal: string; workflowId: string; appointmentId: string }[] = [];
    // Only what ingest calls for a booking or a cancellation of a client with a running sequence (a signal).
    const temporal = {
      withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn(),
      workflow: {
        getHandle: (workflowId: string) => ({
          signal: async (s: { name: string }, b: { appointmentId: string }) =>
            void signals.push({ signal: s.name, workflowId, appointmentId: b.appointmentId }),
        }),
      },
    } as unknown as Client;
    const ingest = createIngest({
      db: database.db,
      config: createConfigStore(configDir),
      temporal,
      taskQueue: 'unused',
      log: createLogger({ level: 'silent' }),
      now: () => now,
      resolveVendorEvent: vendorResolver(database.db, rt),
    });
    const run = async () => {
      const r = await mindbodyConnector.poll!(ctx(rt));
      const stored = await ingest.store(clinic.id, 'mindbody', r.items);
      await r.commit();
      await ingest.processStored(stored.stored);
      return r.items;
    };
    const appt = (id: number, status: string, startMs: number, clientId: string) => ({
      ...fixture('api-staffappointments').Appointments[0],
      Id: id,
      Status: status,
      ClientId: clientId,
      StartDateTime: siteLocal(startMs, TZ),
      EndDateTime: siteLocal(startMs + 1_800_000, TZ),
    });
    const at = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();
    const listing = (startMs: number, endMs: number, items: unknown[]) =>
      nock(API)
        .get('/public/v6/appointment/staffappointments')
        .query(
          (q) => q['request.startDate'] === siteLocal(startMs, TZ) && q['request.endDate'] === siteLocal(endMs, TZ),
        )
        .reply(200, page('Appointments', items));
    const noClientChanges = () =>
      nock(API)
        .get('/public/v6/client/clients')
        .query((q) => typeof q['request.lastModifiedDate'] === 'string')
        .reply(200, page('Clients', []));

    // A known client (seen through the API: Id K-77 is UniqueId 300077) with a running sequence and a booking we hold.
    await saveClientRef(database.db, clinic.id, 'mindbody', '300077', 'K-77');
    const [known] = await database.db
      .insert(clients)
      .values({ clinicId: clinic.id, externalId: '300077', firstName: 'Known', lastName: 'Client', consentEmail: true })
      .returning({ id: clients.id });
    await database.db.insert(sequences).values({
      workflowId: 'rebook/mb-clinic/poll-test/neuromodulator',
      clinicId: clinic.id,
      clientId: known!.id,
      treatmentType: 'neuromodulator',
      running: true,
    });
    await database.db.insert(appointments).values({
      clinicId: clinic.id,
      externalId: '501',
      clientExternalId: '300077',
      status: 'booked',
      startAt: new Date(now + 5 * DAY),
    });
    await writeState(
      database.db,
      clinic.id,
      'mindbody',
      'poll.appointments',
      new Date(now - 15 * 60_000).toISOString(),
    );
    await writeState(database.db, clinic.id, 'mindbody', 'poll.clients', new Date(now - 15 * 60_000).toISOString());
    await writeState(
      database.db,
      clinic.id,
      'mindbody',
      'poll.deep',
      new Date(now - MINDBODY_POLL_DEEP_INTERVAL_MS).toISOString(),
    );
    const from = () => now - MINDBODY_POLL_LOOKBACK_MS;

    nock(API).post('/public/v6/usertoken/issue').reply(200, { AccessToken: 'tok' });
    listing(from(), now + MINDBODY_POLL_UPCOMING_MS, [
      appt(601, 'Booked', now + 2 * DAY, 'K-77'), // new booking of a known client → booked
      appt(602, 'Booked', now + 1 * DAY, 'STRANGER'), // someone we never treated → nothing
      appt(501, 'Cancelled', now + 5 * DAY, 'K-77'), // the booking we hold → cancelled
      appt(603, 'Requested', now + 3 * DAY, 'K-77'), // not confirmed by the clinic → nothing
      appt(606, 'Booked', now - 2 * 3_600_000, 'K-77'), // started already: not a future booking
    ]);
    listing(now + MINDBODY_POLL_UPCOMING_MS, now + MINDBODY_POLL_DEEP_HORIZON_MS, [
      appt(604, 'Confirmed', now + 90 * DAY, 'K-77'), // the rebooking made at checkout → booked
      appt(605, 'LateCancelled', now + 40 * DAY, 'K-77'), // never held as booked → nothing
    ]);
    noClientChanges();
    const first = await run();
    expect(first.map((i) => i.dedupeKey).sort()).toEqual(
      [
        `mindbody:poll:appointment:501:cancelled`,
        `mindbody:poll:appointment:601:booked:${at(now + 2 * DAY)}`,
        `mindbody:poll:appointment:604:booked:${at(now + 90 * DAY)}`,
      ].sort(),
    );
    expect(new Set(first.map((i) => i.occurredAt))).toEqual(new Set([new Date(now).toISOString()]));
    const held = async () =>
      Object.fromEntries(
        (
          await database.db
            .select({ id: appointments.externalId, status: appointments.status })
            .from(appointments)
            .where(
              and(
                eq(appointments.clinicId, clinic.id),
                inArray(appointments.externalId, ['501', '601', '602', '603', '604', '605', '606']),
              ),
            )
        ).map((r) => [r.id, r.status]),
      );
    expect(await held()).toEqual({ '501': 'cancelled', '601': 'booked', '604': 'booked' });
    // Each booking ends the client's running sequence.
    expect(
      signals
        .filter((x) => x.signal === bookedSignal.name)
        .map((x) => x.appointmentId)
        .sort(),
    ).toEqual(['601', '604']);
    // ...and the cancellation of the booking we hold reaches it too: the watched visit lapsed (issue 11).
    expect(signals.filter((x) => x.signal === appointmentLapsedSignal.name).map((x) => x.appointmentId)).toEqual([
      '501',
    ]);
    // The same changes delivered again (overlapping windows, a second poller) → nothing new.
    expect(await ingest.store(clinic.id, 'mindbody', first)).toEqual({ stored: [], duplicates: 3 });
    // A webhook describing a moment before the poll looked is stale against it.
    const [late] = await ingest.accept(clinic.id, [
      {
        type: 'appointment.booked',
        occurredAt: new Date(now - 10 * 60_000).toISOString(),
        clientId: '300077',
        appointmentId: '501',
        startAt: new Date(now + 5 * DAY).toISOString(),
      },
    ]);
    expect(late).toMatchObject({ status: 'accepted', stale: true });
    expect((await held())['501']).toBe('cancelled');

    // 15 minutes later: same vendor state → no items; the deep scan is not due (nock fails on an unexpected call).
    now += 15 * 60_000;
    listing(from(), now + MINDBODY_POLL_UPCOMING_MS, [
      appt(601, 'Booked', now - 15 * 60_000 + 2 * DAY, 'K-77'),
      appt(501, 'Cancelled', now + 5 * DAY, 'K-77'),
    ]);
    noClientChanges();
    expect(await run()).toEqual([]);

    // 12 hours on: 601 rescheduled (a new start is a new booking), the deep scan runs again.
    now += MINDBODY_POLL_DEEP_INTERVAL_MS;
    listing(now - MINDBODY_POLL_LOOKBACK_MS, now + MINDBODY_POLL_UPCOMING_MS, [
      appt(601, 'Booked', now + 2 * DAY + 3_600_000, 'K-77'),
    ]);
    listing(now + MINDBODY_POLL_UPCOMING_MS, now + MINDBODY_POLL_DEEP_HORIZON_MS, [
      appt(604, 'Confirmed', now - MINDBODY_POLL_DEEP_INTERVAL_MS - 15 * 60_000 + 90 * DAY, 'K-77'),
    ]);
    noClientChanges();
    const third = await run();
    expect(third.map((i) => i.dedupeKey)).toEqual([
      `mindbody:poll:appointment:601:booked:${at(now + 2 * DAY + 3_600_000)}`,
    ]);
    const [row] = await database.db
      .select({ startAt: appointments.startAt })
      .from(appointments)
      .where(and(eq(appointments.clinicId, clinic.id), eq(appointments.externalId, '601')));
    expect(row!.startAt!.toISOString()).toBe(at(now + 2 * DAY + 3_600_000));
    // token + 5 listings + 3 modified-clients pages: booking changes cost no extra call.
    expect(rt.counter.get('mindbody', clinic.id)).toBe(9);
  });
});

describe('booking check', () => {
  it('asks the API for the client (by Mindbody Id), excludes the anchor and cancelled ones, caches briefly, counts calls', async () => {
    const rt = runtime();
    const check = createBookingChecker(rt, 60_000);
    await saveClientRef(database.db, clinic.id, 'mindbody', '100000123', 'ID-123');
    const after = new Date(now - 10 * 86_400_000).toISOString();
    const a = (id: number, status: string, startMs: number) => ({
      ...fixture('api-staffappointments').Appointments[0],
      Id: id,
      Status: status,
      ClientId: 'ID-123',
      StartDateTime: siteLocal(startMs, TZ),
      EndDateTime: siteLocal(startMs + 1_800_000, TZ),
    });
    nock(API).post('/public/v6/usertoken/issue').reply(200, { AccessToken: 'tok' });
    nock(API)
      .get('/public/v6/appointment/staffappointments')
      .query((q) => q['request.clientId'] === 'ID-123' && q['request.startDate'] === siteLocal(Date.parse(after), TZ))
      .reply(
        200,
        page('Appointments', [
          a(1, 'Completed', now - 10 * 86_400_000),
          a(2, 'Cancelled', now + 5 * 86_400_000),
          a(3, 'Booked', now + 9 * 86_400_000),
        ]),
      );
    const q = { clientExternalId: '100000123', after, excludeAppointmentId: '1' };
    const answer = await check({ db: database.db, clinic }, q);
    expect(answer).toMatchObject({ booked: true, appointmentId: '3' });
    expect(Date.parse(answer.startAt!)).toBe(Math.floor((now + 9 * 86_400_000) / 1000) * 1000);
    expect(await check({ db: database.db, clinic }, q)).toEqual(answer);
    expect(rt.counter.get('mindbody', clinic.id)).toBe(2); // token + one listing; the second answer came from the cache
  });

  it('throws when the platform cannot answer (never a blind "not booked")', async () => {
    const rt = runtime();
    const check = createBookingChecker(rt, 60_000);
    nock(API).post('/public/v6/usertoken/issue').reply(200, { AccessToken: 'tok' });
    nock(API).get('/public/v6/appointment/staffappointments').query(true).times(3).reply(503);
    await expect(
      check(
        { db: database.db, clinic },
        { clientExternalId: '100000123', after: new Date(now).toISOString(), excludeAppointmentId: 'x' },
      ),
    ).rejects.toMatchObject({ code: 'provider_unavailable', retryable: true });
    expect(rt.counter.get('mindbody', clinic.id)).toBe(4);
  });
});
