/**
 * The sample files in config/samples/ (docs/csv-format.md): `rebook import` and `rebook simulate`
 * read the same file, and report the same broken rows at the same lines.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImport } from '../../connectors/csv/import.js';
import type { SimulationFile } from '../../src/cli/simulate.js';
import { clinicOrThrow, loadConfig } from '../../src/config/load.js';
import { parseHistoryCsv } from '../../src/simulator/history-csv.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SAMPLE = 'config/samples/treatments.csv';
const WITH_ERRORS = 'config/samples/treatments-with-errors.csv';
const config = loadConfig(join(ROOT, 'config'));
const clinic = clinicOrThrow(config, 'demo-clinic');
const text = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const plan = (file: string) =>
  planImport({ text: text(file), format: 'generic', clinic, config, now: Date.parse('2026-10-15T16:00:00Z') });

describe('config/samples/treatments.csv', () => {
  it('imports: every row reads; cancelled and no-show rows and unmapped services are skipped as such', () => {
    const { rows } = plan(SAMPLE);
    expect(rows).toHaveLength(40);
    expect(rows.filter((r) => r.reason?.startsWith('invalid_row'))).toEqual([]);
    expect(rows.filter((r) => r.reason === 'not_completed').map((r) => r.line)).toEqual([11, 29, 35]);
    expect(rows.filter((r) => r.reason === 'unclassified_service').map((r) => r.service)).toEqual([
      'New patient consultation',
      'Brow lamination',
      'New patient consultation',
      'Vitamin B12 shot',
      'Brow lamination',
    ]);
    expect(new Set(rows.map((r) => r.treatmentType).filter(Boolean)).size).toBeGreaterThanOrEqual(3);
  });

  it('simulates: the same rows, the same three skipped', () => {
    const history = parseHistoryCsv(text(SAMPLE), clinic.timeZone);
    expect(history.header).toBe(true);
    expect(history.ignoredColumns).toEqual([]);
    expect(history.rows).toHaveLength(37);
    expect(history.problems.map((p) => p.line)).toEqual([11, 29, 35]);
    expect(history.problems[0]!.message).toBe('status says the treatment did not take place');
  });
});

describe('config/samples/treatments-with-errors.csv', () => {
  const imported = new Map(plan(WITH_ERRORS).rows.map((r) => [r.line, r]));
  const simulated = new Map(
    parseHistoryCsv(text(WITH_ERRORS), clinic.timeZone).problems.map((p) => [p.line, p.message]),
  );

  it.each([
    // line, what simulate says, what import says (the canonical event schema checks addresses)
    [3, 'completed_at is not a date (expected ISO 8601, YYYY-MM-DD or M/D/YYYY)', undefined],
    [4, 'price is not an amount in dollars', undefined],
    [5, 'service_name is empty', undefined],
    [6, 'sms_consent: expected y/n', undefined],
    [7, 'email: expected y/n or an address', 'invalid_row: client.email'],
    [9, 'expected 12 fields, found 8', undefined],
    [12, 'a quoted field opens on this line and is never closed', undefined],
  ])('line %d: %s', (line, message, importReason) => {
    expect(simulated.get(line)).toBe(message);
    expect(imported.get(line)?.reason).toBe(importReason ?? `invalid_row: ${message}`);
  });

  it('reads the rows around them, and nothing else is a problem', () => {
    expect([...imported.values()].filter((r) => r.outcome === 'enroll').map((r) => r.line)).toEqual([2, 11]);
    expect(imported.get(10)?.reason).toBe('not_completed');
    expect([...simulated.keys()]).toEqual([3, 4, 5, 6, 7, 9, 10, 12]);
  });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function rebook(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, REBOOK_CONFIG_DIR: 'config' } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the commands on the sample files', () => {
  let dir: string;
  let importRun: Run, simulateRun: Run, importErrors: Run, simulateErrors: Run;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rebook-samples-'));
    [importRun, simulateRun, importErrors, simulateErrors] = await Promise.all([
      rebook(['import', '--clinic', 'demo-clinic', '--format', 'generic', '--dry-run', SAMPLE]),
      rebook(['simulate', '--clinic', 'demo-clinic', '--history', SAMPLE, '--out', join(dir, 'ok')]),
      rebook(['import', '--clinic', 'demo-clinic', '--dry-run', WITH_ERRORS]),
      rebook(['simulate', '--clinic', 'demo-clinic', '--history', WITH_ERRORS, '--out', join(dir, 'errors')]),
    ]);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('rebook import --dry-run reads all 40 rows and shows no client data', () => {
    expect(importRun.code).toBe(0);
    expect(importRun.stdout).toMatch(/^dry run: 40 rows, \d+ would be enrolled, \d+ skipped \(nothing was sent\)$/m);
    expect(importRun.stdout).not.toMatch(/invalid_row|Lindqvist|example\.com|\+1212/);
  });

  it('rebook simulate reads the same 40 rows', () => {
    expect(simulateRun.code).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'ok', 'simulation.json'), 'utf8')) as SimulationFile;
    expect(json.history).toMatchObject({ rows: 40, malformedRows: 3, header: true, ignoredColumns: [] });
  });

  it('both name the broken rows of the file with errors by line and column', () => {
    expect(importErrors.code).toBe(0);
    expect(importErrors.stdout).toContain(
      'line 3\tskip\tinvalid_row: completed_at is not a date (expected ISO 8601, YYYY-MM-DD or M/D/YYYY)\tDysport',
    );
    expect(simulateErrors.code).toBe(0);
    expect(simulateErrors.stderr).toContain(
      '  line 3: completed_at is not a date (expected ISO 8601, YYYY-MM-DD or M/D/YYYY)',
    );
    expect(simulateErrors.stderr).toContain('  line 12: a quoted field opens on this line and is never closed');
  });
});
