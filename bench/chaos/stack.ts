/**
 * The production shape the fault scenarios break: a Temporal dev server (SQLite file, so it can be
 * stopped and started again with its histories), a real PostgreSQL, `rebook server` and `rebook
 * worker` started through the bin as separate processes, and a fake SendGrid on localhost (the
 * clinic's `providers.sendgrid.apiBaseUrl`) that counts every provider call at its HTTP boundary
 * and can be told to fail (503), hang, or answer slowly.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { type Database, openDatabase } from '../../src/db/client.js';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server.js';
import { registerSearchAttributes } from '../../src/temporal/search-attributes.js';
import { loadTemporalSettings, type TemporalSettings } from '../../src/temporal/settings.js';
import { temporalBinaries } from '../../test/helpers/binaries.js';
import { freePort } from '../../test/helpers/ports.js';
import { startTestPostgres, type TestPostgres } from '../../test/helpers/postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLINIC = 'demo-clinic';
export const API_KEY = 'chaos-api-key-0123456789abcdef';
/** A second key of the clinic, for the flood: the events API's limit is per key, so the flood has its own. */
export const FLOOD_KEY = 'chaos-flood-key-0123456789abcdef';

/** What the fake provider does with the next requests. */
export type ProviderMode = 'ok' | 'fail' | 'hang';

export interface ProviderCall {
  messageId: string;
  to: string;
  /** The status it answered (0: never answered, the request hung or its caller went away). */
  status: number;
}

export interface FakeSendgrid {
  url: string;
  calls: ProviderCall[];
  mode: ProviderMode;
  /** Milliseconds before an `ok` answer (keeps sends in flight). */
  delayMs: number;
  close(): Promise<void>;
}

