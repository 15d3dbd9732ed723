/**
 * GET /metrics on the real app (app.inject, PGlite): webhook requests received and rejected per
 * platform and reason, the inbox backlog and its age, sequence runs started and ended, ledger
 * messages per channel and status, holds and cap deferrals, vendor API calls, the optional token,
 * and no client data in any label.
 */
import { createHmac } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiCallCounter } from '../../connectors/http.js';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { clients, deliveryHolds, messages, sequenceRuns } from '../../src/db/schema.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { serveWorkerMetrics, watchApiCalls } from '../../src/metrics/index.js';
import { buildApp } from '../../src/server/app.js';
import { connectorConfigDir, SECRETS } from '../helpers/connector-stack.js';

const configDir = connectorConfigDir();
const log = createLogger({ level: 'silent' });
let database: Database;
let app: FastifyInstance;
let guarded: FastifyInstance;
let text: string;

const mindbody = readFileSync(
  new URL('../../connectors/mindbody/fixtures/webhook-appointment-created.json', import.meta.url),
  'utf8',
);
const mbSignature = `sha256=${createHmac('sha256', SECRETS.MB_SIGNATURE_KEY!).update(mindbody).digest('base64')}`;

async function appWith(secrets: NodeJS.ProcessEnv) {
  const config = createConfigStore(configDir);
  // A lazy Temporal client nothing can reach: accepted webhooks stay pending in the inbox.
  const ingest = createIngest({
    db: database.db,
    config,
    temporal: new Client({ connection: undefined }),
    taskQueue: 'unused',
    log,
  });
  return buildApp({ db: database.db, config, ingest, log, secrets });
}

/** The value of one exposition line, e.g. value('rebook_messages{channel="sms",status="outbox"}'). */
function value(series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

beforeAll(async () => {
  database = await openDatabase({ pgliteMemory: true });
  const db = database.db;
  const [c] = await db
    .insert(clients)
    .values({
      clinicId: 'demo-clinic',
      externalId: 'ext-9',
      firstName: 'Philippa',
      lastName: 'Quernsby',
      email: 'philippa.q@example.com',
      phone: '+12125550199',
    })
    .returning();
  const wf = `rebook/demo-clinic/${c!.id}/neuromodulator`;
  const run = {
    workflowId: wf,
    clinicId: 'demo-clinic',
    clientId: c!.id,
    treatmentType: 'neuromodulator',
    startedAt: new Date(),
  };
  await db.insert(sequenceRuns).values([
    { ...run, runKey: 'a1', outcome: 'booked', running: false },
    { ...run, runKey: 'a2', outcome: 'churned', running: false },
    { ...run, runKey: 'a3', outcome: 'running', running: true },
  ]);
  const m = {
    clinicId: 'demo-clinic',
    clientId: c!.id,
    workflowId: wf,
    treatmentType: 'neuromodulator',
    provider: 'outbox',
    dueAt: new Date(),
  };
  await db.insert(messages).values([
    {
      ...m,
      idempotencyKey: 'k1',
      stage: 'reminder',
      channel: 'email',
      status: 'delivered',
      recipient: 'philippa.q@example.com',
    },
    { ...m, idempotencyKey: 'k2', stage: 'incentive', channel: 'sms', status: 'outbox', recipient: '+12125550199' },
    { ...m, idempotencyKey: 'k3', stage: 'incentive', channel: 'sms', status: 'outbox', recipient: '+12125550199' },
  ]);
  const h = { clinicId: 'demo-clinic', workflowId: wf, treatmentType: 'neuromodulator', occurredAt: new Date() };
  await db.insert(deliveryHolds).values([
    { ...h, runKey: 'a1', stage: 'results_checkin', kind: 'deferred', reason: 'capped' },
    { ...h, runKey: 'a2', stage: 'results_checkin', kind: 'deferred', reason: 'capped' },
    { ...h, runKey: 'a2', stage: 'reminder', kind: 'deferred', reason: 'send_window' },
    { ...h, runKey: 'a3', stage: 'reminder', kind: 'suppressed', reason: 'email_no_consent' },
  ]);
  const counter = new ApiCallCounter();
  for (let i = 0; i < 3; i++) counter.add('mindbody', 'mb-clinic');
  watchApiCalls(counter);

  app = await appWith(SECRETS);
  const post = (url: string, payload: string, headers: Record<string, string>) =>
    app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...headers } });
  expect((await post('/webhooks/mindbody', mindbody, { 'x-mindbody-signature': mbSignature })).statusCode).toBe(200);
  expect((await post('/webhooks/mindbody', mindbody, { 'x-mindbody-signature': 'sha256=AAAA' })).statusCode).toBe(401);
  expect((await post('/webhooks/vagaro/vg-clinic', '{}', { 'x-vagaro-signature': 'wrong' })).statusCode).toBe(401);
  expect((await post('/webhooks/vagaro/no-such-clinic', '{}', {})).statusCode).toBe(404);
  expect(
    (await post('/webhooks/vagaro/vg-clinic', '{"not json', { 'x-vagaro-signature': SECRETS.VAGARO_WEBHOOK_TOKEN! }))
      .statusCode,
  ).toBe(400);
  // Make the pending row visibly old.
  await db.execute(sql`update inbox_events set received_at = now() - interval '120 seconds' where status = 'pending'`);
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  text = res.body;
  guarded = await appWith({ ...SECRETS, REBOOK_METRICS_TOKEN: 'metrics-token-0123456789' });
}, 60_000);

