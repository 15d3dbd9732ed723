/**
 * Stage conversion rates: the share of clients reached by a stage who book because of it. The
 * defaults are the midpoints of the benchmarks in DOMAIN.md ("Measuring success"): stage-1 email
 * 20–25 % of recipients, stage-2 SMS 30–40 %, stage-3 10–15 % of non-bookers, staff call 25–35 %
 * of called clients. Stages are matched by key (`reminder`, `staff_escalation`, …) first, then by
 * purpose (`reminder`, `incentive`, `checkin`, `escalation`, …).
 *
 * The lifecycle rates (what becomes of a booking) and the rates of the touches DOMAIN.md gives no
 * benchmark for are assumptions, named as such in docs/simulator.md and meant to be replaced by
 * the clinic's own figures (`--booking-rates`, `--lifecycle-rates`, `--variant-rates`).
 */
import { z } from 'zod';
import type { StageDefinition, TreatmentTypeDefinition } from '../core/types.js';
import { RebookError } from '../errors.js';

export type Purpose = StageDefinition['purpose'];

export const DEFAULT_RATES_BY_PURPOSE: Record<Purpose, number> = {
  reminder: 0.22,
  incentive: 0.35,
  checkin: 0.12,
  escalation: 0.3,
  // Assumptions (no benchmark in DOMAIN.md): a "let's find you a new time" reaches a client who
  // had booked already, the reactivation touch a client who ignored four, a win-back one gone for months.
  recovery: 0.25,
  reactivation: 0.1,
  winback: 0.05,
  // Care touches are not conversion stages: they never carry an offer or a booking push.
  care: 0,
};

export interface BookingRates {
  byStageKey: Record<string, number>;
  byPurpose: Record<Purpose, number>;
}

export const DEFAULT_BOOKING_RATES: BookingRates = { byStageKey: {}, byPurpose: { ...DEFAULT_RATES_BY_PURPOSE } };

export function rateFor(rates: BookingRates, stage: Pick<StageDefinition, 'key' | 'purpose'>): number {
  return rates.byStageKey[stage.key] ?? rates.byPurpose[stage.purpose];
}

/**
 * Parses "reminder=0.25,incentive=40%,staff_escalation=0.3" on top of the defaults. Keys must
 * name a stage key of one of the clinic's treatment types or a stage purpose.
 */
export function parseBookingRates(text: string, types: Iterable<TreatmentTypeDefinition>): BookingRates {
  const stageKeys = new Set<string>();
  for (const t of types) for (const s of t.stages) stageKeys.add(s.key);
  const purposes = Object.keys(DEFAULT_RATES_BY_PURPOSE) as Purpose[];
  const out: BookingRates = { byStageKey: {}, byPurpose: { ...DEFAULT_RATES_BY_PURPOSE } };
  const problems: string[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9_-]+)\s*=\s*(\d+(?:\.\d+)?)(%?)$/i.exec(part);
    if (!m) {
      problems.push(`"${part}": expected stage=rate, e.g. reminder=0.22 or reminder=22%`);
      continue;
    }
    const key = m[1]!.toLowerCase();
    const rate = Number(m[2]) / (m[3] ? 100 : 1);
    if (!(rate >= 0 && rate <= 1)) {
      problems.push(`"${part}": a rate is between 0 and 1 (or 0% and 100%)`);
      continue;
    }
    if (stageKeys.has(key)) out.byStageKey[key] = rate;
    else if ((purposes as string[]).includes(key)) out.byPurpose[key as Purpose] = rate;
    else
      problems.push(
        `"${key}" is neither a stage key (${[...stageKeys].join(', ')}) nor a purpose (${purposes.join(', ')})`,
      );
  }
  if (problems.length) throw new RangeError(`--booking-rates: ${problems.join('; ')}`);
  return out;
}

/** What becomes of a booking, and how held-out clients book without the program. */
export interface LifecycleRates {
  /** Share of bookings missed. DOMAIN.md: "15–30% no-show rates are common where nothing reminds clients"; the low end. */
  noShow: number;
  /** Share of bookings cancelled before the visit (an assumption). */
  cancel: number;
  /** Share of cancellations rebooked within the 2-day grace, before any recovery touch (an assumption). */
  rebookAfterCancel: number;
}

