/**
 * `rebook import` in process: the Mindbody client-key warning reaches stderr in a dry run too,
 * with no client data on stdout; an unknown option names the command's help.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCommand } from '../../src/cli/import.js';
import { connectorConfigDir } from '../helpers/connector-stack.js';
import { sink } from '../helpers/sink.js';

let configDir: string;
let dir: string;

beforeAll(() => {
  configDir = connectorConfigDir();
  dir = mkdtempSync(join(tmpdir(), 'rebook-import-'));
});
afterAll(() => {
  rmSync(configDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('rebook import', () => {
  it('rebook import prints the warning on stderr, in a dry run too, with no client data on stdout', async () => {
    const file = join(dir, 'mindbody.csv');
    writeFileSync(
      file,
      [
        'Appointment ID,Client ID,First Name,Last Name,Email,Appointment Type,Date,Start Time,Status',
        'A-4,1207,Imogen,Faulkner,imogen.f@example.com,Botox 20u,6/1/2026,10:00 AM,Completed',
      ].join('\n'),
    );
    const out = sink();
    const err = sink();
    const code = await importCommand(
      ['--clinic', 'mb-clinic', '--format', 'mindbody', '--dry-run', file],
      { configDir, port: 0, secrets: {} },
      out.stream,
      err.stream,
    );
    expect(code).toBe(0);
    expect(err.text()).toMatch(/warning: this mindbody export has no unique client id column/);
    expect(out.text()).toMatch(/dry run: 1 rows/);
    expect(out.text()).not.toMatch(/Imogen|Faulkner|imogen\.f/);
  });

  it('refuses an unknown option, naming the help, before reading anything', async () => {
    const out = sink();
    const err = sink();
    const code = await importCommand(
      ['--clinic', 'mb-clinic', '--frmat', 'mindbody', join(dir, 'missing.csv')],
      { configDir, port: 0, secrets: {} },
      out.stream,
      err.stream,
    );
    expect(code).toBe(2);
    expect(err.text()).toBe("rebook import: unknown option '--frmat'. See 'rebook import --help'.\n");
    expect(out.text()).toBe('');
  });
});
