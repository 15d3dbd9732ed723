/**
 * rebookSequence: one durable driver per (clinic, client, treatment type). It waits for each
 * stage's due instant, re-checks the booking platform, asks an activity to deliver, and stops
 * the moment the client books. Everything it decides on comes from the pure core or from
 * activity results recorded in history, so replays are deterministic.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  BookingQuery,
  ProgressRecord,
  SequenceActivities,
  SequenceRef,
  StageActivities,
} from '../src/activities/types.js';
import { isCareTouch } from '../src/core/message-category.js';
import { firstCurrentStageIndex, LATE_STAGE_TOLERANCE_MS, reactivationStage } from '../src/core/plan.js';
import {
  churnInstant,
  reactivationAhead,
  SNOOZE_TOUCH_KEY,
  scheduleAfterSnooze,
  snoozeTouch,
  snoozeTouchAt,
} from '../src/core/reactivation.js';
import {
  bookingStopsStage,
  followUpResumesAt,
  noChannelEscalates,
  REACTIVATION_GRACE_MS,
  staffEscalationReason,
  visitCheckAt,
} from '../src/core/stage-decision.js';
import type { PlannedStage, SequenceOutcome, SequencePlan } from '../src/core/types.js';
import {
  appointmentLapsedSignal,
  type BookingSignal,
  bookedSignal,
  type CarriedState,
  endSignal,
  type HistoryEntry,
  type SequenceInput,
  type SequenceStatus,
  type SnoozeSignal,
  searchAttributes,
  snoozeSignal,
  statusQuery,
  treatmentCompletedSignal,
  WINDOW_CLOSE_STAGE,
} from './definitions.js';

// Retries until the dependency is back: a stage is never skipped because a database or a
// provider had a bad minute. Non-retryable coded errors still fail fast.
const retry = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10 minutes' } as const;
const acts = proxyActivities<SequenceActivities & StageActivities>({ startToCloseTimeout: '1 minute', retry });
/**
 * The database writes of a step (planning the sequence, recording where it is) run in the worker
 * that holds the run, inside the workflow task: no activity task to dispatch and no second
 * workflow task, so a booking is recorded in the same task that received it. They only read
 * configuration and write the sequence row, both idempotent. Past the SDK's local-retry threshold
 * a failing attempt waits on a timer, like an activity's retries. Anything that talks to a
 * provider or a booking platform stays an activity.
 */
const local = proxyLocalActivities<Pick<StageActivities, 'beginSequence'> & Pick<SequenceActivities, 'recordProgress'>>(
  {
    startToCloseTimeout: '30 seconds',
    retry,
  },
);

/** Above this many history events the run continues as new, carrying its state. */
const HISTORY_LIMIT = 4_000;
/** Appointment ids remembered for deduplication of repeated treatment signals. */
const SEEN_LIMIT = 200;
/** `nextStage` while a booking is watched and its start (plus a day) is the next thing to check. */
export const VISIT_CHECK_STAGE = 'visit_check';