export const DEFAULT_LIFECYCLE_RATES: LifecycleRates = { noShow: 0.15, cancel: 0.1, rebookAfterCancel: 0.5 };

const rate = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?%?$/, 'expected a rate such as 0.15 or 15%')
  .transform((v) => (v.endsWith('%') ? Number(v.slice(0, -1)) / 100 : Number(v)))
  .pipe(z.number().min(0, 'a rate is between 0 and 1').max(1, 'a rate is between 0 and 1'));

const lifecycleSchema = z
  .strictObject({ noShow: rate.optional(), cancel: rate.optional(), rebookAfterCancel: rate.optional() })
  .refine((r) => (r.noShow ?? DEFAULT_LIFECYCLE_RATES.noShow) + (r.cancel ?? DEFAULT_LIFECYCLE_RATES.cancel) <= 1, {
    message: 'noShow + cancel is at most 1 (they are shares of the same bookings)',
  });

/** "a=1,b=2" → { a: '1', b: '2' }; a part without "=" or a repeated key is a problem of its own. */
function pairs(text: string, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  const problems: { path: string; message: string }[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? '' : part.slice(0, eq).trim();
    if (!key) problems.push({ path: flag, message: `"${part}": expected key=rate` });
    else if (key in out) problems.push({ path: `${flag}.${key}`, message: 'given twice' });
    else out[key] = part.slice(eq + 1);
  }
  if (problems.length) throw invalid(flag, problems);
  return out;
}

function invalid(flag: string, issues: { path: string; message: string }[]): RebookError {
  return new RebookError(
    'validation_failed',
    `${flag}: ${issues.map((i) => (i.path === flag ? i.message : `${i.path.slice(flag.length + 1)}: ${i.message}`)).join('; ')}`,
    { field: flag, issues },
  );
}

/**
 * Parses "noShow=0.2,cancel=10%,rebookAfterCancel=0.4" on top of the defaults (zod: unknown keys,
 * rates outside 0–1 and a no-show plus cancel share above 1 are refused, each named).
 */
export function parseLifecycleRates(text: string): LifecycleRates {
  const flag = '--lifecycle-rates';
  const parsed = lifecycleSchema.safeParse(pairs(text, flag));
  if (!parsed.success)
    throw invalid(
      flag,
      parsed.error.issues.map((i) => ({
        path: [flag, ...i.path.map(String), ...(i.code === 'unrecognized_keys' ? [i.keys.join(', ')] : [])].join('.'),
        message:
          i.code === 'unrecognized_keys' ? 'unknown; the rates are noShow, cancel and rebookAfterCancel' : i.message,
      })),
    );
  return {
    ...DEFAULT_LIFECYCLE_RATES,
    ...Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)),
  };
}

/** Per stage (key or purpose, as variants are configured) and variant name: the variant's conversion rate. */
export type VariantRates = Record<string, Record<string, number>>;

/**
 * Parses "incentive.pct15=0.4,incentive.usd25=0.3": `stage.variant=rate`, where the stage key or
 * purpose and the variant are configured for the clinic (a variant without a rate converts at its
 * stage's rate).
 */
export function parseVariantRates(text: string, variants: Record<string, readonly { name: string }[]>): VariantRates {
  const flag = '--variant-rates';
  const out: VariantRates = {};
  const issues: { path: string; message: string }[] = [];
  for (const [key, raw] of Object.entries(pairs(text, flag))) {
    const [stage, name, ...extra] = key.split('.');
    const list = stage ? variants[stage] : undefined;
    if (!stage || !name || extra.length)
      issues.push({ path: `${flag}.${key}`, message: 'expected stage.variant=rate, e.g. incentive.pct15=0.4' });
    else if (!list)
      issues.push({
        path: `${flag}.${key}`,
        message: `the clinic has no variants for "${stage}" (it has: ${Object.keys(variants).join(', ') || 'none'})`,
      });
    else if (!list.some((v) => v.name === name))
      issues.push({
        path: `${flag}.${key}`,
        message: `"${stage}" has no variant "${name}" (it has: ${list.map((v) => v.name).join(', ')})`,
      });
    else {
      const r = rate.safeParse(raw);
      if (!r.success) issues.push({ path: `${flag}.${key}`, message: r.error.issues[0]!.message });
      else out[stage] = { ...out[stage], [name]: r.data };
    }
  }
  if (issues.length) throw invalid(flag, issues);
  return out;
}
