/**
 * The simulator's proof-of-lift plan (issue 13 §4): per treatment type, the monthly enrolment the
 * simulated history gives, the holdout share (the clinic's, or the one asked for), and how many
 * months until the lift report can show a 20-point lift at 95% confidence — months of enrolment
 * (src/core/proportions.ts `monthsToSeeLift`) plus the time the last of those sequences takes to
 * finish (interval + 30 days). Pure.
 */
import { monthsToSeeLift } from '../core/proportions.js';
import { REBOOK_GRACE_DAYS } from '../core/types.js';

/** Days in an average month (365.25 / 12). */
const MONTH_DAYS = 30.4375;

export interface LiftPlanRow {
  treatmentType: string;
  monthlyEnrolments: number;
  holdoutShare: number;
  baselineRate: number;
  needed: { treated: number; holdout: number };
  /** Months of enrolment until both arms have the sequences a 20-point lift needs (null: no holdout or no enrolment). */
  monthsOfEnrolment: number | null;
  /** Then the sequences finish: months from the first enrolment until the report can show the lift. */
  monthsUntilVisible: number | null;
  /** The rebook rate the stage conversions imply for a client who gets every stage (`cumulativeRebookRate`). */
  impliedProgramRate: number | null;
  /** What a 20-point lift is worth at this volume: extra visits a month, and their value at the configured price. */
  visitsPerMonthAtLift: number;
  revenueCentsPerMonthAtLift: number | null;
}

/**
 * The share of clients who book after at least one stage when each stage converts `rates[i]` of
 * the clients it reaches (those who have not booked yet): 1 − Π(1 − rᵢ). Reminder 0.22, incentive
 * 0.35, check-in 0.12 and staff call 0.30 give 1 − 0.78·0.65·0.88·0.70 = 68.8%.
 */
export function cumulativeRebookRate(rates: readonly number[]): number {
  return 1 - rates.reduce((left, r) => left * (1 - r), 1);
}

export function liftPlan(
  byType: readonly { treatmentType: string; enrolled: number }[],
  months: number,
  types: ReadonlyMap<string, { intervalDays: number }>,
  opts: {
    holdoutShare: (treatmentType: string) => number;
    baselineRate: number;
    lift?: number;
    /** Each stage's conversion of a type, in stage order (none: no implied rate). */
    stageRates?: (treatmentType: string) => number[] | undefined;
    /** Price of a visit (cents) for revenue, when known. */
    priceCents?: (treatmentType: string) => number | null;
  },
): LiftPlanRow[] {
  const lift = opts.lift ?? 0.2;
  return byType
    .filter((t) => t.enrolled > 0)
    .map((t) => {
      const monthlyEnrolments = t.enrolled / months;
      const holdoutShare = opts.holdoutShare(t.treatmentType);
      const plan = monthsToSeeLift({
        monthlyEnrolments,
        holdoutShare,
        baselineRate: opts.baselineRate,
        ...(opts.lift !== undefined ? { lift: opts.lift } : {}),
      });
      const windowDays = (types.get(t.treatmentType)?.intervalDays ?? 0) + REBOOK_GRACE_DAYS;
      const stageRates = opts.stageRates?.(t.treatmentType);
      const price = opts.priceCents?.(t.treatmentType) ?? null;
      const visits = monthlyEnrolments * lift;
      return {
        treatmentType: t.treatmentType,
        monthlyEnrolments,
        holdoutShare,
        baselineRate: opts.baselineRate,
        needed: plan.needed,
        monthsOfEnrolment: plan.monthsOfEnrolment,
        monthsUntilVisible:
          plan.monthsOfEnrolment === null ? null : Math.ceil(plan.monthsOfEnrolment + windowDays / MONTH_DAYS - 1e-9),
        impliedProgramRate: stageRates ? cumulativeRebookRate(stageRates) : null,
        visitsPerMonthAtLift: visits,
        revenueCentsPerMonthAtLift: price === null ? null : Math.round(visits * price),
      };
    });
}

/** The summary's lines: one per treatment type. */
export function renderLiftPlan(rows: readonly LiftPlanRow[]): string {
  if (!rows.length) return '';
  const lines = ['', 'Proof of lift: months until a 20-point lift shows at 95% confidence (80% power)'];
  for (const r of rows) {
    const head = `  ${r.treatmentType}: ${r.monthlyEnrolments.toFixed(1)} enrolments a month, ${Math.round(r.holdoutShare * 100)}% held out`;
    lines.push(
      r.monthsOfEnrolment === null
        ? `${head}: never without a holdout (set lift.holdout, e.g. 0.1, or --holdout)`
        : `${head}: ${r.monthsOfEnrolment} months of enrolment (${r.needed.treated} treated + ${r.needed.holdout} held out, baseline ${Math.round(r.baselineRate * 100)}%), visible after about ${r.monthsUntilVisible} months`,
    );
    const worth = `    a 20-point lift is +${r.visitsPerMonthAtLift.toFixed(1)} visits a month${r.revenueCentsPerMonthAtLift === null ? '' : ` (+$${Math.round(r.revenueCentsPerMonthAtLift / 100).toLocaleString('en-US')})`}`;
    lines.push(
      r.impliedProgramRate === null
        ? worth
        : `${worth}; the stage rates imply ${(r.impliedProgramRate * 100).toFixed(1)}% rebooked in the program`,
    );
  }
  return `${lines.join('\n')}\n`;
}
