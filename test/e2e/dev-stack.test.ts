/**
 * End to end on the real stack: the Temporal dev server (the `temporal` CLI, as `rebook dev`
 * starts it), PGlite on disk, the real worker and the real HTTP server on a port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import type { Database } from '../../src/db/client.js';
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

it('HTTP event in → workflow visible → worker restarted → booking → workflow closed as booked', async () => {
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

  const waiting = await until('stage 1 scheduled', async () => {
    const s = await handle.query(statusQuery);
    return s.nextActionAt ? s : undefined;
  });
  // Day 80 of a treatment 10 days ago: about 70 days out.
  expect(Date.parse(waiting.nextActionAt!) - Date.now()).toBeGreaterThan(69 * DAY);
  const seq = await until('sequence row', async () => {
    const r = await api('GET', '/v1/clinics/demo-clinic/sequences?clientId=e2e-client');
    return r.body.sequences[0]?.nextActionAt ? r.body.sequences[0] : undefined;
  });
  expect(seq).toMatchObject({ id: workflowId, treatmentType: 'neuromodulator', outcome: 'running', running: true });

  // Restart the worker mid-sequence; the booking arrives while no worker is running.
  await worker.stop();
  await workerConn.close();
  const booked = await api('POST', '/v1/clinics/demo-clinic/events', {
    type: 'appointment.booked',
    clientId: 'e2e-client',
    appointmentId: 'e2e-appt-2',
    startAt: new Date(Date.now() + 7 * DAY).toISOString(),
  });
  expect(booked.status).toBe(202);
  expect(booked.body.results[0]).toMatchObject({ status: 'accepted', sequencesSignalled: 1 });
  expect((await handle.describe()).status.name).toBe('RUNNING');
  worker = await startWorker();

  const result = await handle.result();
  expect(result.outcome).toBe('booked');
  expect(result.outcomeStage).toBe('before_first_touch');
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  const after = await until('sequence closed in the read API', async () => {
    const r = await api('GET', '/v1/clinics/demo-clinic/sequences?clientId=e2e-client');
    return r.body.sequences[0]?.running === false ? r.body.sequences[0] : undefined;
  });
  expect(after.outcome).toBe('booked');
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
