/**
 * Jane: the unconfirmed signed-string format pinned by a vector, PKCE per RFC 7636, the
 * authorization URL, polling for arrived-after-end through cursor pages, the 100/min limit, and
 * the booking check — against a nocked API and a real PGlite database.
 */
import { readFileSync, rmSync } from 'node:fs';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClinicConfig } from '../../src/config/schema.js';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/log.js';
import { connectorConfigDir, SECRETS } from '../../test/helpers/connector-stack.js';
import { ApiCallCounter, RateLimiter } from '../http.js';
import { createConnectorRuntime } from '../shared.js';
import type { ApiContext } from '../types.js';
import { JANE_RATE_LIMIT, janeSignedString } from './constants.js';
import { janeConnector } from './index.js';
import { authorizationUrl, createPkcePair } from './oauth.js';
import { janeSignature } from './webhook.js';

const ORIGIN = 'https://kits-skin.janeapp.test';
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'));

let database: Database;
let clinic: ClinicConfig;
let configDir: string;

beforeAll(async () => {
  nock.disableNetConnect();
  configDir = connectorConfigDir();
  clinic = createConfigStore(configDir).current().clinics.get('jane-clinic')!;
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

describe('Jane signatures and OAuth', () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the test's name quotes the signed string's shape
  it('signs `${timestamp}.${raw body}` with HMAC-SHA256, hex (pinned vector computed with openssl)', () => {
    const body = Buffer.from('{"event_id":"e1"}');
    expect(janeSignedString('1767225600', body).toString()).toBe('1767225600.{"event_id":"e1"}');
    expect(janeSignature('jane-secret', '1767225600', body)).toBe(
      'sha256=5d13da0cd7b99f6a837e0d0e325f5efd64082f61a5a07391606d8a4edbd10c58',
    );
  });

  it('PKCE S256 matches RFC 7636 appendix B', () => {
    const p = createPkcePair('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
    expect(p).toEqual({
      verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
      challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      method: 'S256',
    });
    expect(createPkcePair().verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('builds the authorization URL on the clinic origin with the challenge', () => {
    const u = new URL(
      authorizationUrl({
        apiBaseUrl: clinic.connector!.apiBaseUrl!,
        clientId: 'cid',
        redirectUri: 'https://rebook.example.com/oauth/jane',
        state: 's1',
        pkce: createPkcePair('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
      }),
    );
    expect(`${u.origin}${u.pathname}`).toBe(`${ORIGIN}/oauth/authorize`);
    expect(Object.fromEntries(u.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'cid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 's1',
    });
  });
});

describe('rate limit', () => {
  it('lets 100 requests through per minute and makes the 101st wait for the window', async () => {
    let t = 0;
    const waits: number[] = [];
    const limiter = new RateLimiter(
      JANE_RATE_LIMIT.limit,
      JANE_RATE_LIMIT.windowMs,
      () => t,
      async (ms) => {
        waits.push(ms);
        t += ms;
      },
    );
    for (let i = 0; i < 100; i++) {
      await limiter.take();
      t += 100;
    }
    expect(waits).toEqual([]);
    await limiter.take();
    expect(waits).toEqual([60_000 - 100 * 100]);
  });
});

describe('polling and booking check', () => {
  const now = Date.parse('2026-11-20T22:00:00Z');
  const ctx = (): ApiContext => ({
    db: database.db,
    clinic,
    runtime: {
      ...createConnectorRuntime({
        secrets: SECRETS,
        log: createLogger({ level: 'silent' }),
        counter: new ApiCallCounter(),
        now: () => now,
        sleep: async () => undefined,
      }),
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    },
  });

  it('finds arrived appointments whose end has passed (through cursor pages) and turns them into completed treatments with consent', async () => {
    const c = ctx();
    const appt = (id: number, state: string, startMs: number) => ({
      ...fixture('api-appointment'),
      id,
      state,
      start_at: new Date(startMs).toISOString(),
      end_at: new Date(startMs + 45 * 60_000).toISOString(),
      updated_at: new Date(startMs).toISOString(),
    });
    nock(ORIGIN).post('/oauth/token').reply(200, { access_token: 'a1', expires_in: 3600 });
    nock(ORIGIN)
      .get('/api/2026-01-01/appointments')
      .query((q) => typeof q['updated_at[gte]'] === 'string' && !q['page[cursor]'])
      .reply(200, {
        items: [appt(1, 'arrived', now - 3 * 3_600_000), appt(2, 'arrived', now - 10 * 60_000)],
        cursor: 'c2',
        hasNextPage: true,
      });
    nock(ORIGIN)
      .get('/api/2026-01-01/appointments')
      .query((q) => q['page[cursor]'] === 'c2')
      .reply(200, { items: [appt(3, 'cancelled', now + 86_400_000)], cursor: null, hasNextPage: false });
    nock(ORIGIN)
      .get('/api/2026-01-01/appointments')
      .query((q) => q['state[eq]'] === 'arrived')
      .reply(200, { items: [], cursor: null, hasNextPage: false });
    const r = await janeConnector.poll!(c);
    // 1 ended; 2 still in its slot (next poll); 3 cancelled.
    expect(r.items.map((i) => i.eventType)).toEqual([
      'jane:poll.appointment.arrived',
      'jane:poll.appointment.cancelled',
    ]);
    nock(ORIGIN).get('/api/2026-01-01/patients/9917').reply(200, fixture('api-patient'));
    nock(ORIGIN).get('/api/2026-01-01/treatments').query(true).reply(200, fixture('api-treatments'));
    const [event] = await janeConnector.resolve!(c, r.items[0]!.vendor);
    expect(event).toMatchObject({
      type: 'treatment.completed',
      appointmentId: '1',
      client: { id: '9917', firstName: 'Shiv', phone: '+16045550133', consent: { email: true, sms: true } },
      service: { id: '311', name: 'Botox Cosmetic – 3 areas' },
      price: 525,
    });
    expect(c.runtime.counter.get('jane', clinic.id)).toBe(6);
  });

  it('booking check: any booked appointment after the anchor, the anchor excluded; 429 with retry seconds is waited out', async () => {
    const c = ctx();
    nock(ORIGIN).post('/oauth/token').reply(200, { access_token: 'a2', expires_in: 3600 });
    nock(ORIGIN).get('/api/2026-01-01/appointments').query(true).reply(429, {}, { 'Retry-After': '1' });
    nock(ORIGIN)
      .get('/api/2026-01-01/appointments')
      .query((q) => q['patient_id[eq]'] === '9917')
      .reply(200, {
        items: [
          { ...fixture('api-appointment'), id: 1, state: 'arrived' },
          {
            ...fixture('api-appointment'),
            id: 7,
            state: 'booked',
            start_at: new Date(now + 20 * 86_400_000).toISOString(),
          },
        ],
        cursor: null,
        hasNextPage: false,
      });
    const answer = await janeConnector.hasUpcomingAppointment(c, {
      clientExternalId: '9917',
      after: new Date(now - 30 * 86_400_000).toISOString(),
      excludeAppointmentId: '1',
    });
    expect(answer).toEqual({
      booked: true,
      appointmentId: '7',
      startAt: new Date(now + 20 * 86_400_000).toISOString(),
    });
  });
});
