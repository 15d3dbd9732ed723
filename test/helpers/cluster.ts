/**
 * What production processes run against, for tests that start them as separate processes: a
 * Temporal dev server on free ports with the search attributes registered (as an operator does
 * once per namespace), and a real PostgreSQL (test/helpers/postgres.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server.js';
import { registerSearchAttributes } from '../../src/temporal/search-attributes.js';
import { loadTemporalSettings } from '../../src/temporal/settings.js';
import { temporalBinaries } from './binaries.js';
import { freePort } from './ports.js';
import { startTestPostgres, type TestPostgres } from './postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface TestCluster {
  pg: TestPostgres;
  temporal: DevServer;
  stop(): Promise<void>;
}

/** Starts both; `dir` holds the dev server's files (the caller removes it). */
export async function startTestCluster(dir: string): Promise<TestCluster> {
  const pg = await startTestPostgres();
  const [port, uiPort] = [await freePort(), await freePort()];
  const yaml = join(dir, 'temporal.yaml');
  writeFileSync(
    yaml,
    readFileSync(join(ROOT, 'temporal.yaml'), 'utf8')
      .replace(/^(\s+)port: \d+/m, `$1port: ${port}`)
      .replace(/^(\s+)uiPort: \d+/m, `$1uiPort: ${uiPort}`),
  );
  const settings = loadTemporalSettings(yaml, {});
  const temporal = await startDevServer(settings, dir, { ...process.env, TEMPORAL_CLI_PATH: temporalBinaries().cli });
  const connection = await Connection.connect({ address: temporal.address });
  await registerSearchAttributes(connection, settings.namespace, settings.searchAttributes);
  await connection.close();
  return {
    pg,
    temporal,
    async stop() {
      await temporal.stop();
      pg.stop();
    },
  };
}
