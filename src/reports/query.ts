/**
 * Reads the facts of a rebooking report from the database: the sequence runs whose treatment
 * falls in the period, their client messages (with email opens and clicks), their staff
 * escalation tasks, what held their stages back, and the price of each client's next completed
 * appointment. The counting itself is pure (rebooking.ts).
 */
import { and, eq, gte, inArray, lt, or, type SQL, sql } from 'drizzle-orm';
import { averagePriceCentsFor, holdoutShareFor } from '../config/lift.js';
import { type LoadedConfig, treatmentTypesFor } from '../config/load.js';
import type { ClinicConfig } from '../config/schema.js';
import { stageVariantsFor } from '../config/variants.js';
import { localDayIndex } from '../core/local-days.js';
import { localDayAt } from '../core/plan.js';
import { DEFAULT_REACTIVATION, SNOOZE_TOUCH_KEY } from '../core/reactivation.js';
import { REBOOK_GRACE_DAYS } from '../core/types.js';
import { stageVariants } from '../core/variants.js';
import { addDays, fromLocal, localDate } from '../core/zoned-time.js';
import { type Db, rows } from '../db/client.js';
import { clients, deliveryHolds, messages, sequenceRuns, staffTasks } from '../db/schema.js';
import { RebookError } from '../errors.js';
import { type LiftReport, type LiftRow, type LiftRunFact, type LiftTypeInfo, liftReport } from './lift.js';
import {
  type Counts,
  type HoldFact,
  isRebooked,
  type MessageTally,
  NOT_SENT,
  type Rates,
  type RebookingReport,
  type ReportFacts,
  type ReportTypeInfo,
  type RunFact,
  rebookingReport,
  rollUpReports,
  type TaskFact,
} from './rebooking.js';
import { type VariantFact, variantRows } from './variants.js';

export interface Period {
  fromMs: number;
  toMs: number;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Default period: the last 90 days. */
export const DEFAULT_PERIOD_DAYS = 90;

/**
 * `from`/`to` as dates on the clinic's calendar (`to` inclusive: the whole day) or ISO instants
 * (`to` exclusive). Default: the 90 days up to now.
 */
export function parsePeriod(q: { from?: string; to?: string }, timeZone: string, nowMs: number): Period {
  const bound = (v: string, field: 'from' | 'to'): number => {
    const m = DATE.exec(v);
    if (m) {
      let d = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
      const check = addDays(d, 0);
      if (check.month !== d.month || check.day !== d.day) throw invalid(field);
      if (field === 'to') d = addDays(d, 1);
      return fromLocal({ ...d, hour: 0, minute: 0 }, timeZone);
    }
    const ms = /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(ms)) throw invalid(field);
    return ms;
  };
  const toMs = q.to ? bound(q.to, 'to') : nowMs;
  const fromMs = q.from
    ? bound(q.from, 'from')
    : fromLocal({ ...addDays(localDate(toMs, timeZone), -DEFAULT_PERIOD_DAYS), hour: 0, minute: 0 }, timeZone);
  if (fromMs >= toMs)
    throw new RebookError('validation_failed', 'invalid period', {
      issues: [{ path: 'query.from', message: 'must be before to' }],
    });
  return { fromMs, toMs };
}

function invalid(field: string): RebookError {
  return new RebookError('validation_failed', 'invalid period', {
    issues: [{ path: `query.${field}`, message: 'expected a date YYYY-MM-DD or an ISO 8601 instant' }],
  });
}

/** The stage order, labels and intervals of the clinic's treatment types. */
export function reportTypes(config: LoadedConfig, clinic: ClinicConfig): Map<string, ReportTypeInfo> {
  const out = new Map<string, ReportTypeInfo>();
  for (const [key, t] of treatmentTypesFor(config, clinic))
    out.set(key, {
      label: t.label,
      intervalDays: t.intervalDays,
      stages: [...t.stages].sort((a, b) => a.day - b.day),
      later: [
        ...(t.reactivation ?? DEFAULT_REACTIVATION).map((r) => ({
          key: r.key,
          purpose: r.purpose,
          channel: r.channel,
        })),
        {
          key: SNOOZE_TOUCH_KEY,
          purpose: 'reactivation' as const,
          channel: t.stages.some((s) => s.channel === 'sms') ? ('sms' as const) : ('email' as const),
        },
      ],
    });
  return out;
}

