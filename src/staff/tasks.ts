/**
 * Staff task outcomes: the one implementation behind the API (`POST …/tasks/:id/resolve`) and the
 * console's call list. What each outcome does to the engine:
 * - booked: every running sequence of the client gets `booked` (they end);
 * - not_interested: every running sequence ends (`not_interested`);
 * - call_back: with a date, the task returns to the list that day (sequences untouched); without,
 *   the sequences are snoozed (one reactivation touch later), as the API always did;
 * - wrong_number: the client's phone becomes undeliverable (later stages fall back to email);
 * - left_voicemail: the task stays open for another attempt tomorrow; attempts are counted.
 */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { sequences, staffTasks } from '../db/schema.js';
import { RebookError } from '../errors.js';
import { markUndeliverable } from '../messaging/channel-state.js';
import type { SequenceSignals } from '../temporal/sequence-signals.js';

export const taskOutcomes = ['booked', 'not_interested', 'call_back', 'wrong_number', 'left_voicemail'] as const;
export type TaskOutcome = (typeof taskOutcomes)[number];

export type StaffTask = typeof staffTasks.$inferSelect;

/** What the task's `details.log` keeps of each call: who, when, what came of it, the staff note. */
export interface CallLogEntry {
  at: string;
  by: string | null;
  outcome: TaskOutcome;
  note?: string;
  callBackOn?: string;
}

export interface TaskDeps {
  db: Db;
  signals?: SequenceSignals;
  now(): Date;
}

/** The task of this clinic, or not_found (another clinic's task looks the same as none). */
export async function taskOf(db: Db, clinicId: string, taskId: string): Promise<StaffTask> {
  if (!/^[0-9a-f-]{36}$/i.test(taskId)) throw new RebookError('not_found', 'unknown task', { field: 'taskId' });
  const [t] = await db
    .select()
    .from(staffTasks)
    .where(and(eq(staffTasks.id, taskId), eq(staffTasks.clinicId, clinicId)));
  if (!t) throw new RebookError('not_found', 'unknown task', { field: 'taskId' });
  return t;
}

export async function claimTask(deps: TaskDeps, clinicId: string, taskId: string, by: string): Promise<StaffTask> {
  const t = await taskOf(deps.db, clinicId, taskId);
  if (t.status === 'resolved') throw new RebookError('conflict', 'task already resolved');
  if (t.status === 'claimed' && t.claimedBy !== by) throw new RebookError('conflict', 'task claimed by someone else');
  const [row] = await deps.db
    .update(staffTasks)
    .set({ status: 'claimed', claimedBy: by, claimedAt: deps.now() })
    .where(eq(staffTasks.id, t.id))
    .returning();
  return row!;
}

export interface Resolution {
  outcome: TaskOutcome;
  by?: string;
  note?: string;
  /** call_back: the date (YYYY-MM-DD, clinic calendar) the task returns, as an instant. */
  callBackAt?: Date;
}

export interface ResolveResult {
  task: StaffTask;
  /** False when the task stays open (call back on a date, voicemail). */
  resolved: boolean;
  sequencesSignalled: number;
}

export async function resolveTask(
  deps: TaskDeps,
  clinicId: string,
  taskId: string,
  r: Resolution,
): Promise<ResolveResult> {
  const { db } = deps;
  const now = deps.now();
  const t = await taskOf(db, clinicId, taskId);
  if (t.status === 'resolved') {
    if (t.outcome === r.outcome) return { task: t, resolved: true, sequencesSignalled: 0 };
    throw new RebookError('conflict', 'task already resolved with another outcome');
  }
  const details = (t.details ?? {}) as Record<string, unknown>;
  const entry: CallLogEntry = {
    at: now.toISOString(),
    by: r.by ?? t.claimedBy ?? null,
    outcome: r.outcome,
    ...(r.note ? { note: r.note } : {}),
    ...(r.callBackAt ? { callBackOn: r.callBackAt.toISOString() } : {}),
  };
  const log = [...((details.log as CallLogEntry[] | undefined) ?? []), entry];
  const staysOpen = r.outcome === 'left_voicemail' || (r.outcome === 'call_back' && !!r.callBackAt);
  const set: Partial<typeof staffTasks.$inferInsert> = staysOpen
    ? {
        status: 'open',
        claimedBy: null,
        claimedAt: null,
        dueAt: r.outcome === 'call_back' ? r.callBackAt! : new Date(now.getTime() + 86_400_000),
        details: {
          ...details,
          log,
          ...(r.outcome === 'left_voicemail' ? { voicemails: Number(details.voicemails ?? 0) + 1 } : {}),
        },
      }
    : {
        status: 'resolved',
        outcome: r.outcome,
        resolvedAt: now,
        details: { ...details, log },
        ...(r.by ? { claimedBy: t.claimedBy ?? r.by } : {}),
      };
  const updated = await db
    .update(staffTasks)
    .set(set)
    .where(and(eq(staffTasks.id, t.id), eq(staffTasks.status, t.status)))
    .returning();
  if (updated.length === 0) throw new RebookError('conflict', 'task changed concurrently; retry');
  const task = updated[0]!;
  if (r.outcome === 'wrong_number') await markUndeliverable(db, t.clientId, 'sms', 'wrong_number', now);
  if (staysOpen || r.outcome === 'wrong_number') return { task, resolved: !staysOpen, sequencesSignalled: 0 };

  // The outcome reaches every running sequence of the client: one booking ends them all.
  const running = await db
    .select({ workflowId: sequences.workflowId })
    .from(sequences)
    .where(and(eq(sequences.clientId, t.clientId), eq(sequences.running, true)));
  const signals = deps.signals;
  if (!signals) throw new RebookError('temporal_unavailable', 'cannot reach the sequences');
  let n = 0;
  for (const s of running) {
    const ok =
      r.outcome === 'booked'
        ? await signals.booked(s.workflowId, { appointmentId: `staff-task:${t.id}`, startAt: now.toISOString() })
        : r.outcome === 'not_interested'
          ? await signals.end(s.workflowId, { outcome: 'not_interested' })
          : await signals.snooze(s.workflowId, { reason: 'staff_call_back' });
    if (ok) n++;
  }
  return { task, resolved: true, sequencesSignalled: n };
}
