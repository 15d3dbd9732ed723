/**
 * Staff work: tasks for the front desk and the alerts that point staff to them. Alerts say "open
 * the task list", never who or what (they travel by email/SMS); they never count toward client
 * caps (their channels are staff_email / staff_sms). Idempotent per key: a retried activity or a
 * redelivered webhook creates one task and one alert.
 */
import { eq } from 'drizzle-orm';
import type { ClinicConfig } from '../config/schema.js';
import { normalizePhone } from '../core/phone.js';
import type { Db } from '../db/client.js';
import { messages, staffTasks } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { MessageProvider } from './types.js';

export type StaffTaskReason =
  | 'no_response'
  | 'no_usable_channel'
  | 'undeliverable'
  | 'sms_filtered'
  | 'hot_lead'
  | 'reply_needs_human'
  | 'reply_opt_out_review'
  | 'appointment_change';

export interface NewStaffTask {
  idempotencyKey: string;
  clinicId: string;
  clientId: string;
  workflowId?: string | null;
  treatmentType?: string | null;
  reason: StaffTaskReason;
  details: Record<string, unknown>;
  dueAt: Date;
  messageId?: string | null;
  inboundMessageId?: string | null;
}

export interface StaffDeps {
  db: Db;
  log: Logger;
  provider(clinicId: string, channel: 'sms' | 'email'): MessageProvider;
}

/** Creates the task once per key and notifies staff per the clinic's config; returns the task id. */
export async function createStaffTask(
  deps: StaffDeps,
  clinic: ClinicConfig,
  task: NewStaffTask,
  alert: {
    subject?: string;
    body?: string;
    stage?: string;
    now: Date;
    dueAt?: Date;
    /** The sequence's holdout arm, copied onto the ledger row. */
    arm?: 'treated' | 'holdout' | null;
  },
): Promise<string> {
  const { db, log } = deps;
  const inserted = await db.insert(staffTasks).values(task).onConflictDoNothing().returning({ id: staffTasks.id });
  const [row] = inserted.length
    ? inserted
    : await db.select({ id: staffTasks.id }).from(staffTasks).where(eq(staffTasks.idempotencyKey, task.idempotencyKey));
  const targets: { channel: 'staff_email' | 'staff_sms'; via: 'email' | 'sms'; to: string }[] = [];
  if (clinic.staff.notify.email) targets.push({ channel: 'staff_email', via: 'email', to: clinic.staff.notify.email });
  if (clinic.staff.notify.sms) {
    const phone = normalizePhone(clinic.staff.notify.sms, clinic.defaultCountry);
    if (phone.ok) targets.push({ channel: 'staff_sms', via: 'sms', to: phone.e164 });
  }
  for (const t of targets) {
    const provider = deps.provider(clinic.id, t.via);
    const [reserved] = await db
      .insert(messages)
      .values({
        idempotencyKey: `${task.idempotencyKey}|notify${t.via === 'sms' ? '|sms' : ''}`,
        clinicId: task.clinicId,
        clientId: task.clientId,
        workflowId: task.workflowId ?? 'staff',
        treatmentType: task.treatmentType ?? 'none',
        stage: alert.stage ?? task.reason,
        channel: t.channel,
        status: 'sending',
        provider: provider.name,
        recipient: t.to,
        subject: t.via === 'email' ? (alert.subject ?? 'A client needs a call') : undefined,
        body: alert.body ?? 'A client needs staff attention. Open the staff task list for details.',
        dueAt: alert.dueAt ?? task.dueAt,
        attemptedAt: alert.now,
        arm: alert.arm ?? null,
      })
      .onConflictDoNothing()
      .returning();
    // Already reserved by an earlier attempt: at most once, as for client messages.
    if (!reserved) continue;
    try {
      const receipt = await provider.send({
        messageId: reserved.id,
        clinicId: task.clinicId,
        channel: t.channel,
        to: t.to,
        subject: reserved.subject ?? undefined,
        body: reserved.body ?? '',
        categories: ['rebook', task.clinicId, 'staff'],
      });
      await db
        .update(messages)
        .set({
          status: receipt.status,
          providerMessageId: receipt.providerMessageId,
          sentAt: alert.now,
          statusUpdatedAt: alert.now,
        })
        .where(eq(messages.id, reserved.id));
    } catch (err) {
      // A missed alert must not lose the task: the task list is the source of truth.
      await db
        .update(messages)
        .set({ status: 'rejected', errorCode: (err as { code?: string }).code ?? 'error', statusUpdatedAt: alert.now })
        .where(eq(messages.id, reserved.id));
      log.warn({ messageId: reserved.id, errorName: (err as Error).name }, 'staff alert not sent');
    }
  }
  log.info({ taskId: row?.id, workflowId: task.workflowId, reason: task.reason }, 'staff task created');
  return row!.id;
}