/** A run as read, before its rebooking window is placed on the clinic's calendar (`withWindows`). */
export type StoredRun = Omit<RunFact, 'windowEndsAtMs'>;

/** A cohort's facts as the database holds them; `day` (tallies) when read by day (see `readCohortFacts`). */
export interface CohortFacts {
  runs: StoredRun[];
  messages: (MessageTally & { day?: number })[];
  tasks: TaskFact[];
  holds: HoldFact[];
}

/**
 * Reads the facts of the runs anchored in any of `ranges` (treatment instants, `to` exclusive).
 * With `dayStarts` (sorted instants), each message tally also carries `day`: the index of the last
 * day start at or before its run's treatment, so a caller can split the tallies by day.
 */
export async function readCohortFacts(
  db: Db,
  clinicId: string,
  ranges: readonly Period[],
  opts: { treatmentType?: string; dayStarts?: readonly number[] } = {},
): Promise<CohortFacts> {
  const inRange = ranges.map((p) =>
    and(gte(sequenceRuns.anchorAt, new Date(p.fromMs)), lt(sequenceRuns.anchorAt, new Date(p.toMs))),
  );
  const inPeriod: SQL[] = [eq(sequenceRuns.clinicId, clinicId), or(...inRange) ?? sql`false`];
  if (opts.treatmentType) inPeriod.push(eq(sequenceRuns.treatmentType, opts.treatmentType));
  const where = and(...inPeriod);
  const runId = (r: { workflowId: string; runKey: string }) => `${r.workflowId}|${r.runKey}`;

  // The rebooked appointment: the client's next completed one after the treatment, the same
  // treatment type first (the booking itself carries no price).
  // Only a finished, rebooked run (booked, or attended: see isRebooked) counts revenue: the lookup is skipped for the others.
  const nextPrice = sql<
    number | null
  >`case when ${sequenceRuns.outcome} in ('booked', 'attended') and not ${sequenceRuns.running} then
    (select a.price_cents from appointments a
    where a.clinic_id = ${sequenceRuns.clinicId} and a.client_external_id = ${clients.externalId} and a.status = 'completed'
      and a.start_at > ${sequenceRuns.anchorAt} and a.external_id <> ${sequenceRuns.runKey}
    order by (a.treatment_type is not distinct from ${sequenceRuns.treatmentType}) desc, a.start_at asc limit 1) end`;
  // Four independent reads: on PostgreSQL they run side by side on the pool.
  const runsQuery = db
    .select({
      workflowId: sequenceRuns.workflowId,
      runKey: sequenceRuns.runKey,
      treatmentType: sequenceRuns.treatmentType,
      anchorAt: sequenceRuns.anchorAt,
      outcome: sequenceRuns.outcome,
      outcomeStage: sequenceRuns.outcomeStage,
      running: sequenceRuns.running,
      endedAt: sequenceRuns.endedAt,
      nextPrice,
      arm: sequenceRuns.arm,
    })
    .from(sequenceRuns)
    .innerJoin(clients, eq(clients.id, sequenceRuns.clientId))
    .where(where);

  // A message belongs to the run whose "workflowId|runKey|" prefixes its idempotency key.
  const ofRun = sql`left(${messages.idempotencyKey}, length(${sequenceRuns.workflowId}) + length(${sequenceRuns.runKey}) + 2) = ${sequenceRuns.workflowId} || '|' || ${sequenceRuns.runKey} || '|'`;
  // Counted in the database: a period's tens of thousands of messages come back as a few dozen
  // tallies. Each (run, stage)'s first message that went out carries the run's reach. Opens and
  // clicks are email events (the report counts them for emails only).
  const sent = sql`${messages.status} not in (${sql.join(
    [...NOT_SENT].map((st) => sql`${st}`),
    sql`, `,
  )})`;
  // The day of a run: width_bucket over the day starts (epoch ms) counts the starts at or before it.
  const day = opts.dayStarts
    ? sql`width_bucket((extract(epoch from ${sequenceRuns.anchorAt}) * 1000)::float8, ${`{${opts.dayStarts.join(',')}}`}::float8[]) - 1`
    : sql`0`;
  const messagesQuery = db
    .execute(sql`select treatment_type as "treatmentType", stage, channel, status, opened, clicked, day,
        count(*)::int as count, (count(*) filter (where first_sent))::int as reached
      from (select ${sequenceRuns.treatmentType} as treatment_type, ${messages.stage} as stage,
          ${messages.channel} as channel, ${messages.status} as status, ${day} as day,
          ${messages.channel} = 'email' and exists (select 1 from message_events e where e.message_id = ${messages.id} and e.event = 'open') as opened,
          ${messages.channel} = 'email' and exists (select 1 from message_events e where e.message_id = ${messages.id} and e.event = 'click') as clicked,
          ${sent} and row_number() over (partition by ${sequenceRuns.workflowId}, ${sequenceRuns.runKey}, ${messages.stage}, ${sent}
            order by ${messages.id}) = 1 as first_sent
        from ${messages} inner join ${sequenceRuns} on ${messages.workflowId} = ${sequenceRuns.workflowId} and ${ofRun}
        where ${and(where, inArray(messages.channel, ['email', 'sms']))}) as m
      group by treatment_type, stage, channel, status, opened, clicked, day`)
    .then((r) =>
      rows<
        Omit<MessageTally, 'count' | 'reached'> & {
          count: number | string;
          reached: number | string;
          day: number | string;
        }
      >(r).map((t) => {
        const tally: MessageTally & { day?: number } = {
          treatmentType: t.treatmentType,
          stage: t.stage,
          channel: t.channel,
          status: t.status,
          opened: t.opened,
          clicked: t.clicked,
          count: Number(t.count),
          reached: Number(t.reached),
        };
        if (opts.dayStarts) tally.day = Number(t.day);
        return tally;
      }),
    );

  const tasksQuery = db
    .select({
      workflowId: sequenceRuns.workflowId,
      runKey: sequenceRuns.runKey,
      stage: sql<string | null>`${staffTasks.details} ->> 'stage'`,
      status: staffTasks.status,
      outcome: staffTasks.outcome,
    })
    .from(staffTasks)
    .innerJoin(
      sequenceRuns,
      sql`${staffTasks.idempotencyKey} = ${sequenceRuns.workflowId} || '|' || ${sequenceRuns.runKey} || '|escalation'`,
    )
    .where(where);

  const holdsQuery = db
    .select({
      workflowId: sequenceRuns.workflowId,
      runKey: sequenceRuns.runKey,
      stage: deliveryHolds.stage,
      kind: deliveryHolds.kind,
      reason: deliveryHolds.reason,
    })
    .from(deliveryHolds)
    .innerJoin(
      sequenceRuns,
      and(eq(deliveryHolds.workflowId, sequenceRuns.workflowId), eq(deliveryHolds.runKey, sequenceRuns.runKey)),
    )
    .where(where);

  const [runRows, messageRows, taskRows, holdRows] = await Promise.all([
    runsQuery,
    messagesQuery,
    tasksQuery,
    holdsQuery,
  ]);
  return {
    // anchor_at is never null here: the period selects on it.
    runs: runRows.map((r) => ({
      id: runId(r),
      treatmentType: r.treatmentType,
      anchorAtMs: new Date(r.anchorAt as Date).getTime(),
      outcome: r.outcome,
      outcomeStage: r.outcomeStage,
      running: r.running,
      endedAtMs: r.endedAt ? new Date(r.endedAt).getTime() : null,
      nextPriceCents: r.nextPrice === null || r.nextPrice === undefined ? null : Number(r.nextPrice),
      arm: r.arm,
    })),
    messages: messageRows,
    tasks: taskRows.map((t) => ({ runId: runId(t), stage: t.stage, status: t.status, outcome: t.outcome })),
    holds: holdRows.map((h) => ({ runId: runId(h), stage: h.stage, kind: h.kind, reason: h.reason })),
  };
}

