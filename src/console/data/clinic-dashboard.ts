/**
 * The clinic dashboard's figures for a period. Everything follows the rebooking report's rule: the
 * period selects treatments (a cohort), and the counting is `rebookingReport` (src/reports) run
 * over the facts `loadReportFacts` reads — once for the period, and per month of treatment for
 * the rebook-rate chart. Nothing here counts a booking or a rate a second way.
 */
import { type LoadedConfig, treatmentTypesFor } from '../../config/load.js';
import type { ClinicConfig } from '../../config/schema.js';
import { type CalendarDate, localDayIndex } from '../../core/local-days.js';
import type { Db } from '../../db/client.js';
import { type UnmappedService, unmappedServicesOf } from '../../ingest/service-mappings.js';
import { type LiftReport, liftReport } from '../../reports/lift.js';
import {
  configuredVariants,
  liftFacts,
  liftTypes,
  loadReportFacts,
  type Period,
  readVariantFacts,
  reportTypes,
} from '../../reports/query.js';
import {
  BEFORE_FIRST_TOUCH,
  type HeldBack,
  type RebookingReport,
  type ReportFacts,
  rebookingReport,
} from '../../reports/rebooking.js';
import { loadReportFactsRolledUp } from '../../reports/rollup.js';
import { variantRows } from '../../reports/variants.js';
import { type ConnectorHealth, loadConnectorHealth } from './connector-health.js';

/** One configured stage in the funnel, summed over the clinic's treatment types by stage key. */
export interface FunnelStage {
  stage: string;
  label: string;
  /** Runs this stage reached (a message went out, or a staff task was created). */
  reached: number;
  /** Runs booked with this stage as the last touch before the booking. */
  bookedAfter: number;
}

export interface ClinicFunnel {
  enrolled: number;
  stages: FunnelStage[];
  /** Booked before any message went out (what the clinic gets without the program's touches). */
  bookedBeforeFirstTouch: number;
  booked: number;
  escalated: number;
  staffConverted: number;
  churned: number;
  notInterested: number;
  running: number;
  finished: number;
}

export interface MonthRate {
  /** YYYY-MM on the clinic's calendar: the month of the treatments. */
  month: string;
  enrolled: number;
  finished: number;
  bookedOnTime: number;
  rebookingRate: number | null;
  /** Runs booked before any touch ÷ finished runs: the comparison "without the program". */
  beforeFirstTouchRate: number | null;
}

export interface MessageStatusCount {
  channel: 'email' | 'sms';
  status: string;
  count: number;
}

export interface ClinicDashboard {
  clinicId: string;
  clinicName: string;
  timeZone: string;
  period: Period;
  report: RebookingReport;
  funnel: ClinicFunnel;
  byMonth: MonthRate[];
  messages: MessageStatusCount[];
  heldBack: HeldBack;
  unmapped: { services: UnmappedService[]; treatmentTypes: { key: string; label: string }[] };
  connector: ConnectorHealth;
  /** Proof of lift over the same facts (treated against held-out clients), with the stage variants. */
  lift: LiftReport;
  /** Whether any treatment type of the clinic holds clients out (lift.holdout > 0). */
  holdoutConfigured: boolean;
}

const PURPOSE_LABEL: Record<string, string> = {
  reminder: 'Reminder',
  incentive: 'Incentive',
  checkin: 'Check-in',
  escalation: 'Staff call',
  reactivation: 'Reactivation',
  care: 'Care',
};

const stageLabel = (stage: string, purpose: string | null): string =>
  (purpose && PURPOSE_LABEL[purpose]) || stage.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

/** The funnel of a report: rebooking stages summed by key across treatment types, in their configured order. */
export function funnelOf(report: RebookingReport): ClinicFunnel {
  const stages = new Map<string, FunnelStage>();
  let bookedBeforeFirstTouch = 0;
  for (const t of report.types)
    for (const s of t.stages) {
      if (s.stage === BEFORE_FIRST_TOUCH) {
        bookedBeforeFirstTouch += s.bookings;
        continue;
      }
      // Care touches are not conversion stages (issue 11): they reach everyone and are never credited.
      if (s.purpose === 'care') continue;
      let row = stages.get(s.stage);
      if (!row) {
        row = { stage: s.stage, label: stageLabel(s.stage, s.purpose), reached: 0, bookedAfter: 0 };
        stages.set(s.stage, row);
      }
      row.reached += s.reached;
      row.bookedAfter += s.bookings;
    }
  const t = report.totals;
  return {
    enrolled: t.enrolled,
    stages: [...stages.values()],
    bookedBeforeFirstTouch,
    booked: t.booked,
    escalated: t.escalated,
    staffConverted: t.staffConverted,
    churned: t.churned,
    notInterested: t.notInterested,
    running: t.running,
    finished: t.finished,
  };
}

const monthKey = (d: CalendarDate): string => `${d.year}-${String(d.month).padStart(2, '0')}`;

const rate = (n: number, d: number): number | null => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null);

