/**
 * Activities: the I/O around the pure core. Built from injected dependencies so tests and
 * processes wire them the same way; every failure leaves through `toActivityFailure`.
 */
import { and, eq, sql } from 'drizzle-orm';
import { createBookingChecker } from '../../connectors/registry.js';
import { createConnectorRuntime } from '../../connectors/shared.js';
import { clinicOrThrow, treatmentTypesFor } from '../config/load.js';
import type { ConfigStore } from '../config/store.js';
import { chooseChannel } from '../core/channels.js';
import { planSequence } from '../core/plan.js';
import { renderTemplate } from '../core/templates.js';
import type { PlannedStage } from '../core/types.js';
import type { Db } from '../db/client.js';
import { clients, messages, sequences, staffTasks } from '../db/schema.js';
import { RebookError, toActivityFailure } from '../errors.js';
import type { Logger } from '../log.js';
import type { MessageProvider } from '../messaging/types.js';
import type { DeliveryResult, SequenceActivities, SequenceRef } from './types.js';

export interface ActivityDeps {
  db: Db;
  config: ConfigStore;
  providers: { sms: MessageProvider; email: MessageProvider };
  log: Logger;
  /** The booking check through the clinic's connector (built with the process's secrets); generic-only default. */
  checkBooking?: ReturnType<typeof createBookingChecker>;
}

function guarded<T extends object>(impl: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl)) {
    out[name] = async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (err) {
        throw toActivityFailure(err);
      }
    };
  }
  return out as T;
}

