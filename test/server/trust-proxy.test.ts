/**
 * REBOOK_TRUST_PROXY: parsed at start (true, addresses and CIDR ranges; a hop count or a
 * malformed entry is a coded error naming the variable), and what it changes: behind a trusted
 * proxy the per-IP rate limits of the public routes count each X-Forwarded-For client apart;
 * without it, everything the proxy forwards shares the proxy's bucket.
 */
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import type { TrustProxy } from '../../src/config/trust-proxy.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { parseEnv } from '../../src/env.js';
import { RebookError } from '../../src/errors.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { buildApp } from '../../src/server/app.js';

describe('REBOOK_TRUST_PROXY', () => {
  it.each<[string | undefined, TrustProxy]>([
    [undefined, false],
    ['', false],
    ['false', false],
    ['true', true],
    ['10.0.0.0/8', ['10.0.0.0/8']],
    [' 10.0.0.7, 192.168.1.0/24 ,fd00::/8,loopback', ['10.0.0.7', '192.168.1.0/24', 'fd00::/8', 'loopback']],
  ])('%j → %j', (value, expected) => {
    expect(parseEnv(value === undefined ? {} : { REBOOK_TRUST_PROXY: value }).REBOOK_TRUST_PROXY).toEqual(expected);
  });

  it.each(['2', 'yes', '10.0.0.0/33', '10.0.0.0/8,lb.internal', '300.1.1.1'])(
    '%j is refused at start, naming the variable',
    (value) => {
      let err: unknown;
      try {
        parseEnv({ REBOOK_TRUST_PROXY: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RebookError);
      expect((err as RebookError).code).toBe('config_invalid');
      expect((err as RebookError).details.field).toBe('REBOOK_TRUST_PROXY');
      expect((err as RebookError).message).toMatch(/^invalid environment:\n {2}REBOOK_TRUST_PROXY: /);
    },
  );
});

describe('per-IP rate limits behind a proxy', () => {
  let database: Database;
  const apps: FastifyInstance[] = [];
  const build = async (trustProxy?: TrustProxy) => {
    const config = createConfigStore('config');
    const log = createLogger({ level: 'silent' });
    const app = await buildApp({
      db: database.db,
      config,
      ingest: createIngest({ db: database.db, config, temporal: new Client(), taskQueue: 'unused', log }),
      log,
      secrets: { REBOOK_UNSUBSCRIBE_SECRET: 'trust-proxy-unsubscribe-secret-0123456789' } as NodeJS.ProcessEnv,
      rateLimits: { webhooksPerMinute: 2, unsubscribePerMinute: 2 },
      ...(trustProxy !== undefined ? { trustProxy } : {}),
    });
    apps.push(app);
    return app;
  };
  beforeAll(async () => {
    database = await openDatabase({ pgliteMemory: true });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await database?.close();
  });

  // Every request arrives from the load balancer's address; the client is in X-Forwarded-For.
  const LB = '10.0.0.5';
  const hit = (app: FastifyInstance, client: string) =>
    app.inject({
      method: 'GET',
      url: '/unsubscribe/not-a-token',
      remoteAddress: LB,
      headers: { 'x-forwarded-for': client },
    });
  const statuses = async (app: FastifyInstance) =>
    [
      await hit(app, '203.0.113.1'),
      await hit(app, '203.0.113.1'),
      await hit(app, '203.0.113.2'),
      await hit(app, '203.0.113.1'),
    ].map((r) => r.statusCode);

  it.each<[string, TrustProxy]>([
    ['the load balancer named by address', [LB]],
    ['its CIDR range', ['10.0.0.0/24']],
    ['every proxy (true)', true],
  ])('trusting %s: two clients, two buckets', async (_, trustProxy) => {
    expect(await statuses(await build(trustProxy))).toEqual([404, 404, 404, 429]);
  });

  it('trusting no proxy (the default): the forwarded clients share the load balancer’s bucket', async () => {
    expect(await statuses(await build())).toEqual([404, 404, 429, 429]);
  });

  it('trusting another address than the peer: X-Forwarded-For is not believed', async () => {
    expect(await statuses(await build(['192.0.2.1']))).toEqual([404, 404, 429, 429]);
  });

  it('the webhooks limit keys the same way', async () => {
    const app = await build([LB]);
    const post = (client: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/vagaro/demo-clinic',
        remoteAddress: LB,
        headers: { 'x-forwarded-for': client, 'content-type': 'application/json' },
        payload: '{}',
      });
    for (let i = 0; i < 2; i++) expect((await post('203.0.113.1')).statusCode).not.toBe(429);
    expect((await post('203.0.113.1')).statusCode).toBe(429);
    expect((await post('203.0.113.2')).statusCode).not.toBe(429);
  });
});
