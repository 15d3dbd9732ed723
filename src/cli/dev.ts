/**
 * `rebook dev`: the whole product on this machine: the embedded Temporal dev server, PGlite on
 * disk, the worker and the HTTP server in one process, with the demo clinic.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from '@temporalio/client';
import { createConfigStore, watchConfig } from '../config/store.js';
import { ensureDevAdmin } from '../console/accounts/dev-admin.js';
import { holdEmbeddedDatabase } from '../db/embedded-lock.js';
import type { Env } from '../env.js';
import { createLogger, type Logger, logFormatFor } from '../log.js';
import { UNSUBSCRIBE_SECRET_ENV } from '../messaging/unsubscribe.js';
import { openConfiguredDatabase, runServer, runWorker, type Stoppable } from '../processes.js';
import { newEncryptionKeySpec } from '../temporal/codec.js';
import { connectClient, connectWorker } from '../temporal/connection.js';
import { startDevServer } from '../temporal/dev-server.js';
import { registerSearchAttributes } from '../temporal/search-attributes.js';
import { loadTemporalSettings, type TemporalSettings } from '../temporal/settings.js';
import { type CommandContext, takesNoArguments } from './command.js';
import { announceDevServer } from './dev-discovery.js';
import { assertPortsFree, devPorts, withDevServerPorts } from './dev-ports.js';
import { followListeningUrl, linkBaseOf } from './dev-public-base-url.js';
import { onShutdown, quietTemporalRuntime } from './process-lifecycle.js';

export const usage = `usage: rebook dev

Starts the embedded Temporal dev server, the database (PGlite under $REBOOK_DATA_DIR, or
DATABASE_URL), the worker and the HTTP API (PORT) with the configuration in $REBOOK_CONFIG_DIR.
Ctrl-C stops it; the next start resumes every sequence.
`;

export async function run(argv: string[], { env }: CommandContext): Promise<number> {
  if (!takesNoArguments('dev', argv)) return 2;
  const log = createLogger({ level: env.LOG_LEVEL, format: logFormatFor(env, process.stdout.isTTY === true) });
  quietTemporalRuntime(log);
  await dev(env, log);
  return 0;
}

/** Dev-only secrets kept under .data/ so restarts keep the same key (and can decrypt history). */
function devSecrets(env: Env, settings: TemporalSettings): { apiKey: string; generated: boolean; codecToken: string } {
  mkdirSync(env.REBOOK_DATA_DIR, { recursive: true });
  const file = join(env.REBOOK_DATA_DIR, 'dev-secrets.json');
  const stored: { apiKey?: string; encryptionKeys?: string; unsubscribeSecret?: string; codecToken?: string } =
    existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  stored.apiKey ??= `rbk_dev_${randomBytes(18).toString('base64url')}`;
  stored.encryptionKeys ??= newEncryptionKeySpec('dev1');
  stored.unsubscribeSecret ??= randomBytes(32).toString('base64url');
  stored.codecToken ??= randomBytes(32).toString('base64url');
  writeFileSync(file, JSON.stringify(stored, null, 2));
  chmodSync(file, 0o600);
  process.env[settings.encryption.keysEnv] ??= stored.encryptionKeys;
  process.env[UNSUBSCRIBE_SECRET_ENV] ??= stored.unsubscribeSecret;
  const generated = !env.REBOOK_API_KEY;
  process.env.REBOOK_API_KEY ??= stored.apiKey;
  return { apiKey: process.env.REBOOK_API_KEY!, generated, codecToken: env.REBOOK_CODEC_TOKEN ?? stored.codecToken };
}

/**
 * The embedded UI decodes payloads through this server's codec endpoint. The UI can send no
 * header of ours, so its endpoint carries the token in the path (both bound to this machine);
 * its origins (localhost and 127.0.0.1) are the only ones the endpoint answers. PORT=0 gives a
 * port only known after the dev server has started: then no endpoint.
 */
function devCodec(env: Env, settings: TemporalSettings, token: string): { env: Env; endpoint?: string } {
  const uiPort = settings.devServer.uiPort;
  const withToken: Env = {
    ...env,
    REBOOK_CODEC_TOKEN: token,
    REBOOK_CODEC_ORIGINS: [...env.REBOOK_CODEC_ORIGINS, `http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
  };
  if (env.PORT === 0) return { env: withToken };
  const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? '127.0.0.1' : env.HOST;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${env.PORT}`;
  return { env: withToken, endpoint: `${base}/codec/t/${encodeURIComponent(token)}` };
}

async function dev(env: Env, log: Logger): Promise<void> {
  const settings = withDevServerPorts(loadTemporalSettings(env.REBOOK_TEMPORAL_CONFIG), env);
  await assertPortsFree(devPorts(settings, env));
  const watched = createConfigStore(env.REBOOK_CONFIG_DIR);
  // Unsubscribe links point at the server listening below (see dev-public-base-url.ts).
  let listening: string | undefined;
  const config = followListeningUrl(watched, () => listening);
  const { apiKey, generated, codecToken } = devSecrets(env, settings);
  const codec = devCodec(env, settings, codecToken);
  env = codec.env;
  const parts: Stoppable[] = [];
  onShutdown(log, parts);
  // Edits to config/ (file change or SIGHUP) apply without a restart; a bad edit is logged and ignored.
  const watcher = watchConfig(watched, { log });
  parts.push({ stop: async () => watcher.stop() });

  const temporalServer = await startDevServer(settings, env.REBOOK_DATA_DIR, process.env, codec.endpoint);
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
  listening = linkBaseOf(server.url);
  // Found by `rebook keys` and `rebook import` of this checkout (see dev-discovery.ts).
  const announced = announceDevServer(env.REBOOK_DATA_DIR, {
    url: server.url,
    pid: process.pid,
    apiKeyFrom: generated ? 'dev-secrets' : 'REBOOK_API_KEY',
  });
  parts.push({ stop: async () => announced.remove() });

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
      `  Temporal UI  ${temporalServer.uiUrl}  (frontend ${temporalServer.address}; ${codec.endpoint ? "payloads decoded by this server's /codec" : 'payloads shown encrypted: set PORT to a fixed port for the codec endpoint'})`,
      `  Outbox       GET ${server.url}/v1/clinics/demo-clinic/messages  (no SMS/email credentials: messages are held there)`,
      `  Data         ${env.REBOOK_DATA_DIR}/  (Ctrl-C stops; the next start resumes every sequence)`,
      '',
    ].join('\n')}\n`,
  );
  await worker.done;
}
