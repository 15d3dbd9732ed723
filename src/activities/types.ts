/** The contract between the sequence workflow and its activities (types only: workflow-safe). */
import type { PlannedStage, SequenceOutcome, SequencePlan } from '../core/types.js';

export interface SequenceRef {
  workflowId: string;
  clinicId: string;
  clientId: string;
  treatmentType: string;
  /** The anchor appointment: one sequence run per anchor; part of every idempotency key. */
  runKey: string;
}

export type DeliveryResult =
  | { status: 'sent'; messageId: string; channel: string }
  | { status: 'deferred'; until: string; reason: string }
  | { status: 'suppressed'; reason: string; noUsableChannel?: boolean };

/** What the sequence row says (the read API and the console take the next action from it). */
export interface ProgressRecord {
  anchorAt?: string;
  stage: string;
  nextActionAt?: string;
  /** The stage due at `nextActionAt` (absent in histories recorded before it existed). */
  nextStage?: string;
  outcome: SequenceOutcome;
  outcomeStage?: string;
  running: boolean;
}

/** The booking re-check's question (the client and anchor come with the sequence ref). */
export interface BookingQuery {
  after: string;
  excludeAppointmentId: string;
}

/** The re-check found an upcoming appointment: nothing was sent. */
export interface BookedMeanwhile {
  status: 'booked';
  appointmentId?: string;
  startAt?: string;
}

type PlanInput = Parameters<SequenceActivities['planSequence']>[0];
type DeliverStageInput = Parameters<SequenceActivities['deliverStage']>[0];
type EscalateInput = Parameters<SequenceActivities['escalateToStaff']>[0];
type CheckAppointmentInput = Parameters<SequenceActivities['checkAppointment']>[0];

/**
 * One activity per step of a sequence (patch `fewer-actions`, src/activities/send-stage.ts): each
 * Temporal Cloud action costs money, so the booking re-check, the delivery and the sequence row
 * for what comes next are one activity instead of three. `recorded` is what was written to the
 * sequence row, so the workflow does not write it again.
 */
export interface StageActivities {
  /** Plans the sequence and records its first step (`now`: the workflow's clock). */
  beginSequence(
    input: PlanInput & { ref: SequenceRef; now: string; outcome: SequenceOutcome },
  ): Promise<{ plan: SequencePlan; recorded?: ProgressRecord }>;
  /**
   * Re-checks the booking platform (when `recheck` is given: every client-facing stage but a care
   * touch), delivers, and records `progress` when the stage is done (sent or suppressed), or
   * `deferred` with the new instant when it waits.
   */
  sendStage(
    input: DeliverStageInput & { recheck?: BookingQuery; progress?: ProgressRecord; deferred?: ProgressRecord },
  ): Promise<(DeliveryResult | BookedMeanwhile) & { recorded?: ProgressRecord }>;
  /** Re-checks the booking platform, creates the staff task, records `progress`. */
  escalateStage(
    input: EscalateInput & { recheck: BookingQuery; progress?: ProgressRecord },
  ): Promise<
    BookedMeanwhile | { status: 'escalated'; taskId: string | null; suppressed?: 'holdout'; recorded?: ProgressRecord }
  >;
  /** checkAppointment, recording `ifCompleted` (the run's last row) when the visit happened. */
  checkVisit(
    input: CheckAppointmentInput & { ref: SequenceRef; ifCompleted?: ProgressRecord },
  ): Promise<Awaited<ReturnType<SequenceActivities['checkAppointment']>> & { recorded?: ProgressRecord }>;
}

export interface SequenceActivities {
  /** Plans the stages of a sequence from the clinic's config at the time of planning. */
  planSequence(input: {
    clinicId: string;
    treatmentType: string;
    completedAt: string;
    /**
     * The client and the anchor appointment: for a series type, which session the treatment was
     * (the platform's number, else a count of completed appointments). Absent in activity tasks
     * scheduled before series existed: the type's own stages then, as before.
     */
    clientId?: string;
    appointmentId?: string;
  }): Promise<SequencePlan>;
  /** Asks the clinic's booking platform whether the client already has an upcoming appointment. */
  checkBooking(input: {
    clinicId: string;
    clientId: string;
    after: string;
    excludeAppointmentId: string;
  }): Promise<{ booked: boolean; appointmentId?: string; startAt?: string }>;
  /**
   * What became of a booked appointment by now (our records, fed by webhooks and polling), and
   * the client's next upcoming booking on the platform if any: confirms an inferred no-show.
   */
  checkAppointment(input: { clinicId: string; clientId: string; appointmentId: string; now: string }): Promise<{
    status: 'booked' | 'cancelled' | 'completed' | 'no_show' | 'unknown';
    nextBooking?: { appointmentId: string; startAt: string };
  }>;
  /** Delivers one client-facing stage: reserve in the ledger, render, hand to the provider. */
  deliverStage(input: {
    ref: SequenceRef;
    stage: PlannedStage;
    now: string;
    anchorAt: string;
    /** From here on the stage is not worth sending (the next stage is due, or the window ends): caps suppress instead of deferring. */
    expiresAt?: string;
    /** When the sequence's offer expires (interval + 30 days). */
    offerExpiresAt?: string;
  }): Promise<DeliveryResult>;
  /** Creates the staff task for a stage (idempotent per sequence run and reason) and notifies staff; none for a held-out client. */
  escalateToStaff(input: {
    ref: SequenceRef;
    stage: PlannedStage;
    now: string;
    anchorAt: string;
    reason: string;
    touches: string[];
  }): Promise<{ taskId: string | null; suppressed?: 'holdout' }>;
  /** Mirrors the workflow's progress into the database for the read API and reports. */
  recordProgress(input: { ref: SequenceRef } & ProgressRecord): Promise<void>;
}
