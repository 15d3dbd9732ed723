/**
 * The simulator: replays a clinic's treatment history through the same pure core the workflow
 * and the delivery activity use — classification, sequence planning (series sessions included),
 * channel choice with the clinic's fallback, message categories, send windows, frequency caps
 * across a client's sequences, incentive tiers, reactivation plans, the holdout and stage variants —
 * and counts what Rebook would have sent, held back and handed to staff, week by week, and what
 * became of the bookings.
 *
 * Sequence semantics follow workflows/rebook-sequence.ts and src/activities/deliver.ts:
 *   - one sequence per client × treatment type (parallel types run side by side); a newer
 *     treatment of the same type restarts it, an older or same-instant one changes nothing, a
 *     repeated appointment id is a duplicate; a series type plans from the session the treatment
 *     was (counted from the client's history: core/series.ts), reminders for the next session or
 *     the maintenance cadence;
 *   - stages run one after another; a stage held back (send window, caps) waits, and the next
 *     stage starts no earlier than the held one finished (a late next stage runs at once);
 *   - care touches (core/message-category.ts) need an address, not marketing consent, are exempt
 *     from the caps unless the clinic counts them, convert nobody, and go out after a booking too;
 *   - channel (`stageChannel`, shared with delivery): the stage's own (or its variant's) if usable,
 *     else the other one when the clinic's fallback allows it and has a template for it, else the
 *     stage is suppressed; with no usable channel at all a marketing stage sends the client to
 *     staff at once and the remaining stages are skipped;
 *   - send window first (deferred to the next opening), then caps (deferred to the first instant
 *     every rule allows, moved into the window; suppressed when that is past the next stage);
 *   - staff stages create a task at their due instant (no window, no caps);
 *   - after the staff stage, the reactivation touch and the win-back touches (core/reactivation.ts),
 *     then the sequence is churned when the last offer has run out;
 *   - held-out clients (issue 13) get care touches only: every marketing touch and the staff task
 *     are suppressed.
 *
 * Bookings. Simulated: after each marketing touch and each staff task a treated client books with
 * the stage's (or the variant's) conversion rate; a held-out client books by itself with the
 * `baseline` probability, on the interval day. A booking stops the marketing stages of every
 * running sequence of the client, which then watch the appointment (`leadDays` later): it is
 * cancelled (`cancel`: half-way to it), missed (`noShow`: found a day after its start) or attended.
 * A cancellation is rebooked within the two days' grace with `rebookAfterCancel`; otherwise, and
 * after a no-show, the sequences resume with a recovery touch, then the stages still ahead (a staff
 * stage already past becomes a task at once). An attended visit ends the sequences. Each draw is
 * seeded per client, so results do not depend on the other clients in the file. From the history:
 * a later treatment of the client (any service, on a later local day than the sequence's
 * treatment) is an appointment that was booked `leadDays` before it and attended; from then on the
 * booking check finds it and the sequence ends, as in production. A simulated booking does not add
 * a treatment to the history.
 *
 * Pure: no I/O, no clock. Expensive core calls are memoized (same inputs, same outputs).
 */
import type { SendRecord } from '../core/caps.js';
import { classifyService } from '../core/classify.js';
import { describeOffer, offerFor } from '../core/incentives.js';
import { capsApply, templateKeys } from '../core/message-category.js';
import { normalizePhone } from '../core/phone.js';
import { planSequence } from '../core/plan.js';
import { capSpacingMs, DEFAULT_REACTIVATION, planReactivation } from '../core/reactivation.js';
import { type CompletedSession, completedSession } from '../core/series.js';
import { type ChannelState, decideStage, noChannelEscalates, unusableChannels } from '../core/stage-decision.js';
import type { Channel, StageDefinition, TreatmentTypeDefinition } from '../core/types.js';
import { chooseVariant, type StageVariant, stageVariants, variantChannel } from '../core/variants.js';
import { addDays, DAY_MS, fromLocal, toLocal } from '../core/zoned-time.js';
import {
  type BookingRates,
  DEFAULT_LIFECYCLE_RATES,
  type LifecycleRates,
  type Purpose,
  rateFor,
  type VariantRates,
} from './booking-rates.js';
import type { SimulationClinic } from './clinic.js';
import type { HistoryRow } from './history-csv.js';
import { hash32, streamFor } from './random.js';

export interface SimulationOptions {
  /** First local date counted ("YYYY-MM-DD"); default: the earliest treatment's. */
  from?: string;
  /** Length of the counted period in calendar months. */
  months: number;
  seed: number;
  rates: BookingRates;
  /** What becomes of a booking; default DEFAULT_LIFECYCLE_RATES. */
  lifecycle?: LifecycleRates;
  /** Per stage and variant: its conversion rate (a variant without one converts at the stage's). */
  variantRates?: VariantRates;
  /** How often a held-out client books by itself (default 0.35: DOMAIN.md's 30–40 % without a program). */
  baseline?: number;
  /** Holdout share per treatment type; default the clinic's (`SimulationClinic.holdoutShare`). */
  holdoutShare?: (treatmentType: string) => number;
  /** How many days before a later treatment in the history it was booked; also a simulated booking's lead. */
  leadDays: number;
  /** Clients whose every event is recorded in `trace` (tests, `--trace`). */
  traceClients?: ReadonlySet<string>;
  onProgress?: (clientsDone: number, clientsTotal: number) => void;
}

export const DEFAULT_BASELINE = 0.35;

export interface WeekRow {
  /** Monday of the week, local date. */
  weekStart: string;
  email: number;
  sms: number;
  staffTasks: number;
  offers: number;
  deferredBySendWindow: number;
  deferredByCaps: number;
  suppressedByCaps: number;
  /** Bookings made (simulated), whatever became of them. */
  rebookings: number;
  enrolled: number;
  /** Care touches sent (included in email and sms). */
  care: number;
  /** Simulated bookings that became visits, cancelled ones and missed ones, by the week it became known. */
  attended: number;
  cancelled: number;
  noShows: number;
}

export interface StageRow {
  stage: string;
  purpose: Purpose;
  rate: number;
  /** Messages sent (client stages) or tasks created (staff stages). */
  reached: number;
  /** Bookings made right after this stage (attributed to it). */
  rebookings: number;
  /** Of those, bookings that became visits. */
  visits: number;
  /** Σ rate over the clients reached: the expected bookings along the simulated path. */
  expectedRebookings: number;
}

export interface VariantRow {
  stage: string;
  variant: string;
  /** Configured share of the stage's clients. */
  share: number;
  rate: number;
  reached: number;
  rebookings: number;
  visits: number;
}

export interface TypeRow {
  treatmentType: string;
  enrolled: number;
  messages: number;
  staffTasks: number;
  rebookings: number;
  churned: number;
}