/**
 * The report's facts from a cohort's: each run's rebooking window placed on the clinic's calendar
 * (config, not data: a changed interval applies to stored facts too).
 */
export function withWindows(
  cohort: CohortFacts,
  clinic: ClinicConfig,
  types: ReadonlyMap<string, ReportTypeInfo>,
  period: Period,
  /** The clinic's local day starts (sorted) covering every run, when the caller has them (rollup.ts). */
  dayStarts?: readonly number[],
): ReportFacts {
  // The window's end depends only on the treatment's calendar day: computed once per day and
  // interval (a zoned conversion costs ~50 µs; a 20,000-client clinic has thousands of runs a quarter).
  // A day is named by its first instant when the caller knows the days, else found on the calendar.
  const dayOf = dayStarts
    ? (ms: number): number => {
        let lo = 0;
        let hi = dayStarts.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (dayStarts[mid]! <= ms) lo = mid;
          else hi = mid - 1;
        }
        // A run before the first day (none in practice) is its own day.
        return Math.min(dayStarts[lo]!, ms);
      }
    : (() => {
        const dateOf = localDayIndex(period.fromMs, period.toMs, clinic.timeZone);
        return (ms: number): string => {
          const d = dateOf(ms);
          return `${d.year}-${d.month}-${d.day}`;
        };
      })();
  const windowEnds = new Map<string, number>();
  const windowEnd = (anchorAtMs: number, days: number): number => {
    const day = dayOf(anchorAtMs);
    const key = `${day}|${days}`;
    let end = windowEnds.get(key);
    if (end === undefined) {
      end = localDayAt(typeof day === 'number' ? day : anchorAtMs, days, '23:59', clinic.timeZone);
      windowEnds.set(key, end);
    }
    return end;
  };
  return {
    runs: cohort.runs.map((r) => {
      const type = types.get(r.treatmentType);
      return {
        ...r,
        windowEndsAtMs: type
          ? windowEnd(r.anchorAtMs, type.intervalDays + REBOOK_GRACE_DAYS)
          : Number.POSITIVE_INFINITY,
      };
    }),
    messages: cohort.messages.map(({ day: _day, ...t }) => t),
    tasks: cohort.tasks,
    holds: cohort.holds,
  };
}