afterAll(async () => {
  await guarded?.close();
  await app?.close();
  await database?.close();
  rmSync(configDir, { recursive: true, force: true });
});

describe('GET /metrics', () => {
  it('counts webhooks received and rejected per platform and reason', () => {
    expect(text).toContain('# TYPE rebook_webhooks_received_total counter');
    expect(value('rebook_webhooks_received_total{platform="mindbody"}')).toBe(1);
    expect(value('rebook_webhooks_rejected_total{platform="mindbody",reason="unauthorized"}')).toBe(1);
    expect(value('rebook_webhooks_rejected_total{platform="vagaro",reason="unauthorized"}')).toBe(1);
    expect(value('rebook_webhooks_rejected_total{platform="vagaro",reason="clinic_not_found"}')).toBe(1);
    expect(value('rebook_webhooks_rejected_total{platform="vagaro",reason="invalid_json"}')).toBe(1);
  });

  it('reads the inbox backlog and the age of its oldest pending row from the database', () => {
    expect(value('rebook_inbox_pending{source="mindbody"}')).toBe(1);
    const age = value('rebook_inbox_oldest_pending_age_seconds')!;
    expect(age).toBeGreaterThanOrEqual(119);
    expect(age).toBeLessThan(3600);
  });

  it('reads sequence runs, messages per channel and status, holds and cap deferrals', () => {
    expect(text).toContain('# TYPE rebook_sequences_started_total counter');
    expect(value('rebook_sequences_started_total{treatment_type="neuromodulator"}')).toBe(3);
    expect(value('rebook_sequences_ended_total{treatment_type="neuromodulator",outcome="booked"}')).toBe(1);
    expect(value('rebook_sequences_ended_total{treatment_type="neuromodulator",outcome="churned"}')).toBe(1);
    expect(value('rebook_messages{channel="email",status="delivered"}')).toBe(1);
    expect(value('rebook_messages{channel="sms",status="outbox"}')).toBe(2);
    expect(value('rebook_delivery_holds_total{kind="deferred",reason="capped"}')).toBe(2);
    expect(value('rebook_delivery_holds_total{kind="suppressed",reason="email_no_consent"}')).toBe(1);
    expect(value('rebook_cap_deferrals_total')).toBe(2);
  });

  it('exposes the vendor API calls the connectors counted, and process metrics', () => {
    expect(value('rebook_vendor_api_calls_total{platform="mindbody",clinic="mb-clinic"}')).toBe(3);
    expect(text).toContain('rebook_process_resident_memory_bytes');
  });

  it('carries no client data', () => {
    for (const phi of ['Philippa', 'Quernsby', 'philippa.q@example.com', '5550199', 'ext-9'])
      expect(text).not.toContain(phi);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
  });

  it('wants the token when one is configured', async () => {
    expect((await guarded.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect(
      (await guarded.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer nope' } })).statusCode,
    ).toBe(401);
    const ok = await guarded.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer metrics-token-0123456789' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('rebook_messages{');
  });

  it("a standalone worker serves its own counters and process metrics, not the database's figures", async () => {
    const worker = await serveWorkerMetrics({ port: 0, host: '127.0.0.1' });
    try {
      const body = await (await fetch(`${worker.url}/metrics`)).text();
      expect(body).toMatch(/^rebook_vendor_api_calls_total\{platform="mindbody",clinic="mb-clinic"\} 3$/m);
      expect(body).toContain('rebook_process_cpu_seconds_total');
      expect(body).not.toContain('rebook_messages');
      expect(body).not.toContain('rebook_inbox_pending');
    } finally {
      await worker.stop();
    }
  });
});
