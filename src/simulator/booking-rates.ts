/**
 * Stage conversion rates: the share of clients reached by a stage who book because of it. The
 * defaults are the midpoints of the benchmarks in DOMAIN.md ("Measuring success"): stage-1 email
 * 20–25 % of recipients, stage-2 SMS 30–40 %, stage-3 10–15 % of non-bookers, staff call 25–35 %
 * of called clients. Stages are matched by key (`reminder`, `staff_escalation`, …) first, then by
 * purpose (`reminder`, `incentive`, `checkin`, `escalation`, …).
 */
import type { StageDefinition, TreatmentTypeDefinition } from '../core/types.js';

export type Purpose = StageDefinition['purpose'];

export const DEFAULT_RATES_BY_PURPOSE: Record<Purpose, number> = {
  reminder: 0.22,
  incentive: 0.35,
  checkin: 0.12,
  escalation: 0.3,
  reactivation: 0,
  care: 0,
  // Cancellations and no-shows are not simulated yet: no recovery touch is ever sent there.
  recovery: 0,
  // Win-back touches (issue 11 §3) are not simulated yet (another pass models reactivation).
  winback: 0,
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
