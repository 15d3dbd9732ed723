/**
 * The admin API on the real stack (Temporal dev server, PGlite on disk, worker, HTTP server on a
 * port), with an agency's database key: a sequence's live status comes from its workflow, cancel
 * ends the workflow as `cancelled`, an unrecognised service is listed, mapped by staff, and the
 * next treatment of it is enrolled. A config edit reaches the running server without a restart.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ConfigWatcher, createConfigStore, watchConfig } from '../../src/config/store.js';
import type { Database } from '../../src/db/client.js';
import { parseEnv } from '../../src/env.js';
import { createLogger } from '../../src/log.js';
import { openConfiguredDatabase, runServer, runWorker, type Stoppable } from '../../src/processes.js';
import { createApiKey } from '../../src/server/api-keys.js';
import { connectClient, connectWorker } from '../../src/temporal/connection.js';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server.js';
import { registerSearchAttributes } from '../../src/temporal/search-attributes.js';
import { loadTemporalSettings, type TemporalSettings } from '../../src/temporal/settings.js';
import { temporalBinaries } from '../helpers/binaries.js';
import { callApi, until } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';

const DAY = 86_400_000;
let dataDir: string;
let configDir: string;
let devServer: DevServer;
let settings: TemporalSettings;
let client: Client;
let database: Database;
let server: Stoppable & { url: string };
let workerConn: NativeConnection;
let worker: Stoppable;
let watcher: ConfigWatcher;
let agencyKey: string;
let staffKey: string;
const log = createLogger({ level: 'silent' });
const secrets = { REBOOK_UNSUBSCRIBE_SECRET: 'e2e-admin-unsubscribe-secret-0123456789' } as NodeJS.ProcessEnv;

const api = (method: string, path: string, key: string, body?: unknown) => callApi(server.url, key, method, path, body);

const treatment = (clientId: string, appointmentId: string, service: string) => ({
  type: 'treatment.completed',
  client: {
    id: clientId,
    firstName: 'Noor',
    lastName: 'Haddad',
    email: `${clientId}@example.com`,
    consent: { sms: false, email: true },
  },
  appointmentId,
  service: { name: service },
  completedAt: new Date(Date.now() - 5 * DAY).toISOString(),
});

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rebook-e2e-admin-'));
  // The repository's catalog, and the demo clinic moved under an agency.
  configDir = join(dataDir, 'config');
  mkdirSync(join(configDir, 'agencies'), { recursive: true });
  cpSync('config/catalog.yaml', join(configDir, 'catalog.yaml'));
  mkdirSync(join(configDir, 'clinics'));
  writeFileSync(join(configDir, 'agencies', 'glow.yaml'), 'name: Glow Group\ndefaults:\n  sendTime: "10:00"\n');
  writeFileSync(
    join(configDir, 'clinics', 'demo-clinic.yaml'),
    `agency: glow\n${readFileSync('config/clinics/demo-clinic.yaml', 'utf8')}`,
  );

  const base = loadTemporalSettings('temporal.yaml');
  const [port, uiPort] = [await freePort(), await freePort()];
  settings = { ...base, taskQueue: 'e2e-admin', devServer: { ...base.devServer, port, uiPort } };
  devServer = await startDevServer(settings, dataDir, { TEMPORAL_CLI_PATH: temporalBinaries().cli });
  settings = { ...settings, address: devServer.address };
  client = await connectClient(settings, {});
  await registerSearchAttributes(client.connection as Connection, settings.namespace, settings.searchAttributes);
  const env = parseEnv({ REBOOK_DATA_DIR: dataDir, PORT: '0', REBOOK_FORWARD_INTERVAL_MS: '200' });
  database = await openConfiguredDatabase(env);
  const config = createConfigStore(configDir);
  watcher = watchConfig(config, { log, debounceMs: 100, signal: false });
  workerConn = await connectWorker(settings);
  worker = await runWorker({ settings, connection: workerConn, database, config, log, secrets });
  server = await runServer({ env, settings, database, config, temporal: client, log, secrets });
  agencyKey = (await createApiKey(database.db, config.current(), { agencyId: 'glow', role: 'admin' })).key;
  staffKey = (
    await createApiKey(database.db, config.current(), { agencyId: 'glow', clinicId: 'demo-clinic', role: 'staff' })
  ).key;
}, 120_000);

afterAll(async () => {
  watcher?.stop();
  await server?.stop();
  await worker?.stop();
  await workerConn?.close();
  await client?.connection.close();
  await database?.close();
  await devServer?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('live status from the workflow, then cancel ends it as cancelled (staff may read, not cancel)', async () => {
  const event = treatment('adm-1', 'adm-1-a', 'Botox 20u');
  const enrolled = await api('POST', '/v1/clinics/demo-clinic/events', agencyKey, event);
  expect(enrolled.status).toBe(202);
  const sequenceId: string = enrolled.body.results[0].sequenceId;
  const path = `/v1/clinics/demo-clinic/sequences/${encodeURIComponent(sequenceId)}`;

  const live = await until('the planned stage in the live status', async () => {
    const r = await api('GET', path, staffKey);
    return r.body.live?.nextActionAt ? r.body : undefined;
  });
  expect(live.liveState).toBe('ok');
  expect(live.sequence).toMatchObject({
    id: sequenceId,
    clientId: 'adm-1',
    treatmentType: 'neuromodulator',
    running: true,
  });
  // Treated 5 days ago: the day-1 care check-in is past (suppressed, never sent late); the
  // day-12 results email is the next action, about a week out.
  expect(live.live).toMatchObject({ stage: 'care_checkin', nextStage: 'care_results', outcome: 'running' });
  expect(live.live.history).toEqual([
    expect.objectContaining({ stage: 'enrolled', event: 'planned' }),
    expect.objectContaining({ stage: 'care_checkin', event: 'suppressed', detail: 'past_due_at_enrollment' }),
  ]);
  const completedAt = Date.parse(event.completedAt);
  expect(Date.parse(live.live.nextActionAt)).toBeGreaterThan(completedAt + 11 * DAY);
  expect(Date.parse(live.live.nextActionAt)).toBeLessThan(completedAt + 13 * DAY);

  expect((await api('POST', `${path}/cancel`, staffKey)).status).toBe(403);
  const cancelled = await api('POST', `${path}/cancel`, agencyKey);
  expect(cancelled).toMatchObject({ status: 202, body: { id: sequenceId, cancelled: true } });
  const result = await client.workflow.getHandle(sequenceId).result();
  expect(result.outcome).toBe('cancelled');
  const ended = await until('the ended sequence in the list', async () => {
    const r = await api(
      'GET',
      '/v1/clinics/demo-clinic/sequences?clientId=adm-1&status=ended&outcome=cancelled',
      staffKey,
    );
    return r.body.sequences[0];
  });
  expect(ended).toMatchObject({ id: sequenceId, running: false, outcome: 'cancelled' });
  expect((await api('POST', `${path}/cancel`, agencyKey)).status).toBe(409);

  const c = await api('GET', '/v1/clinics/demo-clinic/clients/adm-1', staffKey);
  expect(c.status).toBe(200);
  expect(c.body).toMatchObject({
    id: 'adm-1',
    firstName: 'Noor',
    channels: { email: { consent: true, optedOut: false }, sms: { consent: false } },
  });
  expect(c.body.sequences).toEqual([expect.objectContaining({ id: sequenceId, outcome: 'cancelled', running: false })]);
});

it('an unrecognised service is listed, mapped by an admin, and its next treatment is enrolled', async () => {
  const first = await api(
    'POST',
    '/v1/clinics/demo-clinic/events',
    agencyKey,
    treatment('adm-2', 'adm-2-a', 'Aqua Gold Facial'),
  );
  expect(first.body.results[0]).toMatchObject({ enrolled: false, reason: 'unclassified_service' });
  const listed = await api('GET', '/v1/clinics/demo-clinic/unmapped-services', staffKey);
  expect(listed.body.services).toEqual([
    expect.objectContaining({ serviceKey: 'name:aqua gold facial', serviceName: 'Aqua Gold Facial', occurrences: 1 }),
  ]);

  expect(
    (
      await api('PUT', '/v1/clinics/demo-clinic/service-mappings', staffKey, {
        serviceKey: 'name:aqua gold facial',
        treatmentType: 'hydrafacial',
      })
    ).status,
  ).toBe(403);
  const unknownType = await api('PUT', '/v1/clinics/demo-clinic/service-mappings', agencyKey, {
    serviceKey: 'name:Aqua Gold Facial',
    treatmentType: 'not_a_type',
  });
  expect(unknownType.status).toBe(400);
  expect(unknownType.body.error.issues).toEqual([expect.objectContaining({ path: 'body.treatmentType' })]);
  const mapped = await api('PUT', '/v1/clinics/demo-clinic/service-mappings', agencyKey, {
    serviceKey: 'name:Aqua Gold Facial',
    treatmentType: 'hydrafacial',
  });
  expect(mapped).toMatchObject({
    status: 200,
    body: { serviceKey: 'name:aqua gold facial', treatmentType: 'hydrafacial' },
  });
  expect((await api('GET', '/v1/clinics/demo-clinic/unmapped-services', staffKey)).body.services).toEqual([]);

  const next = await api(
    'POST',
    '/v1/clinics/demo-clinic/events',
    agencyKey,
    treatment('adm-3', 'adm-3-a', 'AQUA GOLD facial'),
  );
  expect(next.body.results[0]).toMatchObject({ enrolled: true, treatmentType: 'hydrafacial' });

  // Mapped to none: not repeatable, not enrolled, no longer reported.
  await api('PUT', '/v1/clinics/demo-clinic/service-mappings', agencyKey, {
    serviceKey: 'name:consultation',
    treatmentType: null,
  });
  const consult = await api(
    'POST',
    '/v1/clinics/demo-clinic/events',
    agencyKey,
    treatment('adm-4', 'adm-4-a', 'Consultation'),
  );
  expect(consult.body.results[0]).toMatchObject({ enrolled: false, reason: 'not_repeatable' });
  expect((await api('GET', '/v1/clinics/demo-clinic/unmapped-services', staffKey)).body.services).toEqual([]);
});

it('a config edit reaches the running server; a broken edit is ignored and the last good config serves', async () => {
  const file = join(configDir, 'clinics', 'demo-clinic.yaml');
  const original = readFileSync(file, 'utf8');
  const effective = async () => (await api('GET', '/v1/clinics/demo-clinic', agencyKey)).body;
  expect((await effective()).agency).toEqual({ id: 'glow', name: 'Glow Group' });

  writeFileSync(file, original.replace('name: Glow Aesthetics (demo)', 'name: Glow Aesthetics Downtown'));
  await until('the renamed clinic', async () => (await effective()).clinic?.name === 'Glow Aesthetics Downtown');

  writeFileSync(file, `${original}\nsendTime: "9am"\n`);
  await new Promise((r) => setTimeout(r, 600));
  const kept = await effective();
  expect(kept.clinic.name).toBe('Glow Aesthetics Downtown');
  expect(kept.clinic.sendTime).toBe('10:00');
  // Secrets appear as the names of their variables only.
  expect(kept.clinic.apiKeys).toEqual([{ name: 'default', env: 'REBOOK_API_KEY' }]);
  expect(kept.sources.clinic).toMatch(/demo-clinic\.yaml$/);
  writeFileSync(file, original);
});
