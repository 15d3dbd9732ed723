/**
 * Package credits from the same read (issue 14 §3): the client's pricing options with sessions
 * left, as one `client.membership` package plan.
 *
 * Treatment series from Mindbody (issue 11 §4): a completed visit paid from a pricing option of
 * several sessions (a package, a contract's sessions) carries its session number, `Count -
 * Remaining` of `Count`, on the canonical treatment event. Vendor payload shapes from fixtures,
 * the API behind nock, a real PGlite database.
 */
import { readFileSync, rmSync } from 'node:fs';
import { Client } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClinicConfig } from '../../src/config/schema.js';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { clientOfferFacts } from '../../src/db/offer-facts.js';
import { clientPlans } from '../../src/db/schema.js';
import { canonicalEventSchema, treatmentCompletedSchema } from '../../src/ingest/events.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { connectorConfigDir, SECRETS } from '../../test/helpers/connector-stack.js';
import { ApiCallCounter } from '../http.js';
import { createConnectorRuntime } from '../shared.js';
import type { ApiContext } from '../types.js';
import { mindbodyConnector } from './index.js';
import { seriesFromPricingOption } from './mapping.js';

const API = 'https://api.mindbody.test';
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'));

let database: Database;
let clinic: ClinicConfig;
let configDir: string;
const now = Date.parse('2026-05-04T19:00:00Z');

const ctx = (counter: ApiCallCounter): ApiContext => ({
  db: database.db,
  clinic,
  runtime: {
    ...createConnectorRuntime({
      secrets: SECRETS,
      log: createLogger({ level: 'silent' }),
      counter,
      now: () => now,
      sleep: async () => undefined,
    }),
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
  },
});

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

/** The completion webhook resolved against an API whose appointment record is `appointment`. */
async function resolveCompletion(appointment: unknown, counter = new ApiCallCounter()) {
  const { items } = mindbodyConnector.webhook!.toInbox(fixture('webhook-appointment-updated-completed'), clinic);
  nock(API).post('/public/v6/usertoken/issue').reply(200, { AccessToken: 'tok' });
  nock(API)
    .get('/public/v6/appointment/staffappointments')
    .query((q) => q['request.appointmentIds'] === '1041')
    .reply(200, { ...fixture('api-staffappointments-package'), Appointments: [appointment] });
  nock(API).get('/public/v6/client/clients').query(true).reply(200, fixture('api-clients'));
  nock(API)
    .get('/public/v6/site/sessiontypes')
    .reply(200, { SessionTypes: [{ Id: 23, Name: 'Laser Hair Removal – Underarms', ProgramId: 6 }] });
  const events = await mindbodyConnector.resolve!(ctx(counter), items[0]!.vendor);
  return { events, counter };
}

describe('the session number from the pricing option that paid for the visit', () => {
  it('reads session 3 of 6 from a package of 6 with 3 remaining', async () => {
    nock(API)
      .get('/public/v6/client/clientservices')
      // Every option on the account (not only this session type's): the package credits need them all.
      .query((q) => q['request.clientId'] === '100000123' && q['request.sessionTypeIds'] === undefined)
      .reply(200, fixture('api-clientservices'));
    const { events, counter } = await resolveCompletion(fixture('api-staffappointments-package').Appointments[0]);
    expect(events).toMatchObject([
      {
        type: 'treatment.completed',
        appointmentId: '1041',
        service: { id: '23', name: 'Laser Hair Removal – Underarms' },
        series: { session: 3, sessions: 6 },
      },
      { type: 'client.membership', clientId: '100000123', plan: { kind: 'package', status: 'active' } },
    ]);
    // The canonical event is what the events API accepts, with the session on it.
    expect(treatmentCompletedSchema.parse(events[0]).series).toEqual({ session: 3, sessions: 6 });
    expect(counter.get('mindbody', clinic.id)).toBe(5); // token, appointment, client, catalog, pricing options
  });

  it('asks nothing more for a visit not paid from a pricing option (no series field: the planner counts)', async () => {
    const appointment = { ...fixture('api-staffappointments-package').Appointments[0], ClientServiceId: null };
    const { events, counter } = await resolveCompletion(appointment);
    expect(events[0]).toMatchObject({ type: 'treatment.completed', appointmentId: '1041' });
    expect(events[0]).not.toHaveProperty('series');
    expect(counter.get('mindbody', clinic.id)).toBe(4);
  });

  it('a single-session option says nothing about a series', async () => {
    nock(API).get('/public/v6/client/clientservices').query(true).reply(200, fixture('api-clientservices'));
    const appointment = { ...fixture('api-staffappointments-package').Appointments[0], ClientServiceId: 87990 };
    const { events } = await resolveCompletion(appointment);
    expect(events[0]).not.toHaveProperty('series');
  });
});

