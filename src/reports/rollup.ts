/**
 * The report's facts through the per-day rollup (migration 0014): the facts of a clinic's runs are
 * stored per local day of treatment, and a view reads the stored days instead of joining the
 * ledger again. The database bumps a day's `version` on every write that changes its facts (runs,
 * messages, opens and clicks, escalation tasks, holds, completed appointments), so a day is used
 * only while the facts were read at its current version; stale and missing days are read again
 * by `readCohortFacts` (the same reads as the direct path) and stored. Counting stays in the pure
 * report: the result equals `loadReportFacts` over the same data (test/reports/rollup.test.ts).
 */
import { sql } from 'drizzle-orm';
import type { ClinicConfig } from '../config/schema.js';
import { MAX_INDEXED_DAYS } from '../core/local-days.js';
import { addDays, fromLocal, localDate } from '../core/zoned-time.js';
import { type Db, rows } from '../db/client.js';
import { type CohortFacts, loadReportFacts, type Period, readCohortFacts, withWindows } from './query.js';
import type { ReportFacts, ReportTypeInfo } from './rebooking.js';

interface Day {
  startMs: number;
  endMs: number;
}

interface StoredDay {
  start: number;
  end: number;
  version: string | number;
  computed: string | number | null;
  facts: string | null;
}

/**
 * A day's facts as stored: rows as tuples (a quarter's days hold thousands of runs; field names
 * would be most of the bytes), kept as json text, which both engines hand back without re-encoding.
 */
interface Packed {
  r: [
    string,
    string,
    number,
    string,
    string | null,
    boolean,
    number | null,
    number | null,
    'treated' | 'holdout' | null,
  ][];
  m: [string, string, 'email' | 'sms', string, boolean, boolean, number, number][];
  t: [string, string | null, string, string | null][];
  h: [string, string, 'deferred' | 'suppressed', string][];
}

const pack = (f: CohortFacts): Packed => ({
  r: f.runs.map((x) => [
    x.id,
    x.treatmentType,
    x.anchorAtMs,
    x.outcome,
    x.outcomeStage,
    x.running,
    x.endedAtMs,
    x.nextPriceCents,
    x.arm ?? null,
  ]),
  m: f.messages.map((x) => [x.treatmentType, x.stage, x.channel, x.status, x.opened, x.clicked, x.count, x.reached]),
  t: f.tasks.map((x) => [x.runId, x.stage, x.status, x.outcome]),
  h: f.holds.map((x) => [x.runId, x.stage, x.kind, x.reason]),
});

const unpack = (p: Packed): CohortFacts => ({
  runs: p.r.map(([id, treatmentType, anchorAtMs, outcome, outcomeStage, running, endedAtMs, nextPriceCents, arm]) => ({
    id,
    treatmentType,
    anchorAtMs,
    outcome,
    outcomeStage,
    running,
    endedAtMs,
    nextPriceCents,
    arm,
  })),
  messages: p.m.map(([treatmentType, stage, channel, status, opened, clicked, count, reached]) => ({
    treatmentType,
    stage,
    channel,
    status,
    opened,
    clicked,
    count,
    reached,
  })),
  tasks: p.t.map(([runId, stage, status, outcome]) => ({ runId, stage, status, outcome })),
  holds: p.h.map(([runId, stage, kind, reason]) => ({ runId, stage, kind, reason })),
});

/** The clinic's local days that meet [fromMs, toMs), in order. */
function localDays(period: Period, timeZone: string): Day[] {
  const days: Day[] = [];
  let d = localDate(period.fromMs, timeZone);
  let start = fromLocal({ ...d, hour: 0, minute: 0 }, timeZone);
  while (start < period.toMs) {
    d = addDays(d, 1);
    const end = fromLocal({ ...d, hour: 0, minute: 0 }, timeZone);
    // A zone whose midnight is skipped can return the same instant twice: such a day is merged into the next.
    if (end > start) {
      days.push({ startMs: start, endMs: end });
      start = end;
    }
  }
  return days;
}

const iso = (ms: number) => new Date(ms).toISOString();
const pgArray = (ms: readonly number[]) => `{${ms.map(iso).join(',')}}`;

/** The cohort's facts split by day (runs by treatment instant, tallies by their `day`, tasks and holds by run). */
function splitByDay(cohort: CohortFacts, days: readonly Day[]): CohortFacts[] {
  const out = days.map((): CohortFacts => ({ runs: [], messages: [], tasks: [], holds: [] }));
  const dayOfRun = new Map<string, CohortFacts>();
  for (const r of cohort.runs) {
    let lo = 0;
    let hi = days.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (days[mid]!.startMs <= r.anchorAtMs) lo = mid;
      else hi = mid - 1;
    }
    out[lo]!.runs.push(r);
    dayOfRun.set(r.id, out[lo]!);
  }
  for (const { day, ...t } of cohort.messages) out[day ?? -1]?.messages.push(t);
  for (const t of cohort.tasks) dayOfRun.get(t.runId)?.tasks.push(t);
  for (const h of cohort.holds) dayOfRun.get(h.runId)?.holds.push(h);
  return out;
}

