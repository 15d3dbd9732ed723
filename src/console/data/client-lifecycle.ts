/**
 * Where one sequence stands in the client's lifecycle, in the front desk's words: aftercare,
 * rebooking, booked and waiting for the visit, back in follow-up after a cancelled or missed
 * booking, win-back, and how it ended. Read from the sequence row, the client's appointments and
 * the ledger, so the page says what the workflow recorded and never guesses beyond it.
 */
import { SNOOZE_TOUCH_KEY } from '../../core/reactivation.js';

export type PhaseKind = 'ok' | 'warning' | 'danger' | 'muted';

export interface LifecyclePhase {
  label: string;
  kind: PhaseKind;
  /** One sentence on what happens next, or why it ended. */
  detail?: string;
  /** The booked visit the sequence watches, when it watches one. */
  visitAt?: Date;
}

interface SequenceFacts {
  workflowId: string;
  running: boolean;
  outcome: string;
  anchorAt: Date | null;
  nextStage: string | null;
  treatmentType: string;
}

interface AppointmentFacts {
  status: string;
  startAt: Date | null;
  treatmentType: string | null;
}

interface MessageFacts {
  workflowId: string;
  stage: string;
  dueAt: Date;
  status: string;
}

/** Stage keys of the non-responder touches (the catalog's and the dated snooze's). */
const isWinbackStage = (stage: string) =>
  stage === 'reactivation' || stage.startsWith('winback') || stage === SNOOZE_TOUCH_KEY;

const ENDED: Record<string, LifecyclePhase> = {
  attended: {
    label: 'Came in',
    kind: 'ok',
    detail: 'The booked visit happened: the next treatment starts a new cycle.',
  },
  booked: { label: 'Booked', kind: 'ok', detail: 'The client booked: nothing more is sent for this treatment.' },
  churned: { label: 'Churned', kind: 'muted', detail: 'Every touch went out and no booking came.' },
  not_interested: { label: 'Not interested', kind: 'muted', detail: 'The client said no: nothing more is sent.' },
  cancelled: { label: 'Ended by staff', kind: 'muted', detail: 'Staff ended the sequence.' },
  snoozed: { label: 'Snoozed', kind: 'muted' },
};

export function lifecyclePhase(
  s: SequenceFacts,
  appointments: readonly AppointmentFacts[],
  messages: readonly MessageFacts[],
): LifecyclePhase {
  if (!s.running) return ENDED[s.outcome] ?? { label: s.outcome.replace(/_/g, ' '), kind: 'muted' };
  const anchor = s.anchorAt?.getTime() ?? 0;
  if (s.outcome === 'booked') {
    // The watched booking: the latest upcoming one after this cycle's treatment.
    const visit = appointments
      .filter((a) => a.status === 'booked' && a.startAt && a.startAt.getTime() > anchor)
      .sort((a, b) => b.startAt!.getTime() - a.startAt!.getTime())[0];
    return {
      label: 'Booked',
      kind: 'ok',
      detail: 'Marketing stopped; aftercare still goes out. Checked again after the visit.',
      ...(visit?.startAt ? { visitAt: visit.startAt } : {}),
    };
  }
  if (s.outcome === 'snoozed')
    return {
      label: 'Snoozed',
      kind: 'warning',
      detail: 'The client said "not now": one touch on the date they named.',
    };
  const mine = messages.filter((m) => m.workflowId === s.workflowId && m.dueAt.getTime() >= anchor);
  const recovery = mine
    .filter((m) => m.stage.startsWith('recovery_'))
    .sort((a, b) => b.dueAt.getTime() - a.dueAt.getTime())[0];
  const next = s.nextStage ?? '';
  if (isWinbackStage(next) || mine.some((m) => isWinbackStage(m.stage)))
    return {
      label: 'Win-back',
      kind: 'warning',
      detail: 'No booking after the rebooking touches: win-back touches follow.',
    };
  if (recovery)
    return {
      label: 'Back in follow-up',
      kind: 'warning',
      detail:
        recovery.stage === 'recovery_no_show'
          ? 'The client missed the booked visit: asked to pick a new time, the remaining touches follow.'
          : 'The booking was cancelled and not replaced: asked to pick a new time, the remaining touches follow.',
    };
  if (next.startsWith('care_'))
    return { label: 'Aftercare', kind: 'ok', detail: 'Clinical check-ins after the treatment, then rebooking.' };
  if (next.startsWith('series_'))
    return { label: 'Between sessions', kind: 'ok', detail: 'Reminders for the next session of the series.' };
  return { label: 'Rebooking', kind: 'ok', detail: 'Rebooking touches until the client books.' };
}