/** The facts of the runs whose treatment falls in `period`, read directly (the rule; rollup.ts caches it by day). */
export async function loadReportFacts(
  db: Db,
  clinic: ClinicConfig,
  types: ReadonlyMap<string, ReportTypeInfo>,
  period: Period,
  treatmentType?: string,
): Promise<ReportFacts> {
  const cohort = await readCohortFacts(db, clinic.id, [period], treatmentType ? { treatmentType } : {});
  return withWindows(cohort, clinic, types, period);
}

export interface ReportQuery {
  from?: string;
  to?: string;
  treatmentType?: string;
}

const unknownType = (known: Iterable<string>, where: string) =>
  new RebookError('validation_failed', `unknown treatment type for this ${where}`, {
    issues: [{ path: 'query.treatmentType', message: `not one of: ${[...new Set(known)].sort().join(', ')}` }],
  });

async function reportOf(
  db: Db,
  clinic: ClinicConfig,
  types: ReadonlyMap<string, ReportTypeInfo>,
  period: Period,
  treatmentType: string | undefined,
): Promise<RebookingReport> {
  return (await reportAndLiftOf(db, clinic, types, period, treatmentType)).report;
}

/** The rebooking report and the lift report of one clinic from one read of the facts. */
/**
 * The runs a stage with variants reached in the cohort, each with its variant (the first ledger
 * row of the run and stage that went out: every row of one client and stage has the same) and
 * whether the run booked with that stage as its last touch (booked or attended, watched or not).
 */
export async function readVariantFacts(
  db: Db,
  clinicId: string,
  period: Period,
  treatmentType: string | undefined,
): Promise<VariantFact[]> {
  const conds: SQL[] = [
    eq(sequenceRuns.clinicId, clinicId),
    gte(sequenceRuns.anchorAt, new Date(period.fromMs)),
    lt(sequenceRuns.anchorAt, new Date(period.toMs)),
  ];
  if (treatmentType) conds.push(eq(sequenceRuns.treatmentType, treatmentType));
  const ofRun = sql`left(${messages.idempotencyKey}, length(${sequenceRuns.workflowId}) + length(${sequenceRuns.runKey}) + 2) = ${sequenceRuns.workflowId} || '|' || ${sequenceRuns.runKey} || '|'`;
  const sent = sql`${messages.status} not in (${sql.join(
    [...NOT_SENT].map((st) => sql`${st}`),
    sql`, `,
  )})`;
  const r = await db.execute(sql`select treatment_type as "treatmentType", stage, variant, booked from (
      select ${sequenceRuns.treatmentType} as treatment_type, ${messages.stage} as stage, ${messages.variant} as variant,
        (${sequenceRuns.outcome} in ('booked', 'attended') and ${sequenceRuns.outcomeStage} = ${messages.stage}) as booked,
        row_number() over (partition by ${sequenceRuns.workflowId}, ${sequenceRuns.runKey}, ${messages.stage} order by ${messages.id}) as n
      from ${messages} inner join ${sequenceRuns} on ${messages.workflowId} = ${sequenceRuns.workflowId} and ${ofRun}
      where ${and(...conds, sql`${messages.variant} is not null`, sent)}) as m
    where n = 1`);
  return rows<VariantFact>(r).map((f) => ({ ...f, booked: !!f.booked }));
}

