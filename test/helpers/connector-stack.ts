/**
 * The real stack for connector tests: the Temporal dev server (stoppable and restartable on the
 * same data and port), PGlite on disk, the real worker and HTTP server, and a config directory
 * holding the catalog plus the test clinics of every platform. Vendor APIs are nock's business.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { ApiCallCounter } from '../../connectors/http.js';
import { createConnectorRuntime } from '../../connectors/shared.js';
import type { ConnectorRuntime } from '../../connectors/types.js';
import { type ConfigStore, createConfigStore } from '../../src/config/store.js';
import type { Database } from '../../src/db/client.js';
import { parseEnv } from '../../src/env.js';
import { createLogger } from '../../src/log.js';
import { openConfiguredDatabase, runServer, runWorker, type Stoppable } from '../../src/processes.js';
import { connectClient, connectWorker } from '../../src/temporal/connection.js';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server.js';
import { registerSearchAttributes } from '../../src/temporal/search-attributes.js';
import { loadTemporalSettings, type TemporalSettings } from '../../src/temporal/settings.js';
import { temporalBinaries } from './binaries.js';
import { freePort } from './ports.js';

export const API_KEY = 'connector-test-key-0123456789';

/** Test credentials, by the variable names the test clinics reference (MB_NOKEY_… is deliberately unset). */
export const SECRETS = {
  REBOOK_API_KEY: API_KEY,
  MB_API_KEY: 'mb-api-key-0f3c9a',
  MB_SIGNATURE_KEY: 'whsec_Zm9yLXRlc3RzLW9ubHk6bWluZGJvZHk=',
  MB_USERNAME: 'rebook.integration',
  MB_PASSWORD: 'sandbox-password-1',
  VAGARO_WEBHOOK_TOKEN: 'vg-static-token-5d1e0c2b',
  VAGARO_CLIENT_ID: 'vg-client-id',
  VAGARO_CLIENT_SECRET: 'vg-client-secret',
  JANE_CLIENT_ID: 'jane-partner-client',
  JANE_REFRESH_TOKEN: 'jane-refresh-0001',
  JANE_WEBHOOK_SECRET: 'jane-webhook-secret-77',
  BLVD_API_KEY: 'blvd-api-key-4c2a',
  // Boulevard API secrets are base64 (the HMAC key is the decoded bytes).
  BLVD_API_SECRET: 'Ymx2ZC10ZXN0LXNlY3JldC1rZXktMzJieXRlcy0wMDE=',
  BLVD_WEBHOOK_SECRET: 'blvd-webhook-secret-19',
  ZENOTI_API_KEY: 'zenoti-api-key-83b1',
  ZENOTI_WEBHOOK_SECRET: 'zenoti-webhook-secret-5e',
  // Seals connector secrets kept in the database (Jane's rotating refresh token): keyId:base64(32 bytes).
  REBOOK_SECRETS_KEY: 'test1:Y29ubmVjdG9yLXRlc3RzLXNlYWxpbmcta2V5LTMyYnk=',
  // The worker refuses to start without it (email stages carry a signed unsubscribe link).
  REBOOK_UNSUBSCRIBE_SECRET: 'connector-tests-unsubscribe-secret-0123456789',
} as NodeJS.ProcessEnv;

/** The catalog, the demo clinic and one test clinic per platform, in a fresh directory. */
export function connectorConfigDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rebook-connector-config-'));
  mkdirSync(join(dir, 'clinics'));
  copyFileSync('config/catalog.yaml', join(dir, 'catalog.yaml'));
  const fixtures = new URL('../fixtures/connector-clinics/', import.meta.url).pathname;
  for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(dir, 'clinics', f));
  return dir;
}

export interface ConnectorStack {
  url: string;
  client: Client;
  database: Database;
  config: ConfigStore;
  runtime: ConnectorRuntime;
  counter: ApiCallCounter;
  post(path: string, body: string | Buffer, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  api(method: string, path: string): Promise<{ status: number; body: any }>;
  /** Stops the worker and the Temporal dev server (the HTTP server keeps answering). */
  stopTemporal(): Promise<void>;
  /** Starts the dev server again on the same port and data, and the worker. */
  startTemporal(): Promise<void>;
  stop(): Promise<void>;
}

export async function startConnectorStack(
  opts: { forwardIntervalMs?: number; env?: Record<string, string> } = {},
): Promise<ConnectorStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rebook-connectors-'));
  const configDir = connectorConfigDir();
  const base = loadTemporalSettings('temporal.yaml');
  const [port, uiPort] = [await freePort(), await freePort()];
  let settings: TemporalSettings = { ...base, taskQueue: 'connectors', devServer: { ...base.devServer, port, uiPort } };
  const binEnv = { TEMPORAL_CLI_PATH: temporalBinaries().cli };
  let devServer: DevServer = await startDevServer(settings, dataDir, binEnv);
  settings = { ...settings, address: devServer.address };
  const client = await connectClient(settings, {});
  await registerSearchAttributes(client.connection as Connection, settings.namespace, settings.searchAttributes);
  const log = createLogger({ level: 'silent' });
  const env = parseEnv({
    REBOOK_DATA_DIR: dataDir,
    PORT: '0',
    REBOOK_FORWARD_INTERVAL_MS: String(opts.forwardIntervalMs ?? 200),
    ...opts.env,
  });
  const database = await openConfiguredDatabase(env);
  const config = createConfigStore(configDir);
  const counter = new ApiCallCounter();
  const runtime: ConnectorRuntime = {
    ...createConnectorRuntime({ secrets: SECRETS, log, counter }),
    retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
  };
  let workerConn: NativeConnection | undefined;
  let worker: Stoppable | undefined;
  const startWorker = async () => {
    workerConn = await connectWorker(settings);
    worker = await runWorker({
      settings,
      connection: workerConn,
      database,
      config,
      log,
      secrets: SECRETS,
      connectorRuntime: runtime,
    });
  };
  const stopWorker = async () => {
    await worker?.stop();
    await workerConn?.close();
    worker = undefined;
    workerConn = undefined;
  };
  await startWorker();
  // The poller is driven by tests directly (connectors/poller.ts), not by the timer.
  const server = await runServer({
    env,
    settings,
    database,
    config,
    temporal: client,
    log,
    secrets: SECRETS,
    connectorRuntime: runtime,
    pollTickMs: 3_600_000,
  });

  return {
    url: server.url,
    client,
    database,
    config,
    runtime,
    counter,
    async post(path, body, headers = {}) {
      const res = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async api(method, path) {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${API_KEY}` } });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async stopTemporal() {
      await stopWorker();
      await devServer.stop();
    },
    async startTemporal() {
      devServer = await startDevServer(settings, dataDir, binEnv);
      await startWorker();
    },
    async stop() {
      await server.stop();
      await stopWorker();
      await client.connection.close();
      await database.close();
      await devServer.stop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}

export { until } from './poll.js';
