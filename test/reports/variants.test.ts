/**
 * The per stage and variant report (issue 13 §3): sends, bookings attributed and conversion with
 * Wilson intervals per variant; a variant is called better only when the Newcombe interval of its
 * lead excludes zero and every variant has the planned sends — so 5 of 5 against 0 of 5, whose
 * interval does exclude zero, is refused. Pure rows, then the API and the CLI over a database.
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
import { clients, messages, sequenceRuns } from '../../src/db/schema.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { VARIANT_CSV_COLUMNS } from '../../src/reports/render-lift.js';
import { type VariantFact, variantRow } from '../../src/reports/variants.js';
import { buildApp } from '../../src/server/app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const API_KEY = 'variant-report-api-key-0123456789';

const facts = (stage: string, variant: string, n: number, booked: number): VariantFact[] =>
  Array.from({ length: n }, (_, i) => ({ treatmentType: 'neuromodulator', stage, variant, booked: i < booked }));

describe('variant rows', () => {
  it('5 of 5 against 0 of 5: the interval excludes zero, but the samples are too small to call a winner', () => {
    // The trap the rule exists for: Newcombe's interval of 1.0 − 0.0 at n = 5 is about 0.39 to 1.
    expect(newcombeDifference(5, 5, 0, 5)!.lower).toBeGreaterThan(0);
    const r = variantRow('reminder', [...facts('reminder', 'a', 5, 5), ...facts('reminder', 'b', 5, 0)]);
    expect(r.status).toBe('too_small');
    expect(r.better).toBeNull();
    expect(r.difference).toBeNull();
    // Baseline: the lower observed rate (0), so 0% → 10% at 95%/80%, equal arms.
    expect(r.needed.perVariant).toBe(sampleSizeForLift(0, 0.1).comparison);
    expect(r.needed.more).toBe(r.needed.perVariant - 5);
    expect(r.variants.map((v) => [v.variant, v.sends, v.bookings, v.interval])).toEqual([
      ['a', 5, 5, wilsonInterval(5, 5)],
      ['b', 5, 0, wilsonInterval(0, 5)],
    ]);
  });

  it('enough sends and a real lead: the leader is called better, with its interval', () => {
    const r = variantRow('incentive', [
      ...facts('incentive', 'pct15', 400, 80),
      ...facts('incentive', 'usd25', 400, 160),
    ]);
    expect(r.status).toBe('measured');
    expect(r.variants.map((v) => v.variant)).toEqual(['usd25', 'pct15']);
    expect(r.difference).toEqual(newcombeDifference(160, 400, 80, 400));
    expect(r.better).toBe('usd25');
  });

  it('enough sends and a small lead whose interval holds zero: measured, nobody better', () => {
    const r = variantRow('incentive', [...facts('incentive', 'x', 400, 120), ...facts('incentive', 'y', 400, 130)]);
    expect(r.status).toBe('measured');
    expect(r.difference!.lower).toBeLessThan(0);
    expect(r.better).toBeNull();
  });

  it('three variants: better only when the leader beats each of the others', () => {
    const r = variantRow('incentive', [
      ...facts('incentive', 'a', 400, 160),
      ...facts('incentive', 'b', 400, 150),
      ...facts('incentive', 'c', 400, 80),
    ]);
    expect(r.status).toBe('measured');
    expect(r.variants[0]!.variant).toBe('a');
    expect(r.better).toBeNull(); // a beats c, not b
  });

  it('a configured variant without sends is listed and keeps the stage too small', () => {
    const r = variantRow('incentive', facts('incentive', 'a', 400, 100), ['a', 'b']);
    expect(r.variants.map((v) => [v.variant, v.sends, v.rate])).toEqual([
      ['a', 400, 0.25],
      ['b', 0, null],
    ]);
    expect(r.status).toBe('too_small');
  });
});

type Json = Record<string, any>;
type Run = { code: number; stdout: string; stderr: string };

describe('the variant report over a database', () => {
  let dir: string;
  let configDir: string;
  let api: { statusCode: number; body: Json };
  let table: Run;
  let csv: Run;
  let messagesView: Json[];

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
    dir = mkdtempSync(join(tmpdir(), 'rebook-variant-report-'));
    configDir = join(dir, 'config');
    mkdirSync(join(configDir, 'clinics'), { recursive: true });
    copyFileSync('config/catalog.yaml', join(configDir, 'catalog.yaml'));
    writeFileSync(
      join(configDir, 'clinics', 'demo-clinic.yaml'),
      `${readFileSync('config/clinics/demo-clinic.yaml', 'utf8')}
variants:
  incentive:
    - { name: pct15, offer: { percentOff: 15 } }
    - { name: usd25, offer: { amountOff: 25 } }
  reminder:
    - { name: email-copy }
    - { name: plain-copy, templates: { email: { subject: "Time to book", body: "Book: {{bookingUrl}}\\n{{clinicAddress}}\\n{{unsubscribeUrl}}" } } }
`,
    );
    const database = await openDatabase({ pgliteDir: join(dir, 'pglite') });
    // Incentive: 400 runs per variant, 20% against 40% booked after it. Reminder: 5 of 5 against 0 of 5.
    const plan: { stage: string; variant: string; booked: boolean }[] = [
      ...facts('incentive', 'pct15', 400, 80),
      ...facts('incentive', 'usd25', 400, 160),
      ...facts('reminder', 'email-copy', 5, 5),
      ...facts('reminder', 'plain-copy', 5, 0),
    ];
    const made = await database.db
      .insert(clients)
      .values(
        plan.map((_, i) => ({ clinicId: 'demo-clinic', externalId: `v-${i}`, firstName: 'Sam', lastName: 'Lee' })),
      )
      .returning({ id: clients.id });
    const anchor = (i: number) => new Date(Date.UTC(2026, 0, 5 + (i % 20), 15));
    const wf = (i: number) => `rebook/demo-clinic/${made[i]!.id}/neuromodulator`;
    await database.db.insert(sequenceRuns).values(
      plan.map((p, i) => ({
        workflowId: wf(i),
        runKey: `v-${i}-appt`,
        clinicId: 'demo-clinic',
        clientId: made[i]!.id,
        treatmentType: 'neuromodulator',
        anchorAt: anchor(i),
        outcome: p.booked ? 'booked' : 'churned',
        outcomeStage: p.booked ? p.stage : null,
        running: false,
        startedAt: anchor(i),
        endedAt: anchor(i),
        arm: 'treated' as const,
      })),
    );
    await database.db.insert(messages).values(
      plan.flatMap((p, i) => [
        {
          idempotencyKey: `${wf(i)}|v-${i}-appt|${p.stage}`,
          clinicId: 'demo-clinic',
          clientId: made[i]!.id,
          workflowId: wf(i),
          treatmentType: 'neuromodulator',
          stage: p.stage,
          channel: p.stage === 'incentive' ? 'sms' : 'email',
          status: 'delivered',
          provider: 'outbox',
          dueAt: anchor(i),
          variant: p.variant,
        },
        // A stage without variants: no row of the variant report.
        {
          idempotencyKey: `${wf(i)}|v-${i}-appt|care_checkin`,
          clinicId: 'demo-clinic',
          clientId: made[i]!.id,
          workflowId: wf(i),
          treatmentType: 'neuromodulator',
          stage: 'care_checkin',
          channel: 'sms',
          status: 'delivered',
          provider: 'outbox',
          dueAt: anchor(i),
          category: 'care' as const,
        },
      ]),
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
    const ledger = await app.inject({
      method: 'GET',
      url: '/v1/clinics/demo-clinic/messages?clientId=v-1',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    messagesView = ledger.json().messages;
    await app.close();
    await database.close();
    const period = ['--from', '2026-01-01', '--to', '2026-01-31'];
    table = await rebook(['report', '--clinic', 'demo-clinic', '--lift', ...period]);
    csv = await rebook(['report', '--clinic', 'demo-clinic', '--variants', '--format', 'csv', ...period]);
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('API: per stage and variant, sends, bookings and Wilson intervals; the incentive winner called, the reminder refused', () => {
    expect(api.statusCode).toBe(200);
    const byStage = Object.fromEntries(api.body.variants.map((v: Json) => [v.stage, v]));
    expect(Object.keys(byStage).sort()).toEqual(['incentive', 'reminder']);
    expect(byStage.incentive.variants).toEqual([
      { variant: 'usd25', sends: 400, bookings: 160, rate: 0.4, interval: wilsonInterval(160, 400) },
      { variant: 'pct15', sends: 400, bookings: 80, rate: 0.2, interval: wilsonInterval(80, 400) },
    ]);
    expect(byStage.incentive).toMatchObject({ status: 'measured', better: 'usd25' });
    expect(byStage.incentive.difference).toEqual(newcombeDifference(160, 400, 80, 400));
    expect(byStage.reminder).toMatchObject({ status: 'too_small', better: null, difference: null });
    expect(byStage.reminder.needed.more).toBeGreaterThan(0);
  });

  it('API: each ledger row carries its variant (null for a stage without variants)', () => {
    // Client v-1 is the second of the pct15 runs.
    expect(messagesView.map((m) => [m.stage, m.variant]).sort()).toEqual([
      ['care_checkin', null],
      ['incentive', 'pct15'],
    ]);
  });

  it('CLI table: the variants section with its verdicts', () => {
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^incentive .*usd25: 40\.0% 160\/400 .*pct15: 20\.0% 80\/400 .*usd25 is better/m);
    expect(table.stdout).toMatch(/^reminder .*too few to tell: each variant needs \d+ sends/m);
  });

  it('CLI CSV: the documented columns, one row per stage and variant', () => {
    expect(csv.stderr).toBe('');
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe(VARIANT_CSV_COLUMNS.join(','));
    const rows = lines.slice(1).map((l) => Object.fromEntries(VARIANT_CSV_COLUMNS.map((c, i) => [c, l.split(',')[i]])));
    expect(rows.map((r) => [r.stage, r.variant, r.sends, r.bookings, r.status, r.better])).toEqual([
      ['incentive', 'usd25', '400', '160', 'measured', 'usd25'],
      ['incentive', 'pct15', '400', '80', 'measured', 'usd25'],
      ['reminder', 'email-copy', '5', '5', 'too_small', ''],
      ['reminder', 'plain-copy', '5', '0', 'too_small', ''],
    ]);
  });
});