/** Stage key → the variant names the clinic configures for it now (stages of every type it runs). */
export function configuredVariants(
  clinic: ClinicConfig,
  types: ReadonlyMap<string, ReportTypeInfo>,
  treatmentType: string | undefined,
): Record<string, string[]> {
  const config = stageVariantsFor(clinic);
  const out: Record<string, string[]> = {};
  for (const [key, t] of types) {
    if (treatmentType && key !== treatmentType) continue;
    for (const stage of t.stages) {
      const list = stageVariants(config, stage);
      if (list.length >= 2) out[stage.key] = [...new Set([...(out[stage.key] ?? []), ...list.map((v) => v.name)])];
    }
  }
  return out;
}

async function reportAndLiftOf(
  db: Db,
  clinic: ClinicConfig,
  types: ReadonlyMap<string, ReportTypeInfo>,
  period: Period,
  treatmentType: string | undefined,
): Promise<{ report: RebookingReport; lift: LiftReport }> {
  const [facts, variantFacts] = await Promise.all([
    loadReportFacts(db, clinic, types, period, treatmentType),
    readVariantFacts(db, clinic.id, period, treatmentType),
  ]);
  const meta = {
    clinics: [clinic.id],
    from: new Date(period.fromMs).toISOString(),
    to: new Date(period.toMs).toISOString(),
    treatmentType: treatmentType ?? null,
  };
  return {
    report: rebookingReport(facts, types, meta),
    lift: {
      ...liftReport(liftFacts(facts), liftTypes(clinic, types), meta),
      variants: variantRows(variantFacts, configuredVariants(clinic, types, treatmentType)),
    },
  };
}

/** One clinic's rebooking report for a period (and optionally one treatment type). */
export async function clinicRebookingReport(
  db: Db,
  config: LoadedConfig,
  clinic: ClinicConfig,
  q: ReportQuery,
  nowMs: number,
): Promise<RebookingReport> {
  const period = parsePeriod(q, clinic.timeZone, nowMs);
  const types = reportTypes(config, clinic);
  if (q.treatmentType && !types.has(q.treatmentType)) throw unknownType(types.keys(), 'clinic');
  return reportOf(db, clinic, types, period, q.treatmentType);
}

/** One clinic's totals in an agency roll-up. */
export interface ClinicTotals {
  clinicId: string;
  name: string;
  totals: Counts & Rates;
  /** The clinic's lift (treated against held-out clients, every treatment type pooled). */
  lift: LiftRow;
}

/**
 * An agency's clinics in id order and the period, both validated: the period even without
 * clinics (a bad period answers 400 whatever the agency holds), the treatment type against the
 * types any of its clinics runs.
 */
function agencyScope(config: LoadedConfig, agencyId: string, q: ReportQuery, nowMs: number) {
  const clinics = [...config.clinics.values()]
    .filter((c) => c.agency === agencyId)
    .sort((a, b) => a.id.localeCompare(b.id));
  const period = parsePeriod(q, clinics[0]?.timeZone ?? 'UTC', nowMs);
  if (q.treatmentType) {
    const known = clinics.flatMap((c) => [...reportTypes(config, c).keys()]);
    if (!known.includes(q.treatmentType)) throw unknownType(known, 'agency');
  }
  return { clinics, period };
}

/** The roll-up of an agency's clinics, with each clinic's totals beside it. */
export interface AgencyRebookingReport extends RebookingReport {
  agency: string;
  byClinic: ClinicTotals[];
}