async function startFakeSendgrid(): Promise<FakeSendgrid> {
  const hung = new Set<() => void>();
  const fake: FakeSendgrid = {
    url: '',
    calls: [],
    mode: 'ok',
    delayMs: 0,
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v3/mail/send') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw) as {
        custom_args?: Record<string, string>;
        personalizations?: { to?: { email: string }[] }[];
      };
      const call: ProviderCall = {
        messageId: body.custom_args?.rebook_message_id ?? '',
        to: body.personalizations?.[0]?.to?.[0]?.email ?? '',
        status: 0,
      };
      fake.calls.push(call);
      if (fake.mode === 'hang') {
        hung.add(() => res.destroy());
        return;
      }
      if (fake.mode === 'fail') {
        call.status = 503;
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"message":"unavailable"}]}');
        return;
      }
      setTimeout(() => {
        // The caller went away (a killed worker): it never learned the answer, so the call stays 0.
        if (req.socket.destroyed) return;
        call.status = 202;
        res.writeHead(202, { 'x-message-id': `fake-${fake.calls.length}` }).end();
      }, fake.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  fake.close = async () => {
    for (const drop of hung) drop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return fake;
}

/**
 * An IANA zone where it is about 14:00 now, so the clinic's send window (08:00–20:00) is open for
 * six hours either side of the run whenever it starts (CI runs at any hour).
 */
export function afternoonZone(now = Date.now()): string {
  let offset = 14 - new Date(now).getUTCHours();
  if (offset > 12) offset -= 24;
  if (offset < -11) offset += 24;
  // Etc/GMT names invert the sign: Etc/GMT-3 is UTC+3.
  return offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

/** One answer as `rebook server` logged it (fastify's "request completed" line, at info level). */
export interface ServerAnswer {
  /** When the line reached the harness (ms since the epoch). */
  at: number;
  status: number;
  /** fastify's responseTime: from the request's arrival in the server to its answer, in ms. */
  ms: number;
}

export interface Proc {
  name: string;
  child: ChildProcess;
  output(): string;
  alive(): boolean;
}

export type WorkerTuning = TemporalSettings['worker'];

export interface ChaosStack {
  dir: string;
  zone: string;
  pg: TestPostgres;
  database: Database;
  fake: FakeSendgrid;
  temporal: DevServer;
  server: string;
  /** The server's answers, when started with `requestLog` (else empty). */
  serverAnswers: ServerAnswer[];
  processes: Proc[];
  /**
   * Starts `rebook worker`; with `tuning`, from a temporal.yaml whose worker section says so
   * (REBOOK_TEMPORAL_CONFIG), e.g. a small sticky cache.
   */
  startWorker(tuning?: Partial<WorkerTuning>): Proc;
  /** Resident memory of a process and anything it spawned (its process group), in MB. */
  rssMb(p: Proc): number;
  /** SIGKILL to the process group: the worker and anything it spawned, no shutdown hooks. */
  kill9(p: Proc): void;
  /** SIGTERM (the supervisor's stop), then waits for it to exit. */
  terminate(p: Proc): Promise<void>;
  /**
   * Waits until a worker polls the task queue (started, not just spawned); with `worker`, until
   * that one does. (Without it, a worker killed a moment ago still counts: the server lists a
   * poller for about a minute after its last poll.)
   */
  workerPolling(timeoutMs?: number, worker?: Proc): Promise<void>;
  stopTemporal(): Promise<void>;
  startTemporal(): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
}

export async function startChaosStack(
  opts: {
    forwardIntervalMs?: number;
    /** More environment for `rebook server` (rate limits, backpressure). */
    serverEnv?: NodeJS.ProcessEnv;
    /**
     * Where the Temporal dev server's SQLite file (and the stack's config) go. On a disk its
     * fsyncs cap how fast sequences start (about 5 planned a second here); tmpfs (/dev/shm)
     * takes that cap away for scenarios that need many sequences. A real cluster has neither.
     */
    tmpBase?: string;
    /**
     * The server logs each answer (LOG_LEVEL info) and the harness keeps status and time of each
     * (`serverAnswers`): answer times measured inside the server, where a flooding sender's own
     * queueing cannot inflate them.
     */
    requestLog?: boolean;
  } = {},
): Promise<ChaosStack> {
  const dir = mkdtempSync(join(opts.tmpBase ?? tmpdir(), 'rebook-chaos-'));
  // Its own cluster (not CI's TEST_DATABASE_URL): the postgres-restart scenario stops and starts it.
  const pg = await startTestPostgres({ own: true });
  const databaseUrl = pg.createDatabase('rebook_chaos');
  const fake = await startFakeSendgrid();
  const zone = afternoonZone();

  const [port, uiPort] = [await freePort(), await freePort()];
  const yaml = join(dir, 'temporal.yaml');
  writeFileSync(
    yaml,
    readFileSync(join(ROOT, 'temporal.yaml'), 'utf8')
      .replace(/^(\s+)port: \d+/m, `$1port: ${port}`)
      .replace(/^(\s+)uiPort: \d+/m, `$1uiPort: ${uiPort}`),
  );
  const settings: TemporalSettings = loadTemporalSettings(yaml, {});
  const cliEnv = { ...process.env, TEMPORAL_CLI_PATH: temporalBinaries().cli };
  let temporal = await startDevServer(settings, dir, cliEnv);
  const connection = await Connection.connect({ address: temporal.address });
  await registerSearchAttributes(connection, settings.namespace, settings.searchAttributes);
  await connection.close();

  // The demo clinic in an afternoon zone, its widest legal window, email through the fake SendGrid.
  cpSync(join(ROOT, 'config'), join(dir, 'config'), { recursive: true });
  const clinicFile = join(dir, 'config/clinics/demo-clinic.yaml');
  writeFileSync(
    clinicFile,
    `${readFileSync(clinicFile, 'utf8')
      .replace(/^timeZone: .*$/m, `timeZone: ${zone}`)
      .replace(
        /^sendWindow: .*$/m,
        'sendWindow: { days: [sun, mon, tue, wed, thu, fri, sat], start: "08:00", end: "20:00" }',
      )
      .replace(/^apiKeys:\n/m, 'apiKeys:\n  - { name: flood, env: CHAOS_FLOOD_KEY }\n')}
providers:
  sendgrid: { apiKeyEnv: CHAOS_SENDGRID_KEY, from: chaos@example.com, webhookPublicKeyEnv: CHAOS_SENDGRID_PUBLIC_KEY, apiBaseUrl: "${fake.url}" }
`,
  );
  // Migrated once here, so the processes start on one schema.
  const database = await openDatabase({ url: databaseUrl });

  const processes: Proc[] = [];
  const serverAnswers: ServerAnswer[] = [];
  const start = (name: string, args: string[], extra: NodeJS.ProcessEnv = {}): Proc => {
    const { DATABASE_URL: _ignored, ...inherited } = process.env;
    const child = spawn(process.execPath, [join(ROOT, 'bin/rebook.mjs'), ...args], {
      cwd: ROOT,
      // Its own process group, so kill -9 reaches whatever the bin started.
      detached: true,
      env: {
        ...inherited,
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: temporal.address,
        REBOOK_API_KEY: API_KEY,
        CHAOS_FLOOD_KEY: FLOOD_KEY,
        REBOOK_UNSUBSCRIBE_SECRET: 'chaos-unsubscribe-secret-0123456789',
        CHAOS_SENDGRID_KEY: 'SG.chaos-fake-key',
        CHAOS_SENDGRID_PUBLIC_KEY: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        REBOOK_CONFIG_DIR: join(dir, 'config'),
        REBOOK_FORWARD_INTERVAL_MS: String(opts.forwardIntervalMs ?? 500),
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let partial = '';
    child.stdout!.on('data', (d) => {
      out = (out + d).slice(-20_000);
      if (!opts.requestLog || name !== 'server') return;
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"request completed"')) continue;
        try {
          const l = JSON.parse(line) as { res?: { statusCode?: number }; responseTime?: number };
          serverAnswers.push({ at: Date.now(), status: l.res?.statusCode ?? 0, ms: l.responseTime ?? 0 });
        } catch {
          // not a JSON line
        }
      }
    });
    child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
    const p: Proc = {
      name,
      child,
      output: () => out,
      alive: () => child.exitCode === null && child.signalCode === null,
    };
    processes.push(p);
    return p;
  };
  const serverPort = await freePort();
  const server = `http://127.0.0.1:${serverPort}`;
  start('server', ['server'], {
    PORT: String(serverPort),
    ...(opts.requestLog ? { LOG_LEVEL: 'info' } : {}),
    ...opts.serverEnv,
  });
  let workers = 0;
  const startWorker = (tuning?: Partial<WorkerTuning>) => {
    const n = ++workers;
    if (!tuning) return start(`worker ${n}`, ['worker']);
    const file = join(dir, `temporal-worker-${n}.yaml`);
    let text = readFileSync(yaml, 'utf8');
    for (const [key, value] of Object.entries(tuning))
      text = text.replace(new RegExp(`^(\\s+${key}): .*$`, 'm'), `$1: ${value}`);
    writeFileSync(file, text);
    return start(`worker ${n}`, ['worker'], { REBOOK_TEMPORAL_CONFIG: file });
  };
  startWorker();
  const logs = () => processes.map((p) => `--- ${p.name}\n${p.output().slice(-3000)}`).join('\n');
  const deadline = Date.now() + 180_000;
  while (!(await fetch(`${server}/readyz`).catch(() => undefined))?.ok) {
    if (Date.now() > deadline) throw new Error(`the server did not become ready\n${logs()}`);
    await new Promise((r) => setTimeout(r, 250));
  }

  // A worker still starting (bundling, describing the namespace) is not one a fault can test.
  const workerPolling = async (timeoutMs = 180_000, worker?: Proc) => {
    // The SDK's default worker identity is `pid@host`, and the bin runs the worker in its own process.
    const identity = worker ? `${worker.child.pid}@` : '';
    const until = Date.now() + timeoutMs;
    for (;;) {
      const conn = await Connection.connect({ address: temporal.address }).catch(() => undefined);
      const pollers = await conn?.workflowService
        .describeTaskQueue({
          namespace: settings.namespace,
          taskQueue: { name: settings.taskQueue },
          taskQueueType: 1, // workflow
        })
        .then((d) => (d.pollers ?? []).filter((p) => p.identity?.startsWith(identity)).length)
        .catch(() => 0);
      await conn?.close();
      if (pollers) return;
      if (Date.now() > until) throw new Error(`no worker polled the task queue\n${logs()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  await workerPolling();

  const groupSignal = (p: Proc, signal: NodeJS.Signals) => {
    try {
      process.kill(-p.child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const exited = (p: Proc, ms: number) =>
    new Promise<void>((resolve) => {
      if (!p.alive()) return resolve();
      const t = setTimeout(() => {
        groupSignal(p, 'SIGKILL');
        resolve();
      }, ms);
      p.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });

  return {
    dir,
    zone,
    pg,
    database,
    fake,
    get temporal() {
      return temporal;
    },
    server,
    serverAnswers,
    processes,
    startWorker,
    kill9: (p) => groupSignal(p, 'SIGKILL'),
    rssMb(p) {
      if (!p.alive()) return 0;
      const table = execFileSync('ps', ['-eo', 'pgid=,rss='], { encoding: 'utf8' });
      let kb = 0;
      for (const line of table.split('\n')) {
        const [pgid, rss] = line.trim().split(/\s+/).map(Number);
        if (pgid === p.child.pid) kb += rss ?? 0;
      }
      return kb / 1024;
    },
    async terminate(p) {
      groupSignal(p, 'SIGTERM');
      await exited(p, 20_000);
    },
    workerPolling,
    async stopTemporal() {
      await temporal.stop();
    },
    async startTemporal() {
      temporal = await startDevServer(settings, dir, cliEnv);
    },
    logs,
    async stop() {
      for (const p of processes) if (p.alive()) groupSignal(p, 'SIGTERM');
      await Promise.all(processes.map((p) => exited(p, 20_000)));
      await database.close();
      await fake.close();
      await temporal.stop().catch(() => undefined);
      pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
