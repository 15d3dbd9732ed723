/**
 * The public surface of the sequence workflow: its id, signals and query. Clients (the HTTP
 * server, the forwarder, tests) import this module; it holds no workflow logic.
 */

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PlannedStage, SequenceOutcome, SequencePlan } from '../src/core/types.js';

export const SEQUENCE_WORKFLOW = 'rebookSequence';

/**
 * Workflow ids carry only opaque ids: the clinic slug, our internal client uuid and the
 * treatment type. No name, phone or vendor field ever reaches Temporal's visibility store.
 */
export function sequenceWorkflowId(clinicId: string, clientId: string, treatmentType: string): string {
  return `rebook/${clinicId}/${clientId}/${treatmentType}`;
}

export interface SequenceInput {
  clinicId: string;
  clientId: string;
  treatmentType: string;
  /** Present only when the workflow continued as new. */
  carried?: CarriedState;
}

/** A completed treatment of this sequence's type (opaque ids and instants only). */
export interface TreatmentSignal {
  appointmentId: string;
  completedAt: string;
}

export interface BookingSignal {
  appointmentId: string;
  startAt: string;
}

export interface SnoozeSignal {
  /** Why: a "not now" reply, a staff call-back… (free text is not allowed: a fixed code). */
  reason: 'not_now_reply' | 'staff_call_back' | 'api';
  /**
   * The instant the touch is due: the day a "not now" reply named at the clinic's send time
   * (src/core/snooze-date.ts). Absent: interval + 30 days. Runs from before issue 11 §3 ignore it.
   */
  until?: string;
}

/**
 * The booked appointment did not become a visit: cancelled, or a no-show (reported by the
 * platform as `appointment.no_show`). `at` is when it happened (the vendor's event time).
 */
export interface AppointmentLapsedSignal {
  appointmentId: string;
  kind: 'cancelled' | 'no_show';
  at: string;
}

export interface EndSignal {
  outcome: 'not_interested' | 'cancelled';
}

export interface HistoryEntry {
  at: string;
  stage: string;
  event:
    | 'planned'
    | 'sent'
    | 'deferred'
    | 'suppressed'
    | 'escalated'
    | 'booked'
    | 'restarted'
    | 'snoozed'
    | 'ended'
    // The booked appointment's fate (issue 11): a visit, a cancellation, a no-show.
    | 'attended'
    | 'cancelled'
    | 'no_show'
    | 'resumed';
  detail?: string;
}

export interface SequenceStatus {
  clinicId: string;
  treatmentType: string;
  anchorAppointmentId?: string;
  anchorAt?: string;
  /** The last stage the sequence reached ('enrolled' before the first; 'snoozed' after a "not now"). */
  stage: string;
  /** The stage due at `nextActionAt` (`window_close` when only the close of the rebooking window is left). */
  nextStage?: string;
  nextActionAt?: string;
  outcome: SequenceOutcome;
  outcomeStage?: string;
  history: HistoryEntry[];
}

/** What survives continue-as-new. */
export interface CarriedState {
  anchor?: TreatmentSignal;
  pending?: TreatmentSignal;
  booking?: BookingSignal;
  snoozed?: SnoozeSignal;
  ended?: EndSignal;
  seen: string[];
  history: HistoryEntry[];
  /** Where the run was: index of the next stage to handle, or the snooze phase. */
  stageIndex: number;
  phase: 'sequence' | 'reactivation' | 'grace' | 'winback';
  lastTouch?: string;
  reactivationDone?: boolean;
  /** The schedule is fixed when planned: config edits change content, never a running plan. */
  plan?: SequencePlan;
  /**
   * The booked appointment the sequence watches until it becomes a visit (issue 11), with its
   * cancellation or no-show once known. Marketing stages stop while it is set; care touches go on.
   */
  watch?: { booking: BookingSignal; lapse?: { kind: 'cancelled' | 'no_show'; at: string; inferred?: boolean } };
  /** The last marketing touch before the booking (attribution: care touches never count). */
  bookedAfter?: string;
  /**
   * Phase `winback` (issue 11 §3): the reactivation, snooze and win-back touches still to send,
   * the next first, and when the client counts as churned once they are all out.
   */
  winback?: PlannedStage[];
  churnAt?: string;
}

/** `nextStage` while every touch is out and the sequence only waits for the window to close (churned then). */
export const WINDOW_CLOSE_STAGE = 'window_close';

export const treatmentCompletedSignal = defineSignal<[TreatmentSignal]>('treatmentCompleted');
export const bookedSignal = defineSignal<[BookingSignal]>('booked');
export const snoozeSignal = defineSignal<[SnoozeSignal]>('snooze');
export const endSignal = defineSignal<[EndSignal]>('end');
export const appointmentLapsedSignal = defineSignal<[AppointmentLapsedSignal]>('appointmentLapsed');
export const statusQuery = defineQuery<SequenceStatus>('status');

/** Custom search attributes (no PHI); registered by `rebook dev` and listed in temporal.yaml. */
export const searchAttributes = {
  clinicId: defineSearchAttributeKey('ClinicId', SearchAttributeType.KEYWORD),
  treatmentType: defineSearchAttributeKey('TreatmentType', SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey('SequenceStage', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('SequenceOutcome', SearchAttributeType.KEYWORD),
  nextActionAt: defineSearchAttributeKey('NextActionAt', SearchAttributeType.DATETIME),
};