export async function rebookSequence(input: SequenceInput): Promise<SequenceStatus> {
  // Issue 12 §5 (ingest and booking latency): new runs write the sequence row in local
  // activities (see `local`). Asked before 'fewer-actions' and implying it, so a new run still
  // records a single patch marker.
  const localWrites = patched('local-writes');
  const writes = localWrites ? local : acts;
  // Issue 12 §5 (Temporal Cloud actions): one activity per step, no per-stage search-attribute
  // upserts. Asked first: a run that has it takes every later behaviour without asking for their
  // patches (each marker would be one more event), and older runs never see it, so they replay.
  const lean = localWrites || patched('fewer-actions');
  // Issue 11 (care touches, booked is not the end): runs started before it keep the old
  // behaviour to their end, so their histories replay; every new run takes the new path.
  const lifecycle = lean || patched('post-treatment-lifecycle');
  // Issue 11 §3 (reactivation and win-back for non-responders, dated snoozes): the same rule.
  const react = lean || (patched('reactivation-winback') && lifecycle);
  const st: CarriedState = input.carried ?? { seen: [], history: [], stageIndex: 0, phase: 'sequence' };
  let plan: SequencePlan | undefined = st.plan;
  let stageLabel = st.history.at(-1)?.stage ?? 'enrolled';
  let nextActionAt: string | undefined;
  let nextStage: string | undefined;
  let outcome: SequenceOutcome =
    (st.snoozed && !st.reactivationDone) || st.winback?.[0]?.key === SNOOZE_TOUCH_KEY ? 'snoozed' : 'running';
  let outcomeStage: string | undefined;

  const now = () => new Date(Date.now()).toISOString();
  const note = (stage: string, event: HistoryEntry['event'], detail?: string) => {
    st.history.push({ at: now(), stage, event, ...(detail ? { detail } : {}) });
    if (st.history.length > 100) st.history.splice(0, st.history.length - 100);
  };

  setHandler(treatmentCompletedSignal, (t) => {
    // signal-with-start is not idempotent: a retried webhook delivers the same treatment again.
    if (st.seen.includes(t.appointmentId)) return;
    st.seen.push(t.appointmentId);
    if (st.seen.length > SEEN_LIMIT) st.seen.shift();
    const latest = st.pending ?? st.anchor;
    // Latest appointment wins; an older treatment arriving late changes nothing.
    if (!latest || Date.parse(t.completedAt) > Date.parse(latest.completedAt)) st.pending = t;
  });
  setHandler(bookedSignal, (b) => {
    const anchor = st.pending ?? st.anchor;
    if (anchor && (b.appointmentId === anchor.appointmentId || Date.parse(b.startAt) <= Date.parse(anchor.completedAt)))
      return;
    st.booking ??= b;
  });
  setHandler(snoozeSignal, (s) => {
    st.snoozed ??= s;
  });
  setHandler(endSignal, (e) => {
    st.ended ??= e;
  });
  setHandler(appointmentLapsedSignal, (l) => {
    // Only the watched booking matters; a cancelled appointment of something else changes nothing.
    if (!lifecycle || st.watch?.booking.appointmentId !== l.appointmentId) return;
    st.watch.lapse ??= { kind: l.kind, at: l.at };
  });
  setHandler(statusQuery, () => ({
    clinicId: input.clinicId,
    treatmentType: input.treatmentType,
    anchorAppointmentId: st.anchor?.appointmentId,
    anchorAt: st.anchor?.completedAt,
    stage: stageLabel,
    nextStage,
    nextActionAt,
    outcome,
    outcomeStage,
    history: st.history,
  }));

  // With reactivation and win-back, every "not now" counts (a reply to a win-back too), not only the first.
  const snoozeApplies = () =>
    react ? !!st.snoozed && !st.watch : !!st.snoozed && st.phase !== 'reactivation' && !st.reactivationDone;
  const interrupted = () => !!st.pending || !!st.booking || !!st.ended || snoozeApplies();

  /**
   * A care touch is interrupted only by a newer treatment or an end: a booking, a snooze or a
   * watched appointment do not stop it (it goes out even when the client has booked).
   */
  const careInterrupted = () => !!st.pending || !!st.ended;

  /** Sleeps until `iso` unless something the sequence must react to arrives first. */
  async function waitUntil(iso: string, stop: () => boolean = interrupted): Promise<boolean> {
    const ms = Date.parse(iso) - Date.now();
    if (stop()) return true;
    if (ms <= 0) return false;
    return condition(stop, ms);
  }

  const ref = (): SequenceRef => ({
    workflowId: workflowInfo().workflowId,
    clinicId: input.clinicId,
    clientId: input.clientId,
    treatmentType: input.treatmentType,
    runKey: st.anchor!.appointmentId,
  });

  /** The sequence row as `publish` writes it. */
  function progress(
    stage: string,
    next: string | undefined,
    upcoming?: string,
    running = true,
    o: SequenceOutcome = outcome,
  ): ProgressRecord {
    return {
      anchorAt: st.anchor?.completedAt,
      stage,
      nextActionAt: next,
      ...(next && upcoming ? { nextStage: upcoming } : {}),
      outcome: o,
      outcomeStage,
      running,
    };
  }
  const progressKey = (p: ProgressRecord) =>
    JSON.stringify([p.anchorAt, p.stage, p.nextActionAt, p.nextStage, p.outcome, p.outcomeStage, p.running]);
  /** What the sequence row holds, as last written by this run (lean runs skip writing it again). */
  let recorded: string | undefined;
  const remember = (p: ProgressRecord | undefined) => {
    if (p) recorded = progressKey(p);
  };

  /** `stage` is where the sequence is; `next` the instant of `upcoming`, the stage due next. */
  async function publish(stage: string, next: string | undefined, upcoming?: string, running = true) {
    stageLabel = stage;
    nextActionAt = next;
    nextStage = next ? upcoming : undefined;
    // Lean runs: the console and the API read the next action from the database, not from
    // visibility; the outcome is set at start and upserted once, when the run ends (finish).
    if (!lean)
      upsertSearchAttributes([
        { key: searchAttributes.stage, value: stage },
        { key: searchAttributes.outcome, value: outcome },
        { key: searchAttributes.nextActionAt, value: next ? new Date(next) : null },
      ]);
    const p = progress(stage, next, upcoming, running);
    // The stage's own activity usually wrote this row already (it was told what comes next).
    if (lean && recorded === progressKey(p)) return;
    await writes.recordProgress({ ref: ref(), ...p });
    remember(p);
  }

  async function escalate(stage: PlannedStage, reason: string) {
    const touches = st.history.filter((h) => h.event === 'sent').map((h) => h.stage);
    await acts.escalateToStaff({ ref: ref(), stage, now: now(), anchorAt: st.anchor!.completedAt, reason, touches });
    note(stage.key, 'escalated', reason);
    st.lastTouch = stage.key;
  }

  /**
   * Until when a stage is worth sending (the next stage's due instant, else the end of the
   * rebooking window or of the reactivation grace) and when its offer expires. Activity input
   * only: computed from the plan, adds no workflow command.
   */
  function stageExpiry(stage: PlannedStage): { expiresAt?: string; offerExpiresAt?: string } {
    if (!plan) return {};
    const w = react ? (st.winback ?? []).findIndex((s) => s.key === stage.key) : -1;
    if (w >= 0)
      // A reactivation or win-back touch: worth sending until the next one, its offer its own.
      return {
        expiresAt: st.winback![w + 1]?.dueAt ?? st.churnAt ?? plan.windowEndsAt,
        offerExpiresAt: stage.offerExpiresAt ?? plan.windowEndsAt,
      };
    const i = plan.stages.findIndex((s) => s.key === stage.key);
    const next = i >= 0 ? plan.stages[i + 1] : undefined;
    const end =
      i >= 0 ? plan.windowEndsAt : new Date(Date.parse(plan.reactivationAt) + REACTIVATION_GRACE_MS).toISOString();
    return { expiresAt: next?.dueAt ?? end, offerExpiresAt: plan.windowEndsAt };
  }

  /** The booking re-check's question. */
  function bookingQuery(): BookingQuery {
    // After a lapse the missed appointment may still read "booked" with a past start: only an
    // upcoming appointment counts (lifecycle runs; older runs keep their recorded question).
    const after = lifecycle && Date.now() > Date.parse(st.anchor!.completedAt) ? now() : st.anchor!.completedAt;
    return { after, excludeAppointmentId: st.anchor!.appointmentId };
  }

  /** A booking the re-check found is recorded exactly like a booking signal. */
  function bookedFound(check: { appointmentId?: string; startAt?: string }) {
    st.booking ??= { appointmentId: check.appointmentId ?? 'unknown', startAt: check.startAt ?? now() };
  }

  /** Asks the booking platform; a booking found is recorded exactly like a booking signal. */
  async function bookedMeanwhile(): Promise<boolean> {
    const check = await acts.checkBooking({ clinicId: input.clinicId, clientId: input.clientId, ...bookingQuery() });
    if (check.booked) bookedFound(check);
    return check.booked;
  }

  /**
   * Runs one due stage. `then` is what the sequence row should say once it is done (lean runs:
   * the stage's activity writes it). Returns false when interrupted (a booking, a newer
   * treatment, a snooze) before the stage finished: the main loop then decides what happens.
   */
  async function runStage(stage: PlannedStage, then?: ProgressRecord): Promise<boolean> {
    if (stage.channel === 'staff') {
      // Care touches are no rebooking touch: a client reached only by them had no marketing touch.
      const careKeys = new Set(lifecycle ? (plan?.stages ?? []).filter(isCareTouch).map((s) => s.key) : []);
      const delivered = st.history.some((h) => h.event === 'sent' && !careKeys.has(h.stage));
      const reason = staffEscalationReason(delivered);
      if (lean) {
        const touches = st.history.filter((h) => h.event === 'sent').map((h) => h.stage);
        const r = await acts.escalateStage({
          ref: ref(),
          stage,
          now: now(),
          anchorAt: st.anchor!.completedAt,
          reason,
          touches,
          recheck: bookingQuery(),
          ...(then ? { progress: then } : {}),
        });
        if (r.status === 'booked') {
          bookedFound(r);
          return false;
        }
        remember(r.recorded);
        note(stage.key, 'escalated', reason);
        st.lastTouch = stage.key;
        return true;
      }
      // A front-desk call to a client who already booked embarrasses the clinic as much as a
      // reminder does. Histories recorded before this check replay without it.
      if (patched('recheck-booking-before-escalation') && (await bookedMeanwhile())) return false;
      await escalate(stage, reason);
      return true;
    }
    // A booking or a "not now" stops marketing, not a care touch (src/core/stage-decision.ts).
    const care = lifecycle && !bookingStopsStage(stage);
    const stop = care ? careInterrupted : interrupted;
    for (;;) {
      // The worst failure of this product is a reminder to someone who already booked: ask
      // the booking platform right before every client-facing send, not only via events. A
      // care touch goes out whatever the booking, so it does not ask. Lean runs ask inside the
      // sending activity, right before the send.
      if (!lean && !care && (await bookedMeanwhile())) return false;
      if (stop()) return false;
      const delivery = {
        ref: ref(),
        stage,
        now: now(),
        anchorAt: st.anchor!.completedAt,
        ...stageExpiry(stage),
      };
      let result: Awaited<ReturnType<SequenceActivities['deliverStage']>>;
      if (lean) {
        const r = await acts.sendStage({
          ...delivery,
          ...(care ? {} : { recheck: bookingQuery() }),
          ...(then ? { progress: then } : {}),
          deferred: progress(stage.key, undefined),
        });
        if (r.status === 'booked') {
          bookedFound(r);
          return false;
        }
        remember(r.recorded);
        result = r;
      } else result = await acts.deliverStage(delivery);
      if (result.status === 'sent') {
        note(stage.key, 'sent', result.channel);
        // Care touches are not conversion stages: a booking is never attributed to one.
        if (!care) st.lastTouch = stage.key;
        return true;
      }
      if (result.status === 'suppressed') {
        note(stage.key, 'suppressed', result.reason);
        // In the win-back phase the staff stage is long past: the touches left are simply suppressed too.
        // Runs from before care touches treat every stage as marketing (their recorded commands).
        const escalates = !lifecycle || noChannelEscalates(stage, react && st.phase === 'winback');
        if (result.noUsableChannel && plan && !care && escalates) {
          // Nobody can be reached automatically: hand the client to staff now, skip the rest.
          const staffStage = plan.stages.find((s) => s.channel === 'staff') ?? {
            ...stage,
            channel: 'staff' as const,
            purpose: 'escalation' as const,
          };
          await escalate({ ...staffStage, dueAt: now() }, 'no_usable_channel');
          st.stageIndex = plan.stages.length - 1;
        }
        return true;
      }
      note(stage.key, 'deferred', result.reason);
      await publish(stage.key, result.until, stage.key);
      if (await waitUntil(result.until, stop)) return false;
    }
  }

  /** A booking arrived: marketing stages stop, the booked appointment is watched (issue 11). */
  function beginWatch(b: BookingSignal) {
    if (!st.watch) {
      st.bookedAfter = st.lastTouch ?? 'before_first_touch';
      note(st.bookedAfter, 'booked');
    } else if (st.watch.booking.appointmentId !== b.appointmentId || st.watch.lapse) {
      note(st.bookedAfter ?? stageLabel, 'booked', 'rebooked');
    }
    st.watch = { booking: b };
    outcome = 'booked';
    outcomeStage = st.bookedAfter;
  }

  /**
   * One step while a booking is watched: the next care touch, the check a day after the booked
   * start, or the resumption after a cancellation (not rebooked within two days) or a no-show.
   */
  /** While watching: the next care touch from stage `from` on, or the check of the booking, whichever is first. */
  function watchNext(p: SequencePlan, from: number) {
    const w = st.watch!;
    const careIndex = p.stages.findIndex((s, i) => i >= from && isCareTouch(s));
    const care = careIndex >= 0 ? p.stages[careIndex] : undefined;
    const lapse = w.lapse;
    const checkAt = new Date(
      lapse
        ? followUpResumesAt({ kind: lapse.kind, atMs: Date.parse(lapse.at) }, p.cancelRebookGraceMs)
        : visitCheckAt(Date.parse(w.booking.startAt)),
    ).toISOString();
    const careFirst = !!care && Date.parse(care.dueAt) <= Date.parse(checkAt);
    const at = careFirst ? care!.dueAt : checkAt;
    const key = careFirst ? care!.key : lapse ? `recovery_${lapse.kind}` : VISIT_CHECK_STAGE;
    return { careIndex, care, lapse, careFirst, at, key };
  }

  async function watchStep(p: SequencePlan): Promise<SequenceStatus | undefined> {
    const w = st.watch!;
    const { careIndex, care, lapse, careFirst, at, key } = watchNext(p, st.stageIndex);
    await publish(stageLabel, at, key);
    const hadLapse = !!lapse;
    const watched = w.booking.appointmentId;
    const changed = () =>
      !!st.pending ||
      !!st.booking ||
      !!st.ended ||
      st.watch?.booking.appointmentId !== watched ||
      (!hadLapse && !!st.watch?.lapse);
    if (await waitUntil(at, changed)) return;
    if (careFirst) {
      let then: ProgressRecord | undefined;
      if (lean) {
        const after = watchNext(p, careIndex + 1);
        then = progress(stageLabel, after.at, after.key);
      }
      if (await runStage(care!, then)) st.stageIndex = careIndex + 1;
      return;
    }
    if (!lapse) {
      // The platform never said: ask what became of the appointment before calling it a no-show.
      const question = { clinicId: input.clinicId, clientId: input.clientId, appointmentId: watched, now: now() };
      let c: Awaited<ReturnType<SequenceActivities['checkAppointment']>>;
      if (lean) {
        // A visit ends the run: the row finish() writes, written by the same activity.
        const r = await acts.checkVisit({
          ...question,
          ref: ref(),
          ifCompleted: {
            ...progress(stageLabel, undefined, undefined, false, 'attended'),
            outcomeStage: st.bookedAfter,
          },
        });
        remember(r.recorded);
        c = r;
      } else c = await acts.checkAppointment(question);
      if (c.status === 'completed') {
        note(st.bookedAfter ?? stageLabel, 'attended');
        return finish('attended', st.bookedAfter);
      }
      if (c.nextBooking) {
        st.watch = { booking: c.nextBooking };
        note(st.bookedAfter ?? stageLabel, 'booked', 'rebooked');
        return;
      }
      if (c.status === 'unknown') {
        // Nothing on record about this appointment (staff reported the booking from a call, and
        // the platform has not sent it since): it cannot be watched, and a "we missed you" to a
        // client who may well have come would embarrass the clinic. The run ends booked.
        return finish('booked', st.bookedAfter);
      }
      w.lapse = { kind: c.status === 'cancelled' ? 'cancelled' : 'no_show', at: now(), inferred: true };
      // An inferred cancellation found late still gets its two days to be rebooked.
      return;
    }
    // Cancelled and not rebooked in time, or missed: back into follow-up.
    note(st.bookedAfter ?? stageLabel, lapse.kind, lapse.inferred ? 'inferred' : undefined);
    st.watch = undefined;
    st.phase = 'sequence';
    outcome = 'running';
    outcomeStage = undefined;
    const day = Math.floor((Date.now() - Date.parse(p.anchorAt)) / 86_400_000);
    const recovery: PlannedStage = {
      key: `recovery_${lapse.kind}`,
      day,
      channel: p.stages.some((s) => s.channel === 'sms') ? 'sms' : 'email',
      purpose: 'recovery',
      dueAt: now(),
    };
    note(recovery.key, 'resumed');
    if (!(await runStage(recovery))) return;
    // The stages still ahead, none sent late; a staff stage already past becomes a task at once.
    st.stageIndex = Math.max(st.stageIndex, firstCurrentStageIndex(p, Date.now(), 0));
    const staff = p.stages.findIndex((s) => s.channel === 'staff');
    let cycleStart = st.history.length - 1;
    while (cycleStart >= 0 && !['planned', 'restarted'].includes(st.history[cycleStart]!.event)) cycleStart--;
    const escalated = st.history.slice(cycleStart + 1).some((h) => h.event === 'escalated');
    if (staff >= 0 && staff < st.stageIndex && !escalated)
      await escalate({ ...p.stages[staff]!, dueAt: now() }, 'appointment_change');
    return;
  }

  /**
   * A "not now" (issue 11 §3): the rest of the rebooking stages stop; one touch goes out on the
   * date the reply named (or at interval + 30 days), and the reactivation and win-back touches
   * that would land before it or within the clinic's longest cap window after it are dropped.
   */
  function snooze(p: SequencePlan, s: SnoozeSignal) {
    note(stageLabel, 'snoozed', s.reason);
    const spacing = p.reactivation?.spacingMs ?? 30 * 86_400_000;
    const remaining = st.phase === 'winback' ? (st.winback ?? []) : (p.reactivation?.stages ?? []);
    // Never within a cap window of the last reactivation or win-back touch of this cycle.
    const scheduled = new Set([SNOOZE_TOUCH_KEY, ...(p.reactivation?.stages ?? []).map((x) => x.key)]);
    let lastTouch: number | undefined;
    for (let i = st.history.length - 1; i >= 0; i--) {
      const h = st.history[i]!;
      if (h.event === 'planned' || h.event === 'restarted') break;
      if (h.event === 'sent' && scheduled.has(h.stage)) {
        lastTouch = Date.parse(h.at);
        break;
      }
    }
    const at = snoozeTouchAt(p, spacing, Date.now(), s.until, lastTouch);
    const channel = p.stages.some((x) => x.channel === 'sms') ? 'sms' : 'email';
    st.winback = scheduleAfterSnooze(remaining, snoozeTouch(p, at, channel), spacing);
    st.churnAt = churnInstant(st.winback, p.windowEndsAt);
    st.phase = 'winback';
    outcome = 'snoozed';
  }

  /**
   * What the loop publishes after the touch `done` when no booking, snooze or failure intervenes:
   * the next reactivation or win-back touch, else the close of the window. A lean run hands it to
   * the touch's activity; a wrong guess only costs the write it would have saved.
   */
  function afterTouch(done: string, ahead: PlannedStage[], churnAt: string): ProgressRecord {
    const next = ahead[0];
    const o = outcome === 'snoozed' ? 'running' : outcome;
    return next ? progress(done, next.dueAt, next.key, true, o) : progress(done, churnAt, WINDOW_CLOSE_STAGE, true, o);
  }

  /** The same after the planned stage at `i`: the next planned stage, else the touches after the window. */
  function afterSequenceStage(p: SequencePlan, i: number): ProgressRecord {
    const done = p.stages[i]!.key;
    const next = p.stages[i + 1];
    if (next) return progress(done, next.dueAt, next.key);
    const ahead = reactivationAhead(st.winback ?? p.reactivation?.stages ?? [], Date.now(), LATE_STAGE_TOLERANCE_MS);
    return afterTouch(done, ahead, st.churnAt ?? p.reactivation?.churnAt ?? p.windowEndsAt);
  }

  async function finish(o: SequenceOutcome, at?: string): Promise<SequenceStatus> {
    outcome = o;
    outcomeStage = at;
    note(at ?? stageLabel, o === 'booked' ? 'booked' : 'ended', o);
    // Lean runs set the outcome at start (enrollSequence): one upsert, when it changes at the end.
    if (lean && workflowInfo().typedSearchAttributes.get(searchAttributes.outcome) !== o)
      upsertSearchAttributes([{ key: searchAttributes.outcome, value: o }]);
    await publish(stageLabel, undefined, undefined, false);
    return {
      clinicId: input.clinicId,
      treatmentType: input.treatmentType,
      anchorAppointmentId: st.anchor?.appointmentId,
      anchorAt: st.anchor?.completedAt,
      stage: stageLabel,
      outcome,
      outcomeStage,
      history: st.history,
    };
  }

  // signal-with-start delivers the first treatment together with the start.
  await condition(() => !!st.anchor || !!st.pending);

  for (;;) {
    if (st.pending) {
      // The watched booking became this visit (or another one did): the run it ended is recorded
      // as attended before the next cycle starts, so reports count the visit, not only the booking.
      if (lifecycle && st.watch && st.anchor) {
        await writes.recordProgress({
          ref: ref(),
          anchorAt: st.anchor.completedAt,
          stage: stageLabel,
          outcome: 'attended',
          outcomeStage: st.bookedAfter,
          running: false,
        });
      }
      const restarting = !!st.anchor;
      st.anchor = st.pending;
      st.pending = undefined;
      st.stageIndex = 0;
      st.phase = 'sequence';
      st.snoozed = undefined;
      st.reactivationDone = false;
      st.lastTouch = undefined;
      st.winback = undefined;
      st.churnAt = undefined;
      if (lifecycle) {
        if (st.watch) note(st.bookedAfter ?? stageLabel, 'attended');
        st.watch = undefined;
        st.bookedAfter = undefined;
        outcomeStage = undefined;
      }
      outcome = 'running';
      plan = undefined;
      note('enrolled', restarting ? 'restarted' : 'planned');
    }
    if (st.booking) {
      if (!lifecycle) return finish('booked', st.lastTouch ?? 'before_first_touch');
      beginWatch(st.booking);
      st.booking = undefined;
      // A "not now" before the booking is answered by the booking.
      if (react) st.snoozed = undefined;
    }
    if (st.ended) return finish(st.ended.outcome, st.watch ? st.bookedAfter : st.lastTouch);

    if (!plan) {
      const planning = {
        clinicId: input.clinicId,
        treatmentType: input.treatmentType,
        completedAt: st.anchor!.completedAt,
        // Treatment series: the activity finds which session this was. Input only (same command,
        // replays unchanged, so no patch): an activity's arguments are not compared on replay.
        clientId: input.clientId,
        appointmentId: st.anchor!.appointmentId,
      };
      if (lean) {
        // Planned and the first step recorded in one activity.
        const r = await writes.beginSequence({ ...planning, ref: ref(), now: now(), outcome });
        plan = r.plan;
        remember(r.recorded);
      } else plan = await acts.planSequence(planning);
      st.plan = plan;
      st.stageIndex = firstCurrentStageIndex(plan, Date.now());
      for (const skipped of plan.stages.slice(0, st.stageIndex))
        note(skipped.key, 'suppressed', 'past_due_at_enrollment');
      continue; // signals may have arrived while planning
    }

    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT) {
      await condition(allHandlersFinished);
      st.plan = plan;
      return continueAsNew<typeof rebookSequence>({ ...input, carried: st });
    }

    if (lifecycle && st.watch) {
      const done = await watchStep(plan);
      if (done) return done;
      continue;
    }

    if (react && snoozeApplies()) {
      snooze(plan, st.snoozed!);
      st.snoozed = undefined;
    } else if (snoozeApplies()) {
      note(stageLabel, 'snoozed', st.snoozed!.reason);
      st.phase = 'reactivation';
      outcome = 'snoozed';
    }

    if (st.phase === 'sequence') {
      const stage = plan.stages[st.stageIndex];
      if (!stage) {
        if (react) {
          // The non-responder touches still ahead (none sent late: a resumed sequence joins them).
          st.winback = reactivationAhead(
            st.winback ?? plan.reactivation?.stages ?? [],
            Date.now(),
            LATE_STAGE_TOLERANCE_MS,
          );
          st.churnAt ??= plan.reactivation?.churnAt ?? plan.windowEndsAt;
          st.phase = 'winback';
          continue;
        }
        st.phase = 'grace';
        continue;
      }
      await publish(st.stageIndex === 0 ? 'enrolled' : plan.stages[st.stageIndex - 1]!.key, stage.dueAt, stage.key);
      if (await waitUntil(stage.dueAt)) continue;
      if (await runStage(stage, lean ? afterSequenceStage(plan, st.stageIndex) : undefined)) st.stageIndex++;
      continue;
    }

    if (react && st.phase === 'winback') {
      const stage = st.winback?.[0];
      if (stage) {
        await publish(
          outcome === 'snoozed' ? 'snoozed' : (st.history.at(-1)?.stage ?? stageLabel),
          stage.dueAt,
          stage.key,
        );
        if (await waitUntil(stage.dueAt)) continue;
        const then = lean ? afterTouch(stage.key, st.winback!.slice(1, 2), st.churnAt ?? plan.windowEndsAt) : undefined;
        if (await runStage(stage, then)) {
          st.winback!.shift();
          if (outcome === 'snoozed') outcome = 'running';
        }
        continue;
      }
      // Every touch is out: a booking until the last offer ends still counts for the touch before it.
      const churnAt = st.churnAt ?? plan.windowEndsAt;
      await publish(st.lastTouch ?? stageLabel, churnAt, WINDOW_CLOSE_STAGE);
      if (await waitUntil(churnAt)) continue;
      return finish('churned', st.lastTouch);
    }

    if (st.phase === 'reactivation') {
      const stage = reactivationStage(plan, plan.stages.find((s) => s.channel === 'sms') ? 'sms' : 'email');
      await publish('snoozed', stage.dueAt, stage.key);
      if (await waitUntil(stage.dueAt)) continue;
      if (await runStage(stage)) {
        st.reactivationDone = true;
        st.phase = 'grace';
      }
      continue;
    }

    // Grace: every touch is out; a booking until the window closes still counts for the stage
    // that preceded it. After that the client has churned.
    const graceEnd = st.reactivationDone
      ? new Date(Date.parse(plan.reactivationAt) + REACTIVATION_GRACE_MS).toISOString()
      : plan.windowEndsAt;
    await publish(st.lastTouch ?? stageLabel, graceEnd, WINDOW_CLOSE_STAGE);
    if (await waitUntil(graceEnd)) continue;
    return finish('churned', st.lastTouch);
  }
}
