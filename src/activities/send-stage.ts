/**
 * The sequence's steps as one activity each (workflow patch `fewer-actions`). Temporal Cloud bills
 * every activity attempt (https://docs.temporal.io/cloud/actions): a stage used to take three —
 * the booking re-check, the delivery, the sequence row for the next action. Here they are one, in
 * the same order, so the re-check still runs right before the send, and a retry (a provider's bad
 * minute, a deferral to the send window) still re-checks at its own time.
 */
import { Context } from '@temporalio/activity';
import { and, inArray, notInArray } from 'drizzle-orm';
import { firstCurrentStageIndex } from '../core/plan.js';
import type { Db } from '../db/client.js';
import { messages } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { BookingQuery, ProgressRecord, SequenceActivities, SequenceRef, StageActivities } from './types.js';

/** Ledger statuses that mean the stage's message did not go out (deliver.ts: NOT_SENT and retry_pending). */
const NOT_OUT = ['rejected', 'retry_pending'];

function attempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

/**
 * The instant this attempt runs at, by the server's clock: a retry hours after the workflow's
 * `now` (the platform or a provider was down) decides the send window, the caps and the booking
 * question at its own time, as the separate activities did when they were scheduled anew.
 */
function attemptNow(workflowNow: string): string {
  try {
    const at = Context.current().info.currentAttemptScheduledTimestampMs;
    return at > Date.parse(workflowNow) ? new Date(at).toISOString() : workflowNow;
  } catch {
    return workflowNow;
  }
}

/** The booking question at `now`: the workflow asks from its own `now` once past the anchor. */
function questionAt(q: BookingQuery, workflowNow: string, now: string): BookingQuery {
  return q.after === workflowNow ? { ...q, after: now } : q;
}

export function createStageActivities(
  base: SequenceActivities,
  deps: { db: Db; log: Pick<Logger, 'warn'> },
): StageActivities {
  const { db, log } = deps;

  /**
   * Writes the sequence row; a failure is left to the workflow (it writes the row itself when
   * nothing is returned as recorded) so that a message already sent is never retried over it.
   */
  async function record(ref: SequenceRef, p: ProgressRecord | undefined): Promise<ProgressRecord | undefined> {
    if (!p) return undefined;
    try {
      await base.recordProgress({ ref, ...p });
      return p;
    } catch (err) {
      log.warn(
        { workflowId: ref.workflowId, err: err instanceof Error ? err.name : 'Error' },
        'sequence row not written with the stage; the workflow writes it',
      );
      return undefined;
    }
  }

  /** A retry after this stage's message went out must not re-check: the booking came after the send. */
  async function alreadyOut(ref: SequenceRef, stageKey: string): Promise<boolean> {
    if (attempt() === 1) return false;
    const key = `${ref.workflowId}|${ref.runKey}|${stageKey}`;
    const rows = await db
      .select({ id: messages.id })
      .from(messages)
      .where(
        and(
          inArray(messages.idempotencyKey, [key, `${key}|sms`, `${key}|email`]),
          notInArray(messages.status, NOT_OUT),
        ),
      );
    return rows.length > 0;
  }

  return {
    async beginSequence({ ref, now, outcome, ...input }) {
      const plan = await base.planSequence(input);
      // The first step exactly as the workflow publishes it (same pure function, same clock).
      const i = firstCurrentStageIndex(plan, Date.parse(now));
      const next = plan.stages[i];
      if (!next) return { plan };
      const recorded = await record(ref, {
        anchorAt: input.completedAt,
        stage: i === 0 ? 'enrolled' : plan.stages[i - 1]!.key,
        nextActionAt: next.dueAt,
        nextStage: next.key,
        outcome,
        running: true,
      });
      return { plan, ...(recorded ? { recorded } : {}) };
    },

    async sendStage({ recheck, progress, deferred, ...scheduled }) {
      const now = attemptNow(scheduled.now);
      const input = { ...scheduled, now };
      const { ref, stage } = input;
      if (recheck && !(await alreadyOut(ref, stage.key))) {
        const b = await base.checkBooking({
          clinicId: ref.clinicId,
          clientId: ref.clientId,
          ...questionAt(recheck, scheduled.now, now),
        });
        if (b.booked) return { status: 'booked', appointmentId: b.appointmentId, startAt: b.startAt };
      }
      const result = await base.deliverStage(input);
      const write =
        result.status === 'deferred'
          ? deferred && { ...deferred, nextActionAt: result.until, nextStage: stage.key }
          : result.status === 'sent' || !result.noUsableChannel
            ? progress
            : undefined;
      const recorded = await record(ref, write);
      return { ...result, ...(recorded ? { recorded } : {}) };
    },

    async escalateStage({ recheck, progress, ...scheduled }) {
      const now = attemptNow(scheduled.now);
      const input = { ...scheduled, now };
      const { ref } = input;
      // A staff task is created once per run (its idempotency key): a retry re-checks harmlessly.
      const b = await base.checkBooking({
        clinicId: ref.clinicId,
        clientId: ref.clientId,
        ...questionAt(recheck, scheduled.now, now),
      });
      if (b.booked) return { status: 'booked', appointmentId: b.appointmentId, startAt: b.startAt };
      const task = await base.escalateToStaff(input);
      const recorded = await record(ref, progress);
      return { status: 'escalated', ...task, ...(recorded ? { recorded } : {}) };
    },

    async checkVisit({ ref, ifCompleted, ...input }) {
      const visit = await base.checkAppointment(input);
      const recorded = visit.status === 'completed' ? await record(ref, ifCompleted) : undefined;
      return { ...visit, ...(recorded ? { recorded } : {}) };
    },
  };
}
