/**
 * The real command: `npx tsx src/cli/main.ts simulate …` in a child process, on a synthetic
 * history with two broken rows, against the product's configuration (demo clinic).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulationFile } from '../../src/cli/simulate.js';
import { generateHistory, historyToCsv } from '../../src/simulator/synthetic.js';
import { allElements, parseXml } from './xml.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function rebook(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

let a: Run, b: Run, c: Run, unknownClinic: Run, badRates: Run, badLifecycle: Run;
const read = (p: string) => readFileSync(p, 'utf8');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-simulate-'));
  const rows = generateHistory({
    clients: 150,
    treatments: 900,
    start: '2026-01-05',
    seed: 9,
    timeZone: 'America/New_York',
  });
  // Lines 902 and 903 (after the header and 900 rows) cannot be read.
  writeFileSync(join(dir, 'history.csv'), `${historyToCsv(rows)}c-x,a-x,Botox,not a date,,y,,,\nc-y,a-y,Botox\n`);
  const history = join(dir, 'history.csv');
  [a, b, c, unknownClinic, badRates, badLifecycle] = await Promise.all([
    rebook(['simulate', '--clinic', 'demo-clinic', '--history', history, '--out', join(dir, 'a'), '--seed', '3']),
    rebook(['simulate', '--clinic', 'demo-clinic', '--history', history, '--seed', '3'], {
      REBOOK_DATA_DIR: join(dir, 'data'),
    }),
    rebook(['simulate', '--clinic', 'demo-clinic', '--history', history, '--out', join(dir, 'c'), '--seed', '4']),
    rebook(['simulate', '--clinic', 'no-such-clinic', '--history', history, '--out', join(dir, 'x')]),
    rebook([
      'simulate',
      '--clinic',
      'demo-clinic',
      '--history',
      history,
      '--booking-rates',
      'reminder=2',
      '--out',
      join(dir, 'y'),
    ]),
    rebook([
      'simulate',
      '--clinic',
      'demo-clinic',
      '--history',
      history,
      '--lifecycle-rates',
      'noShow=0.2,walkIn=0.1',
      '--out',
      join(dir, 'z'),
    ]),
  ]);
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rebook simulate', () => {
  it('succeeds, prints the summary table and reports the broken rows by line', () => {
    expect(a.stderr).not.toMatch(/rebook: /);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/Client messages\s+[\d,]+\s/);
    expect(a.stdout).toMatch(/Staff tasks \(front desk\)\s+[\d,]+\s/);
    expect(a.stdout).toContain('Rebookings by stage');
    expect(a.stdout).toMatch(/Bookings \(no-show 15%, cancel 10%, rebooked after a cancel 50%\)/);
    expect(a.stdout).toMatch(/ {2}attended \(became visits\)\s+[\d,]+/);
    expect(a.stdout).toMatch(/ {2}no-show\s+[\d,]+/);
    expect(a.stdout).toMatch(/in the program\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+[\d.]+%/);
    expect(a.stderr).toContain('2 row(s) could not be read');
    expect(a.stderr).toContain('line 902: completed_at is not a date');
    expect(a.stderr).toContain('line 903: expected 9 fields, found 3');
  });

  it('writes simulation.json with the summary, the weekly series and the row problems', () => {
    const json = JSON.parse(read(join(dir, 'a', 'simulation.json'))) as SimulationFile;
    expect(json.format).toBe('rebook-simulation/1');
    expect(json.clinic).toBe('demo-clinic');
    expect(json.history).toMatchObject({ file: 'history.csv', rows: 902, malformedRows: 2, header: true });
    expect(json.history.problems.map((p) => p.line)).toEqual([902, 903]);
    expect(json.summary.input.rows).toBe(900);
    expect(json.weekly.length).toBeGreaterThanOrEqual(52);
    expect(json.summary.messages.total).toBeGreaterThan(0);
    expect(json.weekly.reduce((s, w) => s + w.email + w.sms, 0)).toBe(json.summary.messages.total);
    expect(json.weekly.reduce((s, w) => s + w.staffTasks, 0)).toBe(json.summary.staffTasks.total);
    expect(json.rates).toMatchObject({ reminder: 0.22, incentive: 0.35, results_checkin: 0.12, staff_escalation: 0.3 });
    const csvLines = read(join(dir, 'a', 'weekly.csv'))
      .trim()
      .split('\n');
    expect(csvLines).toHaveLength(json.weekly.length + 1);
    expect(csvLines[0]).toBe(
      'weekStart,email,sms,staffTasks,offers,deferredBySendWindow,deferredByCaps,suppressedByCaps,rebookings,enrolled,care,attended,cancelled,noShows',
    );
  });

  it('writes a well-formed SVG chart with a bar per week that had messages', () => {
    const json = JSON.parse(read(join(dir, 'a', 'simulation.json'))) as SimulationFile;
    const svg = parseXml(read(join(dir, 'a', 'chart.svg')));
    expect(svg.name).toBe('svg');
    const emailBars = allElements(svg).filter((e) => e.name === 'rect' && e.attrs['data-series'] === 'email');
    expect(emailBars.map((e) => e.attrs['data-week'])).toEqual(
      json.weekly.filter((w) => w.email > 0).map((w) => w.weekStart),
    );
  });

  it('is deterministic: the same seed writes the same JSON (here under $REBOOK_DATA_DIR/simulations/<timestamp>/)', () => {
    expect(b.code).toBe(0);
    const runs = readdirSync(join(dir, 'data', 'simulations'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/);
    expect(read(join(dir, 'data', 'simulations', runs[0]!, 'simulation.json'))).toBe(
      read(join(dir, 'a', 'simulation.json')),
    );
  });

  it('another seed draws other bookings from the same history', () => {
    expect(c.code).toBe(0);
    const ja = JSON.parse(read(join(dir, 'a', 'simulation.json'))) as SimulationFile;
    const jc = JSON.parse(read(join(dir, 'c', 'simulation.json'))) as SimulationFile;
    expect(jc.seed).toBe(4);
    expect(jc.summary.input).toEqual(ja.summary.input);
    expect(jc.weekly.map((w) => w.rebookings)).not.toEqual(ja.weekly.map((w) => w.rebookings));
  });

  it('refuses an unknown clinic and bad booking rates with a message and a non-zero exit', () => {
    expect(unknownClinic.code).toBe(1);
    expect(unknownClinic.stderr).toContain('unknown clinic "no-such-clinic"');
    expect(badRates.code).toBe(2);
    expect(badRates.stderr).toContain('--booking-rates');
    expect(badLifecycle.code).toBe(2);
    expect(badLifecycle.stderr).toContain(
      'rebook simulate: --lifecycle-rates: walkIn: unknown; the rates are noShow, cancel and rebookAfterCancel [validation_failed]',
    );
  });
});
