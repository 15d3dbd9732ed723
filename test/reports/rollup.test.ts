/**
 * The dashboard's per-day rollup (migration 0014, src/reports/rollup.ts) against the direct read
 * of the same data: equal figures when the rollup is empty, when it is warm, and after each kind
 * of write the engine makes (a booking, a new message, a status change, an email open, an
 * escalation task, a hold, a completed appointment's price); a period whose last day holds a
 * treatment after its end; and a write the rollup is not told about (its trigger dropped) shows as
 * a difference, so these comparisons would catch a write path the triggers miss.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedConfig, loadConfig } from '../../src/config/load.js';
import type { ClinicConfig } from '../../src/config/schema.js';
import { loadClinicDashboard } from '../../src/console/data/clinic-dashboard.js';
import { type Database, openDatabase, rows } from '../../src/db/client.js';
import { type Period, parsePeriod } from '../../src/reports/query.js';
import { recordHold, recordRun } from '../../src/reports/record.js';
import { seedConsoleClinic } from '../helpers/console-seed.js';

const DAY = 86_400_000;
let database: Database;
let config: LoadedConfig;
let clinic: ClinicConfig;
const nowMs = Date.UTC(2026, 5, 15, 18, 30);

/** The figures the page shows, from both paths (connector health and unmapped services are not rollup facts). */
async function both(period: Period) {
  const pick = (d: Awaited<ReturnType<typeof loadClinicDashboard>>) => ({
    report: d.report,
    funnel: d.funnel,
    byMonth: d.byMonth,
    messages: d.messages,
    heldBack: d.heldBack,
  });
  const direct = pick(await loadClinicDashboard(database.db, config, clinic, period, nowMs, 'direct'));
  const rolled = pick(await loadClinicDashboard(database.db, config, clinic, period, nowMs, 'rollup'));
  return { direct, rolled };
}

async function runOf(externalId: string) {
  const [run] = rows<{ workflowId: string; runKey: string; clientId: string; anchorMs: number }>(
    await database.db.execute(sql`select r.workflow_id as "workflowId", r.run_key as "runKey", r.client_id as "clientId",
        (extract(epoch from r.anchor_at) * 1000)::float8 as "anchorMs"
      from sequence_runs r join clients c on c.id = r.client_id where c.clinic_id = 'demo-clinic' and c.external_id = ${externalId}`),
  );
  return { ...run!, clinicId: 'demo-clinic', treatmentType: 'neuromodulator' };
}

const period90 = () => parsePeriod({}, clinic.timeZone, nowMs);

beforeAll(async () => {
  database = await openDatabase({ pgliteMemory: true });
  config = loadConfig('config');
  clinic = config.clinics.get('demo-clinic')!;
  await seedConsoleClinic(database.db, {
    clinicId: 'demo-clinic',
    clients: 600,
    messages: 1_500,
    openTasks: 40,
    days: 365,
    nowMs,
    replies: 20,
    platform: 'generic',
  });
});
afterAll(async () => {
  await database?.close();
});

