/**
 * Reactivation for non-responders (issue 11 §3). A client who has not booked after the staff
 * stage gets a reactivation touch on the last day of the rebooking window (its offer's last day:
 * an urgency anchor), then win-back touches 60 and 90 days past the window, each with a fresh
 * offer that expires on its own; with no booking by the end of the last offer the sequence ends
 * `churned`. Every one is a marketing touch: consent, caps and the holdout apply as to any.
 *
 * A "not now" reply moves that schedule: one touch on the day the reply named (or at interval +
 * 30 days), and the schedule's touches that would land before it, or within the clinic's longest
 * cap window after it, are dropped, so a snooze touch and a reactivation touch never both land in
 * one cap window. Pure: the planning activity, the workflow and the preview share these rules.
 */
import { localDayAt } from './plan.js';
import {
  type PlannedStage,
  REBOOK_GRACE_DAYS,
  type ReactivationPlan,
  type ReactivationStageDefinition,
  type SequencePlan,
  type StageChannel,
} from './types.js';

const DAY_MS = 86_400_000;

/** The default schedule of every treatment type that does not set its own (config/catalog.yaml may). */
export const DEFAULT_REACTIVATION: ReactivationStageDefinition[] = [
  { key: 'reactivation', afterWindowDays: 0, channel: 'sms', purpose: 'reactivation' },
  { key: 'winback_1', afterWindowDays: 60, channel: 'email', purpose: 'winback', offerDays: 30 },
  { key: 'winback_2', afterWindowDays: 90, channel: 'sms', purpose: 'winback', offerDays: 30 },
];

/** The key of the touch a "not now" reply schedules (its template falls back to `reactivation`). */
export const SNOOZE_TOUCH_KEY = 'snooze_reactivation';

/** Without an offer of its own, a touch is followed by this long for a booking before churn. */
export const CHURN_GRACE_DAYS = REBOOK_GRACE_DAYS;

/** A snooze date is taken only from 6 to 186 days ahead (the reply parser's 1 week–6 months, with slack). */
const SNOOZE_MIN_MS = 6 * DAY_MS;
const SNOOZE_MAX_MS = 186 * DAY_MS;

/** Until when a booking is still waited for after a touch: its offer's end, and at least 30 days. */
function touchEnd(s: PlannedStage): number {
  const grace = Date.parse(s.dueAt) + CHURN_GRACE_DAYS * DAY_MS;
  return s.offerExpiresAt ? Math.max(Date.parse(s.offerExpiresAt), grace) : grace;
}

/** When a sequence whose last touches are `stages` ends `churned` (`fallback` when there are none). */
export function churnInstant(stages: PlannedStage[], fallback: string): string {
  const ends = stages.map(touchEnd);
  return ends.length ? new Date(Math.max(Date.parse(fallback), ...ends)).toISOString() : fallback;
}

/**
 * Plans the reactivation touches of `plan` on the clinic's calendar: due at the send time of day
 * interval + 30 + `afterWindowDays`; a win-back offer lasts to the end of its last day.
 */
export function planReactivation(
  plan: SequencePlan,
  defs: ReactivationStageDefinition[],
  opts: { timeZone: string; sendTime: string; spacingMs: number },
): ReactivationPlan {
  const anchorMs = Date.parse(plan.anchorAt);
  const windowDay = plan.intervalDays + REBOOK_GRACE_DAYS;
  const stages: PlannedStage[] = [...defs]
    .sort((a, b) => a.afterWindowDays - b.afterWindowDays)
    .map((d) => {
      const day = windowDay + d.afterWindowDays;
      return {
        key: d.key,
        day,
        channel: d.channel,
        purpose: d.purpose,
        dueAt: new Date(localDayAt(anchorMs, day, opts.sendTime, opts.timeZone)).toISOString(),
        offerExpiresAt:
          d.offerDays === undefined
            ? plan.windowEndsAt
            : new Date(localDayAt(anchorMs, day + d.offerDays, '23:59', opts.timeZone)).toISOString(),
      };
    });
  return { stages, churnAt: churnInstant(stages, plan.windowEndsAt), spacingMs: opts.spacingMs };
}

/** The longest window of a clinic's cap rules (at least a day): the spacing of a snooze touch. */
export function capSpacingMs(rules: { windowMs: number }[]): number {
  return Math.max(DAY_MS, ...rules.map((r) => r.windowMs));
}

/**
 * When the touch of a snooze at `nowMs` is due: the instant the reply named (`until`, checked
 * again here: a signal from the API is not trusted to be in range), else interval + 30 days as
 * before issue 11, else (that day has passed: a reply to a win-back) one cap window on. Never
 * within one cap window of the last reactivation or win-back touch already sent.
 */
export function snoozeTouchAt(
  plan: SequencePlan,
  spacingMs: number,
  nowMs: number,
  until?: string,
  lastReactivationTouchMs?: number,
): string {
  const named = until ? Date.parse(until) : Number.NaN;
  let at =
    Number.isFinite(named) && named >= nowMs + SNOOZE_MIN_MS && named <= nowMs + SNOOZE_MAX_MS
      ? named
      : Date.parse(plan.reactivationAt) >= nowMs + SNOOZE_MIN_MS
        ? Date.parse(plan.reactivationAt)
        : nowMs + spacingMs;
  if (lastReactivationTouchMs !== undefined) at = Math.max(at, lastReactivationTouchMs + spacingMs);
  return new Date(at).toISOString();
}

/** The touch a snooze schedules, as a stage of its own. */
export function snoozeTouch(plan: SequencePlan, dueAt: string, channel: StageChannel): PlannedStage {
  return {
    key: SNOOZE_TOUCH_KEY,
    day: Math.round((Date.parse(dueAt) - Date.parse(plan.anchorAt)) / DAY_MS),
    channel,
    purpose: 'reactivation',
    dueAt,
    offerExpiresAt: plan.windowEndsAt,
  };
}

/**
 * The reactivation touches left after a snooze whose touch is due at `touchAt`: the snooze touch,
 * then those of `remaining` due at least one cap window after it (earlier ones are dropped).
 */
export function scheduleAfterSnooze(remaining: PlannedStage[], touch: PlannedStage, spacingMs: number): PlannedStage[] {
  const from = Date.parse(touch.dueAt) + spacingMs;
  return [touch, ...remaining.filter((s) => Date.parse(s.dueAt) >= from)];
}

/**
 * The reactivation touches still worth sending at `nowMs` (none sent late: a sequence that
 * resumes after a cancelled booking picks up the touches ahead).
 */
export function reactivationAhead(stages: PlannedStage[], nowMs: number, toleranceMs: number): PlannedStage[] {
  return stages.filter((s) => Date.parse(s.dueAt) >= nowMs - toleranceMs);
}
