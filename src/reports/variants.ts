/**
 * The variant report (issue 13 §3): per stage and variant, the runs it reached (sends), the
 * bookings attributed to it (the stage was the run's last touch before the booking) and the
 * conversion with its 95% Wilson interval. A variant is called better only when it leads every
 * other variant of the stage by a difference whose 95% Newcombe interval excludes zero, and only
 * once every variant has the sends a 10-point difference needs (95% confidence, 80% power):
 * stopping at the first significant-looking difference would call winners that are noise. Pure.
 */
import {
  type Difference,
  excludesZero,
  type Interval,
  newcombeDifference,
  sampleSizeForLift,
  wilsonInterval,
} from '../core/proportions.js';

/**
 * The difference between variants the report is powered to see. Variants of one stage differ
 * less than the program from no program (the lift report's 20 points); stage conversions run
 * 10–40% (DOMAIN.md), so 10 points is a change worth acting on.
 */
export const VARIANT_TARGET_DIFFERENCE = 0.1;
/** Conversion assumed before any variant has a send: the stage benchmarks' middle (DOMAIN.md). */
export const ASSUMED_STAGE_CONVERSION = 0.25;

/** One run that a stage with variants reached. */
export interface VariantFact {
  treatmentType: string;
  stage: string;
  variant: string;
  /** The run booked with this stage as its last touch before the booking. */
  booked: boolean;
}

export interface VariantStats {
  variant: string;
  /** Runs the variant reached (a stage is sent once per run). */
  sends: number;
  bookings: number;
  /** bookings / sends. */
  rate: number | null;
  interval: Interval | null;
}

export interface VariantRow {
  stage: string;
  /** Variants by conversion, best first (ties: by name). */
  variants: VariantStats[];
  /** `too_small`: a variant has fewer sends than a 10-point difference needs (see `needed`); no winner called. */
  status: 'too_small' | 'measured';
  /** The leading variant's rate minus the runner-up's, with its 95% Newcombe interval (measured only). */
  difference: Difference | null;
  /** The variant the data supports as better than every other, or null. */
  better: string | null;
  /** Sends each variant needs, and how many more the variant furthest from it needs. */
  needed: { perVariant: number; more: number; baselineRate: number };
}

function stats(variant: string, facts: VariantFact[]): VariantStats {
  const bookings = facts.filter((f) => f.booked).length;
  return {
    variant,
    sends: facts.length,
    bookings,
    rate: facts.length ? bookings / facts.length : null,
    interval: wilsonInterval(bookings, facts.length),
  };
}

/** One stage's comparison (`configured`: the variant names the clinic has now, shown even before any send). */
export function variantRow(stage: string, facts: VariantFact[], configured: readonly string[] = []): VariantRow {
  const names = [...new Set([...configured, ...facts.map((f) => f.variant)])];
  const variants = names
    .map((n) =>
      stats(
        n,
        facts.filter((f) => f.variant === n),
      ),
    )
    .sort((a, b) => (b.rate ?? -1) - (a.rate ?? -1) || a.variant.localeCompare(b.variant));
  // Baseline: the lowest observed conversion (the comparison the leader must win), capped so
  // baseline + 10 points stays a rate.
  const observed = variants.filter((v) => v.sends > 0).map((v) => v.rate!);
  const baselineRate = Math.min(
    observed.length ? Math.min(...observed) : ASSUMED_STAGE_CONVERSION,
    1 - VARIANT_TARGET_DIFFERENCE,
  );
  const perVariant = sampleSizeForLift(baselineRate, baselineRate + VARIANT_TARGET_DIFFERENCE).comparison;
  const more = Math.max(0, ...variants.map((v) => perVariant - v.sends));
  const status = variants.length >= 2 && more === 0 ? 'measured' : 'too_small';
  const [leader, runnerUp] = variants;
  const difference =
    status === 'measured' && leader && runnerUp
      ? newcombeDifference(leader.bookings, leader.sends, runnerUp.bookings, runnerUp.sends)
      : null;
  const beatsAll =
    status === 'measured' &&
    !!leader &&
    variants.slice(1).every((v) => {
      const d = newcombeDifference(leader.bookings, leader.sends, v.bookings, v.sends);
      return !!d && excludesZero(d) && d.lower > 0;
    });
  return {
    stage,
    variants,
    status,
    difference,
    better: beatsAll ? leader!.variant : null,
    needed: { perVariant, more, baselineRate },
  };
}

/** Every stage with variants (in the period or in the clinic's configuration), in stage-name order. */
export function variantRows(
  facts: VariantFact[],
  configured: Readonly<Record<string, readonly string[]>>,
): VariantRow[] {
  const stages = [...new Set([...Object.keys(configured), ...facts.map((f) => f.stage)])].sort();
  return stages.map((s) =>
    variantRow(
      s,
      facts.filter((f) => f.stage === s),
      configured[s] ?? [],
    ),
  );
}
