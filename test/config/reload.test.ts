/**
 * Reload without restart: a file change (debounced) or SIGHUP loads the directory again; a bad
 * edit keeps the last good configuration and logs where the problems are, never their values.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type ConfigStore, type ConfigWatcher, createConfigStore, watchConfig } from '../../src/config/store.js';
import { createLogger } from '../../src/log.js';

const CATALOG = readFileSync('config/catalog.yaml', 'utf8');
const clinic = (sendTime: string) => `id: x
name: Clinic X
timeZone: America/Chicago
bookingUrl: https://book.example.com/x
address: 1 Main Street
sendTime: "${sendTime}"
`;

let dir: string;
let store: ConfigStore;
let watcher: ConfigWatcher | undefined;
let lines: string[];

async function until(what: string, fn: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-reload-'));
  mkdirSync(join(dir, 'clinics'));
  writeFileSync(join(dir, 'catalog.yaml'), CATALOG);
  writeFileSync(join(dir, 'clinics', 'x.yaml'), clinic('10:00'));
  store = createConfigStore(dir);
  lines = [];
});

afterEach(() => {
  watcher?.stop();
  watcher = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const log = () => createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
const sendTime = () => store.current().clinics.get('x')!.sendTime;

it('reloads on a file change, once per burst of writes', async () => {
  watcher = watchConfig(store, { log: log(), debounceMs: 100, signal: false });
  writeFileSync(join(dir, 'clinics', 'x.yaml'), clinic('09:00'));
  writeFileSync(join(dir, 'clinics', 'x.yaml'), clinic('09:15'));
  await until('the new send time', () => sendTime() === '09:15');
  await new Promise((r) => setTimeout(r, 300));
  expect(lines.filter((l) => l.includes('configuration reloaded'))).toHaveLength(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({ reason: 'file_change', clinics: 1 });

  // A new clinic file (and a new agency directory) is picked up too.
  mkdirSync(join(dir, 'agencies'));
  writeFileSync(join(dir, 'agencies', 'glow.yaml'), 'name: Glow\ndefaults: { sendTime: "11:00" }\n');
  writeFileSync(
    join(dir, 'clinics', 'y.yaml'),
    clinic('09:00').replace('id: x', 'id: y').replace('sendTime: "09:00"', 'agency: glow'),
  );
  await until('clinic y', () => store.current().clinics.has('y'));
  expect(store.current().clinics.get('y')!.sendTime).toBe('11:00');
});

it('keeps the last good configuration when an edit is invalid, and says where without quoting values', async () => {
  watcher = watchConfig(store, { log: log(), debounceMs: 50, signal: false });
  const secret = 'sk_live_do_not_log_me';
  writeFileSync(join(dir, 'clinics', 'x.yaml'), `${clinic('9am')}apiKeys:\n  - { name: default, env: "${secret}" }\n`);
  await until('the rejection', () => lines.some((l) => l.includes('reload rejected')));
  expect(sendTime()).toBe('10:00');
  const logged = JSON.parse(lines.find((l) => l.includes('reload rejected'))!);
  expect(logged.problems.map((p: { path: string; line: number }) => `${p.line} ${p.path}`).sort()).toEqual([
    '6 sendTime',
    '8 apiKeys.0.env',
  ]);
  expect(lines.join('\n')).not.toContain(secret);
  expect(lines.join('\n')).not.toContain('9am');

  // Fixing the file brings the new configuration in.
  writeFileSync(join(dir, 'clinics', 'x.yaml'), clinic('08:30'));
  await until('the fixed send time', () => sendTime() === '08:30');
});

it('reloads on SIGHUP', async () => {
  watcher = watchConfig(store, { log: log(), debounceMs: 60_000 });
  writeFileSync(join(dir, 'clinics', 'x.yaml'), clinic('12:00'));
  process.kill(process.pid, 'SIGHUP');
  await until('the SIGHUP reload', () => lines.some((l) => l.includes('"reason":"signal"')));
  expect(sendTime()).toBe('12:00');
  expect(watcher.reload('test')).toBe(true);
  writeFileSync(join(dir, 'catalog.yaml'), 'treatmentTypes: [');
  expect(watcher.reload('test')).toBe(false);
  expect(sendTime()).toBe('12:00');
});