describe('dashboard rollup', () => {
  it('equals the direct read, cold and warm, for 90 days and 12 months', async () => {
    for (const period of [period90(), parsePeriod({ from: '2025-06-16', to: '2026-06-15' }, clinic.timeZone, nowMs)]) {
      const cold = await both(period);
      expect(cold.direct.report.totals.enrolled).toBeGreaterThan(100);
      expect(cold.direct.report.totals.sent.total).toBeGreaterThan(100);
      expect(cold.rolled).toEqual(cold.direct);
      const warm = await both(period);
      expect(warm.rolled).toEqual(warm.direct);
    }
    const [{ fresh }] = rows<{ fresh: number }>(
      await database.db.execute(
        sql`select count(*)::int as fresh from dashboard_rollup where computed_version = version and clinic_id = 'demo-clinic'`,
      ),
    ) as [{ fresh: number }];
    expect(fresh).toBeGreaterThan(300);
  });

  it('follows every kind of write to the facts', async () => {
    const period = period90();
    await both(period); // warm
    const run = await runOf('c-3'); // treated 4 days before now: running
    const before = (await both(period)).direct;
    const writes: [string, () => Promise<unknown>][] = [
      [
        'a new message',
        () =>
          database.db.execute(sql`insert into messages (idempotency_key, clinic_id, client_id, workflow_id, treatment_type, stage, channel, status, provider, due_at)
            values (${`${run.workflowId}|${run.runKey}|reactivation`}, 'demo-clinic', ${run.clientId}, ${run.workflowId}, 'neuromodulator', 'reactivation', 'sms', 'sent', 'outbox', now())`),
      ],
      [
        'a status change',
        () =>
          database.db.execute(
            sql`update messages set status = 'delivered' where idempotency_key = ${`${run.workflowId}|${run.runKey}|reactivation`}`,
          ),
      ],
      [
        'an email open',
        async () => {
          const [m] = rows<{ id: string }>(
            await database.db.execute(
              sql`select id from messages where idempotency_key = ${`${run.workflowId}|${run.runKey}|reminder`}`,
            ),
          );
          await database.db.execute(
            sql`insert into message_events (message_id, event, occurred_at) values (${m!.id}, 'open', now())`,
          );
        },
      ],
      [
        'a hold',
        () =>
          recordHold(
            database.db,
            run,
            'results_checkin',
            { status: 'suppressed', reason: 'email_opted_out' },
            nowMs - DAY,
          ),
      ],
      [
        'an escalation task resolved as booked',
        () =>
          database.db.execute(sql`insert into staff_tasks (idempotency_key, clinic_id, client_id, workflow_id, treatment_type, reason, status, outcome, details)
            values (${`${run.workflowId}|${run.runKey}|escalation`}, 'demo-clinic', ${run.clientId}, ${run.workflowId}, 'neuromodulator', 'no_response', 'resolved', 'booked', '{"stage":"staff_escalation"}')
            on conflict (idempotency_key) do update set status = 'resolved', outcome = 'booked'`),
      ],
      [
        'a booking',
        () =>
          recordRun(
            database.db,
            run,
            { outcome: 'booked', outcomeStage: 'incentive', running: false },
            nowMs - 3_600_000,
          ),
      ],
      [
        "the booked appointment's price",
        () =>
          database.db.execute(sql`insert into appointments (clinic_id, external_id, client_external_id, status, start_at, treatment_type, price_cents)
            values ('demo-clinic', 'a-next-3', 'c-3', 'completed', ${new Date(nowMs - 3_600_000).toISOString()}, 'neuromodulator', 51000)`),
      ],
      [
        'a new treatment',
        async () => {
          const other = await runOf('c-5');
          await recordRun(
            database.db,
            { ...other, runKey: 'a-new-5' },
            { anchorAt: new Date(nowMs - 2 * 3_600_000).toISOString(), outcome: 'running', running: true },
            nowMs - 2 * 3_600_000,
          );
        },
      ],
    ];
    let previous = before;
    for (const [what, write] of writes) {
      await write();
      const after = await both(period);
      expect(after.direct, `${what} changes the figures`).not.toEqual(previous);
      expect(after.rolled, `rollup after ${what}`).toEqual(after.direct);
      previous = after.direct;
    }
    expect(previous.report.totals.revenueCents).toBeGreaterThan(before.report.totals.revenueCents);
  });

  it("serves a period's partial last day only when no treatment of that day lies after the period", async () => {
    // Ends just before c-7's treatment, on the same day: that day's stored facts hold a run after the period.
    const anchor = Number((await runOf('c-7')).anchorMs);
    const period = { fromMs: anchor - 10 * DAY, toMs: anchor - 1 };
    await both(period);
    const { direct, rolled } = await both(period);
    expect(rolled).toEqual(direct);
    const whole = await both({ fromMs: anchor - 10 * DAY, toMs: anchor + 1 });
    expect(whole.direct.report.totals.enrolled).toBeGreaterThan(direct.report.totals.enrolled);
    expect(whole.rolled).toEqual(whole.direct);
  });

  it('shows a write it is not told about (its trigger dropped) as a difference', async () => {
    const period = period90();
    await both(period);
    const run = await runOf('c-9');
    await database.db.execute(sql`drop trigger dashboard_rollup_run on sequence_runs`);
    try {
      await recordRun(database.db, run, { outcome: 'not_interested', running: false }, nowMs - 3_600_000);
      const { direct, rolled } = await both(period);
      expect(rolled).not.toEqual(direct);
      expect(rolled.funnel.notInterested).toBe(direct.funnel.notInterested - 1);
    } finally {
      await database.db.execute(sql`create trigger dashboard_rollup_run after insert or update or delete on sequence_runs
        for each row execute function dashboard_rollup_on_run()`);
    }
  });
});
