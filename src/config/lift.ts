/**
 * Proof of lift (issue 13) settings of a clinic: the holdout share per treatment type and the
 * average price per treatment type that revenue lift uses when the platform gives no price.
 */
import { z } from 'zod';

const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, "-" and "_" only');
// Above one half the "holdout" would be the program's main audience: a configuration mistake.
const share = z.number().min(0).max(0.5, 'at most 0.5 (half the clients)');

export const liftSchema = z.strictObject({
  /** Share of newly enrolled clients held out (no marketing, no staff escalation); 0 = none. */
  holdout: share.default(0),
  /** Per treatment type, overriding `holdout`. */
  holdoutByTreatmentType: z.record(slug, share).default({}),
  /** Average price per treatment type in the clinic's currency, for revenue where the platform has no price. */
  averagePrice: z.record(slug, z.number().min(0).max(1_000_000)).default({}),
});
export type LiftConfig = z.infer<typeof liftSchema>;

export const DEFAULT_LIFT: LiftConfig = { holdout: 0, holdoutByTreatmentType: {}, averagePrice: {} };

/** The holdout share for one treatment type of a clinic. */
export function holdoutShareFor(c: { lift?: LiftConfig | undefined }, treatmentType: string): number {
  const lift = c.lift ?? DEFAULT_LIFT;
  return lift.holdoutByTreatmentType[treatmentType] ?? lift.holdout;
}

/** The configured average price (cents) of a treatment type, when the clinic set one. */
export function averagePriceCentsFor(c: { lift?: LiftConfig | undefined }, treatmentType: string): number | null {
  const p = (c.lift ?? DEFAULT_LIFT).averagePrice[treatmentType];
  return p === undefined ? null : Math.round(p * 100);
}
