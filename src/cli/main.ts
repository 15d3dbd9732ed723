/**
 * The `rebook` command.
 *   rebook dev       embedded Temporal dev server + PGlite + worker + HTTP, demo clinic
 *   rebook server    HTTP API and inbox forwarder (TEMPORAL_ADDRESS, DATABASE_URL)
 *   rebook worker    sequence worker (TEMPORAL_ADDRESS, DATABASE_URL)
 *   rebook config validate [dir]
 *   rebook keys create --agency A [--clinic C] [--role admin|staff] | list | revoke ID
 *   rebook users create|list|revoke|reset-link …   (console accounts)
 *   rebook import --clinic X --format jane|mindbody|vagaro|generic [--dry-run] FILE.csv
 *   rebook mindbody subscriptions <list|create|activate|delete> --clinic X
 *   rebook simulate --clinic X --history FILE.csv [--booking-rates …] [--months 12] [--out DIR]
 *   rebook preview --clinic X --service NAME --date YYYY-MM-DD [--email --phone --consent] [--json]
 *   rebook report --clinic X | --clinics A,B | --agency A [--from --to --type] [--format table|csv|json] [--url --key]
 *   rebook inbox [--status dead|pending|rejected|done] [--clinic X] | inbox retry (--id N,… | --clinic X | --all-dead)
 *   rebook connect jane --clinic X --redirect-uri URI   (first OAuth authorization; refresh token sealed)
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { importCommand } from '../../connectors/csv/cli.js';
import { connectJaneCommand } from '../../connectors/jane/connect.js';
import { subscriptionsCommand } from '../../connectors/mindbody/subscriptions.js';
import { createConfigStore, watchConfig } from '../config/store.js';
import { ensureDevAdmin } from '../console/accounts/dev-admin.js';
import { holdEmbeddedDatabase } from '../db/embedded-lock.js';
import { type Env, parseEnv } from '../env.js';
import { createLogger, type Logger } from '../log.js';
import { UNSUBSCRIBE_SECRET_ENV } from '../messaging/unsubscribe.js';
import { serveWorkerMetrics } from '../metrics/index.js';
import { openConfiguredDatabase, runServer, runWorker, type Stoppable } from '../processes.js';
import { newEncryptionKeySpec } from '../temporal/codec.js';
import { connectClient, connectWorker } from '../temporal/connection.js';
import { startDevServer } from '../temporal/dev-server.js';
import { registerSearchAttributes } from '../temporal/search-attributes.js';
import { loadTemporalSettings, type TemporalSettings } from '../temporal/settings.js';
import { validateConfigCommand } from './config-validate.js';
import { inboxCommand } from './inbox.js';
import { keysCommand } from './keys.js';
import { previewCommand } from './preview.js';
import { reportCommand } from './report.js';
import { simulateCommand } from './simulate.js';
import { usersCommand } from './users.js';

const USAGE = `usage: rebook <dev|server|worker|config validate [dir]|keys …|users …|inbox …|import …|connect jane …|mindbody subscriptions …|simulate …|preview …|report …>`;

function onShutdown(log: Logger, parts: Stoppable[]): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Reverse start order: stop taking requests, drain the worker, then close the stores.
    for (const p of [...parts].reverse()) {
      try {
        await p.stop();
      } catch (err) {
        log.warn({ errorName: (err as Error).name }, 'error while stopping');
      }
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** Dev-only secrets kept under .data/ so restarts keep the same key (and can decrypt history). */
function devSecrets(env: Env, settings: TemporalSettings): { apiKey: string; generated: boolean } {
  mkdirSync(env.REBOOK_DATA_DIR, { recursive: true });
  const file = join(env.REBOOK_DATA_DIR, 'dev-secrets.json');
  const stored: { apiKey?: string; encryptionKeys?: string; unsubscribeSecret?: string } = existsSync(file)
    ? JSON.parse(readFileSync(file, 'utf8'))
    : {};
  stored.apiKey ??= `rbk_dev_${randomBytes(18).toString('base64url')}`;
  stored.encryptionKeys ??= newEncryptionKeySpec('dev1');
  stored.unsubscribeSecret ??= randomBytes(32).toString('base64url');
  writeFileSync(file, JSON.stringify(stored, null, 2));
  chmodSync(file, 0o600);
  process.env[settings.encryption.keysEnv] ??= stored.encryptionKeys;
  process.env[UNSUBSCRIBE_SECRET_ENV] ??= stored.unsubscribeSecret;
  const generated = !env.REBOOK_API_KEY;
  process.env.REBOOK_API_KEY ??= stored.apiKey;
  return { apiKey: process.env.REBOOK_API_KEY!, generated };
}

