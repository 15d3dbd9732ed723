/**
 * Sequence planning: from a completed treatment to the instants each stage is due. Days are
 * counted on the clinic's calendar (not in 24 h blocks), so a stage keeps its local send time
 * across daylight-saving changes.
 */

import { type CompletedSession, stagesAfterSession } from './series.js';
import {
  type PlannedStage,
  REACTIVATION_STAGE_KEY,
  REBOOK_GRACE_DAYS,
  type SequencePlan,
  type StageChannel,
  type TreatmentTypeDefinition,
} from './types.js';
import { addDays, fromLocal, localDate, parseClock } from './zoned-time.js';

export interface PlanOptions {
  timeZone: string;
  /** Local clock time at which stages become due, "HH:MM". */
  sendTime: string;
  /** Channel of the single reactivation touch after a "not now" reply. */
  reactivationChannel?: StageChannel;
  /**
   * For a series type: which session the treatment was (from the platform, else counted from our
   * records). Chooses the between-session stages or the maintenance cadence (core/series.ts).
   */
  session?: CompletedSession;
}

/** Instant of `clock` on the local calendar day `days` after the instant `anchorMs`. */
export function localDayAt(anchorMs: number, days: number, clock: string, timeZone: string): number {
  const date = addDays(localDate(anchorMs, timeZone), days);
  return fromLocal({ ...date, ...parseClock(clock) }, timeZone);
}

export function planSequence(type: TreatmentTypeDefinition, completedAt: string, opts: PlanOptions): SequencePlan {
  const anchorMs = Date.parse(completedAt);
  if (Number.isNaN(anchorMs)) throw new RangeError('completedAt is not a valid instant');
  const chosen = stagesAfterSession(type, opts.session);
  const ordered = [...chosen.stages].sort((a, b) => a.day - b.day);
  const stages: PlannedStage[] = ordered.map((s) => {
    // Never due before the treatment itself, even for a day-0 stage booked late in the day.
    const due = Math.max(localDayAt(anchorMs, s.day, opts.sendTime, opts.timeZone), anchorMs);
    return { ...s, dueAt: new Date(due).toISOString(), ...(chosen.next ? { series: chosen.next } : {}) };
  });
  const graceDay = chosen.intervalDays + REBOOK_GRACE_DAYS;
  return {
    treatmentType: type.key,
    intervalDays: chosen.intervalDays,
    anchorAt: new Date(anchorMs).toISOString(),
    stages,
    windowEndsAt: new Date(localDayAt(anchorMs, graceDay, '23:59', opts.timeZone)).toISOString(),
    reactivationAt: new Date(localDayAt(anchorMs, graceDay, opts.sendTime, opts.timeZone)).toISOString(),
    ...(chosen.position && chosen.phase !== 'single' ? { series: { phase: chosen.phase, ...chosen.position } } : {}),
  };
}

/** The reactivation touch as a stage of its own (one message, fresh booking link). */
export function reactivationStage(plan: SequencePlan, channel: StageChannel = 'sms'): PlannedStage {
  return {
    key: REACTIVATION_STAGE_KEY,
    day: plan.intervalDays + REBOOK_GRACE_DAYS,
    channel,
    purpose: 'reactivation',
    dueAt: plan.reactivationAt,
  };
}

/**
 * True when a treatment is too old to enroll: its rebooking window (which closes at the end of
 * day interval + 30 on the clinic's calendar, as `planSequence` says) has closed.
 */
export function windowPassed(
  type: TreatmentTypeDefinition,
  completedAt: string,
  nowMs: number,
  timeZone: string,
): boolean {
  return localDayAt(Date.parse(completedAt), type.intervalDays + REBOOK_GRACE_DAYS, '23:59', timeZone) < nowMs;
}

/** How late a stage may be at enrollment and still be sent (a same-day webhook, a short backlog). */
export const LATE_STAGE_TOLERANCE_MS = 24 * 3_600_000;

/**
 * Index of the first stage still worth sending when a sequence is planned at `nowMs`. A
 * treatment imported or delivered long after the fact starts at the right point: stages whose
 * day has clearly passed are skipped, never sent late. (Stages that fall due later, while a
 * worker is down, are still sent once it is back: this applies at planning time only.)
 */
export function firstCurrentStageIndex(
  plan: SequencePlan,
  nowMs: number,
  toleranceMs = LATE_STAGE_TOLERANCE_MS,
): number {
  const i = plan.stages.findIndex((s) => Date.parse(s.dueAt) >= nowMs - toleranceMs);
  return i === -1 ? plan.stages.length : i;
}
