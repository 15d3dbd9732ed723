/**
 * Operations on the real process: `rebook dev` (embedded Temporal dev server, PGlite on disk,
 * worker and HTTP server in one process) answers /healthz, /readyz (database and Temporal) and
 * /metrics, and a SIGTERM stops it cleanly — server, worker, database, dev server — with exit
 * code 0 within the grace time. Then /readyz answers 503 when a dependency is down.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { openDatabase } from '../../src/db/client.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { buildApp } from '../../src/server/app.js';
import { temporalBinaries } from '../helpers/binaries.js';
import { freePort } from '../helpers/ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** What an orchestrator would give the process between SIGTERM and SIGKILL is usually 30 s; we want far less. */
const GRACE_MS = 15_000;
let dataDir: string;
let child: ChildProcess;
let stdout = '';
let stderr = '';
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rebook-shutdown-'));
  const [port, uiPort] = [await freePort(), await freePort()];
  const temporalYaml = join(dataDir, 'temporal.yaml');
  writeFileSync(
    temporalYaml,
    readFileSync(join(ROOT, 'temporal.yaml'), 'utf8')
      .replace(/^(\s+)port: \d+/m, `$1port: ${port}`)
      .replace(/^(\s+)uiPort: \d+/m, `$1uiPort: ${uiPort}`),
  );
  const { DATABASE_URL: _unused, ...env } = process.env;
  child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dev'], {
    cwd: ROOT,
    env: {
      ...env,
      REBOOK_DATA_DIR: dataDir,
      REBOOK_TEMPORAL_CONFIG: temporalYaml,
      TEMPORAL_CLI_PATH: temporalBinaries().cli,
      PORT: '0',
      LOG_LEVEL: 'warn',
      REBOOK_API_KEY: 'shutdown-test-api-key-0123456789',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 90_000;
  while (!/Rebook is running/.test(stdout)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`rebook dev did not start:\n${stdout}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

it('answers the probes and /metrics, then exits 0 on SIGTERM within the grace time', async () => {
  const url = /API\s+(http:\/\/\S+?)\/v1\//.exec(stdout)![1]!;
  expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
  const ready = await fetch(`${url}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', temporal: 'ok' } });
  const metrics = await fetch(`${url}/metrics`);
  expect(metrics.status).toBe(200);
  const text = await metrics.text();
  expect(text).toContain('# TYPE rebook_inbox_pending gauge');
  expect(text).toMatch(/^rebook_inbox_oldest_pending_age_seconds 0$/m);

  const started = Date.now();
  child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), GRACE_MS));
  const result = await Promise.race([exited, timeout]);
  expect(result, `stderr:\n${stderr}`).toEqual({ code: 0, signal: null });
  expect(Date.now() - started).toBeLessThan(GRACE_MS);
  // The server stopped listening.
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
}, 60_000);

it('/readyz answers 503 naming the dependency that is down', async () => {
  const database = await openDatabase({ pgliteMemory: true });
  const config = createConfigStore('config');
  const log = createLogger({ level: 'silent' });
  const app = await buildApp({
    db: database.db,
    config,
    ingest: createIngest({ db: database.db, config, temporal: new Client(), taskQueue: 'unused', log }),
    log,
    secrets: {},
    readiness: { database: () => database.ping(), temporal: () => Promise.reject(new Error('unreachable')) },
  });
  try {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', temporal: 'unavailable' } });
  } finally {
    await app.close();
    await database.close();
  }
});