/** One arm of the holdout: sequences that finished in the period and how many ended with a visit. */
export interface ArmRow {
  arm: 'treated' | 'holdout';
  enrolled: number;
  /** Ended by a visit: a simulated booking attended, or a later treatment in the history. */
  visits: number;
  churned: number;
  /** visits / (visits + churned); null when none finished. */
  rebookRate: number | null;
}

export type TraceKind =
  | 'enrolled'
  | 'restarted'
  | 'duplicate'
  | 'sent'
  | 'deferred_send_window'
  | 'deferred_caps'
  | 'suppressed_caps'
  | 'suppressed_no_channel'
  | 'suppressed_no_template'
  | 'suppressed_holdout'
  | 'staff_task'
  | 'booked'
  | 'cancelled'
  | 'no_show'
  | 'resumed'
  | 'attended'
  | 'booked_in_history'
  | 'churned'
  | 'running_at_end';

export interface TraceEvent {
  clientId: string;
  treatmentType: string;
  kind: TraceKind;
  at: string;
  stage?: string;
  channel?: Channel;
  detail?: string;
}

export interface SimulationSummary {
  input: {
    rows: number;
    clients: number;
    treatmentsEnrolled: number;
    unclassifiedRows: number;
    duplicateRows: number;
    rowsAfterPeriod: number;
    invalidPhones: number;
    clientsWithoutChannel: number;
  };
  sequences: {
    enrolled: number;
    restarted: number;
    /** Ended by a simulated booking that became a visit. */
    bookedSimulated: number;
    bookedInHistory: number;
    bookedInHistoryAfterATouch: number;
    churned: number;
    runningAtEnd: number;
    noUsableChannel: number;
    /** Held out (issue 13): care touches only. */
    heldOut: number;
    /** Series types planned as reminders for a next session, and as the maintenance cadence. */
    seriesSessions: number;
    maintenance: number;
  };
  /** Client messages, care touches included. */
  messages: { email: number; sms: number; total: number; viaFallback: number; care: number };
  deferred: { sendWindow: number; caps: number };
  /** noChannel: no consent or address on the stage's channel and no fallback; noTemplate: the clinic has no template for the channel (a configuration error when it happens in production). */
  suppressed: { caps: number; noChannel: number; noTemplate: number; holdout: number };
  offers: { issued: number; byOffer: Record<string, number> };
  /** By reason, as the workflow names them: no_response (touches went out), no_touch_delivered, no_usable_channel, appointment_change. */
  staffTasks: {
    total: number;
    noResponse: number;
    noTouchDelivered: number;
    noUsableChannel: number;
    appointmentChange: number;
  };
  rebookings: {
    /** Bookings made (simulated), whatever became of them. */
    simulated: number;
    expected: number;
    /** Sum of the prices of the treatments whose sequence ended in a simulated visit, where known. */
    revenueCents: number;
    withoutPrice: number;
  };
  /** What became of the simulated bookings (issue 11 §2), and the visits the later touches brought. */
  lifecycle: {
    booked: number;
    attended: number;
    cancelled: number;
    noShows: number;
    /** Cancellations rebooked within the grace, before any recovery touch. */
    rebookedAfterCancel: number;
    /** Visits after a cancellation or a no-show of the same client (rebooked or after the recovery touch). */
    recovered: number;
    recoveryTouches: number;
    /** Visits booked after the reactivation touch, and after a win-back touch. */
    reactivated: number;
    wonBack: number;
    /** Booked by a held-out client without any touch (the baseline). */
    bookedWithoutProgram: number;
    /** Bookings overtaken by a visit in the history before they resolved. */
    overtakenByHistory: number;
    /** Bookings not yet resolved at the end of the period. */
    openAtEnd: number;
  };
  arms: ArmRow[];
  perWeek: Record<'email' | 'sms' | 'messages' | 'staffTasks', { mean: number; peak: number }>;
}

export interface SimulationResult {
  clinic: string;
  timeZone: string;
  /** Counted period: [from, to) in local dates. */
  from: string;
  to: string;
  seed: number;
  leadDays: number;
  /** Effective conversion rate of every stage key the clinic uses. */
  rates: Record<string, number>;
  lifecycleRates: LifecycleRates & { baseline: number };
  summary: SimulationSummary;
  byStage: StageRow[];
  byVariant: VariantRow[];
  byType: TypeRow[];
  unclassifiedServices: { service: string; rows: number }[];
  weekly: WeekRow[];
  trace?: TraceEvent[];
}

type LocalDate = { year: number; month: number; day: number };

