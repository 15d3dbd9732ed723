/**
 * Frequency caps: a clinic's list of rules `{ max, window, channel? }` over a client's automated
 * messages across all of their sequences. Pure: the caller supplies the client's send history
 * (read under a per-client lock, so two sequences cannot both slip past a rule).
 */
import type { Channel } from './types.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** At most `max` messages (of `channel`, or of any channel) in any rolling `windowMs`. */
export interface CapRule {
  max: number;
  windowMs: number;
  channel?: Channel;
}

/** One automated client message already sent or reserved (staff alerts are never recorded here). */
export interface SendRecord {
  at: number;
  channel: Channel;
}

export type CapDecision = { allowed: true } | { allowed: false; allowedAt: number; rule: CapRule };

/**
 * Florida, Oklahoma and Maryland: at most 3 messages per 24 h on the same subject. Always
 * enforced, whatever a clinic configures (we do not know every client's state of residence).
 */
export const STATE_LAW_RULE: CapRule = { max: 3, windowMs: 24 * HOUR_MS };

/**
 * Defaults that let every default sequence through intact (Botox: email day 80, SMS day 90,
 * email day 95 → 2 emails and 1 SMS within 30 days, never 2 on one day) while stopping a client
 * in three parallel sequences from getting a message every other day.
 */
export const DEFAULT_CAP_RULES: CapRule[] = [
  { max: 2, windowMs: 30 * DAY_MS, channel: 'sms' },
  { max: 2, windowMs: 30 * DAY_MS, channel: 'email' },
  { max: 1, windowMs: DAY_MS },
];

/** The clinic's rules plus the state-law rule, which no configuration can remove. */
export function effectiveRules(rules: CapRule[]): CapRule[] {
  const present = rules.some(
    (r) => r.channel === undefined && r.windowMs === STATE_LAW_RULE.windowMs && r.max === STATE_LAW_RULE.max,
  );
  return present ? [...rules] : [...rules, STATE_LAW_RULE];
}

/** Parses "30d", "24h", "90m" into milliseconds. */
export function parseWindow(text: string): number {
  const m = /^(\d+)\s*(d|h|m)$/.exec(text.trim());
  if (!m) throw new RangeError(`invalid window "${text}", expected e.g. 30d, 24h or 90m`);
  const n = Number(m[1]);
  return n * (m[2] === 'd' ? DAY_MS : m[2] === 'h' ? HOUR_MS : 60_000);
}

/**
 * Earliest instant ≥ `at` at which one rule admits another message on `channel`. Every recorded
 * send after `at − window` counts, including sends stamped later than `at` (another sequence's
 * activity may reserve with a slightly later clock): any window that contains `at` then holds at
 * most those sends plus this one, so admitting never breaks the rule.
 */
export function ruleAllowsFrom(rule: CapRule, sends: SendRecord[], channel: Channel, at: number): number {
  if (rule.channel && rule.channel !== channel) return at;
  if (rule.max <= 0) return Number.POSITIVE_INFINITY;
  const relevant = sends
    .filter((s) => (!rule.channel || s.channel === rule.channel) && s.at > at - rule.windowMs)
    .map((s) => s.at)
    .sort((a, b) => a - b);
  if (relevant.length < rule.max) return at;
  // The oldest (count − max + 1) sends must leave the window.
  return relevant[relevant.length - rule.max]! + rule.windowMs;
}

/** Whether a message on `channel` may go out at `at`; if not, the earliest instant every rule allows. */
export function checkCaps(rules: CapRule[], sends: SendRecord[], channel: Channel, at: number): CapDecision {
  let t = at;
  let blocking: CapRule | undefined;
  // Each rule's earliest instant only moves forward as t does, so iterating to a fixed point ends.
  for (let round = 0; round < 64; round++) {
    let moved = false;
    for (const rule of rules) {
      const from = ruleAllowsFrom(rule, sends, channel, t);
      if (from > t) {
        t = from;
        blocking ??= rule;
        moved = true;
      }
    }
    if (!moved || !Number.isFinite(t)) break;
  }
  return t === at ? { allowed: true } : { allowed: false, allowedAt: t, rule: blocking! };
}

/** A client-facing stage at a nominal offset from the sequence start, for config validation. */
export interface NominalSend {
  key: string;
  offsetMs: number;
  channel: Channel;
  /** When the stage stops being worth sending (the next stage, or the end of the window). */
  expiresMs: number;
}

/**
 * Stages of one sequence that its own clinic's caps can never let out before the next stage is
 * due (the stage would be suppressed as `capped` for every client, even with no other sequence).
 */
export function stagesBlockedByOwnCaps(rules: CapRule[], stages: NominalSend[]): { key: string; rule: CapRule }[] {
  const blocked: { key: string; rule: CapRule }[] = [];
  const sent: SendRecord[] = [];
  stages.forEach((s) => {
    const decision = checkCaps(rules, sent, s.channel, s.offsetMs);
    const next = s.expiresMs;
    if (decision.allowed) sent.push({ at: s.offsetMs, channel: s.channel });
    else if (decision.allowedAt >= next || !Number.isFinite(decision.allowedAt))
      blocked.push({ key: s.key, rule: decision.rule });
    else sent.push({ at: decision.allowedAt, channel: s.channel });
  });
  return blocked;
}

export function describeRule(rule: CapRule): string {
  const w =
    rule.windowMs % DAY_MS === 0
      ? `${rule.windowMs / DAY_MS}d`
      : rule.windowMs % HOUR_MS === 0
        ? `${rule.windowMs / HOUR_MS}h`
        : `${rule.windowMs / 60_000}m`;
  return `at most ${rule.max} ${rule.channel ?? 'automated'} message(s) per ${w}`;
}