async function dev(env: Env, log: Logger): Promise<void> {
  const settings = loadTemporalSettings(env.REBOOK_TEMPORAL_CONFIG);
  const config = createConfigStore(env.REBOOK_CONFIG_DIR);
  const { apiKey, generated } = devSecrets(env, settings);
  const parts: Stoppable[] = [];
  onShutdown(log, parts);
  // Edits to config/ (file change or SIGHUP) apply without a restart; a bad edit is logged and ignored.
  const watcher = watchConfig(config, { log });
  parts.push({ stop: async () => watcher.stop() });

  const temporalServer = await startDevServer(settings, env.REBOOK_DATA_DIR);
  parts.push(temporalServer);
  const devSettings: TemporalSettings = {
    ...settings,
    address: temporalServer.address,
    namespace: settings.devServer.namespace,
    tls: { ...settings.tls, enabled: false },
  };
  const client = await connectClient(devSettings);
  await registerSearchAttributes(client.connection as Connection, devSettings.namespace, devSettings.searchAttributes);
  // One-shot commands (`rebook keys`, `config validate`) see that the embedded database is in use.
  if (!env.DATABASE_URL) {
    const lock = holdEmbeddedDatabase(env.REBOOK_DATA_DIR);
    parts.push({ stop: async () => lock.release() });
  }
  const database = await openConfiguredDatabase(env);
  parts.push({ stop: () => database.close() });
  const connection = await connectWorker(devSettings);
  parts.push({ stop: () => connection.close() });
  const worker = await runWorker({ settings: devSettings, connection, database, config, log, secrets: process.env });
  parts.push(worker);
  const server = await runServer({
    env,
    settings: devSettings,
    database,
    config,
    temporal: client,
    log,
    secrets: process.env,
  });
  parts.push(server);

  const clinicIds = [...config.current().clinics.keys()].join(', ');
  const consoleLine = await ensureDevAdmin(database.db, config.current(), server.url);
  process.stdout.write(
    `${[
      '',
      `  Rebook is running (${database.engine} database, embedded Temporal).`,
      `  API          ${server.url}/v1/clinics/demo-clinic/events   clinics: ${clinicIds}`,
      `  API key      ${generated ? `${apiKey}  (generated; set REBOOK_API_KEY to choose your own)` : '(from REBOOK_API_KEY)'}`,
      `  Console      ${consoleLine}`,
      `  API docs     ${server.url}/docs  (OpenAPI: ${server.url}/openapi.json)`,
      `  Temporal UI  ${temporalServer.uiUrl}`,
      `  Outbox       GET ${server.url}/v1/clinics/demo-clinic/messages  (no SMS/email credentials: messages are held there)`,
      `  Data         ${env.REBOOK_DATA_DIR}/  (Ctrl-C stops; the next start resumes every sequence)`,
      '',
    ].join('\n')}\n`,
  );
  await worker.done;
}

/**
 * What `rebook server` and `rebook worker` share: an existing PostgreSQL and cluster, the config
 * store with its watcher (edits to config/, by file change or SIGHUP, apply without a restart; a
 * bad edit is logged and ignored), and the parts a signal stops, in order.
 */
