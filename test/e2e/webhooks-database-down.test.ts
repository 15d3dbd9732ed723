/**
 * Database down → 503 with Retry-After, so the vendor retries (Mindbody every 15 min for 3 h,
 * Vagaro 5 times): PGlite closed under a running app, and PostgreSQL refusing connections.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { type Db, openDatabase } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { buildApp, isDatabaseUnavailable } from '../../src/server/app.js';
import { API_KEY, connectorConfigDir, SECRETS } from '../helpers/connector-stack.js';
import { freePort } from '../helpers/ports.js';

const configDir = connectorConfigDir();
const config = createConfigStore(configDir);
const log = createLogger({ level: 'silent' });
afterAll(() => rmSync(configDir, { recursive: true, force: true }));

async function appOver(db: Db) {
  // A lazy client: nothing reaches Temporal, the inbox write fails first.
  const temporal = new Client();
  const ingest = createIngest({ db, config, temporal, taskQueue: 'unused', log });
  return buildApp({ db, config, ingest, log, secrets: SECRETS });
}

const payload = JSON.parse(
  readFileSync(new URL('../../connectors/mindbody/fixtures/webhook-appointment-created.json', import.meta.url), 'utf8'),
);
const raw = JSON.stringify(payload);
const signature = `sha256=${createHmac('sha256', SECRETS.MB_SIGNATURE_KEY!).update(raw).digest('base64')}`;

async function expect503(app: Awaited<ReturnType<typeof appOver>>) {
  const hook = await app.inject({
    method: 'POST',
    url: '/webhooks/mindbody',
    payload: raw,
    headers: { 'content-type': 'application/json', 'x-mindbody-signature': signature },
  });
  expect(hook.statusCode).toBe(503);
  expect(hook.json()).toMatchObject({ error: { code: 'database_unavailable' } });
  expect(hook.headers['retry-after']).toBe('30');
  const vagaro = await app.inject({
    method: 'POST',
    url: '/webhooks/vagaro/vg-clinic',
    payload: JSON.stringify({
      id: 'x1',
      createdDate: new Date().toISOString(),
      type: 'customer',
      action: 'updated',
      payload: { customerId: 'c1' },
    }),
    headers: { 'content-type': 'application/json', 'x-vagaro-signature': SECRETS.VAGARO_WEBHOOK_TOKEN! },
  });
  expect(vagaro.statusCode).toBe(503);
  const api = await app.inject({
    method: 'POST',
    url: '/v1/clinics/mb-clinic/events',
    payload: { type: 'appointment.cancelled', clientId: 'c', appointmentId: 'a' },
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  expect(api.statusCode).toBe(503);
  // The answer quotes nothing from the driver (its messages carry SQL and parameters).
  expect(hook.body).not.toMatch(/insert|select|inbox_events/i);
}

describe('database down', () => {
  it('PGlite closed under a running app → 503', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebook-dbdown-'));
    const database = await openDatabase({ pgliteDir: dir });
    const app = await appOver(database.db);
    // Up first: the same delivery is accepted.
    const ok = await app.inject({
      method: 'POST',
      url: '/webhooks/mindbody',
      payload: raw,
      headers: { 'content-type': 'application/json', 'x-mindbody-signature': signature },
    });
    expect(ok.statusCode).toBe(200);
    await database.close();
    await expect503(app);
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('PostgreSQL refusing connections → 503', async () => {
    const { default: pg } = await import('pg');
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const pool = new pg.Pool({
      connectionString: `postgres://rebook:x@127.0.0.1:${await freePort()}/rebook`,
      connectionTimeoutMillis: 2000,
    });
    pool.on('error', () => undefined);
    const app = await appOver(drizzle(pool, { schema }) as unknown as Db);
    await expect503(app);
    await app.close();
    await pool.end();
  });

  it('the classifier does not call every failure a database outage', () => {
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error('Failed query: insert …'), { cause: new Error('PGlite is closed') }),
      ),
    ).toBe(true);
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error('Failed query'), {
          cause: Object.assign(new Error('duplicate key'), { code: '23505' }),
        }),
      ),
    ).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
  });
});