describe('package credits from the pricing options (issue 14 §3)', () => {
  it('active options with sessions left become credits per service; expired, used-up and unmatched ones give none; stored, they give the offer facts', async () => {
    nock(API)
      .get('/public/v6/client/clientservices')
      .query((q) => q['request.clientId'] === '100000123' && q['request.sessionTypeIds'] === undefined)
      .reply(200, fixture('api-clientservices-credits'));
    // The visit was paid from the Botox package: session 1 of 4, 3 left.
    const appointment = { ...fixture('api-staffappointments-package').Appointments[0], ClientServiceId: 88301 };
    const { events } = await resolveCompletion(appointment);
    const plans = events.filter((e) => e.type === 'client.membership');
    expect(events[0]).toMatchObject({ type: 'treatment.completed', series: { session: 1, sessions: 4 } });
    // Los Angeles is UTC-7 in summer: the class pass (the earliest expiry of the live options) ends
    // the plan on 15 September, site midnight. The expired Dysport package and the used-up filler
    // package are not in it; the class pass is, and is dropped at ingest (no treatment type).
    expect(plans).toEqual([
      {
        type: 'client.membership',
        occurredAt: events[0]!.occurredAt,
        clientId: '100000123',
        plan: {
          id: 'mindbody-pricing-options',
          kind: 'package',
          name: 'Prepaid sessions',
          status: 'active',
          renewsAt: null,
          endsAt: '2026-09-15T07:00:00.000Z',
          benefits: [
            { service: { id: null, name: 'Botox Package (4 visits)' }, creditsLeft: 3 },
            { service: { id: null, name: 'Yoga 10 Class Pass' }, creditsLeft: 7 },
          ],
        },
      },
    ]);
    expect(canonicalEventSchema.safeParse(plans[0]).success).toBe(true);

    const ingest = createIngest({
      db: database.db,
      config: createConfigStore(configDir),
      temporal: new Client(),
      taskQueue: 'unused',
      log: createLogger({ level: 'silent' }),
      now: () => now,
    });
    expect(await ingest.accept('mb-clinic', plans, 'mindbody')).toMatchObject([
      { status: 'accepted', plansUpdated: 1 },
    ]);
    const [row] = await database.db
      .select({ benefits: clientPlans.benefits, status: clientPlans.status })
      .from(clientPlans)
      .where(and(eq(clientPlans.clinicId, 'mb-clinic'), eq(clientPlans.clientExternalId, '100000123')));
    expect(row).toEqual({ status: 'active', benefits: [{ treatmentType: 'neuromodulator', creditsLeft: 3 }] });
    const facts = (treatmentType: string) =>
      clientOfferFacts(database.db, {
        clinicId: 'mb-clinic',
        clientExternalId: '100000123',
        treatmentType,
        nowMs: now,
      });
    expect((await facts('neuromodulator')).facts).toEqual({ creditsLeft: 3 });
    expect((await facts('lip_filler')).facts).toEqual({});
  });

  it('no sessions left anywhere: the plan is sent expired, so earlier credits stop counting', async () => {
    const used = fixture('api-clientservices-credits');
    used.ClientServices[0].Remaining = 0;
    nock(API).get('/public/v6/client/clientservices').query(true).reply(200, used);
    const appointment = { ...fixture('api-staffappointments-package').Appointments[0], ClientServiceId: 88301 };
    const { events } = await resolveCompletion(appointment);
    const plans = events.filter((e) => e.type === 'client.membership');
    expect(plans).toMatchObject([
      {
        plan: {
          id: 'mindbody-pricing-options',
          status: 'active',
          benefits: [{ service: { name: 'Yoga 10 Class Pass' } }],
        },
      },
    ]);
    used.ClientServices[3].Remaining = 0;
    nock(API).get('/public/v6/client/clientservices').query(true).reply(200, used);
    const { events: none } = await resolveCompletion(appointment);
    expect(none.filter((e) => e.type === 'client.membership')).toMatchObject([
      { plan: { status: 'expired', endsAt: null, benefits: [] } },
    ]);
  });
});

describe('seriesFromPricingOption', () => {
  it.each([
    [
      { Count: 6, Remaining: 3 },
      { session: 3, sessions: 6 },
    ],
    [
      { Count: 6, Remaining: 0 },
      { session: 6, sessions: 6 },
    ],
    [
      { Count: 4, Remaining: 3 },
      { session: 1, sessions: 4 },
    ],
    // Not yet deducted (Remaining = Count), a single visit, missing figures: nothing.
    [{ Count: 6, Remaining: 6 }, undefined],
    [{ Count: 1, Remaining: 0 }, undefined],
    [{ Count: null, Remaining: 2 }, undefined],
    [{ Count: 6, Remaining: 9 }, undefined],
  ])('%o → %o', (option, expected) => {
    expect(seriesFromPricingOption(option)).toEqual(expected);
  });
});
