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
  recordProgress(input: {
    ref: SequenceRef;
    anchorAt?: string;
    stage: string;
    nextActionAt?: string;
    /** The stage due at `nextActionAt` (absent in histories recorded before it existed). */
    nextStage?: string;
    outcome: SequenceOutcome;
    outcomeStage?: string;
    running: boolean;
  }): Promise<void>;
}
