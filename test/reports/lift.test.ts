/**
 * The lift report (issue 13). Pure: it refuses to print a lift on small samples and says how many
 * more clients it needs; the platform's price wins over the configured one. Over a real PGlite
 * database, through GET /v1/clinics/:clinicId/reports/lift and `rebook report --lift` (a child
 * process): synthetic cohorts where treated clients book at 65% and held-out ones at 40% (a
 * seeded generator) come back with the configured 25-point lift inside the reported interval.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { newcombeDifference, sampleSizeForLift, wilsonInterval } from '../../src/core/proportions.js';
import { openDatabase } from '../../src/db/client.js';
import { clients, sequenceRuns } from '../../src/db/schema.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { type LiftRunFact, liftRow } from '../../src/reports/lift.js';
import { LIFT_CSV_COLUMNS } from '../../src/reports/render-lift.js';
import { buildApp } from '../../src/server/app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const API_KEY = 'lift-report-api-key-0123456789';
const DAY = 86_400_000;

const runs = (n: number, rebooked: number, arm: 'treated' | 'holdout', priceCents: number | null = null) =>
  Array.from(
    { length: n },
    (_, i): LiftRunFact => ({
      treatmentType: 'neuromodulator',
      arm,
      running: false,
      rebooked: i < rebooked,
      priceCents,
    }),
  );

describe('lift rows', () => {
  it('too few clients: no difference, no visits, no revenue; says how many more each arm needs', () => {
    const row = liftRow('neuromodulator', 'Botox', [...runs(30, 20, 'treated'), ...runs(5, 1, 'holdout')], 0.1, 45_000);
    expect(row.status).toBe('too_small');
    expect([row.difference, row.visits, row.revenueCents, row.significant]).toEqual([null, null, null, false]);
    // Baseline: the held-out rate (1/5); arms in the observed ratio 30:5.
    const n = sampleSizeForLift(0.2, 0.4, 6);
    expect(row.needed).toEqual({
      baselineRate: 0.2,
      treated: n.treated,
      holdout: n.comparison,
      moreTreated: n.treated - 30,
      moreHoldout: n.comparison - 5,
    });
    expect(row.treated.interval).toEqual(wilsonInterval(20, 30));
    expect(row.holdout.interval).toEqual(wilsonInterval(1, 5));
  });

  it('no held-out client yet: the assumed 35% baseline and the configured share set what is needed', () => {
    const row = liftRow('neuromodulator', 'Botox', runs(40, 30, 'treated'), 0.1, null);
    expect(row.status).toBe('no_holdout');
    const n = sampleSizeForLift(0.35, 0.55, 9);
    expect(row.needed).toMatchObject({ treated: n.treated, holdout: n.comparison, moreHoldout: n.comparison });
  });

  it('enough clients: the difference, visits and revenue, from the platform price when it gives one', () => {
    const facts = [...runs(680, 462, 'treated', 50_000), ...runs(120, 49, 'holdout')];
    const row = liftRow('neuromodulator', 'Botox', facts, 0.1, 45_000);
    expect(row.status).toBe('measured');
    const d = newcombeDifference(462, 680, 49, 120)!;
    expect(row.difference).toEqual(d);
    expect(row.significant).toBe(d.lower > 0);
    expect(row.visits).toEqual({ estimate: d.estimate * 680, lower: d.lower * 680, upper: d.upper * 680 });
    expect([row.priceCents, row.priceSource]).toEqual([50_000, 'platform']);
    expect(row.revenueCents!.estimate).toBe(Math.round(d.estimate * 680 * 50_000));
    const configured = liftRow(
      'neuromodulator',
      'Botox',
      [...runs(680, 462, 'treated'), ...runs(120, 49, 'holdout')],
      0.1,
      45_000,
    );
    expect([configured.priceCents, configured.priceSource]).toEqual([45_000, 'configured']);
  });

  it('a difference whose interval holds zero is measured but not called', () => {
    const row = liftRow(
      'neuromodulator',
      'Botox',
      [...runs(600, 300, 'treated'), ...runs(150, 72, 'holdout')],
      0.2,
      null,
    );
    expect(row.status).toBe('measured');
    expect(row.difference!.lower).toBeLessThan(0);
    expect(row.significant).toBe(false);
  });
});

/** mulberry32: a seeded generator, so the synthetic cohort is the same on every run. */
function seeded(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The API answer, checked field by field. */
type Json = any;

describe('the lift report over a database', () => {
  let dir: string;
  let configDir: string;
  const counts = { treated: { n: 0, x: 0 }, holdout: { n: 0, x: 0 }, filler: { n: 0, x: 0 } };
  let api: { statusCode: number; body: Json };
  let table: Run;
  let csv: Run;

  function rebook(args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      const { DATABASE_URL: _ignored, ...rest } = process.env;
      execFile(
        'npx',
        ['tsx', 'src/cli/main.ts', ...args],
        { cwd: ROOT, env: { ...rest, LOG_LEVEL: 'silent', REBOOK_CONFIG_DIR: configDir, REBOOK_DATA_DIR: dir } },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rebook-lift-'));
    configDir = join(dir, 'config');
    mkdirSync(join(configDir, 'clinics'), { recursive: true });
    copyFileSync('config/catalog.yaml', join(configDir, 'catalog.yaml'));
    writeFileSync(
      join(configDir, 'clinics', 'demo-clinic.yaml'),
      `${readFileSync('config/clinics/demo-clinic.yaml', 'utf8')}\nlift: { holdout: 0.2, averagePrice: { neuromodulator: 450 } }\n`,
    );
    const database = await openDatabase({ pgliteDir: join(dir, 'pglite') });
    const rand = seeded(13);
    const rows: { arm: 'treated' | 'holdout'; type: string; booked: boolean }[] = [];
    for (let i = 0; i < 625; i++) {
      const arm = i % 5 === 0 ? 'holdout' : 'treated';
      rows.push({ arm, type: 'neuromodulator', booked: rand() < (arm === 'holdout' ? 0.4 : 0.65) });
    }
    // A second type with a handful of clients: the report must refuse to print its lift.
    for (let i = 0; i < 15; i++)
      rows.push({ arm: i % 5 === 0 ? 'holdout' : 'treated', type: 'lip_filler', booked: i % 2 === 0 });
    const made = await database.db
      .insert(clients)
      .values(
        rows.map((_, i) => ({ clinicId: 'demo-clinic', externalId: `lift-${i}`, firstName: 'Sam', lastName: 'Lee' })),
      )
      .returning({ id: clients.id });
    await database.db.insert(sequenceRuns).values(
      rows.map((r, i) => {
        const anchor = new Date(Date.UTC(2026, 0, 5 + (i % 20), 15));
        if (r.type === 'neuromodulator') {
          counts[r.arm].n++;
          if (r.booked) counts[r.arm].x++;
        }
        return {
          workflowId: `rebook/demo-clinic/${made[i]!.id}/${r.type}`,
          runKey: `lift-${i}-appt`,
          clinicId: 'demo-clinic',
          clientId: made[i]!.id,
          treatmentType: r.type,
          anchorAt: anchor,
          outcome: r.booked ? 'booked' : 'churned',
          running: false,
          startedAt: anchor,
          endedAt: new Date(anchor.getTime() + (r.booked ? 85 : 121) * DAY),
          arm: r.arm,
        };
      }),
    );
    const config = createConfigStore(configDir);
    const log = createLogger({ level: 'silent' });
    const app = await buildApp({
      db: database.db,
      config,
      ingest: createIngest({ db: database.db, config, temporal: new Client(), taskQueue: 'unused', log }),
      log,
      secrets: { REBOOK_API_KEY: API_KEY } as NodeJS.ProcessEnv,
    });
    const res = await app.inject({
      method: 'GET',
      url: '/v1/clinics/demo-clinic/reports/lift?from=2026-01-01&to=2026-01-31',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    api = { statusCode: res.statusCode, body: res.json() };
    await app.close();
    await database.close();
    const period = ['--from', '2026-01-01', '--to', '2026-01-31'];
    table = await rebook(['report', '--clinic', 'demo-clinic', '--lift', ...period]);
    csv = await rebook(['report', '--clinic', 'demo-clinic', '--lift', '--format', 'csv', ...period]);
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('API: rates with Wilson intervals, the difference recovering the configured 25 points, visits and revenue', () => {
    expect(api.statusCode).toBe(200);
    const botox = api.body.types.find((t: { treatmentType: string }) => t.treatmentType === 'neuromodulator');
    const { treated: t, holdout: h } = counts;
    expect(t.n).toBe(500);
    expect(h.n).toBe(125);
    expect(botox.treated).toMatchObject({
      finished: t.n,
      rebooked: t.x,
      rate: t.x / t.n,
      interval: wilsonInterval(t.x, t.n),
    });
    expect(botox.holdout).toMatchObject({
      finished: h.n,
      rebooked: h.x,
      rate: h.x / h.n,
      interval: wilsonInterval(h.x, h.n),
    });
    expect(botox.status).toBe('measured');
    expect(botox.difference).toEqual(newcombeDifference(t.x, t.n, h.x, h.n));
    expect(botox.difference.lower).toBeLessThan(0.25);
    expect(botox.difference.upper).toBeGreaterThan(0.25);
    expect(botox.significant).toBe(true);
    // No price from the platform: the configured $450.
    expect([botox.priceCents, botox.priceSource]).toEqual([45_000, 'configured']);
    expect(botox.visits.estimate).toBeCloseTo(botox.difference.estimate * t.n, 9);
    expect(botox.revenueCents.estimate).toBe(Math.round(botox.visits.estimate * 45_000));
    const filler = api.body.types.find((x: { treatmentType: string }) => x.treatmentType === 'lip_filler');
    expect(filler).toMatchObject({ status: 'too_small', difference: null, visits: null, revenueCents: null });
    expect(filler.needed.moreHoldout).toBeGreaterThan(0);
  });

  it('CLI table: each arm, the lift with its interval, and the refusal for the small type', () => {
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const d = api.body.types.find((t: { treatmentType: string }) => t.treatmentType === 'neuromodulator').difference;
    const pts = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}`;
    expect(table.stdout).toMatch(
      new RegExp(
        `^neuromodulator .*${pts(d.estimate).replace('+', '\\+')} points \\(95% CI ${pts(d.lower).replace('+', '\\+')} to ${pts(d.upper).replace('+', '\\+')}\\), \\+\\d+ visits .* configured price`,
        'm',
      ),
    );
    expect(table.stdout).toMatch(/^lip_filler .*too few to tell: needs \d+ more treated and \d+ more held-out/m);
  });

  it('CLI CSV: the documented columns, one row per type and one for all', () => {
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe(LIFT_CSV_COLUMNS.join(','));
    const rows = lines.slice(1).map((l) => Object.fromEntries(LIFT_CSV_COLUMNS.map((c, i) => [c, l.split(',')[i]])));
    // Every type the clinic holds clients out of has a row (types without runs: no holdout yet); "all" last.
    const status = Object.fromEntries(rows.map((r) => [r.treatment_type, r.status]));
    expect(rows.at(-1)!.treatment_type).toBe('all');
    expect(status).toMatchObject({ lip_filler: 'too_small', neuromodulator: 'measured', all: 'measured' });
    expect(Object.values(status).filter((s) => s === 'no_holdout').length).toBe(rows.length - 3);
    expect(rows.find((r) => r.treatment_type === 'neuromodulator')).toMatchObject({
      treated_finished: String(counts.treated.n),
      holdout_rebooked: String(counts.holdout.x),
      significant: 'true',
      price_source: 'configured',
    });
  });
});
