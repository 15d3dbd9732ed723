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
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SequenceActivities, SequenceRef } from '../src/activities/types.js';
import { firstCurrentStageIndex, reactivationStage } from '../src/core/plan.js';
import type { PlannedStage, SequenceOutcome, SequencePlan } from '../src/core/types.js';
import {
  bookedSignal,
  type CarriedState,
  endSignal,
  type HistoryEntry,
  type SequenceInput,
  type SequenceStatus,
  searchAttributes,
  snoozeSignal,
  statusQuery,
  treatmentCompletedSignal,
  WINDOW_CLOSE_STAGE,
} from './definitions.js';

const acts = proxyActivities<SequenceActivities>({
  startToCloseTimeout: '1 minute',
  // Retries until the dependency is back: a stage is never skipped because a database or a
  // provider had a bad minute. Non-retryable coded errors still fail fast.
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/** Above this many history events the run continues as new, carrying its state. */
const HISTORY_LIMIT = 4_000;
/** Appointment ids remembered for deduplication of repeated treatment signals. */
const SEEN_LIMIT = 200;
/** Days a sequence waits for a booking after the reactivation touch before calling it churned. */
const REACTIVATION_GRACE_MS = 30 * 86_400_000;

export async function rebookSequence(input: SequenceInput): Promise<SequenceStatus> {
  const st: CarriedState = input.carried ?? { seen: [], history: [], stageIndex: 0, phase: 'sequence' };
  let plan: SequencePlan | undefined = st.plan;
  let stageLabel = st.history.at(-1)?.stage ?? 'enrolled';
  let nextActionAt: string | undefined;
  let nextStage: string | undefined;
  let outcome: SequenceOutcome = st.snoozed && !st.reactivationDone ? 'snoozed' : 'running';
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

  const snoozeApplies = () => !!st.snoozed && st.phase !== 'reactivation' && !st.reactivationDone;
  const interrupted = () => !!st.pending || !!st.booking || !!st.ended || snoozeApplies();

  /** Sleeps until `iso` unless something the sequence must react to arrives first. */
  async function waitUntil(iso: string): Promise<boolean> {
    const ms = Date.parse(iso) - Date.now();
    if (interrupted()) return true;
    if (ms <= 0) return false;
    return condition(interrupted, ms);
  }

  const ref = (): SequenceRef => ({
    workflowId: workflowInfo().workflowId,
    clinicId: input.clinicId,
    clientId: input.clientId,
    treatmentType: input.treatmentType,
    runKey: st.anchor!.appointmentId,
  });

  /** `stage` is where the sequence is; `next` the instant of `upcoming`, the stage due next. */
  async function publish(stage: string, next: string | undefined, upcoming?: string, running = true) {
    stageLabel = stage;
    nextActionAt = next;
    nextStage = next ? upcoming : undefined;
    upsertSearchAttributes([
      { key: searchAttributes.stage, value: stage },
      { key: searchAttributes.outcome, value: outcome },
      { key: searchAttributes.nextActionAt, value: next ? new Date(next) : null },
    ]);
    await acts.recordProgress({
      ref: ref(),
      anchorAt: st.anchor?.completedAt,
      stage,
      nextActionAt: next,
      ...(nextStage ? { nextStage } : {}),
      outcome,
      outcomeStage,
      running,
    });
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
    const i = plan.stages.findIndex((s) => s.key === stage.key);
    const next = i >= 0 ? plan.stages[i + 1] : undefined;
    const end =
      i >= 0 ? plan.windowEndsAt : new Date(Date.parse(plan.reactivationAt) + REACTIVATION_GRACE_MS).toISOString();
    return { expiresAt: next?.dueAt ?? end, offerExpiresAt: plan.windowEndsAt };
  }

  /**
   * Runs one due stage. Returns false when interrupted (a booking, a newer treatment, a snooze)
   * before the stage finished: the main loop then decides what happens.
   */
  /** Asks the booking platform; a booking found is recorded exactly like a booking signal. */
  async function bookedMeanwhile(): Promise<boolean> {
    const check = await acts.checkBooking({
      clinicId: input.clinicId,
      clientId: input.clientId,
      after: st.anchor!.completedAt,
      excludeAppointmentId: st.anchor!.appointmentId,
    });
    if (check.booked)
      st.booking ??= { appointmentId: check.appointmentId ?? 'unknown', startAt: check.startAt ?? now() };
    return check.booked;
  }

  async function runStage(stage: PlannedStage): Promise<boolean> {
    if (stage.channel === 'staff') {
      // A front-desk call to a client who already booked embarrasses the clinic as much as a
      // reminder does. Histories recorded before this check replay without it.
      if (patched('recheck-booking-before-escalation') && (await bookedMeanwhile())) return false;
      const delivered = st.history.some((h) => h.event === 'sent');
      await escalate(stage, delivered ? 'no_response' : 'no_touch_delivered');
      return true;
    }
    for (;;) {
      // The worst failure of this product is a reminder to someone who already booked: ask
      // the booking platform right before every client-facing send, not only via events.
      if (await bookedMeanwhile()) return false;
      if (interrupted()) return false;
      const result = await acts.deliverStage({
        ref: ref(),
        stage,
        now: now(),
        anchorAt: st.anchor!.completedAt,
        ...stageExpiry(stage),
      });
      if (result.status === 'sent') {
        note(stage.key, 'sent', result.channel);
        st.lastTouch = stage.key;
        return true;
      }
      if (result.status === 'suppressed') {
        note(stage.key, 'suppressed', result.reason);
        if (result.noUsableChannel && plan) {
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
      if (await waitUntil(result.until)) return false;
    }
  }

  async function finish(o: SequenceOutcome, at?: string): Promise<SequenceStatus> {
    outcome = o;
    outcomeStage = at;
    note(at ?? stageLabel, o === 'booked' ? 'booked' : 'ended', o);
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
      const restarting = !!st.anchor;
      st.anchor = st.pending;
      st.pending = undefined;
      st.stageIndex = 0;
      st.phase = 'sequence';
      st.snoozed = undefined;
      st.reactivationDone = false;
      st.lastTouch = undefined;
      outcome = 'running';
      plan = undefined;
      note('enrolled', restarting ? 'restarted' : 'planned');
    }
    if (st.booking) return finish('booked', st.lastTouch ?? 'before_first_touch');
    if (st.ended) return finish(st.ended.outcome, st.lastTouch);

    if (!plan) {
      plan = await acts.planSequence({
        clinicId: input.clinicId,
        treatmentType: input.treatmentType,
        completedAt: st.anchor!.completedAt,
      });
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

    if (snoozeApplies()) {
      note(stageLabel, 'snoozed', st.snoozed!.reason);
      st.phase = 'reactivation';
      outcome = 'snoozed';
    }

    if (st.phase === 'sequence') {
      const stage = plan.stages[st.stageIndex];
      if (!stage) {
        st.phase = 'grace';
        continue;
      }
      await publish(st.stageIndex === 0 ? 'enrolled' : plan.stages[st.stageIndex - 1]!.key, stage.dueAt, stage.key);
      if (await waitUntil(stage.dueAt)) continue;
      if (await runStage(stage)) st.stageIndex++;
      continue;
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
