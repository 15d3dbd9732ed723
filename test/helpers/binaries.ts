/** Paths of the Temporal binaries resolved by scripts/setup.sh (which `npm test` runs first). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function temporalBinaries(root = process.cwd()): { cli: string; testServer: string } {
  const file = join(root, '.data', 'temporal-bin.env');
  const vars: Record<string, string> = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) vars[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  const cli = process.env.TEMPORAL_CLI_PATH ?? vars.TEMPORAL_CLI_PATH;
  const testServer = process.env.TEMPORAL_TEST_SERVER_PATH ?? vars.TEMPORAL_TEST_SERVER_PATH;
  if (!cli || !testServer) throw new Error('Temporal binaries not found: run `npm run setup` (npm test does it first)');
  return { cli, testServer };
}
