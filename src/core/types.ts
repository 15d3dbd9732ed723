/** Domain types shared by the pure core, workflows, activities and the simulator. */

export type Channel = 'email' | 'sms';
export type StageChannel = Channel | 'staff';

/** One step of a sequence definition, relative to the treatment date. */
export interface StageDefinition {
  key: string;
  day: number;
  channel: StageChannel;
  /** Client-facing stages run the booking re-check first; staff stages do not message the client. */
  purpose: 'reminder' | 'incentive' | 'checkin' | 'escalation' | 'reactivation' | 'care' | 'recovery' | 'winback';
}

/**
 * A touch for a client who has not booked after the rebooking stages (issue 11 §3): the
 * reactivation touch on the last day of the window, then win-back touches with a fresh offer.
 */
export interface ReactivationStageDefinition {
  key: string;
  /** Days after the end of the rebooking window (day interval + 30), on the clinic's calendar. */
  afterWindowDays: number;
  channel: Channel;
  purpose: 'reactivation' | 'winback';
  /** Days the touch's own offer lasts; absent: the sequence's offer (it ends with the window). */
  offerDays?: number;
}

/**
 * A treatment given as a course of sessions (laser hair removal, Kybella, microneedling). Between
 * sessions the sequence reminds for the next one with these stages (no offer); after the last
 * session the type's own stages and interval apply (the maintenance cadence).
 */
export interface SeriesDefinition {
  /** Sessions in a full course. */
  sessions: number;
  /** Days from one session to the next: the between-session stages' interval. */
  intervalDays: number;
  /** A session more than this many days after the previous one starts a new course. */
  windowDays: number;
  stages: StageDefinition[];
}

export interface TreatmentTypeDefinition {
  key: string;
  label: string;
  intervalDays: number;
  stages: StageDefinition[];
  /** Service-name phrases that map to this type (matched on normalized words). */
  synonyms: string[];
  /** Touches after the window for non-responders; absent: DEFAULT_REACTIVATION (src/core/reactivation.ts). */
  reactivation?: ReactivationStageDefinition[];
  series?: SeriesDefinition;
}

/** Where a client is in a course: `session` is the session a stage is about, of `sessions`. */
export interface SeriesPosition {
  session: number;
  sessions: number;
}

/** A stage with its due instant computed. */
export interface PlannedStage extends StageDefinition {
  dueAt: string; // ISO instant
  /** Set on a series' between-session stages: the session they remind for ("session 3 of 6"). */
  series?: SeriesPosition;
  /** When this stage's own offer expires (win-back touches); absent: the sequence's (window end). */
  offerExpiresAt?: string;
}

/** The reactivation and win-back touches of one sequence, planned with it (issue 11 §3). */
export interface ReactivationPlan {
  stages: PlannedStage[];
  /** After the last touch: no booking by then and the sequence ends `churned`. */
  churnAt: string;
  /** The clinic's longest cap window: a snooze touch and a reactivation touch never both land in one. */
  spacingMs: number;
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
  /** Non-responder touches after the staff stage; absent in plans made before issue 11 §3. */
  reactivation?: ReactivationPlan;
  /** How long a cancelled booking may be replaced before follow-up resumes (the clinic's setting); absent: 2 days. */
  cancelRebookGraceMs?: number;
  /**
   * A series type planned with a known session: `completed` is the anchor treatment's session;
   * `phase` says whether the stages remind for the next session or are the maintenance cadence.
   */
  series?: { phase: 'series' | 'maintenance'; completed: number; sessions: number };
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
