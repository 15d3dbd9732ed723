/**
 * The lift report (issue 13): rebook rate of treated against held-out clients per treatment type,
 * each with its 95% Wilson interval, the difference with Newcombe's hybrid score interval, and
 * the visits and revenue the program added. When the arms are too small to see a 20-point lift at
 * 95% confidence with 80% power, the report says so and how many more finished sequences each arm
 * needs, and prints no lift. Pure: the facts come from the rebooking report's query.
 */
import type { Arm } from '../core/holdout.js';
import {
  type Difference,
  excludesZero,
  type Interval,
  newcombeDifference,
  sampleSizeForLift,
  wilsonInterval,
} from '../core/proportions.js';
import type { VariantRow } from './variants.js';

/** The lift the report is powered to see: 20 percentage points. */
export const TARGET_LIFT = 0.2;
/** Baseline rebook rate assumed before any held-out client has finished (DOMAIN.md: 30–40% without a program). */
export const ASSUMED_BASELINE = 0.35;

/** One finished or running sequence run, as the lift report needs it. */
export interface LiftRunFact {
  treatmentType: string;
  /** null: enrolled before holdouts existed (treated). */
  arm: Arm | null | undefined;
  running: boolean;
  /** Booked within the rebooking window (the rebooking report's "booked on time"). */
  rebooked: boolean;
  /** Price of the rebooked appointment where the platform gave one. */
  priceCents: number | null;
}

export interface ArmStats {
  enrolled: number;
  finished: number;
  rebooked: number;
  /** rebooked / finished (running sequences are not decided). */
  rate: number | null;
  interval: Interval | null;
}

export type LiftStatus = 'no_holdout' | 'too_small' | 'measured';

export interface Range {
  estimate: number;
  lower: number;
  upper: number;
}

export interface LiftRow {
  treatmentType: string;
  label: string;
  treated: ArmStats;
  holdout: ArmStats;
  /**
   * `no_holdout`: no held-out client has finished; `too_small`: fewer finished than a 20-point
   * lift needs (see `needed`), no lift printed; `measured`: difference, visits and revenue given.
   */
  status: LiftStatus;
  /** treated − held-out rate with its 95% interval (measured only). */
  difference: Difference | null;
  /** Whether the interval excludes zero: only then may anyone say the program changed the rate. */
  significant: boolean;
  /** Finished sequences each arm needs for a 20-point lift at 95%/80%, and how many more than now. */
  needed: { baselineRate: number; treated: number; holdout: number; moreTreated: number; moreHoldout: number };
  /** Price per rebooked visit and where it comes from. */
  priceCents: number | null;
  priceSource: 'platform' | 'configured' | null;
  /** Extra rebooked visits among the treated clients the program caused (difference × treated finished). */
  visits: Range | null;
  revenueCents: Range | null;
}

function armStats(runs: LiftRunFact[]): ArmStats {
  const finished = runs.filter((r) => !r.running);
  const rebooked = finished.filter((r) => r.rebooked).length;
  return {
    enrolled: runs.length,
    finished: finished.length,
    rebooked,
    rate: finished.length ? rebooked / finished.length : null,
    interval: wilsonInterval(rebooked, finished.length),
  };
}

/**
 * One row: `share` is the configured holdout share (sets the arms' ratio before both arms have
 * data), `configuredPriceCents` the clinic's average price for the type.
 */