export function createActivities(deps: ActivityDeps): SequenceActivities {
  const { db, config, log } = deps;
  const bookingCheck = deps.checkBooking ?? createBookingChecker(createConnectorRuntime({ secrets: {}, log }));

  async function loadClient(ref: { clinicId: string; clientId: string }) {
    const [client] = await db.select().from(clients).where(and(eq(clients.id, ref.clientId), eq(clients.clinicId, ref.clinicId)));
    if (!client) throw new RebookError('not_found', 'client not found for sequence', { field: 'clientId' });
    return client;
  }

  function stageContent(clinicId: string, treatmentType: string, stage: PlannedStage, channel: string, firstName: string) {
    const cfg = config.current();
    const clinic = clinicOrThrow(cfg, clinicId);
    const type = treatmentTypesFor(cfg, clinic).get(treatmentType);
    const template = clinic.templates[stage.purpose]?.[channel as 'email' | 'sms' | 'staff'];
    if (!template) throw new RebookError('config_invalid', `clinic has no ${channel} template for stage purpose "${stage.purpose}"`);
    const values = {
      firstName,
      clinicName: clinic.name,
      treatmentLabel: type?.label ?? 'treatment',
      bookingUrl: clinic.bookingUrl,
      clinicAddress: clinic.address,
    };
    return {
      subject: template.subject ? renderTemplate(template.subject, values) : undefined,
      body: renderTemplate(template.body, values),
    };
  }

  async function deliverStage(input: { ref: SequenceRef; stage: PlannedStage; now: string; anchorAt: string }): Promise<DeliveryResult> {
    const { ref, stage } = input;
    const idempotencyKey = `${ref.workflowId}|${ref.runKey}|${stage.key}`;
    // A retried activity or a restarted worker finds its earlier reservation and does not send again.
    const [existing] = await db.select().from(messages).where(eq(messages.idempotencyKey, idempotencyKey));
    if (existing && existing.status !== 'reserved') return { status: 'sent', messageId: existing.id, channel: existing.channel };

    const client = await loadClient(ref);
    const preferred = stage.channel === 'staff' ? 'email' : stage.channel;
    const choice = chooseChannel(preferred, {
      email: !!client.email && client.consentEmail,
      sms: !!client.phone && client.consentSms,
    });
    if (choice.channel === null) return { status: 'suppressed', reason: 'no_usable_channel', noUsableChannel: true };

    const content = stageContent(ref.clinicId, ref.treatmentType, stage, choice.channel, client.firstName);
    const recipient = choice.channel === 'sms' ? client.phone! : client.email!;
    const [row] = existing
      ? [existing]
      : await db
          .insert(messages)
          .values({
            idempotencyKey,
            clinicId: ref.clinicId,
            clientId: ref.clientId,
            workflowId: ref.workflowId,
            treatmentType: ref.treatmentType,
            stage: stage.key,
            channel: choice.channel,
            status: 'reserved',
            provider: deps.providers[choice.channel].name,
            recipient,
            subject: content.subject,
            body: content.body,
            dueAt: new Date(stage.dueAt),
          })
          .onConflictDoNothing()
          .returning();
    if (!row) return { status: 'sent', messageId: 'concurrent', channel: choice.channel };

    const receipt = await deps.providers[choice.channel].send({
      messageId: row.id,
      clinicId: ref.clinicId,
      channel: choice.channel,
      to: recipient,
      subject: content.subject,
      body: content.body,
    });
    await db
      .update(messages)
      .set({ status: receipt.status, providerMessageId: receipt.providerMessageId, sentAt: new Date(input.now) })
      .where(eq(messages.id, row.id));
    log.info({ messageId: row.id, workflowId: ref.workflowId, stage: stage.key, channel: choice.channel, status: receipt.status }, 'stage delivered');
    return { status: 'sent', messageId: row.id, channel: choice.channel };
  }

  return guarded<SequenceActivities>({
    async planSequence({ clinicId, treatmentType, completedAt }) {
      const cfg = config.current();
      const clinic = clinicOrThrow(cfg, clinicId);
      const type = treatmentTypesFor(cfg, clinic).get(treatmentType);
      if (!type) throw new RebookError('config_invalid', `treatment type "${treatmentType}" is not configured for the clinic`);
      return planSequence(type, completedAt, { timeZone: clinic.timeZone, sendTime: clinic.sendTime });
    },

    async checkBooking({ clinicId, clientId, after, excludeAppointmentId }) {
      const clinic = clinicOrThrow(config.current(), clinicId);
      const client = await loadClient({ clinicId, clientId });
      return bookingCheck({ db, clinic }, { clientExternalId: client.externalId, after, excludeAppointmentId });
    },

    deliverStage,

    async escalateToStaff({ ref, stage, now, anchorAt, reason, touches }) {
      const clinic = clinicOrThrow(config.current(), ref.clinicId);
      const idempotencyKey = `${ref.workflowId}|${ref.runKey}|escalation`;
      const inserted = await db
        .insert(staffTasks)
        .values({
          idempotencyKey,
          clinicId: ref.clinicId,
          clientId: ref.clientId,
          workflowId: ref.workflowId,
          treatmentType: ref.treatmentType,
          reason,
          details: { lastTreatmentAt: anchorAt, appointmentId: ref.runKey, touches, stage: stage.key },
          dueAt: new Date(now),
        })
        .onConflictDoNothing()
        .returning({ id: staffTasks.id });
      const [task] = inserted.length ? inserted : await db.select({ id: staffTasks.id }).from(staffTasks).where(eq(staffTasks.idempotencyKey, idempotencyKey));
      if (inserted.length && clinic.staff.notify.email) {
        // Staff alert: the content says "open the task list", never who or what.
        const template = clinic.templates.escalation?.staff;
        const [alert] = await db
          .insert(messages)
          .values({
            idempotencyKey: `${idempotencyKey}|notify`,
            clinicId: ref.clinicId,
            clientId: ref.clientId,
            workflowId: ref.workflowId,
            treatmentType: ref.treatmentType,
            stage: stage.key,
            channel: 'staff_email',
            status: 'reserved',
            provider: deps.providers.email.name,
            recipient: clinic.staff.notify.email,
            subject: template?.subject ?? 'A client needs a call',
            body: template?.body ?? 'Open the staff task list for details.',
            dueAt: new Date(stage.dueAt),
          })
          .onConflictDoNothing()
          .returning();
        if (alert) {
          const receipt = await deps.providers.email.send({ messageId: alert.id, clinicId: ref.clinicId, channel: 'staff_email', to: alert.recipient!, subject: alert.subject ?? undefined, body: alert.body ?? '' });
          await db.update(messages).set({ status: receipt.status, providerMessageId: receipt.providerMessageId, sentAt: new Date(now) }).where(eq(messages.id, alert.id));
        }
      }
      log.info({ taskId: task?.id, workflowId: ref.workflowId, reason }, 'staff task created');
      return { taskId: task!.id };
    },

    async recordProgress({ ref, anchorAt, stage, nextActionAt, outcome, outcomeStage, running }) {
      const values = {
        anchorAppointmentId: ref.runKey,
        anchorAt: anchorAt ? new Date(anchorAt) : null,
        stage,
        nextActionAt: nextActionAt ? new Date(nextActionAt) : null,
        outcome,
        outcomeStage: outcomeStage ?? null,
        running,
        updatedAt: sql`now()`,
      };
      await db
        .insert(sequences)
        .values({ workflowId: ref.workflowId, clinicId: ref.clinicId, clientId: ref.clientId, treatmentType: ref.treatmentType, ...values })
        .onConflictDoUpdate({ target: sequences.workflowId, set: values });
    },
  });
}