function productionProcess(env: Env, log: Logger) {
  requireDatabaseUrl(env);
  const settings = loadTemporalSettings(env.REBOOK_TEMPORAL_CONFIG);
  const config = createConfigStore(env.REBOOK_CONFIG_DIR);
  const parts: Stoppable[] = [];
  onShutdown(log, parts);
  const watcher = watchConfig(config, { log });
  parts.push({ stop: async () => watcher.stop() });
  return { settings, config, parts };
}

async function server(env: Env, log: Logger): Promise<void> {
  const { settings, config, parts } = productionProcess(env, log);
  const client = await connectClient(settings);
  parts.push({ stop: () => client.connection.close() });
  const database = await openConfiguredDatabase(env);
  parts.push({ stop: () => database.close() });
  const srv = await runServer({ env, settings, database, config, temporal: client, log, secrets: process.env });
  parts.push(srv);
  log.info({ url: srv.url, namespace: settings.namespace, taskQueue: settings.taskQueue }, 'server listening');
}

async function worker(env: Env, log: Logger): Promise<void> {
  const { settings, config, parts } = productionProcess(env, log);
  const connection = await connectWorker(settings);
  parts.push({ stop: () => connection.close() });
  const database = await openConfiguredDatabase(env);
  parts.push({ stop: () => database.close() });
  if (env.REBOOK_WORKER_METRICS_PORT !== undefined) {
    const metrics = await serveWorkerMetrics({ port: env.REBOOK_WORKER_METRICS_PORT, host: env.HOST });
    parts.push(metrics);
    log.info({ url: metrics.url }, 'worker metrics listening');
  }
  const w = await runWorker({ settings, connection, database, config, log, secrets: process.env });
  parts.push(w);
  log.info({ namespace: settings.namespace, taskQueue: settings.taskQueue }, 'worker running');
  await w.done;
}

function requireDatabaseUrl(env: Env): void {
  // PGlite is one process's database: separate server and worker processes need PostgreSQL.
  if (!env.DATABASE_URL)
    throw new Error(
      'DATABASE_URL is required for `rebook server` and `rebook worker` (use `rebook dev` for the embedded database)',
    );
}

/** Routes the Temporal SDK's own logs (worker state, bundling) through pino at warn and above. */
function quietTemporalRuntime(log: Logger): void {
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => log.warn({ sdk: entry.meta?.sdkComponent }, entry.message)),
    // Native (Rust core) logs print to the console by themselves unless forwarded here.
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }), forward: {} } },
  });
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const env = parseEnv();
  if (command === 'config' && rest[0] === 'validate')
    process.exit(await validateConfigCommand(rest[1] ?? env.REBOOK_CONFIG_DIR, env));
  if (command === 'keys') process.exit(await keysCommand(rest, env));
  if (command === 'users') process.exit(await usersCommand(rest, env));
  if (command === 'inbox') process.exit(await inboxCommand(rest, env));
  const log = createLogger({ level: env.LOG_LEVEL });
  // Connector tools (connectors/): one-shot commands, no Temporal runtime needed.
  if (command === 'import')
    process.exit(await importCommand(rest, { configDir: env.REBOOK_CONFIG_DIR, port: env.PORT, secrets: process.env }));
  if (command === 'connect' && rest[0] === 'jane')
    process.exit(await connectJaneCommand(rest.slice(1), { ...env, secrets: process.env, log }));
  if (command === 'mindbody' && rest[0] === 'subscriptions')
    process.exit(
      await subscriptionsCommand(rest.slice(1), { configDir: env.REBOOK_CONFIG_DIR, secrets: process.env, log }),
    );
  // The simulator runs the pure core only: no Temporal, no database.
  if (command === 'simulate') return simulateCommand(rest, env);
  if (command === 'preview') return previewCommand(rest, env);
  if (command === 'report') return reportCommand(rest, env);
  quietTemporalRuntime(log);
  switch (command) {
    case 'dev':
      return dev(env, log);
    case 'server':
      return server(env, log);
    case 'worker':
      return worker(env, log);
    default:
      process.stderr.write(`${USAGE}\n`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`rebook: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