/** Adjacent ranges merged (fewer OR terms in the read). */
function mergeRanges(ranges: Period[]): Period[] {
  const out: Period[] = [];
  for (const r of ranges) {
    const last = out.at(-1);
    if (last && last.toMs === r.fromMs) last.toMs = r.toMs;
    else out.push({ ...r });
  }
  return out;
}

/** `loadReportFacts` (all treatment types) served from the per-day rollup, refreshing the days that changed. */
export async function loadReportFactsRolledUp(
  db: Db,
  clinic: ClinicConfig,
  types: ReadonlyMap<string, ReportTypeInfo>,
  period: Period,
): Promise<ReportFacts> {
  // Past ten years a period is answered directly (as local-days.ts does), not stored day by day.
  if (!(period.toMs - period.fromMs <= MAX_INDEXED_DAYS * 86_400_000))
    return loadReportFacts(db, clinic, types, period);
  const days = localDays(period, clinic.timeZone);
  if (days.length === 0) return loadReportFacts(db, clinic, types, period);
  const first = days[0]!.startMs;
  const last = days.at(-1)!.endMs;
  const read = async () =>
    rows<StoredDay>(
      await db.execute(sql`select (extract(epoch from day_start) * 1000)::float8 as start,
          (extract(epoch from day_end) * 1000)::float8 as "end", version, computed_version as computed, facts::text as facts
        from dashboard_rollup where clinic_id = ${clinic.id} and day_start >= ${iso(first)} and day_start < ${iso(last)}`),
    );
  let stored = await read();
  const have = new Set(stored.map((s) => Number(s.start)));
  if (days.some((d) => !have.has(d.startMs))) {
    // A day's row exists before its facts are read, so a write during the read bumps it (and the day stays stale).
    await db.execute(sql`insert into dashboard_rollup (clinic_id, day_start, day_end)
      select ${clinic.id}, s, e from unnest(${pgArray(days.map((d) => d.startMs))}::timestamptz[],
        ${pgArray(days.map((d) => d.endMs))}::timestamptz[]) as t(s, e)
      on conflict (clinic_id, day_start) do nothing`);
    stored = await read();
  }
  const byStart = new Map(stored.map((s) => [Number(s.start), s]));
  const facts: (CohortFacts | null)[] = days.map((d) => {
    const s = byStart.get(d.startMs);
    return s && Number(s.end) === d.endMs && s.facts && s.computed !== null && String(s.computed) === String(s.version)
      ? unpack(JSON.parse(s.facts) as Packed)
      : null;
  });

  const staleIdx = days.flatMap((_, i) => (facts[i] ? [] : [i]));
  if (staleIdx.length > 0) {
    const stale = staleIdx.map((i) => days[i]!);
    const cohort = await readCohortFacts(
      db,
      clinic.id,
      mergeRanges(stale.map((d) => ({ fromMs: d.startMs, toMs: d.endMs }))),
      { dayStarts: days.map((d) => d.startMs) },
    );
    const split = splitByDay(cohort, days);
    const updates = staleIdx.map((i) => ({
      s: iso(days[i]!.startMs),
      e: iso(days[i]!.endMs),
      // The version seen before the read: a write since then has bumped it past this.
      v: String(byStart.get(days[i]!.startMs)?.version ?? 0),
      f: pack(split[i]!),
    }));
    for (const i of staleIdx) facts[i] = split[i]!;
    await db.execute(sql`update dashboard_rollup d set facts = u.f, computed_version = u.v, day_end = u.e
      from jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) as u(s timestamptz, e timestamptz, v bigint, f json)
      where d.clinic_id = ${clinic.id} and d.day_start = u.s`);
  }

  // The first and last day may reach outside the period: their stored facts serve only when every
  // run of the day lies inside it (no treatment yet after `now`, the usual case); otherwise the part
  // inside is read directly.
  const inside = (f: CohortFacts) => f.runs.every((r) => r.anchorAtMs >= period.fromMs && r.anchorAtMs < period.toMs);
  const partial: Period[] = [];
  for (const i of new Set([0, days.length - 1])) {
    const d = days[i]!;
    if (d.startMs >= period.fromMs && d.endMs <= period.toMs) continue;
    if (inside(facts[i]!)) continue;
    facts[i] = null;
    partial.push({ fromMs: Math.max(d.startMs, period.fromMs), toMs: Math.min(d.endMs, period.toMs) });
  }
  const parts = facts.filter((f): f is CohortFacts => f !== null);
  if (partial.length > 0) parts.push(await readCohortFacts(db, clinic.id, partial));
  const all: CohortFacts = {
    runs: parts.flatMap((f) => f.runs),
    messages: parts.flatMap((f) => f.messages),
    tasks: parts.flatMap((f) => f.tasks),
    holds: parts.flatMap((f) => f.holds),
  };
  return withWindows(
    all,
    clinic,
    types,
    period,
    days.map((d) => d.startMs),
  );
}
