/**
 * The embedded dev server's start: a port of ours already taken fails at once, with the server's
 * own reason in the message (the data directory and its temporal.log may be gone by the time
 * someone reads the error, as in a test's temp directory).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { loadTemporalSettings } from '../../src/temporal/settings.js';
import { temporalBinaries } from '../helpers/binaries.js';
import { freePort } from '../helpers/ports.js';

let dataDir: string;
let squatter: Server;
let taken: number;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rebook-dev-server-'));
  squatter = createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  taken = (squatter.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => squatter.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

it('the UI port in use: the start fails once, naming the port and why', async () => {
  const base = loadTemporalSettings('temporal.yaml');
  const settings = { ...base, devServer: { ...base.devServer, port: await freePort(), uiPort: taken } };
  const err = await startDevServer(settings, dataDir, { TEMPORAL_CLI_PATH: temporalBinaries().cli }).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err?.message).toMatch(
    new RegExp(
      `^temporal dev server exited with code \\d+ .*: Error: can't set UI port ${taken}: .*address already in use$`,
    ),
  );
  // Not retried: a port of ours stays taken, so one start was tried.
  expect(readFileSync(join(dataDir, 'temporal.log'), 'utf8').match(/can't set UI port/g)).toHaveLength(1);
});
