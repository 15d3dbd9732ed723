/**
 * One-shot commands start without the Temporal SDK: `rebook config validate` and `rebook preview`
 * run as a user runs them (node bin/rebook.mjs …) with a resolve hook recording every module the
 * process loads, and none is under @temporalio/. `rebook dev --help` (whose module needs the SDK)
 * shows the recording sees it when it is there. bin/rebook.mjs runs a cached bundle of the
 * sources, rebuilt when one changes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-fast-start-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function loadedBy(name: string, args: string[]): Promise<{ code: number; modules: string[] }> {
  const record = join(dir, `${name}.txt`);
  const { DATABASE_URL: _none, ...env } = process.env;
  const code = await new Promise<number>((resolve) => {
    execFile(
      process.execPath,
      ['--import', './test/helpers/record-resolutions.mjs', 'bin/rebook.mjs', ...args],
      {
        cwd: ROOT,
        env: { ...env, REBOOK_RECORD_RESOLUTIONS: record, REBOOK_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent' },
      },
      (err) => resolve(err ? ((err as { code?: number }).code ?? 1) : 0),
    );
  });
  return { code, modules: readFileSync(record, 'utf8').split('\n').filter(Boolean) };
}

const temporal = (modules: string[]) => modules.filter((m) => m.includes('/@temporalio/'));

it('rebook config validate loads no @temporalio/ module', async () => {
  const { code, modules } = await loadedBy('validate', ['config', 'validate']);
  expect(code).toBe(0);
  expect(modules.some((m) => m.includes('/node_modules/.cache/rebook-cli/'))).toBe(true);
  expect(temporal(modules)).toEqual([]);
});

it('rebook preview loads no @temporalio/ module', async () => {
  const { code, modules } = await loadedBy('preview', [
    'preview',
    '--clinic',
    'demo-clinic',
    '--service',
    'Botox 20u',
    '--date',
    '2026-09-01',
  ]);
  expect(code).toBe(0);
  expect(modules.some((m) => m.includes('/node_modules/.cache/rebook-cli/'))).toBe(true);
  expect(temporal(modules)).toEqual([]);
});

it('the recording sees the SDK where a command needs it (rebook dev --help)', async () => {
  const { code, modules } = await loadedBy('dev-help', ['dev', '--help']);
  expect(code).toBe(0);
  expect(temporal(modules)).not.toEqual([]);
});

it('a changed source is bundled anew before the next run (the cache is keyed by the sources)', async () => {
  const cache = join(ROOT, 'node_modules/.cache/rebook-cli');
  const bundles = () => readdirSync(cache).filter((d) => !d.endsWith('.tmp'));
  expect((await loadedBy('before-touch', ['config', 'validate'])).code).toBe(0);
  const before = bundles();
  const source = join(ROOT, 'src/config/load.ts');
  const { atime, mtime } = statSync(source);
  try {
    utimesSync(source, atime, new Date(mtime.getTime() + 1000));
    const { code, modules } = await loadedBy('after-touch', ['config', 'validate']);
    expect(code).toBe(0);
    const fresh = bundles().filter((d) => !before.includes(d));
    expect(fresh).toHaveLength(1);
    expect(modules.some((m) => m.includes(`/rebook-cli/${fresh[0]}/`))).toBe(true);
  } finally {
    utimesSync(source, atime, mtime);
  }
});
