/**
 * The production shape from the build: `npm run build` compiles to dist/ and bundles the workflow
 * code ahead of time; `rebook server` and `rebook worker` then run from dist/ with plain node (no
 * tsx, no TypeScript at run time) as two processes against one Temporal server and one PostgreSQL.
 * A treatment posted to the server starts a sequence the worker runs from the prebuilt bundle, and
 * both processes stop with exit code 0 on SIGTERM.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { until } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';
import type { TestPostgres } from '../helpers/postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const API_KEY = 'build-test-api-key-0123456789';
let dir: string;
let pg: TestPostgres;
let temporal: DevServer;
let cluster: TestCluster;
const procs: { name: string; child: ChildProcess; out: string; exited: Promise<number | null> }[] = [];

function startFromDist(name: string, args: string[], env: NodeJS.ProcessEnv) {
  // Plain node on the compiled entry point: no --import tsx, nothing that could compile TypeScript.
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = { name, child, out: '', exited: new Promise<number | null>((r) => child.once('exit', (code) => r(code))) };
  child.stdout!.on('data', (d) => (p.out += d));
  child.stderr!.on('data', (d) => (p.out += d));
  procs.push(p);
  return p;
}

beforeAll(async () => {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: ROOT, stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'rebook-build-'));
  cluster = await startTestCluster(dir);
  ({ pg, temporal } = cluster);
}, 240_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('builds dist/ with a prebuilt workflow bundle, and runs server and worker from it with plain node', async () => {
  expect(existsSync(join(ROOT, 'dist/workflow-bundle.js'))).toBe(true);
  expect(existsSync(join(ROOT, 'dist/src/db/migrations'))).toBe(true);
  const httpPort = await freePort();
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const env = {
    ...inherited,
    DATABASE_URL: pg.createDatabase('rebook_build_test'),
    TEMPORAL_ADDRESS: temporal.address,
    REBOOK_API_KEY: API_KEY,
    REBOOK_UNSUBSCRIBE_SECRET: 'build-test-unsubscribe-secret-0123456789',
    PORT: String(httpPort),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    NODE_OPTIONS: '',
  };
  const worker = startFromDist('worker', ['worker'], env);
  const server = startFromDist('server', ['server'], env);
  const base = `http://127.0.0.1:${httpPort}`;
  await until(
    'the server from dist/ to be ready',
    async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok,
    60_000,
  );

  const completedAt = new Date(Date.now() - 2 * 86_400_000).toISOString();
  const res = await fetch(`${base}/v1/clinics/demo-clinic/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'treatment.completed',
      client: { id: 'build-1', firstName: 'Bo', email: 'bo@example.com', consent: { sms: false, email: true } },
      appointmentId: 'build-a-1',
      service: { name: 'Botox 20u' },
      completedAt,
    }),
  });
  expect(res.status, await res.clone().text()).toBe(202);
  const [result] = (await res.json()).results;
  expect(result).toMatchObject({ enrolled: true });
  // The live status is a query the worker answers: it runs the workflow from the prebuilt bundle.
  const status = await until(
    'the worker from dist/ to answer the live status',
    async () => {
      const r = await fetch(`${base}/v1/clinics/demo-clinic/sequences/${encodeURIComponent(result.sequenceId)}`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      const body = await r.json();
      return body.liveState === 'ok' ? body : undefined;
    },
    60_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nworker: ${worker.out.slice(-3000)}\nserver: ${server.out.slice(-3000)}`);
  });
  expect(status.live).toMatchObject({ outcome: 'running' });
  // The console from dist/: its page and its stylesheet (a file the build copies, not a module).
  const signIn = await fetch(`${base}/app/login`);
  expect(signIn.status).toBe(200);
  const css = (await signIn.text()).match(/href="([^"]+\.css[^"]*)"/)?.[1];
  expect(css, 'the sign-in page links its stylesheet').toBeDefined();
  const sheet = await fetch(new URL(css!, base));
  expect(sheet.status).toBe(200);
  expect(await sheet.text()).toContain('--');

  for (const p of [server, worker]) p.child.kill('SIGTERM');
  expect(await server.exited, server.out).toBe(0);
  expect(await worker.exited, worker.out).toBe(0);
}, 240_000);
