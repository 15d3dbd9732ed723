/**
 * Interval arithmetic for rebook rates (issue 13): Wilson's score interval for one proportion,
 * Newcombe's hybrid score interval for the difference of two independent proportions, and the
 * sample size a two-arm comparison needs. Formulas from R. G. Newcombe, "Two-sided confidence
 * intervals for the single proportion: comparison of seven methods" (method 3) and "Interval
 * estimation for the difference between independent proportions: comparison of eleven methods"
 * (method 10), Statistics in Medicine 17 (1998) 857–872 and 873–890. Wilson keeps its coverage
 * at the small counts and rates near 0 or 1 that a clinic's holdout produces, where the usual
 * p ± 1.96·SE interval leaves [0, 1] or collapses to zero width.
 */

/** Two-sided 95%: the standard normal's 97.5th percentile. */
export const Z_95 = 1.959963984540054;
/** 80% power: the standard normal's 80th percentile. */
export const Z_POWER_80 = 0.8416212335729143;

export interface Interval {
  lower: number;
  upper: number;
}

/** Wilson score interval for `x` successes of `n` (null when n = 0: nothing is known). */
export function wilsonInterval(x: number, n: number, z = Z_95): Interval | null {
  if (!Number.isInteger(x) || !Number.isInteger(n) || x < 0 || x > n) throw new RangeError('need 0 ≤ x ≤ n, integers');
  if (n === 0) return null;
  const p = x / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // Exact at the edges (the formula's rounding can leave 1e-17 below 0 at x = 0).
  return { lower: x === 0 ? 0 : Math.max(0, centre - half), upper: x === n ? 1 : Math.min(1, centre + half) };
}

export interface Difference extends Interval {
  /** p1 − p2. */
  estimate: number;
}

/**
 * Newcombe's hybrid score interval for p1 − p2 (x1 of n1 against x2 of n2): each side combines
 * the two Wilson intervals' distances, so it stays inside [−1, 1] and is sound at zero counts.
 */
export function newcombeDifference(x1: number, n1: number, x2: number, n2: number, z = Z_95): Difference | null {
  const a = wilsonInterval(x1, n1, z);
  const b = wilsonInterval(x2, n2, z);
  if (!a || !b) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const d = p1 - p2;
  return {
    estimate: d,
    lower: d - Math.sqrt((p1 - a.lower) ** 2 + (b.upper - p2) ** 2),
    upper: d + Math.sqrt((a.upper - p1) ** 2 + (p2 - b.lower) ** 2),
  };
}

/**
 * Clients needed in the comparison arm (baseline rate `p0`) to detect a lift to `p1` with a
 * two-sided test at level (1 − confidence) and the given power, when the treated arm is `ratio`
 * times as large (Fleiss' formula without continuity correction, unequal allocation):
 *   n0 = [zα·√(p̄q̄(1 + 1/r)) + zβ·√(p1q1/r + p0q0)]² / (p1 − p0)²,  p̄ = (r·p1 + p0)/(1 + r).
 * The treated arm needs r·n0. Both rounded up.
 */
export function sampleSizeForLift(
  p0: number,
  p1: number,
  ratio = 1,
  zAlpha = Z_95,
  zBeta = Z_POWER_80,
): { comparison: number; treated: number } {
  if (!(p0 >= 0 && p0 <= 1 && p1 >= 0 && p1 <= 1) || p0 === p1)
    throw new RangeError('need two distinct rates in [0, 1]');
  if (!(ratio > 0)) throw new RangeError('ratio must be positive');
  const pBar = (ratio * p1 + p0) / (1 + ratio);
  const num =
    zAlpha * Math.sqrt(pBar * (1 - pBar) * (1 + 1 / ratio)) +
    zBeta * Math.sqrt((p1 * (1 - p1)) / ratio + p0 * (1 - p0));
  const comparison = Math.ceil((num * num) / ((p1 - p0) * (p1 - p0)) - 1e-9);
  return { comparison, treated: Math.ceil(comparison * ratio - 1e-9) };
}

/** Whether an interval lies wholly on one side of zero (a difference the data supports). */
export function excludesZero(i: Interval): boolean {
  return i.lower > 0 || i.upper < 0;
}

/** How long a clinic must enrol before a holdout comparison can see a lift (`monthsToSeeLift`). */
export interface LiftPlan {
  /** Finished sequences each arm needs (`sampleSizeForLift`, arms in the holdout's ratio). */
  needed: { treated: number; holdout: number };
  /** Whole months of enrolment until both arms have them; null when nobody is held out. */
  monthsOfEnrolment: number | null;
}

/**
 * The power estimate behind "how many months until this clinic can see a 20-point lift at 95%
 * confidence": each month `monthlyEnrolments` clients enrol, `holdoutShare` of them held out;
 * the arms need the Fleiss sample sizes for `baselineRate` → `baselineRate + lift` at 80% power,
 * and the month count is the one at which the slower arm gets there (rounded up). The sequences
 * must then finish (the treatment's interval plus the grace period) before the report shows it.
 */
export function monthsToSeeLift(input: {
  monthlyEnrolments: number;
  holdoutShare: number;
  baselineRate: number;
  lift?: number;
}): LiftPlan {
  const { monthlyEnrolments: m, holdoutShare: s, baselineRate: p0 } = input;
  const lift = input.lift ?? 0.2;
  if (!(s > 0 && s < 1)) {
    const n = sampleSizeForLift(p0, Math.min(1, p0 + lift), 9);
    return { needed: { treated: n.treated, holdout: n.comparison }, monthsOfEnrolment: null };
  }
  const n = sampleSizeForLift(p0, Math.min(1, p0 + lift), (1 - s) / s);
  const needed = { treated: n.treated, holdout: n.comparison };
  if (!(m > 0)) return { needed, monthsOfEnrolment: null };
  const months = Math.max(needed.holdout / (m * s), needed.treated / (m * (1 - s)));
  return { needed, monthsOfEnrolment: Math.ceil(months - 1e-9) };
}
