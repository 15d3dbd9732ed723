/**
 * Flood protection on ingestion (issue 12 §4): the events API is limited per API key (429 with
 * Retry-After and code rate_limited; another key is not affected), and beyond a number of
 * ingestion requests in flight the next is refused at once (429, Retry-After: 1) rather than
 * queued (booking-platform deliveries only: provider callbacks are never refused). A refused request stores nothing, so nothing the server answered 2xx is lost; the
 * sender's retry is the delivery.
 */
import { request } from 'node:http';
import { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase, rows } from '../../src/db/client.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { createApiKey } from '../../src/server/api-keys.js';
import { buildApp } from '../../src/server/app.js';

const KEY = 'ingest-limits-test-key-0123456789';
let database: Database;
let app: FastifyInstance;
let url: string;
let otherKey: string;

beforeAll(async () => {
  database = await openDatabase({ pgliteMemory: true });
  const config = createConfigStore('config');
  const log = createLogger({ level: 'silent' });
  app = await buildApp({
    db: database.db,
    config,
    // No cluster: accepted events are stored and answered `queued` (the forwarder's job), which is all this needs.
    ingest: createIngest({
      db: database.db,
      config,
      temporal: new Client(),
      taskQueue: 'unused',
      log,
    }),
    log,
    secrets: { REBOOK_API_KEY: KEY, REBOOK_UNSUBSCRIBE_SECRET: 'ingest-limits-secret-0123456789' } as NodeJS.ProcessEnv,
    rateLimits: { webhooksPerMinute: 1000, unsubscribePerMinute: 10, eventsPerMinute: 3, ingestInFlight: 2 },
  });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
  otherKey = (await createApiKey(database.db, config.current(), { clinicId: 'demo-clinic', role: 'admin' })).key;
});

afterAll(async () => {
  await app?.close();
  await database?.close();
});

const inboxRows = async () =>
  Number(rows<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from inbox_events`))[0]!.n);

const clientUpdated = (i: number) => ({
  type: 'client.updated',
  eventId: `limits-${i}`,
  client: { id: `limits-client-${i}`, firstName: 'Sam', consent: { sms: false, email: true } },
});

const post = (key: string, body: unknown, ip = '192.0.2.10') =>
  app.inject({
    method: 'POST',
    url: '/v1/clinics/demo-clinic/events',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
    remoteAddress: ip,
  });

describe('events API: per API key', () => {
  it('past the limit → 429 rate_limited with Retry-After, nothing stored; another key is not affected', async () => {
    for (let i = 0; i < 3; i++) expect((await post(KEY, clientUpdated(i), `192.0.2.${i + 1}`)).statusCode).toBe(202);
    const before = await inboxRows();
    // Another address with the same key: the key is what is limited.
    const limited = await post(KEY, clientUpdated(3), '192.0.2.99');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(await inboxRows()).toBe(before);
    expect((await post(otherKey, clientUpdated(4))).statusCode).toBe(202);
    expect(await inboxRows()).toBe(before + 1);
  });
});

/** A webhook request whose body is held open: it stays in flight until `finish`. */
function heldWebhook(): Promise<{ finish(): Promise<number> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/webhooks/vagaro/demo-clinic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    const answered = new Promise<number>((done) =>
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
      }),
    );
    req.on('error', reject);
    req.write('{', () => {
      // The server has the headers (onRequest ran) once the first chunk is flushed; give it a turn.
      const finish = () => {
        req.end('}');
        return answered;
      };
      setTimeout(() => resolve({ finish }), 500);
    });
  });
}

describe('backpressure: ingestion requests in flight', () => {
  it('beyond the cap → 429 at once with Retry-After: 1, nothing stored; taken again once one finishes', async () => {
    const held = [await heldWebhook(), await heldWebhook()];
    const before = await inboxRows();
    const refused = await fetch(`${url}/v1/clinics/demo-clinic/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${otherKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(clientUpdated(5)),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect(await inboxRows()).toBe(before);
    // Provider callbacks are not refused: Twilio does not retry an inbound SMS (a STOP must get through).
    const inbound = await fetch(`${url}/webhooks/twilio/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'From=%2B12125550123&Body=STOP',
    });
    expect(inbound.status).not.toBe(429);
    // The held ones are answered (the webhook's own verdict, not a refusal), and the cap frees up.
    for (const h of held) expect(await h.finish()).not.toBe(429);
    const taken = await fetch(`${url}/v1/clinics/demo-clinic/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${otherKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(clientUpdated(6)),
    });
    expect(taken.status).toBe(202);
    expect(await inboxRows()).toBe(before + 1);
  });
});
