/**
 * `rebook server` and `rebook worker` started through the package's bin (as `npx rebook …`,
 * systemd or a container runtime start them) receive SIGTERM and SIGINT themselves and shut down
 * gracefully: exit code 0, the HTTP port released, and no process of theirs left running. A
 * wrapper that ran the CLI in a child process would die alone and leave the real one running.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { until } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';
import type { TestPostgres } from '../helpers/postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GRACE_MS = 20_000;
let dir: string;
let pg: TestPostgres;
let temporal: DevServer;
let cluster: TestCluster;
let env: NodeJS.ProcessEnv;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-bin-signals-'));
  cluster = await startTestCluster(dir);
  ({ pg, temporal } = cluster);
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  env = {
    ...inherited,
    DATABASE_URL: pg.createDatabase('rebook_bin_signals'),
    TEMPORAL_ADDRESS: temporal.address,
    REBOOK_API_KEY: 'bin-signals-api-key-0123456789',
    REBOOK_UNSUBSCRIBE_SECRET: 'bin-signals-unsubscribe-secret-0123456789',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
}, 240_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Spawns `node bin/rebook.mjs …` as a process manager would: the bin is the process it signals. */
function startThroughBin(args: string[], extra: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/rebook.mjs'), ...args], {
    cwd: ROOT,
    env: { ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => out };
}

/** The pids whose parent is `pid` (what the bin would have left behind, had it spawned the CLI). */
function childPids(pid: number): number[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).trim();
    return out ? out.split(/\s+/).map(Number) : [];
  } catch (err) {
    // ps exits 1 when no process matched.
    if ((err as { status?: number }).status === 1) return [];
    throw err;
  }
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

const stops = (p: ReturnType<typeof startThroughBin>, signal: NodeJS.Signals) =>
  Promise.race([
    p.exited,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`no exit ${GRACE_MS} ms after ${signal}:\n${p.output()}`)), GRACE_MS),
    ),
  ]);

it.each([['SIGTERM'], ['SIGINT']] as const)(
  'rebook server through the bin stops on %s: exit 0, port released, nothing left running',
  async (signal) => {
    const port = await freePort();
    const server = startThroughBin(['server'], { PORT: String(port) });
    await until(
      'the server started through the bin to be ready',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok,
      90_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${server.output()}`);
    });
    // The bin runs the CLI in its own process: no child of it to orphan.
    expect(childPids(server.child.pid!)).toEqual([]);
    server.child.kill(signal);
    expect(await stops(server, signal), server.output()).toEqual({ code: 0, signal: null });
    expect(await portFree(port)).toBe(true);
  },
  150_000,
);

it('rebook worker through the bin stops on SIGTERM with exit 0', async () => {
  const worker = startThroughBin(['worker'], { REBOOK_WORKER_METRICS_PORT: '0' });
  // Running: the worker's task queue has a poller once it is up.
  const connection = await Connection.connect({ address: temporal.address });
  try {
    await until(
      'the worker started through the bin to poll its task queue',
      async () => {
        const { pollers } = await connection.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: 'rebook-sequences' },
          taskQueueType: 1,
        });
        return (pollers?.length ?? 0) > 0;
      },
      90_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${worker.output()}`);
    });
  } finally {
    await connection.close();
  }
  expect(childPids(worker.child.pid!)).toEqual([]);
  worker.child.kill('SIGTERM');
  expect(await stops(worker, 'SIGTERM'), worker.output()).toEqual({ code: 0, signal: null });
}, 150_000);
