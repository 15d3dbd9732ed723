/**
 * The benches' RESULTS-*.md files are committed, and `npm run lint` (biome) checks markdown
 * formatting: a table written with unpadded columns would fail CI until someone formats it by
 * hand. So every report is written, then formatted by the repository's own biome.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export function writeMarkdown(path: string | URL, md: string): void {
  writeFileSync(path, md);
  const file = path instanceof URL ? fileURLToPath(path) : path;
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', file], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  // The report is written either way; only its padding depends on this.
  if (r.status !== 0) process.stderr.write(`could not format ${file} (run \`npx biome format --write ${file}\`)\n`);
}
