/**
 * End to end on the real stack: the Temporal dev server (the `temporal` CLI, as `rebook dev`
 * starts it), PGlite on disk, the real worker and the real HTTP server on a port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import type { Database } from '../../src/db/client.js';
import { sequenceRuns } from '../../src/db/schema.js';
import { parseEnv } from '../../src/env.js';
import { createLogger } from '../../src/log.js';
import { openConfiguredDatabase, runServer, runWorker, type Stoppable } from '../../src/processes.js';
import { connectClient, connectWorker } from '../../src/temporal/connection.js';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server.js';
import { registerSearchAttributes } from '../../src/temporal/search-attributes.js';
import { loadTemporalSettings, type TemporalSettings } from '../../src/temporal/settings.js';
import { searchAttributes, statusQuery } from '../../workflows/definitions.js';
import { temporalBinaries } from '../helpers/binaries.js';
import { callApi, until } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';

const API_KEY = 'e2e-test-key-0123456789abcdef';
const DAY = 86_400_000;
let dataDir: string;
let devServer: DevServer;
let settings: TemporalSettings;
let client: Client;
let database: Database;
let server: Stoppable & { url: string };
let workerConn: NativeConnection;
let worker: Stoppable;
const log = createLogger({ level: 'silent' });
const config = createConfigStore('config');
const secrets = {
  REBOOK_API_KEY: API_KEY,
  REBOOK_UNSUBSCRIBE_SECRET: 'e2e-unsubscribe-secret-0123456789',
} as NodeJS.ProcessEnv;

async function startWorker() {
  workerConn = await connectWorker(settings);
  return runWorker({ settings, connection: workerConn, database, config, log, secrets });
}

const api = (method: string, path: string, body?: unknown) => callApi(server.url, API_KEY, method, path, body);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rebook-e2e-'));
  const base = loadTemporalSettings('temporal.yaml');
  const [port, uiPort] = [await freePort(), await freePort()];
  settings = { ...base, taskQueue: 'e2e', devServer: { ...base.devServer, port, uiPort } };
  devServer = await startDevServer(settings, dataDir, { TEMPORAL_CLI_PATH: temporalBinaries().cli });
  settings = { ...settings, address: devServer.address };
  client = await connectClient(settings, {});
  await registerSearchAttributes(client.connection as Connection, settings.namespace, settings.searchAttributes);
  const env = parseEnv({ REBOOK_DATA_DIR: dataDir, PORT: '0', REBOOK_FORWARD_INTERVAL_MS: '200' });
  database = await openConfiguredDatabase(env);
  worker = await startWorker();
  server = await runServer({ env, settings, database, config, temporal: client, log, secrets });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await worker?.stop();
  await workerConn?.close();
  await client?.connection.close();
  await database?.close();
  await devServer?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('HTTP event in → workflow visible → worker restarted → booking → marketing stopped → visit → run attended', async () => {
  const completedAt = new Date(Date.now() - 10 * DAY).toISOString();
  const enrolled = await api('POST', '/v1/clinics/demo-clinic/events', {
    type: 'treatment.completed',
    client: {
      id: 'e2e-client',
      firstName: 'Marisol',
      lastName: 'Vantongeren',
      email: 'marisol.v@example.com',
      phone: '+12125550188',
      consent: { sms: true, email: true },
    },
    appointmentId: 'e2e-appt-1',
    service: { name: 'Dysport 60 units' },
    completedAt,
  });
  expect(enrolled.status).toBe(202);
  expect(enrolled.body.results[0]).toMatchObject({
    status: 'accepted',
    enrolled: true,
    treatmentType: 'neuromodulator',
  });
  const workflowId: string = enrolled.body.results[0].sequenceId;
  expect(workflowId).not.toMatch(/Marisol|Vantongeren|marisol|5550188/);

  const handle = client.workflow.getHandle(workflowId);
  const described = await handle.describe();
  expect(described.status.name).toBe('RUNNING');
  expect(described.typedSearchAttributes.get(searchAttributes.clinicId)).toBe('demo-clinic');
  expect(described.typedSearchAttributes.get(searchAttributes.treatmentType)).toBe('neuromodulator');

  const waiting = await until('the next touch scheduled', async () => {
    const s = await handle.query(statusQuery);
    return s.nextActionAt ? s : undefined;
  });
  // A treatment 10 days ago: the day-1 care check-in is past (never sent late); the day-12 care
  // results email is next, about 2 days out.
  expect(waiting.nextStage).toBe('care_results');
  expect(Date.parse(waiting.nextActionAt!)).toBeGreaterThan(Date.parse(completedAt) + 11 * DAY);
  expect(Date.parse(waiting.nextActionAt!)).toBeLessThan(Date.parse(completedAt) + 13 * DAY);
  const seq = await until('sequence row', async () => {
    const r = await api('GET', '/v1/clinics/demo-clinic/sequences?clientId=e2e-client');
    return r.body.sequences[0]?.nextActionAt ? r.body.sequences[0] : undefined;
  });
  expect(seq).toMatchObject({ id: workflowId, treatmentType: 'neuromodulator', outcome: 'running', running: true });

  // Restart the worker mid-sequence; the booking arrives while no worker is running.
  await worker.stop();
  await workerConn.close();
  // A slot a minute from now, so the visit can be reported below without waiting real days.
  const startAt = new Date(Date.now() + 60_000).toISOString();
  const booked = await api('POST', '/v1/clinics/demo-clinic/events', {
    type: 'appointment.booked',
    clientId: 'e2e-client',
    appointmentId: 'e2e-appt-2',
    startAt,
  });
  expect(booked.status).toBe(202);
  expect(booked.body.results[0]).toMatchObject({ status: 'accepted', sequencesSignalled: 1 });
  expect((await handle.describe()).status.name).toBe('RUNNING');
  worker = await startWorker();

  // A booking is not the end (issue 11): marketing stops, the run is booked and keeps watching the
  // booked appointment: next is the check a day after its start (before the day-12 care touch).
  const watching = await until('the booking taken by the restarted worker', async () => {
    const s = await handle.query(statusQuery);
    return s.outcome === 'booked' ? s : undefined;
  });
  expect(watching).toMatchObject({
    outcomeStage: 'before_first_touch',
    nextStage: 'visit_check',
    nextActionAt: new Date(Date.parse(startAt) + DAY).toISOString(),
  });
  expect((await handle.describe()).status.name).toBe('RUNNING');
  const bookedRow = await until('the booked run in the read API', async () => {
    const r = await api('GET', '/v1/clinics/demo-clinic/sequences?clientId=e2e-client');
    return r.body.sequences.find((x: { outcome: string }) => x.outcome === 'booked');
  });
  expect(bookedRow).toMatchObject({ id: workflowId, anchorAppointmentId: 'e2e-appt-1', running: true });

  // The visit happens: the booked appointment completes. The run it ends is attended and the
  // same workflow starts the next cycle from the new treatment.
  const visit = await api('POST', '/v1/clinics/demo-clinic/events', {
    type: 'treatment.completed',
    client: {
      id: 'e2e-client',
      firstName: 'Marisol',
      lastName: 'Vantongeren',
      email: 'marisol.v@example.com',
      phone: '+12125550188',
      consent: { sms: true, email: true },
    },
    appointmentId: 'e2e-appt-2',
    service: { name: 'Dysport 60 units' },
    completedAt: new Date().toISOString(),
  });
  expect(visit.status).toBe(202);
  const next = await until('the next cycle in the read API', async () => {
    const r = await api('GET', '/v1/clinics/demo-clinic/sequences?clientId=e2e-client');
    const row = r.body.sequences[0];
    return row?.anchorAppointmentId === 'e2e-appt-2' && row.nextActionAt ? row : undefined;
  });
  expect(next).toMatchObject({ id: workflowId, outcome: 'running', running: true, nextStage: 'care_checkin' });
  // The run the visit ended, as the reports count it: attended, no longer running.
  const runs = await database.db
    .select()
    .from(sequenceRuns)
    .where(eq(sequenceRuns.workflowId, workflowId))
    .orderBy(sequenceRuns.startedAt);
  expect(runs).toMatchObject([
    { runKey: 'e2e-appt-1', outcome: 'attended', outcomeStage: 'before_first_touch', running: false },
    { runKey: 'e2e-appt-2', outcome: 'running', running: true },
  ]);
  const cycle = await handle.query(statusQuery);
  expect(cycle).toMatchObject({ outcome: 'running', nextStage: 'care_checkin' });
  expect(cycle.history.map((h) => h.event)).toEqual(expect.arrayContaining(['planned', 'attended', 'restarted']));
  // Nothing was sent: the booking came before the first marketing touch, and the next cycle's
  // day-1 check-in is a day away.
  const msgs = await api('GET', '/v1/clinics/demo-clinic/messages?clientId=e2e-client');
  expect(msgs.body.messages).toEqual([]);
});

it('answers the bad-input cases with coded errors', async () => {
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers },
      body,
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  const good = { type: 'appointment.cancelled', clientId: 'x', appointmentId: 'y' };

  expect(await post('/v1/clinics/demo-clinic/events', '{"type":')).toMatchObject({
    status: 400,
    body: { error: { code: 'invalid_json' } },
  });
  const invalid = await post(
    '/v1/clinics/demo-clinic/events',
    JSON.stringify({ type: 'treatment.completed', client: { id: 'c' } }),
  );
  expect(invalid.status).toBe(400);
  expect(invalid.body.error.code).toBe('validation_failed');
  expect(invalid.body.error.issues.map((i: { path: string }) => i.path)).toEqual(
    expect.arrayContaining(['body.client.firstName', 'body.appointmentId', 'body.completedAt']),
  );
  expect(await post('/v1/clinics/nowhere/events', JSON.stringify(good))).toMatchObject({
    status: 404,
    body: { error: { code: 'clinic_not_found' } },
  });
  expect(
    await post('/v1/clinics/demo-clinic/events', JSON.stringify(good), { authorization: 'Bearer wrong-key-wrong-key' }),
  ).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
  expect(await post('/v1/clinics/demo-clinic/events', JSON.stringify(good), { authorization: '' })).toMatchObject({
    status: 401,
  });
  const future = await post(
    '/v1/clinics/demo-clinic/events',
    JSON.stringify({
      type: 'treatment.completed',
      client: { id: 'f', firstName: 'F', consent: { sms: false, email: false } },
      appointmentId: 'f1',
      service: { name: 'Botox' },
      completedAt: new Date(Date.now() + 2 * DAY).toISOString(),
    }),
  );
  expect(future).toMatchObject({
    status: 400,
    body: { error: { code: 'validation_failed', issues: [{ path: 'events.0.completedAt' }] } },
  });
  const old = await post(
    '/v1/clinics/demo-clinic/events',
    JSON.stringify({
      type: 'treatment.completed',
      client: { id: 'o', firstName: 'O', consent: { sms: false, email: false } },
      appointmentId: 'o1',
      service: { name: 'Botox' },
      completedAt: new Date(Date.now() - 125 * DAY).toISOString(),
    }),
  );
  expect(old).toMatchObject({ status: 202, body: { results: [{ enrolled: false, reason: 'window_passed' }] } });
  const big = await post('/v1/clinics/demo-clinic/events', JSON.stringify({ ...good, pad: 'x'.repeat(1_100_000) }));
  expect(big).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
});