/** The rebooking rate per month of treatment: the same report, run over each month's runs. */
export function ratesByMonth(
  facts: ReportFacts,
  types: Parameters<typeof rebookingReport>[1],
  period: Period,
  timeZone: string,
): MonthRate[] {
  // One pass: each run's month, then each fact into its run's month.
  const months = new Map<string, ReportFacts>();
  const empty = (): ReportFacts => ({ runs: [], messages: [], tasks: [], holds: [] });
  const dateOf = localDayIndex(period.fromMs, period.toMs, timeZone);
  const monthOf = (ms: number) => monthKey(dateOf(ms));
  // Every month of the period, so a month without treatments shows as empty rather than missing.
  for (let ms = period.fromMs; ms < period.toMs; ms += 86_400_000) months.set(monthOf(ms), empty());
  if (!months.has(monthOf(period.toMs - 1))) months.set(monthOf(period.toMs - 1), empty());
  const monthOfRun = new Map<string, ReportFacts>();
  for (const r of facts.runs) {
    const m = monthOf(r.anchorAtMs);
    let sub = months.get(m);
    if (!sub) {
      sub = empty();
      months.set(m, sub);
    }
    sub.runs.push(r);
    monthOfRun.set(r.id, sub);
  }
  // Message tallies are not per run, and a month's rates do not count messages.
  for (const x of facts.tasks) monthOfRun.get(x.runId)?.tasks.push(x);
  for (const x of facts.holds) monthOfRun.get(x.runId)?.holds.push(x);
  return [...months.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([month, sub]) => {
      const report = rebookingReport(sub, types, { clinics: [], from: month, to: month });
      const before = report.types.reduce(
        (n, t) => n + (t.stages.find((s) => s.stage === BEFORE_FIRST_TOUCH)?.bookings ?? 0),
        0,
      );
      return {
        month,
        enrolled: report.totals.enrolled,
        finished: report.totals.finished,
        bookedOnTime: report.totals.bookedOnTime,
        rebookingRate: report.totals.rebookingRate,
        beforeFirstTouchRate: rate(before, report.totals.finished),
      };
    });
}

function messageCounts(facts: ReportFacts): MessageStatusCount[] {
  const counts = new Map<string, MessageStatusCount>();
  for (const m of facts.messages) {
    const key = `${m.channel}|${m.status}`;
    const row = counts.get(key) ?? { channel: m.channel, status: m.status, count: 0 };
    row.count += m.count;
    counts.set(key, row);
  }
  return [...counts.values()].sort(
    (a, b) => a.channel.localeCompare(b.channel) || b.count - a.count || a.status.localeCompare(b.status),
  );
}

/** Unmapped services listed at most (the most recently seen first). */
export const DASHBOARD_UNMAPPED_LIMIT = 20;

/** Everything the clinic dashboard shows for `period` (cohort of treatments completed in it). */
export async function loadClinicDashboard(
  db: Db,
  config: LoadedConfig,
  clinic: ClinicConfig,
  period: Period,
  nowMs: number,
  /** `direct` reads the ledger itself (what the rollup must equal); `rollup` serves stored days. */
  source: 'rollup' | 'direct' = 'rollup',
): Promise<ClinicDashboard> {
  const types = reportTypes(config, clinic);
  const [facts, services, [connector], variantFacts] = await Promise.all([
    source === 'rollup'
      ? loadReportFactsRolledUp(db, clinic, types, period)
      : loadReportFacts(db, clinic, types, period),
    unmappedServicesOf(db, clinic.id, { limit: DASHBOARD_UNMAPPED_LIMIT }),
    loadConnectorHealth(db, [clinic], nowMs),
    readVariantFacts(db, clinic.id, period, undefined),
  ]);
  const liftTypeInfo = liftTypes(clinic, types);
  const report = rebookingReport(facts, types, {
    clinics: [clinic.id],
    from: new Date(period.fromMs).toISOString(),
    to: new Date(period.toMs).toISOString(),
  });
  return {
    clinicId: clinic.id,
    clinicName: clinic.name,
    timeZone: clinic.timeZone,
    period,
    report,
    funnel: funnelOf(report),
    byMonth: ratesByMonth(facts, types, period, clinic.timeZone),
    messages: messageCounts(facts),
    heldBack: report.totals.heldBack,
    unmapped: {
      services,
      treatmentTypes: [...treatmentTypesFor(config, clinic)].map(([key, t]) => ({ key, label: t.label })),
    },
    connector: connector!,
    // The lift report's own rule over the dashboard's facts: nothing is counted a second way.
    lift: {
      ...liftReport(liftFacts(facts), liftTypeInfo, {
        clinics: [clinic.id],
        from: new Date(period.fromMs).toISOString(),
        to: new Date(period.toMs).toISOString(),
        treatmentType: null,
      }),
      variants: variantRows(variantFacts, configuredVariants(clinic, types, undefined)),
    },
    holdoutConfigured: [...liftTypeInfo.values()].some((t) => t.share > 0),
  };
}
