/**
 * One-shot commands start without the Temporal SDK: `rebook config validate` and `rebook preview`
 * run as a user runs them (node bin/rebook.mjs …) with a resolve hook recording every module the
 * process loads, and none is under @temporalio/. `rebook dev --help` (whose module needs the SDK)
 * shows the recording sees it when it is there.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  expect(modules.some((m) => m.endsWith('/src/config/load.ts'))).toBe(true);
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
  expect(modules.some((m) => m.endsWith('/src/preview/timeline.ts'))).toBe(true);
  expect(temporal(modules)).toEqual([]);
});

it('the recording sees the SDK where a command needs it (rebook dev --help)', async () => {
  const { code, modules } = await loadedBy('dev-help', ['dev', '--help']);
  expect(code).toBe(0);
  expect(temporal(modules)).not.toEqual([]);
});
