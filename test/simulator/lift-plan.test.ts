/**
 * The simulator's proof-of-lift plan (issue 13 §4) against hand calculations: the Fleiss sample
 * sizes for a 20-point lift (95% two-sided, 80% power, arms in the holdout's ratio), the months of
 * enrolment the slower arm needs, and the months until the sequences have finished; then the real
 * `rebook simulate --holdout` command prints and writes the same plan.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { SimulationFile } from '../../src/cli/simulate.js';
import { monthsToSeeLift } from '../../src/core/proportions.js';
import { cumulativeRebookRate, liftPlan } from '../../src/simulator/lift-plan.js';
import { generateHistory, historyToCsv } from '../../src/simulator/synthetic.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('months until a 20-point lift shows', () => {
  it('60 Botox clients a month, 10% held out, 40% baseline: 53 held out + 477 treated, 9 months (by hand)', () => {
    // By hand, zα = 1.959964, zβ = 0.841621, r = 0.9/0.1 = 9, p0 = 0.40, p1 = 0.60:
    //   p̄ = (9·0.60 + 0.40)/10 = 0.58
    //   zα·√(p̄q̄(1 + 1/r)) = 1.959964 · √(0.2436 · 1.1111) = 1.959964 · 0.520257 = 1.019685
    //   zβ·√(p1q1/r + p0q0) = 0.841621 · √(0.026667 + 0.24) = 0.841621 · 0.516398 = 0.434612
    //   n0 = (1.454297)² / 0.2² = 2.114980 / 0.04 = 52.87 → 53 held out; treated 9 · 53 = 477
    //   months: held out 53 / (60 · 0.1) = 8.83, treated 477 / (60 · 0.9) = 8.83 → 9
    expect(monthsToSeeLift({ monthlyEnrolments: 60, holdoutShare: 0.1, baselineRate: 0.4 })).toEqual({
      needed: { treated: 477, holdout: 53 },
      monthsOfEnrolment: 9,
    });
  });

  it('20 a month, 20% held out, 35% baseline: 60 + 240, 15 months (by hand)', () => {
    //   r = 4, p̄ = (4·0.55 + 0.35)/5 = 0.51
    //   1.959964 · √(0.51·0.49·1.25) = 1.959964 · 0.558905 = 1.095434
    //   0.841621 · √(0.55·0.45/4 + 0.35·0.65) = 0.841621 · 0.537936 = 0.452738
    //   n0 = (1.548172)² / 0.04 = 2.396837 / 0.04 = 59.92 → 60; treated 240
    //   months: 60 / (20 · 0.2) = 15, 240 / (20 · 0.8) = 15 → 15
    expect(monthsToSeeLift({ monthlyEnrolments: 20, holdoutShare: 0.2, baselineRate: 0.35 })).toEqual({
      needed: { treated: 240, holdout: 60 },
      monthsOfEnrolment: 15,
    });
  });

  it('no holdout: never; and the plan adds the sequence window (Botox 90 + 30 days ≈ 3.94 months)', () => {
    expect(monthsToSeeLift({ monthlyEnrolments: 60, holdoutShare: 0, baselineRate: 0.4 }).monthsOfEnrolment).toBeNull();
    const rows = liftPlan(
      [
        { treatmentType: 'neuromodulator', enrolled: 720 },
        { treatmentType: 'lip_filler', enrolled: 0 },
      ],
      12,
      new Map([['neuromodulator', { intervalDays: 90 }]]),
      {
        holdoutShare: () => 0.1,
        baselineRate: 0.4,
        stageRates: () => [0, 0, 0.22, 0.35, 0.12, 0.3],
        priceCents: () => 45_000,
      },
    );
    // 720 / 12 = 60 a month → 9 months of enrolment; 9 + 120/30.4375 = 12.94 → 13.
    expect(rows).toEqual([
      {
        treatmentType: 'neuromodulator',
        monthlyEnrolments: 60,
        holdoutShare: 0.1,
        baselineRate: 0.4,
        needed: { treated: 477, holdout: 53 },
        monthsOfEnrolment: 9,
        monthsUntilVisible: 13,
        // 1 − 1·1·0.78·0.65·0.88·0.70 = 1 − 0.312312
        impliedProgramRate: expect.closeTo(0.687688, 9),
        // 60 a month × 0.20 = 12 visits; × $450 = $5,400.
        visitsPerMonthAtLift: expect.closeTo(12, 9),
        revenueCentsPerMonthAtLift: 540_000,
      },
    ]);
  });

  it('the cumulative rebook rate of stage conversions (by hand)', () => {
    // The DOMAIN.md stage benchmarks: 1 − 0.78 · 0.65 · 0.88 · 0.70 = 1 − 0.312312 = 0.687688.
    expect(cumulativeRebookRate([0.22, 0.35, 0.12, 0.3])).toBeCloseTo(0.687688, 12);
    expect(cumulativeRebookRate([])).toBe(0);
    expect(cumulativeRebookRate([0.5, 0.5])).toBe(0.75);
  });
});

describe('rebook simulate --holdout', () => {
  it('prints the plan per treatment type and writes it to simulation.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebook-simulate-lift-'));
    dirs.push(dir);
    const rows = generateHistory({
      clients: 120,
      treatments: 600,
      start: '2026-01-05',
      seed: 5,
      timeZone: 'America/New_York',
    });
    writeFileSync(join(dir, 'history.csv'), historyToCsv(rows));
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        'npx',
        [
          'tsx',
          'src/cli/main.ts',
          'simulate',
          '--clinic',
          'demo-clinic',
          '--history',
          join(dir, 'history.csv'),
          '--out',
          join(dir, 'out'),
          '--holdout',
          '10%',
          '--baseline',
          '0.4',
        ],
        { cwd: ROOT, env: process.env, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(run.code).toBe(0);
    const file = JSON.parse(readFileSync(join(dir, 'out', 'simulation.json'), 'utf8')) as SimulationFile;
    const enrolled = file.byType.filter((t) => t.enrolled > 0);
    expect(enrolled.length).toBeGreaterThan(0);
    expect(file.liftPlan.map((r) => r.treatmentType)).toEqual(enrolled.map((t) => t.treatmentType));
    for (const r of file.liftPlan) {
      const t = enrolled.find((x) => x.treatmentType === r.treatmentType)!;
      expect(r.monthlyEnrolments).toBeCloseTo(t.enrolled / 12, 9);
      expect(r.holdoutShare).toBe(0.1);
      const plan = monthsToSeeLift({ monthlyEnrolments: t.enrolled / 12, holdoutShare: 0.1, baselineRate: 0.4 });
      expect(r.monthsOfEnrolment).toBe(plan.monthsOfEnrolment);
      expect(run.stdout).toContain(
        `  ${r.treatmentType}: ${r.monthlyEnrolments.toFixed(1)} enrolments a month, 10% held out: ${r.monthsOfEnrolment} months of enrolment (${plan.needed.treated} treated + ${plan.needed.holdout} held out, baseline 40%), visible after about ${r.monthsUntilVisible} months`,
      );
    }
    // Botox: the default stage rates imply 68.8% (care touches convert nobody); no average price configured.
    expect(run.stdout).toMatch(
      /^ {4}a 20-point lift is \+\d+\.\d visits a month; the stage rates imply 68\.8% rebooked in the program$/m,
    );
    expect(run.stdout).toContain('Proof of lift: months until a 20-point lift shows at 95% confidence (80% power)');
  });
});
