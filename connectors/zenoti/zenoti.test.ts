/**
 * Zenoti: webhook signatures computed for real (valid, tampered, stale, missing), center routing,
 * each webhook type mapped, the status mapping, the request budget and 429s, polling by date,
 * the booking check and the catalog — against nock and a real PGlite database.
 */
import { readFileSync, rmSync } from 'node:fs';
import { Client } from '@temporalio/client';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClinicConfig } from '../../src/config/schema.js';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { clientOfferFacts } from '../../src/db/offer-facts.js';
import { canonicalEventSchema } from '../../src/ingest/events.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { connectorConfigDir, SECRETS } from '../../test/helpers/connector-stack.js';
import { ApiCallCounter } from '../http.js';
import { createConnectorRuntime } from '../shared.js';
import type { ApiContext } from '../types.js';
import { zenotiWebhookSignature } from './constants.js';
import { zenotiConnector } from './index.js';
import { verifyZenoti, zenotiWebhook } from './webhook.js';

const API = 'https://api.zenoti.test';
const CENTER = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f';
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'));
const APPT = fixture('api-appointment');
const GUEST = fixture('api-guest');

let database: Database;
let clinic: ClinicConfig;
let clinics: ClinicConfig[];
let configDir: string;

beforeAll(async () => {
  nock.disableNetConnect();
  configDir = connectorConfigDir();
  const all = createConfigStore(configDir).current().clinics;
  clinic = all.get('zn-clinic')!;
  clinics = [...all.values()];
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

describe('webhook verification and routing', () => {
  const now = Date.parse('2026-05-04T18:35:00Z');
  const body = (over: Record<string, unknown> = {}) =>
    Buffer.from(JSON.stringify({ ...fixture('webhook-appointment-completed'), ...over }));
  const delivery = (raw: Buffer, sig?: string) => ({
    rawBody: raw,
    headers: sig === undefined ? {} : { 'x-zenoti-signature': sig },
  });

  it('HMAC-SHA256 of the raw body, hex (vector computed with openssl)', () => {
    expect(zenotiWebhookSignature(SECRETS.ZENOTI_WEBHOOK_SECRET!, Buffer.from('{"id":"z1"}'))).toBe(
      '7013dd998aca6a90cc3355a82515495e54a87e18c13bdc4efcc335d272cc7a38',
    );
  });

  it('accepts a valid delivery; refuses tampered, stale, future, missing ones and a clinic without a secret', () => {
    const raw = body();
    const sig = zenotiWebhookSignature(SECRETS.ZENOTI_WEBHOOK_SECRET!, raw);
    const check =
      (d: ReturnType<typeof delivery>, at = now) =>
      () =>
        verifyZenoti(d, clinic, SECRETS, at);
    expect(check(delivery(raw, sig))).not.toThrow();
    expect(check(delivery(raw, sig.toUpperCase()))).not.toThrow();
    const refused = (f: () => void, msg: RegExp) =>
      expect(f).toThrow(expect.objectContaining({ code: 'unauthorized', message: expect.stringMatching(msg) }));
    refused(check(delivery(body({ id: 'other' }), sig)), /invalid/);
    refused(check(delivery(raw, sig), now + 7 * 3_600_000), /outside/);
    const future = body({ event_timestamp: '2026-05-04T19:00:00Z' });
    refused(check(delivery(future, zenotiWebhookSignature(SECRETS.ZENOTI_WEBHOOK_SECRET!, future))), /outside/);
    refused(check(delivery(raw)), /missing/);
    const noSecret = { ...clinic, connector: { ...clinic.connector!, credentials: {} } };
    expect(() => verifyZenoti(delivery(raw, sig), noSecret, SECRETS, now)).toThrow(/not configured/);
  });

  it('routes by center id: a center is a clinic; an unknown center finds none', () => {
    expect(zenotiWebhook.clinicFromBody!(fixture('webhook-guest-created'), clinics)?.id).toBe('zn-clinic');
    const other = fixture('webhook-guest-created');
    other.data.center_id = 'another-center';
    expect(zenotiWebhook.clinicFromBody!(other, clinics)).toBeUndefined();
    expect(() => zenotiWebhook.clinicFromBody!({ nope: 1 }, clinics)).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
  });

  it.each([
    ['webhook-appointment-completed', 'webhook.appointment', { appointmentIds: [APPT.appointment_id] }],
    [
      'webhook-appointment-group-created',
      'webhook.appointment',
      { appointmentIds: ['a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d'] },
    ],
    ['webhook-guest-created', 'webhook.guest', { guestId: GUEST.id, created: true }],
  ])('%s → %s', (name, kind, data) => {
    const w = fixture(name);
    const occurredAt = new Date(w.event_timestamp).toISOString();
    expect(zenotiWebhook.toInbox(w, clinic)).toEqual({
      items: [
        {
          dedupeKey: `zenoti:${w.id}`,
          eventType: `zenoti:${w.event_type}`,
          occurredAt,
          vendor: { platform: 'zenoti', kind, data: { ...data, occurredAt } },
        },
      ],
    });
  });

  it('Invoice.Closed is ignored; an appointment event without ids names the field', () => {
    expect(zenotiWebhook.toInbox(fixture('webhook-invoice-closed'), clinic)).toEqual({
      items: [],
      ignoredType: 'Invoice.Closed',
    });
    const w = fixture('webhook-appointment-completed');
    delete w.data.appointment_id;
    expect(() => zenotiWebhook.toInbox(w, clinic)).toThrow(
      expect.objectContaining({ code: 'validation_failed', details: { field: 'body.data.appointment_id' } }),
    );
  });
});

function context(now: number, sleeps: number[] = []): ApiContext {
  return {
    db: database.db,
    clinic,
    runtime: {
      ...createConnectorRuntime({
        secrets: SECRETS,
        log: createLogger({ level: 'silent' }),
        counter: new ApiCallCounter(),
        now: () => now,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      }),
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    },
  };
}

describe('status mapping (appointment re-read)', () => {
  const now = Date.parse('2026-05-04T20:00:00Z');
  const resolveWith = async (appointment: Record<string, unknown>) => {
    const ctx = context(now);
    nock(API)
      .get(`/v1/appointments/${appointment.appointment_id}`)
      .matchHeader('authorization', `apikey ${SECRETS.ZENOTI_API_KEY}`)
      .reply(200, appointment);
    return zenotiConnector.resolve!(ctx, {
      platform: 'zenoti',
      kind: 'webhook.appointment',
      data: { appointmentIds: [appointment.appointment_id], occurredAt: '2026-05-04T18:31:07.000Z' },
    });
  };

  it('closed (1) → treatment completed: center-local times, the guest’s own marketing flags', async () => {
    nock(API).get(`/v1/guests/${GUEST.id}`).reply(200, GUEST);
    expect(await resolveWith(APPT)).toEqual([
      {
        type: 'treatment.completed',
        occurredAt: '2026-05-04T18:31:07.000Z',
        client: {
          id: GUEST.id,
          firstName: 'Ingrid',
          lastName: 'Valdés',
          email: 'ingrid.valdes@example.com',
          phone: '+12065550172',
          consent: { sms: true, email: true },
        },
        appointmentId: APPT.appointment_id,
        service: { id: 's-botox-3', name: 'Botox Cosmetic (3 areas)' },
        completedAt: '2026-05-04T17:45:00.000Z',
        price: 540,
      },
    ]);
  });

  it.each([[0], [2], [4]])('status %i in the future → booked', async (status) => {
    expect(await resolveWith({ ...APPT, status, start_time: '2026-06-10T10:00:00', end_time: null })).toEqual([
      {
        type: 'appointment.booked',
        occurredAt: '2026-05-04T18:31:07.000Z',
        clientId: GUEST.id,
        appointmentId: APPT.appointment_id,
        startAt: '2026-06-10T17:00:00.000Z',
      },
    ]);
  });

  it.each([[10], [-1], [-2]])('status %i (cancelled, no-show, deleted) → cancelled', async (status) => {
    expect(await resolveWith({ ...APPT, status })).toEqual([
      {
        type: 'appointment.cancelled',
        occurredAt: '2026-05-04T18:31:07.000Z',
        clientId: GUEST.id,
        appointmentId: APPT.appointment_id,
      },
    ]);
  });

  it('an appointment of another center means nothing here', async () => {
    expect(await resolveWith({ ...APPT, center_id: 'another-center' })).toEqual([]);
  });
});

describe('polling, booking check, catalog, budget', () => {
  const now = Date.parse('2026-05-04T20:00:00Z');

  it('polls the date window around today at the center; a completed visit already recorded is skipped', async () => {
    const ctx = context(now);
    nock(API)
      .get('/v1/appointments')
      .query({ center_id: CENTER, start_date: '2026-05-02', end_date: '2026-08-02' })
      .reply(200, {
        appointments: [APPT, { ...APPT, appointment_id: 'future-1', status: 0, start_time: '2026-06-01T10:00:00' }],
      });
    const r = await zenotiConnector.poll!(ctx);
    expect(r.items.map((i) => i.eventType)).toEqual(['zenoti:poll.appointment.1', 'zenoti:poll.appointment.0']);
    nock(API).get(`/v1/guests/${GUEST.id}`).reply(200, GUEST);
    const [event] = await zenotiConnector.resolve!(ctx, r.items[0]!.vendor);
    expect(event).toMatchObject({ type: 'treatment.completed', appointmentId: APPT.appointment_id });
  });

  it('booking check: the guest’s next live visit at this center after the anchor; a 429 is waited out', async () => {
    const sleeps: number[] = [];
    const ctx = context(now, sleeps);
    nock(API).get(`/v1/guests/${GUEST.id}/appointments`).query(true).reply(429, {}, { 'Retry-After': '3' });
    nock(API)
      .get(`/v1/guests/${GUEST.id}/appointments`)
      .query({ center_id: CENTER })
      .reply(200, {
        appointments: [
          APPT,
          { ...APPT, appointment_id: 'elsewhere', status: 0, center_id: 'other', start_time: '2026-05-20T10:00:00' },
          { ...APPT, appointment_id: 'cancelled', status: 10, start_time: '2026-05-21T10:00:00' },
          { ...APPT, appointment_id: 'later', status: 4, start_time: '2026-07-01T10:00:00' },
          { ...APPT, appointment_id: 'next', status: 0, start_time: '2026-06-01T10:00:00' },
        ],
      });
    expect(
      await zenotiConnector.hasUpcomingAppointment(ctx, {
        clientExternalId: GUEST.id,
        after: '2026-05-04T17:45:00.000Z',
        excludeAppointmentId: APPT.appointment_id,
      }),
    ).toEqual({ booked: true, appointmentId: 'next', startAt: '2026-06-01T17:00:00.000Z' });
    // Retry-After (3 s) capped at four times the test's 2 ms backoff ceiling (connectors/http.ts).
    expect(sleeps).toEqual([8]);
  });

  it('service catalog of the center; lookupClient falls back to the clinic’s assumed consent without preferences', async () => {
    const ctx = context(now);
    nock(API).get(`/v1/centers/${CENTER}/services`).query(true).reply(200, fixture('api-services'));
    expect(await zenotiConnector.serviceCatalog!(ctx)).toEqual([
      { id: 's-botox-3', name: 'Botox Cosmetic (3 areas)', price: 540 },
      { id: 's-hydra', name: 'HydraFacial', price: 199 },
    ]);
    const { preferences: _p, ...noPrefs } = GUEST;
    nock(API).get(`/v1/guests/${GUEST.id}`).reply(200, noPrefs);
    expect(await zenotiConnector.lookupClient!(ctx, GUEST.id)).toMatchObject({ consent: { sms: false, email: true } });
  });
});

describe('memberships and packages (issue 14 §3)', () => {
  const now = Date.parse('2026-05-04T20:00:00Z');

  it.each([['webhook-guest-membership-created'], ['webhook-guest-package-redemption']])(
    '%s → a re-read of the guest’s plans',
    (name) => {
      const w = fixture(name);
      const occurredAt = new Date(w.event_timestamp).toISOString();
      expect(zenotiWebhook.toInbox(w, clinic)).toEqual({
        items: [
          {
            dedupeKey: `zenoti:${w.id}`,
            eventType: `zenoti:${w.event_type}`,
            occurredAt,
            vendor: { platform: 'zenoti', kind: 'webhook.plans', data: { guestId: GUEST.id, occurredAt } },
          },
        ],
      });
      delete w.data.guest_id;
      expect(() => zenotiWebhook.toInbox(w, clinic)).toThrow(
        expect.objectContaining({ code: 'validation_failed', details: { field: 'body.data.guest_id' } }),
      );
    },
  );

  it('maps memberships (discount on everything or on listed services, frozen → paused) and packages (sessions left) at this center; stored, they give the offer facts', async () => {
    nock(API)
      .get(`/v1/guests/${GUEST.id}/memberships`)
      .query({ center_id: CENTER })
      .matchHeader('authorization', `apikey ${SECRETS.ZENOTI_API_KEY}`)
      .reply(200, fixture('api-guest-memberships'))
      .get(`/v1/guests/${GUEST.id}/packages`)
      .query({ center_id: CENTER })
      .reply(200, fixture('api-guest-packages'));
    const occurredAt = '2026-05-04T18:40:00.000Z';
    const events = await zenotiConnector.resolve!(context(now), {
      platform: 'zenoti',
      kind: 'webhook.plans',
      data: { guestId: GUEST.id, occurredAt },
    });
    // Los Angeles (the clinic's zone) is UTC-7 in summer: center-local dates become instants.
    expect(events).toEqual([
      {
        type: 'client.membership',
        occurredAt,
        clientId: GUEST.id,
        plan: {
          id: 'membership:m0a1b2c3-d4e5-4f60-8a7b-9c0d1e2f3a4b',
          kind: 'membership',
          name: 'Glow Club',
          status: 'active',
          renewsAt: '2026-06-01T07:00:00.000Z',
          endsAt: null,
          benefits: [{ percentOff: 10 }],
        },
      },
      {
        type: 'client.membership',
        occurredAt,
        clientId: GUEST.id,
        plan: {
          id: 'membership:m9f8e7d6-c5b4-4a3b-8c2d-1e0f9a8b7c6e',
          kind: 'membership',
          name: 'Filler Club',
          status: 'paused',
          renewsAt: null,
          endsAt: expect.any(String),
          benefits: [{ service: { id: 's-filler-1', name: 'Juvederm Lip Filler (1 syringe)' }, percentOff: 15 }],
        },
      },
      {
        type: 'client.membership',
        occurredAt,
        clientId: GUEST.id,
        plan: {
          id: 'package:p1b2c3d4-e5f6-4a70-8b9c-0d1e2f3a4b5c',
          kind: 'package',
          name: 'Botox x3',
          status: 'active',
          endsAt: expect.any(String),
          benefits: [{ service: { id: 's-botox-3', name: 'Botox Cosmetic (3 areas)' }, creditsLeft: 1 }],
        },
      },
    ]);
    // Every mapped event is one the events API accepts as is.
    for (const e of events) expect(canonicalEventSchema.safeParse(e).success).toBe(true);

    const ingest = createIngest({
      db: database.db,
      config: createConfigStore(configDir),
      temporal: new Client(),
      taskQueue: 'unused',
      log: createLogger({ level: 'silent' }),
      now: () => now,
    });
    expect(await ingest.accept('zn-clinic', events, 'zenoti')).toMatchObject(
      events.map(() => ({ status: 'accepted', plansUpdated: 1 })),
    );
    const facts = (treatmentType: string) =>
      clientOfferFacts(database.db, { clinicId: 'zn-clinic', clientExternalId: GUEST.id, treatmentType, nowMs: now });
    expect((await facts('neuromodulator')).facts).toEqual({
      creditsLeft: 1,
      memberDiscountPercent: 10,
      membershipName: 'Glow Club',
    });
    // The Filler Club is frozen: its 15 % does not apply; the Glow Club's 10 % does.
    expect((await facts('lip_filler')).facts).toEqual({ memberDiscountPercent: 10, membershipName: 'Glow Club' });
  });
});
