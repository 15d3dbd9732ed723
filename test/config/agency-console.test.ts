/**
 * An agency's `console` settings (agencies/<agency>.yaml): `requireTotp` defaults to false, is
 * read when set, and a wrong value or an unknown key is reported at its path in the agency file.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function configWith(agencies: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rebook-agency-console-'));
  made.push(dir);
  cpSync('config/catalog.yaml', join(dir, 'catalog.yaml'));
  mkdirSync(join(dir, 'clinics'));
  mkdirSync(join(dir, 'agencies'));
  for (const [id, text] of Object.entries(agencies)) writeFileSync(join(dir, 'agencies', `${id}.yaml`), text);
  return dir;
}

it('reads requireTotp, false unless the agency says so', () => {
  const cfg = loadConfig(
    configWith({
      plain: 'name: Plain\n',
      empty: 'name: Empty\nconsole: {}\n',
      strict: 'name: Strict\nconsole:\n  requireTotp: true\n',
    }),
  );
  expect(cfg.agencies.get('plain')!.console).toEqual({ requireTotp: false });
  expect(cfg.agencies.get('empty')!.console).toEqual({ requireTotp: false });
  expect(cfg.agencies.get('strict')!.console).toEqual({ requireTotp: true });
});

it('reports a value that is not true or false, and an unknown key, where they are written', () => {
  try {
    loadConfig(configWith({ strict: 'name: Strict\nconsole:\n  requireTotp: "yes"\n  requireSso: true\n' }));
    expect.unreachable('the agency file is invalid');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const found = (err as ConfigError).problems.map((p) => `${p.line} ${p.path}`).sort();
    expect(found).toEqual(['3 console.requireTotp', '4 console.requireSso']);
  }
});