export function liftRow(
  treatmentType: string,
  label: string,
  runs: LiftRunFact[],
  share: number,
  configuredPriceCents: number | null,
): LiftRow {
  const treated = armStats(runs.filter((r) => r.arm !== 'holdout'));
  const holdout = armStats(runs.filter((r) => r.arm === 'holdout'));
  // The held-out rate is the baseline the lift is measured from; capped so baseline + 20 points ≤ 100%.
  const baselineRate = Math.min(holdout.finished ? holdout.rate! : ASSUMED_BASELINE, 1 - TARGET_LIFT);
  const ratio =
    treated.finished && holdout.finished
      ? treated.finished / holdout.finished
      : share > 0 && share < 1
        ? (1 - share) / share
        : 9;
  const n = sampleSizeForLift(baselineRate, baselineRate + TARGET_LIFT, ratio);
  const needed = {
    baselineRate,
    treated: n.treated,
    holdout: n.comparison,
    moreTreated: Math.max(0, n.treated - treated.finished),
    moreHoldout: Math.max(0, n.comparison - holdout.finished),
  };
  const priced = runs.filter((r) => !r.running && r.rebooked && r.priceCents !== null);
  const platformPrice = priced.length
    ? Math.round(priced.reduce((s, r) => s + r.priceCents!, 0) / priced.length)
    : null;
  const priceCents = platformPrice ?? configuredPriceCents;
  const priceSource = platformPrice !== null ? 'platform' : configuredPriceCents !== null ? 'configured' : null;
  const status: LiftStatus =
    holdout.finished === 0 ? 'no_holdout' : needed.moreTreated > 0 || needed.moreHoldout > 0 ? 'too_small' : 'measured';
  const difference =
    status === 'measured'
      ? newcombeDifference(treated.rebooked, treated.finished, holdout.rebooked, holdout.finished)
      : null;
  const visits = difference
    ? {
        estimate: difference.estimate * treated.finished,
        lower: difference.lower * treated.finished,
        upper: difference.upper * treated.finished,
      }
    : null;
  return {
    treatmentType,
    label,
    treated,
    holdout,
    status,
    difference,
    significant: !!difference && excludesZero(difference),
    needed,
    priceCents,
    priceSource,
    visits,
    revenueCents:
      visits && priceCents !== null
        ? {
            estimate: Math.round(visits.estimate * priceCents),
            lower: Math.round(visits.lower * priceCents),
            upper: Math.round(visits.upper * priceCents),
          }
        : null,
  };
}

export interface LiftReport {
  clinics: string[];
  from: string;
  to: string;
  treatmentType: string | null;
  /** Every treatment type's runs pooled (price: the treated-weighted mean of the types' prices). */
  totals: LiftRow;
  types: LiftRow[];
  /** Per stage with variants: sends, bookings and conversion per variant, and the better one when known (variants.ts). */
  variants: VariantRow[];
}

export interface LiftTypeInfo {
  label: string;
  /** Configured holdout share. */
  share: number;
  configuredPriceCents: number | null;
}

export function liftReport(
  runs: LiftRunFact[],
  types: ReadonlyMap<string, LiftTypeInfo>,
  meta: Pick<LiftReport, 'clinics' | 'from' | 'to' | 'treatmentType'>,
): LiftReport {
  const byType = new Map<string, LiftRunFact[]>();
  for (const r of runs) {
    const list = byType.get(r.treatmentType) ?? [];
    if (!list.length) byType.set(r.treatmentType, list);
    list.push(r);
  }
  const keys = [...new Set([...types.keys(), ...byType.keys()])].filter(
    (k) => !meta.treatmentType || k === meta.treatmentType,
  );
  const rows = keys
    .map((k) => {
      const info = types.get(k);
      return liftRow(k, info?.label ?? k, byType.get(k) ?? [], info?.share ?? 0, info?.configuredPriceCents ?? null);
    })
    .filter((r) => r.treated.enrolled + r.holdout.enrolled > 0 || (types.get(r.treatmentType)?.share ?? 0) > 0)
    .sort((a, b) => a.treatmentType.localeCompare(b.treatmentType));
  const pooled = runs.filter((r) => !meta.treatmentType || r.treatmentType === meta.treatmentType);
  const shares = [...types.values()].map((t) => t.share).filter((s) => s > 0);
  const totals = liftRow('all', 'All treatment types', pooled, shares.length ? Math.min(...shares) : 0, null);
  // Revenue differs by type: the total is the sum of the measured types' revenue (its range the sum
  // of their ranges, wider than a joint interval), and none when a measured type has no price.
  const measured = rows.filter((r) => r.status === 'measured');
  totals.priceCents = null;
  totals.priceSource = null;
  totals.revenueCents =
    totals.status === 'measured' && measured.length && measured.every((r) => r.revenueCents)
      ? measured.reduce(
          (sum, r) => ({
            estimate: sum.estimate + r.revenueCents!.estimate,
            lower: sum.lower + r.revenueCents!.lower,
            upper: sum.upper + r.revenueCents!.upper,
          }),
          { estimate: 0, lower: 0, upper: 0 },
        )
      : null;
  return { ...meta, totals, types: rows, variants: [] };
}
