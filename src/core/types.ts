/** Domain types shared by the pure core, workflows, activities and the simulator. */

export type Channel = 'email' | 'sms';
export type StageChannel = Channel | 'staff';

/** One step of a sequence definition, relative to the treatment date. */
export interface StageDefinition {
  key: string;
  day: number;
  channel: StageChannel;
  /** Client-facing stages run the booking re-check first; staff stages do not message the client. */
  purpose: 'reminder' | 'incentive' | 'checkin' | 'escalation' | 'reactivation' | 'care' | 'recovery';
}

export interface TreatmentTypeDefinition {
  key: string;
  label: string;
  intervalDays: number;
  stages: StageDefinition[];
  /** Service-name phrases that map to this type (matched on normalized words). */
  synonyms: string[];
}

/** A stage with its due instant computed. */
export interface PlannedStage extends StageDefinition {
  dueAt: string; // ISO instant
}

export interface SequencePlan {
  treatmentType: string;
  intervalDays: number;
  anchorAt: string;
  stages: PlannedStage[];
  /** End of the rebooking window (interval + 30 days): offers expire, attribution stops. */
  windowEndsAt: string;
  /** When a "not now" reply schedules its single reactivation touch. */
  reactivationAt: string;
}

export const REACTIVATION_STAGE_KEY = 'reactivation';
/** Days after the interval during which the client still counts as "rebooked on time". */
export const REBOOK_GRACE_DAYS = 30;

/**
 * `booked`: a booking ended the sequence (histories from before issue 11), or the sequence now
 * watches it (running); `attended`: the booked appointment became a visit of another type.
 */
export type SequenceOutcome =
  | 'running'
  | 'booked'
  | 'attended'
  | 'snoozed'
  | 'churned'
  | 'not_interested'
  | 'cancelled';
