/**
 * docs/deployment.md's environment reference names every variable the shipped code reads: names
 * read off `process.env`, an injected env or secrets map (`env.X`, `secrets.X`), the env schema's
 * keys (src/env.ts), variable names held in constants (`*_ENV = 'X'`), and the variable names
 * temporal.yaml points at (`…Env: X`). Per-clinic secrets are named in clinic config, not code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name) && !e.name.endsWith('.test.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

/** Every environment variable name the code in these folders reads. */
function variablesRead(dirs: string[]): Set<string> {
  const names = new Set<string>();
  const add = (re: RegExp, text: string) => {
    for (const m of text.matchAll(re)) names.add(m[1]!);
  };
  for (const text of dirs.flatMap(sources)) {
    add(/\b(?:process\.env|env|secrets|source)\.([A-Z][A-Z0-9_]{2,})\b/g, text);
    add(/\b(?:process\.env|env|secrets)\[['"]([A-Z][A-Z0-9_]{2,})['"]\]/g, text);
    add(/_ENV = '([A-Z][A-Z0-9_]+)'/g, text);
  }
  // The env schema's keys (each one a variable, whether or not code reads it as env.X).
  const envTs = readFileSync(join(ROOT, 'src/env.ts'), 'utf8');
  add(/^ {2}([A-Z][A-Z0-9_]+): /gm, envTs.slice(envTs.indexOf('const envSchema')));
  add(/Env: ([A-Z][A-Z0-9_]+)/g, readFileSync(join(ROOT, 'temporal.yaml'), 'utf8'));
  return names;
}

it('every environment variable the code reads is in docs/deployment.md', () => {
  const read = variablesRead(['src', 'connectors', 'workflows']);
  // The finder itself is checked: these are read in different ways and must all be found.
  for (const known of ['DATABASE_URL', 'REBOOK_UNSUBSCRIBE_SECRET', 'TEMPORAL_TLS_CERT', 'REBOOK_CODEC_TOKEN', 'CI'])
    expect(read, known).toContain(known);
  const doc = readFileSync(join(ROOT, 'docs/deployment.md'), 'utf8');
  const reference = doc.slice(doc.indexOf('## Environment reference'), doc.indexOf('## Health checks'));
  const documented = new Set([...reference.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
  const missing = [...read].filter((n) => !documented.has(n)).sort();
  expect(missing, 'add these to the table in docs/deployment.md').toEqual([]);
});