/**
 * The agency's clinics rolled up (sums per treatment type and stage, rates recomputed: see
 * `rollUpReports`), each clinic's period on its own calendar. A treatment type only some clinics
 * run is accepted; the others count none of it.
 */
export async function agencyRebookingReport(
  db: Db,
  config: LoadedConfig,
  agencyId: string,
  q: ReportQuery,
  nowMs: number,
): Promise<AgencyRebookingReport> {
  const { clinics, period } = agencyScope(config, agencyId, q, nowMs);
  const reports: RebookingReport[] = [];
  const lifts: LiftRow[] = [];
  for (const clinic of clinics) {
    const both = await reportAndLiftOf(
      db,
      clinic,
      reportTypes(config, clinic),
      parsePeriod(q, clinic.timeZone, nowMs),
      q.treatmentType,
    );
    reports.push(both.report);
    lifts.push(both.lift.totals);
  }
  const rolled =
    reports.length > 0
      ? rollUpReports(reports)
      : rebookingReport({ runs: [], messages: [], tasks: [], holds: [] }, new Map(), {
          clinics: [],
          from: new Date(period.fromMs).toISOString(),
          to: new Date(period.toMs).toISOString(),
          treatmentType: q.treatmentType ?? null,
        });
  return {
    agency: agencyId,
    ...rolled,
    byClinic: reports.map((r, i) => ({
      clinicId: clinics[i]!.id,
      name: clinics[i]!.name,
      totals: r.totals,
      lift: lifts[i]!,
    })),
  };
}

/** The lift facts of a rebooking report's runs: booked on time is what counts as rebooked. */
export function liftFacts(facts: ReportFacts): LiftRunFact[] {
  return facts.runs.map((r) => ({
    treatmentType: r.treatmentType,
    arm: r.arm,
    running: r.running,
    rebooked: isRebooked(r.outcome) && r.endedAtMs !== null && r.endedAtMs <= r.windowEndsAtMs,
    priceCents: r.nextPriceCents,
  }));
}

/** Each treatment type's label, configured holdout share and average price, as the lift report takes them. */
export function liftTypes(clinic: ClinicConfig, types: ReadonlyMap<string, ReportTypeInfo>): Map<string, LiftTypeInfo> {
  const out = new Map<string, LiftTypeInfo>();
  for (const [key, t] of types)
    out.set(key, {
      label: t.label,
      share: holdoutShareFor(clinic, key),
      configuredPriceCents: averagePriceCentsFor(clinic, key),
    });
  return out;
}

/** One clinic's lift report (treated against held-out clients) for a period. */
export async function clinicLiftReport(
  db: Db,
  config: LoadedConfig,
  clinic: ClinicConfig,
  q: ReportQuery,
  nowMs: number,
): Promise<LiftReport> {
  const period = parsePeriod(q, clinic.timeZone, nowMs);
  const types = reportTypes(config, clinic);
  if (q.treatmentType && !types.has(q.treatmentType)) throw unknownType(types.keys(), 'clinic');
  return (await reportAndLiftOf(db, clinic, types, period, q.treatmentType)).lift;
}

/** The agency roll-up's lift column: each clinic's pooled lift (clinics are not pooled with each other: their rates differ). */
export interface AgencyLiftReport {
  agency: string;
  from: string;
  to: string;
  treatmentType: string | null;
  byClinic: { clinicId: string; name: string; lift: LiftReport['totals'] }[];
}

export async function agencyLiftReport(
  db: Db,
  config: LoadedConfig,
  agencyId: string,
  q: ReportQuery,
  nowMs: number,
): Promise<AgencyLiftReport> {
  const { clinics, period } = agencyScope(config, agencyId, q, nowMs);
  const byClinic: AgencyLiftReport['byClinic'] = [];
  for (const clinic of clinics) {
    const types = reportTypes(config, clinic);
    const { lift } = await reportAndLiftOf(db, clinic, types, parsePeriod(q, clinic.timeZone, nowMs), q.treatmentType);
    byClinic.push({ clinicId: clinic.id, name: clinic.name, lift: lift.totals });
  }
  return {
    agency: agencyId,
    from: new Date(period.fromMs).toISOString(),
    to: new Date(period.toMs).toISOString(),
    treatmentType: q.treatmentType ?? null,
    byClinic,
  };
}