const isoDate = (d: LocalDate) => `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
const dayNumber = (d: LocalDate) => Date.UTC(d.year, d.month - 1, d.day) / DAY_MS;

function parseLocalDate(s: string): LocalDate {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const d = m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : undefined;
  if (!d || isoDate(addDays(d, 0)) !== s) throw new RangeError(`"${s}" is not a date (YYYY-MM-DD)`);
  return d;
}

/** Same day-of-month `months` later (overflow rolls on: Jan 31 + 1 month = Mar 3 or 2). */
function addMonths(d: LocalDate, months: number): LocalDate {
  return addDays({ year: d.year, month: d.month + months, day: d.day }, 0);
}

/** A stage as the simulator runs it: the plan's, a reactivation touch, or a recovery touch. */
export interface SimStage extends StageDefinition {
  care: boolean;
}

/** A sequence's stages with their due instants (ms) and the end of its rebooking window. */
export interface FastPlan {
  /** The type's (or series') stages, then the reactivation and win-back touches. */
  stages: SimStage[];
  dues: number[];
  /** How many of `stages` are the plan's own (the rest are reactivation touches). */
  planned: number;
  windowEndsAt: number;
  /** When a sequence that got every touch ends churned. */
  churnAt: number;
  intervalDays: number;
  series?: { phase: 'series' | 'maintenance'; completed: number; sessions: number };
}

/**
 * `planSequence` and `planReactivation`, memoized. A plan depends on the anchor's local date only,
 * except that no stage is due before the anchor itself (plan.ts: `Math.max(localDayAt(…),
 * anchorMs)`): each local day is planned once, from its first instant, and that bound is applied
 * per treatment. The simulator's tests check the result against the core for arbitrary anchors.
 */
export function createPlanner(
  clinic: Pick<SimulationClinic, 'timeZone' | 'sendTime'> & Partial<Pick<SimulationClinic, 'capRules'>>,
  localDateOf: (ms: number) => LocalDate = (ms) => toLocal(ms, clinic.timeZone),
): (type: TreatmentTypeDefinition, anchorMs: number, session?: CompletedSession) => FastPlan {
  const tz = clinic.timeZone;
  const spacingMs = capSpacingMs(clinic.capRules ?? []);
  const days = new Map<string, FastPlan>();
  return (type, anchorMs, session) => {
    const date = localDateOf(anchorMs);
    const key = `${type.key}|${date.year}-${date.month}-${date.day}|${session ? `${session.completed}/${session.sessions ?? ''}` : ''}`;
    let base = days.get(key);
    if (!base) {
      const dayStart = fromLocal({ year: date.year, month: date.month, day: date.day, hour: 0, minute: 0 }, tz);
      const plan = planSequence(type, new Date(dayStart).toISOString(), {
        timeZone: tz,
        sendTime: clinic.sendTime,
        ...(session ? { session } : {}),
      });
      const later = planReactivation(plan, type.reactivation ?? DEFAULT_REACTIVATION, {
        timeZone: tz,
        sendTime: clinic.sendTime,
        spacingMs,
      });
      const all = [...plan.stages, ...later.stages];
      base = {
        stages: all.map((st) => ({
          key: st.key,
          day: st.day,
          channel: st.channel,
          purpose: st.purpose,
          care: st.purpose === 'care',
        })),
        dues: all.map((st) => Date.parse(st.dueAt)),
        planned: plan.stages.length,
        windowEndsAt: Date.parse(plan.windowEndsAt),
        churnAt: Date.parse(later.churnAt),
        intervalDays: plan.intervalDays,
        ...(plan.series ? { series: plan.series } : {}),
      };
      days.set(key, base);
    }
    return { ...base, dues: base.dues.map((d) => Math.max(d, anchorMs)) };
  };
}

type Arm = 'treated' | 'holdout';

interface Seq {
  type: TreatmentTypeDefinition;
  plan: FastPlan;
  arm: Arm;
  anchorMs: number;
  priceCents: number | null;
  idx: number;
  /** 'stages': running; 'watching': a booking is watched (care touches only); 'grace': every touch done, churn at nextAt. */
  phase: 'stages' | 'watching' | 'grace';
  nextAt: number;
  /** When a booking from the history ends it (Infinity: none). */
  stopAt: number;
  lastTouch?: string;
  /** A marketing message went out in this workflow (its history survives a restart). */
  sentAny: boolean;
  heldByWindow: boolean;
  heldByCaps: boolean;
  /** The staff task of this cycle was created. */
  escalated: boolean;
  /** A recovery touch to run before the stages ahead, and whether a past staff stage is then due. */
  recovery?: SimStage;
  staffNow?: boolean;
  /** A booking of this run was cancelled or missed: a visit now counts as recovered. */
  afterLapse: boolean;
  /** The variant each stage went out in (attribution of the visit). */
  variants?: Map<string, StageVariant>;
  /** A held-out client who comes back by itself books then (Infinity: not). */
  selfBookAt: number;
  /** When the sequence last resumed after a cancellation or a no-show (the recovery touch's due instant). */
  resumedAt?: number;
}

/** A simulated booking of a client, watched until it becomes a visit or lapses. */
interface Appointment {
  seq: Seq;
  stage: SimStage | undefined;
  /** When it resolves, and how. */
  at: number;
  outcome: 'attended' | 'cancelled' | 'no_show';
  /** An earlier booking of this run was cancelled or missed. */
  afterLapse: boolean;
}

/** Runs the simulation; `rows` in any order. */
export function simulate(
  rows: readonly HistoryRow[],
  clinic: SimulationClinic,
  options: SimulationOptions,
): SimulationResult {
  const tz = clinic.timeZone;
  const months = options.months;
  if (!Number.isInteger(months) || months < 1 || months > 120)
    throw new RangeError('months must be a whole number from 1 to 120');
  if (!(options.leadDays >= 0)) throw new RangeError('leadDays must be 0 or more');
  const leadMs = options.leadDays * DAY_MS;
  const life = options.lifecycle ?? DEFAULT_LIFECYCLE_RATES;
  const baseline = options.baseline ?? DEFAULT_BASELINE;
  const shareOf = options.holdoutShare ?? clinic.holdoutShare;
  const variantRates = options.variantRates ?? {};
  const CANCEL_GRACE_MS = 2 * DAY_MS;
  const NO_SHOW_FOUND_AFTER_MS = DAY_MS;

  // Memoized core calls: these depend only on their arguments.
  // Today's offsets are whole quarter hours, so all instants of a UTC quarter hour share their
  // local date; a quarter hour that straddles local midnight (old local mean times) is not cached.
  const QUARTER_HOUR = 900_000;
  const localDates = new Map<number, LocalDate | null>();
  const dateOf = (ms: number): LocalDate => {
    const l = toLocal(ms, tz);
    return { year: l.year, month: l.month, day: l.day };
  };
  const localDateOf = (ms: number): LocalDate => {
    const bucket = Math.floor(ms / QUARTER_HOUR);
    let d = localDates.get(bucket);
    if (d === undefined) {
      const first = dateOf(bucket * QUARTER_HOUR);
      const last = dateOf((bucket + 1) * QUARTER_HOUR - 1);
      d = first.day === last.day ? first : null;
      localDates.set(bucket, d);
    }
    return d ?? dateOf(ms);
  };
  const classified = new Map<string, TreatmentTypeDefinition | undefined>();
  const classify = (name: string) => {
    if (classified.has(name)) return classified.get(name);
    const c = classifyService({ name }, clinic.classification);
    const type = c.matched ? clinic.types.get(c.treatmentType) : undefined;
    classified.set(name, type);
    return type;
  };
  const planFor = createPlanner(clinic, localDateOf);
  /** Whether a number passes validation (libphonenumber: ~0.5 s of CPU on 50,000 clients), per number as written. */
  const phoneValid = new Map<string, boolean>();
  const templateChannels = new Map<string, Channel[]>();
  /** The channels the clinic has a template for at a stage: by its key, then its purpose (as delivery looks). */
  const templatesOf = (st: StageDefinition): Channel[] => {
    let list = templateChannels.get(st.key);
    if (!list) {
      const found = new Set<Channel>();
      for (const k of templateKeys(st)) for (const c of clinic.templateChannels[k] ?? []) found.add(c);
      list = [...found];
      templateChannels.set(st.key, list);
    }
    return list;
  };
  const variantsOf = new Map<string, readonly StageVariant[]>();
  const variantList = (st: StageDefinition): readonly StageVariant[] => {
    let list = variantsOf.get(st.key);
    if (!list) {
      list = st.channel === 'staff' || st.purpose === 'care' ? [] : stageVariants(clinic.variants, st);
      if (list.length < 2) list = [];
      variantsOf.set(st.key, list);
    }
    return list;
  };
  /** The variant rates are configured by the key variants are (stage key or purpose). */
  const variantRateOf = (st: StageDefinition, name: string): number | undefined =>
    variantRates[st.key]?.[name] ?? variantRates[st.purpose]?.[name];

  // The counted period, in whole local weeks starting on Monday.
  const earliest = rows.reduce((m, r) => Math.min(m, r.completedAtMs), Number.POSITIVE_INFINITY);
  if (!options.from && !Number.isFinite(earliest))
    throw new RangeError('the history has no readable rows (and no start date was given)');
  const fromDate = options.from ? parseLocalDate(options.from) : localDateOf(earliest);
  const toDate = addMonths(fromDate, months);
  const fromMs = fromLocal({ ...fromDate, hour: 0, minute: 0 }, tz);
  const toMs = fromLocal({ ...toDate, hour: 0, minute: 0 }, tz);
  const weekday = new Date(Date.UTC(fromDate.year, fromDate.month - 1, fromDate.day)).getUTCDay();
  const monday = addDays(fromDate, -((weekday + 6) % 7));
  const weekStarts: number[] = [];
  const weekLabels: string[] = [];
  for (let k = 0; ; k++) {
    const d = addDays(monday, 7 * k);
    const ms = fromLocal({ ...d, hour: 0, minute: 0 }, tz);
    if (ms >= toMs) break;
    weekStarts.push(ms);
    weekLabels.push(isoDate(d));
  }
  const nWeeks = weekStarts.length;
  const series = {
    email: new Int32Array(nWeeks),
    sms: new Int32Array(nWeeks),
    staffTasks: new Int32Array(nWeeks),
    offers: new Int32Array(nWeeks),
    deferredBySendWindow: new Int32Array(nWeeks),
    deferredByCaps: new Int32Array(nWeeks),
    suppressedByCaps: new Int32Array(nWeeks),
    rebookings: new Int32Array(nWeeks),
    enrolled: new Int32Array(nWeeks),
    care: new Int32Array(nWeeks),
    attended: new Int32Array(nWeeks),
    cancelled: new Int32Array(nWeeks),
    noShows: new Int32Array(nWeeks),
  };
  /** Week index of an instant inside the period, else -1. */
  const weekOf = (ms: number): number => {
    if (ms < fromMs || ms >= toMs) return -1;
    let lo = 0;
    let hi = nWeeks - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (weekStarts[mid]! <= ms) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  const s: SimulationSummary = {
    input: {
      rows: rows.length,
      clients: 0,
      treatmentsEnrolled: 0,
      unclassifiedRows: 0,
      duplicateRows: 0,
      rowsAfterPeriod: 0,
      invalidPhones: 0,
      clientsWithoutChannel: 0,
    },
    sequences: {
      enrolled: 0,
      restarted: 0,
      bookedSimulated: 0,
      bookedInHistory: 0,
      bookedInHistoryAfterATouch: 0,
      churned: 0,
      runningAtEnd: 0,
      noUsableChannel: 0,
      heldOut: 0,
      seriesSessions: 0,
      maintenance: 0,
    },
    messages: { email: 0, sms: 0, total: 0, viaFallback: 0, care: 0 },
    deferred: { sendWindow: 0, caps: 0 },
    suppressed: { caps: 0, noChannel: 0, noTemplate: 0, holdout: 0 },
    offers: { issued: 0, byOffer: {} },
    staffTasks: { total: 0, noResponse: 0, noTouchDelivered: 0, noUsableChannel: 0, appointmentChange: 0 },
    rebookings: { simulated: 0, expected: 0, revenueCents: 0, withoutPrice: 0 },
    lifecycle: {
      booked: 0,
      attended: 0,
      cancelled: 0,
      noShows: 0,
      rebookedAfterCancel: 0,
      recovered: 0,
      recoveryTouches: 0,
      reactivated: 0,
      wonBack: 0,
      bookedWithoutProgram: 0,
      overtakenByHistory: 0,
      openAtEnd: 0,
    },
    arms: [],
    perWeek: {
      email: { mean: 0, peak: 0 },
      sms: { mean: 0, peak: 0 },
      messages: { mean: 0, peak: 0 },
      staffTasks: { mean: 0, peak: 0 },
    },
  };
  const arms: Record<Arm, ArmRow> = {
    treated: { arm: 'treated', enrolled: 0, visits: 0, churned: 0, rebookRate: null },
    holdout: { arm: 'holdout', enrolled: 0, visits: 0, churned: 0, rebookRate: null },
  };
  const byStage = new Map<string, StageRow>();
  const stageRow = (st: StageDefinition): StageRow => {
    let r = byStage.get(st.key);
    if (!r) {
      r = {
        stage: st.key,
        purpose: st.purpose,
        rate: rateFor(options.rates, st),
        reached: 0,
        rebookings: 0,
        visits: 0,
        expectedRebookings: 0,
      };
      byStage.set(st.key, r);
    }
    return r;
  };
  const byVariant = new Map<string, VariantRow>();
  const variantRow = (st: StageDefinition, v: StageVariant): VariantRow => {
    const k = `${st.key}|${v.name}`;
    let r = byVariant.get(k);
    if (!r) {
      const list = variantList(st);
      const total = list.reduce((a, x) => a + x.weight, 0);
      r = {
        stage: st.key,
        variant: v.name,
        share: Math.round((v.weight / total) * 1000) / 1000,
        rate: variantRateOf(st, v.name) ?? rateFor(options.rates, st),
        reached: 0,
        rebookings: 0,
        visits: 0,
      };
      byVariant.set(k, r);
    }
    return r;
  };
  const byType = new Map<string, TypeRow>();
  for (const t of clinic.types.values()) {
    byType.set(t.key, { treatmentType: t.key, enrolled: 0, messages: 0, staffTasks: 0, rebookings: 0, churned: 0 });
    for (const st of t.stages) if (st.purpose !== 'care') stageRow(st);
  }
  const unclassified = new Map<string, number>();
  const trace: TraceEvent[] | undefined = options.traceClients ? [] : undefined;

  // Group rows by client, keeping the file's order of first appearance.
  const clients = new Map<string, HistoryRow[]>();
  for (const r of rows) {
    let list = clients.get(r.clientId);
    if (!list) {
      list = [];
      clients.set(r.clientId, list);
    }
    list.push(r);
  }
  s.input.clients = clients.size;

  // The client being simulated (one at a time) and its state: the functions below are created once
  // per run, not per client (with ~20 closures a client, their creation and garbage cost seconds on
  // an agency's year).
  let clientId = '';
  let tracing = false;
  let rng: () => number = () => 0;
  let fate: () => number = rng;
  let holdoutDraw = 0;
  let all: Treatment[] = [];
  let channels = {} as Record<Channel, ChannelState>;
  const sends: SendRecord[] = [];
  const seen = new Set<string>();
  const running = new Map<string, Seq>();
  let appointment: Appointment | undefined;

  // Every appointment of the client (any service, even after the period) can be the booking
  // that ends an earlier sequence: the first one on a later local day than its treatment.
  const historyStop = (t: Treatment): number => {
    const next = all.find((o) => o.day > t.day);
    return next ? Math.max(t.row.completedAtMs, next.row.completedAtMs - leadMs) : Number.POSITIVE_INFINITY;
  };

  // Callers test `tracing` first, so an untraced client allocates nothing for the trace.
  const note = (kind: TraceKind, seqType: string, at: number, extra: Partial<TraceEvent> = {}) => {
    trace!.push({ clientId, treatmentType: seqType, kind, at: new Date(at).toISOString(), ...extra });
  };
  const count = (arr: Int32Array, at: number): boolean => {
    const w = weekOf(at);
    if (w < 0) return false;
    arr[w]!++;
    return true;
  };

  const end = (seq: Seq, at: number, kind: 'attended' | 'booked_in_history' | 'churned', stage?: string) => {
    running.delete(seq.type.key);
    const inPeriod = weekOf(at) >= 0;
    if (inPeriod) {
      if (kind === 'churned') {
        s.sequences.churned++;
        byType.get(seq.type.key)!.churned++;
        arms[seq.arm].churned++;
      } else {
        arms[seq.arm].visits++;
        if (kind === 'attended') s.sequences.bookedSimulated++;
        else {
          s.sequences.bookedInHistory++;
          if (seq.lastTouch) s.sequences.bookedInHistoryAfterATouch++;
        }
      }
    }
    if (tracing) note(kind, seq.type.key, at, { stage: stage ?? seq.lastTouch ?? 'before_first_touch' });
  };

  /** The first index of `seq`'s care stages from `from` on, or -1. */
  const nextCare = (seq: Seq, from: number): number => {
    for (let i = from; i < seq.plan.planned; i++) if (seq.plan.stages[i]!.care) return i;
    return -1;
  };

  /** A booking at `at`: the marketing of every running sequence stops and the appointment is watched. */
  const book = (seq: Seq, stage: SimStage | undefined, at: number, afterLapse: boolean) => {
    const inPeriod = weekOf(at) >= 0;
    if (inPeriod) {
      s.lifecycle.booked++;
      s.rebookings.simulated++;
      byType.get(seq.type.key)!.rebookings++;
      count(series.rebookings, at);
    }
    const start = at + leadMs;
    const u = fate();
    let outcome: Appointment['outcome'] = 'attended';
    let resolves = start;
    if (u < life.cancel) {
      outcome = 'cancelled';
      resolves = at + Math.floor(leadMs / 2);
    } else if (u < life.cancel + life.noShow) {
      outcome = 'no_show';
      resolves = start + NO_SHOW_FOUND_AFTER_MS;
    }
    appointment = { seq, stage, at: resolves, outcome, afterLapse };
    for (const q of running.values()) {
      q.phase = 'watching';
      q.recovery = undefined;
      q.staffNow = false;
      q.heldByWindow = false;
      q.heldByCaps = false;
      const care = nextCare(q, q.idx);
      q.nextAt = care < 0 ? Number.POSITIVE_INFINITY : Math.max(q.plan.dues[care]!, at);
      if (tracing)
        note('booked', q.type.key, at, {
          stage: q === seq && stage ? stage.key : (q.lastTouch ?? 'before_first_touch'),
          ...(afterLapse ? { detail: 'rebooked' } : {}),
        });
    }
  };

  /** The watched appointment resolves: a visit ends the sequences; a lapse puts them back in follow-up. */
  const resolve = (a: Appointment) => {
    appointment = undefined;
    const watching = [...running.values()].filter((q) => q.phase === 'watching');
    const inPeriod = weekOf(a.at) >= 0;
    if (watching.length === 0) {
      if (inPeriod) s.lifecycle.overtakenByHistory++;
      return;
    }
    if (a.outcome === 'attended') {
      if (inPeriod) {
        s.lifecycle.attended++;
        count(series.attended, a.at);
        if (a.afterLapse) s.lifecycle.recovered++;
        if (a.stage) {
          stageRow(a.stage).visits++;
          if (a.stage.purpose === 'reactivation') s.lifecycle.reactivated++;
          else if (a.stage.purpose === 'winback') s.lifecycle.wonBack++;
        }
        const v = a.stage && a.seq.variants?.get(a.stage.key);
        if (v && a.stage) variantRow(a.stage, v).visits++;
        if (a.seq.priceCents === null) s.rebookings.withoutPrice++;
        else s.rebookings.revenueCents += a.seq.priceCents;
      }
      for (const q of watching) end(q, a.at, 'attended', q === a.seq ? a.stage?.key : undefined);
      return;
    }
    if (a.outcome === 'cancelled') {
      if (inPeriod) {
        s.lifecycle.cancelled++;
        count(series.cancelled, a.at);
      }
      if (tracing) for (const q of watching) note('cancelled', q.type.key, a.at);
      if (fate() < life.rebookAfterCancel) {
        if (inPeriod) s.lifecycle.rebookedAfterCancel++;
        book(a.seq, a.stage, a.at + DAY_MS, true);
        return;
      }
    } else {
      if (inPeriod) {
        s.lifecycle.noShows++;
        count(series.noShows, a.at);
      }
      if (tracing) for (const q of watching) note('no_show', q.type.key, a.at);
    }
    const resumeAt = a.at + (a.outcome === 'cancelled' ? CANCEL_GRACE_MS : 0);
    const key = a.outcome === 'cancelled' ? 'recovery_cancelled' : 'recovery_no_show';
    for (const q of watching) {
      q.phase = 'stages';
      q.recovery = {
        key,
        day: Math.floor((resumeAt - q.anchorMs) / DAY_MS),
        channel: q.plan.stages.some((x) => x.channel === 'sms') ? 'sms' : 'email',
        purpose: 'recovery',
        care: false,
      };
      q.nextAt = resumeAt;
      q.resumedAt = resumeAt;
      q.afterLapse = true;
      if (tracing) note('resumed', q.type.key, resumeAt, { stage: key });
    }
  };

  /** A marketing touch sent or a task created: the client may book because of it. */
  const expose = (seq: Seq, stage: SimStage, at: number, variant: StageVariant | undefined) => {
    const rate = (variant && variantRateOf(stage, variant.name)) ?? rateFor(options.rates, stage);
    const row = stageRow(stage);
    const inPeriod = weekOf(at) >= 0;
    if (inPeriod) {
      row.reached++;
      row.expectedRebookings += rate;
      s.rebookings.expected += rate;
      if (variant) variantRow(stage, variant).reached++;
    }
    if (rng() >= rate) return;
    if (inPeriod) {
      row.rebookings++;
      if (variant) variantRow(stage, variant).rebookings++;
    }
    book(seq, stage, at, seq.afterLapse);
  };

  const staffTask = (
    seq: Seq,
    stage: SimStage,
    at: number,
    reason: 'no_response' | 'no_touch_delivered' | 'no_usable_channel' | 'appointment_change',
  ) => {
    seq.escalated = true;
    if (seq.arm === 'holdout') {
      if (weekOf(at) >= 0) s.suppressed.holdout++;
      if (tracing) note('suppressed_holdout', seq.type.key, at, { stage: stage.key });
      return;
    }
    if (count(series.staffTasks, at)) {
      s.staffTasks.total++;
      if (reason === 'no_response') s.staffTasks.noResponse++;
      else if (reason === 'no_touch_delivered') s.staffTasks.noTouchDelivered++;
      else if (reason === 'no_usable_channel') s.staffTasks.noUsableChannel++;
      else s.staffTasks.appointmentChange++;
      byType.get(seq.type.key)!.staffTasks++;
    }
    if (tracing) note('staff_task', seq.type.key, at, { stage: stage.key, detail: reason });
    seq.lastTouch = stage.key;
    expose(seq, stage, at, undefined);
  };

  /** Moves the sequence past its current stage (the next one is due no earlier than now). */
  const advance = (seq: Seq, now: number) => {
    seq.heldByWindow = false;
    seq.heldByCaps = false;
    if (seq.recovery) {
      // After the recovery touch: the stages still ahead, none sent late; a staff stage already
      // past (and not done in this cycle) becomes a task at once.
      seq.recovery = undefined;
      const staff = seq.plan.stages.findIndex((x, i) => i < seq.plan.planned && x.channel === 'staff');
      let i = seq.idx;
      while (i < seq.plan.stages.length && seq.plan.dues[i]! < now) i++;
      seq.idx = i;
      if (staff >= 0 && staff < i && !seq.escalated) {
        seq.staffNow = true;
        seq.nextAt = now;
        return;
      }
    } else if (seq.staffNow) seq.staffNow = false;
    else seq.idx++;
    if (seq.idx >= seq.plan.stages.length) {
      seq.phase = 'grace';
      seq.nextAt = Math.max(seq.plan.churnAt, now);
    } else seq.nextAt = Math.max(seq.plan.dues[seq.idx]!, now);
  };

  /** When a held stage gives up: the next stage's due instant, the window's end after the plan's last, the churn after the last touch. */
  const stageExpires = (seq: Seq): number => {
    const p = seq.plan;
    if (seq.idx + 1 < p.stages.length && seq.idx + 1 !== p.planned) return p.dues[seq.idx + 1]!;
    return seq.idx + 1 === p.planned ? p.windowEndsAt : p.churnAt;
  };

  const variantFor = (seq: Seq, stage: SimStage): StageVariant | undefined => {
    const list = variantList(stage);
    if (list.length === 0) return undefined;
    const v = chooseVariant(
      list,
      hash32(`variant\u0000${options.seed}\u0000${clientId}\u0000${stage.key}`) / 4_294_967_296,
    );
    if (!seq.variants) seq.variants = new Map();
    seq.variants.set(stage.key, v);
    return v;
  };

  /** The sequence's stage now due: a recovery touch, a past staff stage after a lapse, or the plan's next. */
  const currentStage = (seq: Seq): SimStage =>
    seq.recovery ?? (seq.staffNow ? staffStageOf(seq) : seq.plan.stages[seq.idx]!);

  /** One due stage, decided by core/stage-decision.ts (as delivery, the preview and the workflow decide it). */
  /** The stage runStage decides (hasTemplate reads it: one function for the run, not one per decision). */
  let decidingStage: SimStage | undefined;
  const hasTemplate = (c: Channel) => templatesOf(decidingStage!).includes(c);
  const runStage = (seq: Seq, now: number) => {
    const stage = currentStage(seq);
    const inPeriod = weekOf(now) >= 0;
    const variant = variantFor(seq, stage);
    decidingStage = stage;
    const decided = decideStage({
      stage: { channel: stage.channel, purpose: stage.purpose, dueAtMs: stageDue(seq) },
      nowMs: now,
      expiresAtMs: stageExpires(seq),
      clinic,
      sendTimeZone: tz,
      channels,
      hasTemplate,
      arm: seq.arm,
      variant: variant ?? null,
      sends,
      marketingTouchDelivered: seq.sentAny,
    });
    // In the reactivation and win-back touches the staff stage is long past: a client nobody can
    // reach is not handed to staff again, the touch is suppressed (the workflow's rule).
    const winbackPhase = !seq.recovery && !seq.staffNow && seq.idx >= seq.plan.planned;
    const decision: typeof decided =
      decided.kind === 'escalate' && decided.reason === 'no_usable_channel' && !noChannelEscalates(stage, winbackPhase)
        ? { kind: 'suppress', reason: 'no_usable_channel' }
        : decided;
    switch (decision.kind) {
      case 'escalate': {
        if (decision.reason !== 'no_usable_channel') {
          staffTask(seq, stage, now, seq.staffNow ? 'appointment_change' : decision.reason);
          if (running.get(seq.type.key) === seq && seq.phase === 'stages') advance(seq, now);
          return;
        }
        // Nobody can be reached automatically: staff now, the rest of the sequence skipped.
        if (inPeriod) s.sequences.noUsableChannel++;
        if (tracing)
          note('suppressed_no_channel', seq.type.key, now, { stage: stage.key, detail: 'no_usable_channel' });
        seq.recovery = undefined;
        seq.staffNow = false;
        seq.idx = seq.plan.planned - 1;
        staffTask(seq, staffStageOf(seq), now, 'no_usable_channel');
        if (running.get(seq.type.key) === seq && seq.phase === 'stages') {
          // The rest of the rebooking stages is skipped; the reactivation and win-back touches
          // are still tried, as the workflow does (consent or an address may have come since).
          seq.idx = seq.plan.planned;
          if (seq.idx < seq.plan.stages.length) seq.nextAt = Math.max(seq.plan.dues[seq.idx]!, now);
          else {
            seq.phase = 'grace';
            seq.nextAt = Math.max(seq.plan.windowEndsAt, now);
          }
        }
        return;
      }
      case 'suppress': {
        if (decision.reason === 'holdout') {
          seq.escalated ||= stage.channel === 'staff';
          if (inPeriod) s.suppressed.holdout++;
          if (tracing) note('suppressed_holdout', seq.type.key, now, { stage: stage.key });
        } else if (decision.reason === 'capped') {
          if (count(series.suppressedByCaps, now)) s.suppressed.caps++;
          if (tracing) note('suppressed_caps', seq.type.key, now, { stage: stage.key, channel: decision.channel! });
        } else {
          if (inPeriod) s.suppressed.noChannel++;
          if (tracing)
            note('suppressed_no_channel', seq.type.key, now, {
              stage: stage.key,
              channel: variantChannel(stage.channel as Channel, variant ?? null),
              detail: decision.reason,
            });
        }
        advance(seq, now);
        return;
      }
      case 'defer': {
        if (decision.reason === 'send_window') {
          if (!seq.heldByWindow && count(series.deferredBySendWindow, now)) s.deferred.sendWindow++;
          seq.heldByWindow = true;
          if (tracing)
            note('deferred_send_window', seq.type.key, now, {
              stage: stage.key,
              channel: decision.channel!,
              detail: new Date(decision.until).toISOString(),
            });
        } else if (decision.reason === 'capped') {
          if (!seq.heldByCaps && count(series.deferredByCaps, now)) s.deferred.caps++;
          seq.heldByCaps = true;
          if (tracing)
            note('deferred_caps', seq.type.key, now, {
              stage: stage.key,
              channel: decision.channel!,
              detail: new Date(decision.until).toISOString(),
            });
        }
        seq.nextAt = decision.until;
        return;
      }
      case 'send':
        break;
    }
    const channel = decision.channel;
    if (!templatesOf(stage).includes(channel)) {
      // Production refuses to send without a template (config_invalid): nothing goes out.
      if (inPeriod) s.suppressed.noTemplate++;
      if (tracing) note('suppressed_no_template', seq.type.key, now, { stage: stage.key, channel });
      advance(seq, now);
      return;
    }
    if (capsApply(stage.care ? 'care' : 'marketing', clinic.capsIncludeCare)) sends.push({ at: now, channel });
    if (count(series[channel], now)) {
      s.messages[channel]++;
      s.messages.total++;
      if (decision.fallback) s.messages.viaFallback++;
      byType.get(seq.type.key)!.messages++;
      if (stage.care) {
        s.messages.care++;
        series.care[weekOf(now)]!++;
      }
      if (stage.purpose === 'recovery') s.lifecycle.recoveryTouches++;
    }
    let detail: string | undefined;
    if (stage.purpose === 'incentive') {
      detail = describeOffer(offerFor(seq.priceCents, clinic.incentives.tiers, clinic.incentives.unknown));
      if (count(series.offers, now)) {
        s.offers.issued++;
        s.offers.byOffer[detail] = (s.offers.byOffer[detail] ?? 0) + 1;
      }
    }
    if (tracing)
      note('sent', seq.type.key, now, {
        stage: stage.key,
        channel,
        ...(detail || variant
          ? { detail: [detail, variant && `variant ${variant.name}`].filter(Boolean).join('; ') }
          : {}),
      });
    if (stage.care) {
      // Aftercare converts nobody and is no touch the staff task counts; during a watch it is all that runs.
      if (seq.phase === 'watching') {
        const care = nextCare(seq, seq.idx + 1);
        seq.idx = care < 0 ? seq.idx + 1 : care;
        seq.nextAt = care < 0 ? Number.POSITIVE_INFINITY : Math.max(seq.plan.dues[care]!, now);
      } else advance(seq, now);
      return;
    }
    seq.lastTouch = stage.key;
    seq.sentAny = true;
    expose(seq, stage, now, variant);
    if (running.get(seq.type.key) === seq && seq.phase === 'stages') advance(seq, now);
  };

  /** The due instant of the stage now due (a recovery touch or a past staff stage: when it was resumed). */
  const stageDue = (seq: Seq): number =>
    seq.recovery || seq.staffNow ? (seq.resumedAt ?? seq.nextAt) : seq.plan.dues[seq.idx]!;

  const staffStageOf = (seq: Seq): SimStage =>
    seq.plan.stages.find((x, i) => i < seq.plan.planned && x.channel === 'staff') ?? {
      key: 'staff_escalation',
      day: seq.plan.intervalDays,
      channel: 'staff',
      purpose: 'escalation',
      care: false,
    };

  const enroll = (t: Treatment) => {
    const type = t.type!;
    const at = t.row.completedAtMs;
    const dedupeKey = `${type.key}|${t.row.appointmentId}`;
    const current = running.get(type.key);
    // signal-with-start is not idempotent (a repeated appointment), and the latest appointment
    // wins (an older or same-instant treatment of a running type changes nothing).
    if (seen.has(dedupeKey) || (current && at <= current.anchorMs)) {
      s.input.duplicateRows++;
      if (tracing) note('duplicate', type.key, at, { detail: `line ${t.row.line}` });
      return;
    }
    seen.add(dedupeKey);
    s.input.treatmentsEnrolled++;
    if (current) {
      running.delete(type.key);
      if (weekOf(at) >= 0) s.sequences.restarted++;
      if (tracing) note('restarted', type.key, at);
    }
    // A series counts its sessions from the client's completed treatments of the type.
    const session = type.series
      ? completedSession(
          all.filter((o) => o.type === type && o.row.completedAtMs < at).map((o) => ({ atMs: o.row.completedAtMs })),
          at,
          type.series,
        )
      : undefined;
    const plan = planFor(type, at, session);
    const arm: Arm = holdoutDraw < shareOf(type.key) ? 'holdout' : 'treated';
    const seq: Seq = {
      type,
      plan,
      arm,
      anchorMs: at,
      priceCents: t.row.priceCents,
      idx: 0,
      phase: 'stages',
      nextAt: plan.dues[0] ?? plan.churnAt,
      stopAt: historyStop(t),
      sentAny: current?.sentAny ?? false,
      heldByWindow: false,
      heldByCaps: false,
      escalated: false,
      afterLapse: false,
      selfBookAt: Number.POSITIVE_INFINITY,
    };
    if (plan.stages.length === 0) seq.phase = 'grace';
    running.set(type.key, seq);
    const inPeriod = count(series.enrolled, at);
    if (inPeriod) {
      s.sequences.enrolled++;
      byType.get(type.key)!.enrolled++;
      arms[arm].enrolled++;
      if (arm === 'holdout') s.sequences.heldOut++;
      if (plan.series?.phase === 'series') s.sequences.seriesSessions++;
      else if (plan.series?.phase === 'maintenance') s.sequences.maintenance++;
    }
    if (tracing)
      note('enrolled', type.key, at, {
        detail: `line ${t.row.line}${arm === 'holdout' ? '; held out' : ''}${plan.series ? `; session ${plan.series.completed} of ${plan.series.sessions}` : ''}`,
      });
    // Without the program a held-out client still comes back by itself, on the interval day.
    if (arm === 'holdout' && fate() < baseline) {
      seq.selfBookAt = fromLocalDay(at, plan.intervalDays);
    }
  };

  /** The clinic's send time on the local day `days` after the instant `at`. */
  const fromLocalDay = (at: number, days: number): number => {
    const d = addDays(localDateOf(at), days);
    const [h, m] = clinic.sendTime.split(':').map(Number);
    return fromLocal({ ...d, hour: h!, minute: m! }, tz);
  };

  function simulateClient(id: string, clientRows: HistoryRow[]): void {
    sends.length = 0;
    seen.clear();
    running.clear();
    appointment = undefined as Appointment | undefined; // (the cast: the calls below set it)
    clientId = id;
    tracing = !!trace && options.traceClients!.has(clientId);
    // Booking draws, and separate streams for what becomes of bookings and for the variants, so
    // that changing a lifecycle rate does not move which touches convert.
    rng = streamFor(options.seed, clientId);
    fate = streamFor(options.seed, `fate\u0000${clientId}`);
    // The holdout draw (production: a keyed hash of clinic and client): one per client, so a client
    // stays in one arm across its sequences; the arms nest as the share grows.
    holdoutDraw = hash32(`holdout\u0000${options.seed}\u0000${clientId}`) / 4_294_967_296;
    const sorted = [...clientRows].sort((a, b) => a.completedAtMs - b.completedAtMs || a.line - b.line);
    all = sorted.map((row) => ({
      row,
      type: classify(row.serviceName),
      day: dayNumber(localDateOf(row.completedAtMs)),
    }));

    // Contact details and consent: the most recent row that says anything about each.
    const latest = <K extends keyof HistoryRow>(k: K): HistoryRow[K] | null => {
      for (let i = sorted.length - 1; i >= 0; i--) if (sorted[i]![k] !== null) return sorted[i]![k];
      return null;
    };
    const hasEmail = latest('hasEmail') ?? true;
    const phone = latest('phone');
    let phoneOk = phone !== false;
    if (typeof phone === 'string') {
      let ok = phoneValid.get(phone);
      if (ok === undefined) {
        ok = normalizePhone(phone, clinic.defaultCountry).ok;
        phoneValid.set(phone, ok);
      }
      phoneOk = ok;
      if (!phoneOk) s.input.invalidPhones++;
    }
    // What decideStage knows of each channel (opt-outs and delivery failures are not simulated).
    channels = {
      sms: {
        hasAddress: phone !== false,
        consented: latest('smsConsent') ?? clinic.assumedConsent.sms,
        optedOut: false,
        undeliverable: false,
        validNumber: phoneOk,
      },
      email: {
        hasAddress: hasEmail,
        consented: latest('emailConsent') ?? clinic.assumedConsent.email,
        optedOut: false,
        undeliverable: false,
      },
    };
    const marketingUnusable = unusableChannels('marketing', channels);

    const treatments: Treatment[] = [];
    for (const t of all) {
      if (!t.type) {
        s.input.unclassifiedRows++;
        unclassified.set(t.row.serviceName, (unclassified.get(t.row.serviceName) ?? 0) + 1);
      } else if (t.row.completedAtMs >= toMs) s.input.rowsAfterPeriod++;
      else treatments.push(t);
    }
    if (treatments.length === 0) return;
    if (marketingUnusable.email && marketingUnusable.sms) s.input.clientsWithoutChannel++;

    let ti = 0;
    for (let guard = 0; guard < 100_000; guard++) {
      // Earliest pending event; at equal instants history bookings come first, then treatments,
      // then a watched appointment, then stages.
      let seq: Seq | undefined;
      let at = Number.POSITIVE_INFINITY;
      let kind = 'stage' as 'stop' | 'self' | 'stage';
      for (const q of running.values()) {
        let t = q.nextAt;
        let k = 'stage' as typeof kind;
        if (q.selfBookAt < t && q.phase !== 'watching') {
          t = q.selfBookAt;
          k = 'self';
        }
        if (q.stopAt <= t) {
          t = q.stopAt;
          k = 'stop';
        }
        if (t < at || (t === at && k === 'stop' && kind !== 'stop')) {
          seq = q;
          at = t;
          kind = k;
        }
      }
      const nextTreatment = treatments[ti];
      if (
        nextTreatment &&
        (nextTreatment.row.completedAtMs < at || (nextTreatment.row.completedAtMs === at && kind !== 'stop'))
      ) {
        enroll(nextTreatment);
        ti++;
        continue;
      }
      if (appointment && appointment.at < toMs && (appointment.at < at || (appointment.at === at && kind !== 'stop'))) {
        resolve(appointment);
        continue;
      }
      if (!seq || at >= toMs) break;
      if (kind === 'stop') end(seq, at, 'booked_in_history');
      else if (kind === 'self') {
        seq.selfBookAt = Number.POSITIVE_INFINITY;
        if (weekOf(at) >= 0) s.lifecycle.bookedWithoutProgram++;
        book(seq, undefined, at, false);
      } else if (seq.phase === 'grace') end(seq, at, 'churned');
      else runStage(seq, at);
    }
    if (appointment && weekOf(appointment.at) < 0) s.lifecycle.openAtEnd++;
    for (const q of running.values()) {
      s.sequences.runningAtEnd++;
      if (tracing) note('running_at_end', q.type.key, toMs, { stage: q.lastTouch ?? 'before_first_touch' });
    }
  }

  const total = clients.size;
  let done = 0;
  for (const [id, clientRows] of clients) {
    simulateClient(id, clientRows);
    done++;
    if (options.onProgress && (done % 250 === 0 || done === total)) options.onProgress(done, total);
  }

  const weekly: WeekRow[] = weekLabels.map((weekStart, i) => ({
    weekStart,
    email: series.email[i]!,
    sms: series.sms[i]!,
    staffTasks: series.staffTasks[i]!,
    offers: series.offers[i]!,
    deferredBySendWindow: series.deferredBySendWindow[i]!,
    deferredByCaps: series.deferredByCaps[i]!,
    suppressedByCaps: series.suppressedByCaps[i]!,
    rebookings: series.rebookings[i]!,
    enrolled: series.enrolled[i]!,
    care: series.care[i]!,
    attended: series.attended[i]!,
    cancelled: series.cancelled[i]!,
    noShows: series.noShows[i]!,
  }));
  const stat = (values: number[]) => ({
    mean: round2(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)),
    peak: values.reduce((a, b) => Math.max(a, b), 0),
  });
  s.perWeek = {
    email: stat(weekly.map((w) => w.email)),
    sms: stat(weekly.map((w) => w.sms)),
    messages: stat(weekly.map((w) => w.email + w.sms)),
    staffTasks: stat(weekly.map((w) => w.staffTasks)),
  };
  s.rebookings.expected = round2(s.rebookings.expected);
  s.arms = [arms.treated, arms.holdout].map((a) => ({
    ...a,
    rebookRate: a.visits + a.churned > 0 ? a.visits / (a.visits + a.churned) : null,
  }));
  const stages = [...byStage.values()].map((r) => ({ ...r, expectedRebookings: round2(r.expectedRebookings) }));
  const rates: Record<string, number> = {};
  for (const r of stages) rates[r.stage] = r.rate;

  return {
    clinic: clinic.id,
    timeZone: tz,
    from: isoDate(fromDate),
    to: isoDate(toDate),
    seed: options.seed,
    leadDays: options.leadDays,
    rates,
    lifecycleRates: { ...life, baseline },
    summary: s,
    byStage: stages,
    byVariant: [...byVariant.values()],
    byType: [...byType.values()],
    unclassifiedServices: [...unclassified.entries()]
      .map(([service, n]) => ({ service, rows: n }))
      .sort((a, b) => b.rows - a.rows || (a.service < b.service ? -1 : 1)),
    weekly,
    ...(trace ? { trace } : {}),
  };
}

interface Treatment {
  row: HistoryRow;
  type?: TreatmentTypeDefinition;
  day: number;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
