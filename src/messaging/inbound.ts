/**
 * What happens when a provider tells us something: delivery statuses, bounces, opt-outs and
 * replies. Shared by the webhook routes; everything is keyed by our ledger id or the provider's
 * event id so a redelivered webhook changes nothing twice. Logs carry ids and codes only.
 */
import { and, desc, eq, inArray, or } from 'drizzle-orm';
import type { ClinicConfig } from '../config/schema.js';
import { normalizePhone } from '../core/phone.js';
import { classifyReply, helpText, type ReplyIntent } from '../core/reply-intent.js';
import { snoozeUntil } from '../core/snooze-date.js';
import type { Channel } from '../core/types.js';
import type { Db } from '../db/client.js';
import { clients, inboundMessages, messageEvents, messages, providerEvents, sequences } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { SequenceSignals } from '../temporal/sequence-signals.js';
import { markUndeliverable, recordOptIn, recordOptOut } from './channel-state.js';
import { createStaffTask, type StaffTaskReason } from './staff-tasks.js';
import { FILTERED_DELIVERY_CODE, OPTED_OUT_CODE, UNDELIVERABLE_DELIVERY_CODES } from './twilio/errors.js';
import type { MessageProvider } from './types.js';

export interface InboundDeps {
  db: Db;
  log: Logger;
  signals?: SequenceSignals;
  provider(clinicId: string, channel: 'sms' | 'email'): MessageProvider;
  now?: () => Date;
}

/** Later statuses never give way to earlier ones arriving out of order. */
const RANK: Record<string, number> = {
  sending: 0,
  retry_pending: 0,
  unconfirmed: 1,
  outbox: 1,
  accepted: 1,
  queued: 2,
  sent: 3,
  delivered: 4,
  read: 5,
  undelivered: 5,
  failed: 5,
  bounced: 5,
  dropped: 5,
};

/** Only claims an event id once; false for a duplicate delivery. */
export async function firstDelivery(db: Db, provider: string, eventId: string): Promise<boolean> {
  const r = await db
    .insert(providerEvents)
    .values({ provider, eventId })
    .onConflictDoNothing()
    .returning({ id: providerEvents.eventId });
  return r.length > 0;
}

async function findMessage(
  db: Db,
  ledgerId: string | undefined | null,
  provider: string,
  providerMessageId: string | undefined,
) {
  if (ledgerId && /^[0-9a-f-]{36}$/i.test(ledgerId)) {
    const [m] = await db.select().from(messages).where(eq(messages.id, ledgerId));
    if (m) return m;
  }
  if (!providerMessageId) return undefined;
  const [m] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.provider, provider), eq(messages.providerMessageId, providerMessageId)));
  return m;
}

async function setStatus(
  db: Db,
  m: typeof messages.$inferSelect,
  status: string,
  extra: { errorCode?: string | null; providerMessageId?: string },
  at: Date,
) {
  if ((RANK[status] ?? 0) <= (RANK[m.status] ?? 0)) return;
  await db
    .update(messages)
    .set({
      status,
      statusUpdatedAt: at,
      ...(extra.errorCode ? { errorCode: extra.errorCode } : {}),
      ...(m.providerMessageId ? {} : extra.providerMessageId ? { providerMessageId: extra.providerMessageId } : {}),
    })
    .where(eq(messages.id, m.id));
}

export function createInbound(deps: InboundDeps) {
  const { db, log } = deps;
  const now = deps.now ?? (() => new Date());
  const staff = { db, log, provider: deps.provider };

  /** Twilio status callback: https://www.twilio.com/docs/messaging/guides/track-outbound-message-status */
  async function twilioStatus(
    clinic: ClinicConfig,
    p: { ledgerId?: string | null; MessageSid?: string; MessageStatus?: string; ErrorCode?: string },
  ) {
    const m = await findMessage(db, p.ledgerId, 'twilio', p.MessageSid);
    if (!m || m.clinicId !== clinic.id) return;
    const status = p.MessageStatus ?? '';
    const code = p.ErrorCode || null;
    await setStatus(
      db,
      m,
      status,
      { errorCode: code, ...(p.MessageSid ? { providerMessageId: p.MessageSid } : {}) },
      now(),
    );
    if (!code || m.channel !== 'sms') {
      log.info({ messageId: m.id, status }, 'delivery status');
      return;
    }
    if (UNDELIVERABLE_DELIVERY_CODES.has(code)) await markUndeliverable(db, m.clientId, 'sms', code, now());
    else if (code === OPTED_OUT_CODE)
      await recordOptOut(db, { clinicId: m.clinicId, clientIds: [m.clientId] }, 'sms', 'provider', now(), m.id);
    else if (code === FILTERED_DELIVERY_CODE) {
      await createStaffTask(
        staff,
        clinic,
        {
          idempotencyKey: `filtered|${m.id}`,
          clinicId: m.clinicId,
          clientId: m.clientId,
          workflowId: m.workflowId,
          treatmentType: m.treatmentType,
          reason: 'sms_filtered',
          details: { stage: m.stage, errorCode: code },
          dueAt: now(),
          messageId: m.id,
        },
        { now: now() },
      );
    }
    log.info({ messageId: m.id, status, errorCode: code }, 'delivery status');
  }

  /** Running sequences of these clients (for snooze signals). */
  async function runningSequences(clientIds: string[]) {
    if (clientIds.length === 0) return [];
    return db
      .select({ workflowId: sequences.workflowId })
      .from(sequences)
      .where(and(inArray(sequences.clientId, clientIds), eq(sequences.running, true)));
  }

  /**
   * An inbound SMS. Returns the reply text to answer with (TwiML), if any.
   * https://www.twilio.com/docs/messaging/guides/webhook-request
   */
  async function twilioInbound(
    clinic: ClinicConfig,
    p: { MessageSid: string; From: string; Body: string; OptOutType?: string },
  ): Promise<string | undefined> {
    const phone = normalizePhone(p.From, clinic.defaultCountry);
    const from = phone.ok ? phone.e164 : p.From;
    const matched = await db
      .select({ id: clients.id })
      .from(clients)
      .where(
        and(
          eq(clients.clinicId, clinic.id),
          or(eq(clients.phoneE164, from), eq(clients.phone, from), eq(clients.phone, p.From)),
        ),
      );
    const clientIds = matched.map((c) => c.id);
    // With Advanced Opt-Out Twilio tells us which keyword it matched; its reading wins.
    const byTwilio: Record<string, ReplyIntent> = { STOP: 'opt_out', START: 'opt_in', HELP: 'help' };
    const intent: ReplyIntent = (p.OptOutType && byTwilio[p.OptOutType.toUpperCase()]) || classifyReply(p.Body);
    const at = now();
    const [inbound] = await db
      .insert(inboundMessages)
      .values({
        clinicId: clinic.id,
        clientId: clientIds[0] ?? null,
        provider: 'twilio',
        providerMessageId: p.MessageSid,
        fromAddress: from,
        body: p.Body,
        intent,
        receivedAt: at,
      })
      .onConflictDoNothing()
      .returning({ id: inboundMessages.id });
    if (!inbound) return undefined; // a redelivery: handled the first time
    log.info({ inboundId: inbound.id, clinicId: clinic.id, intent, matchedClients: clientIds.length }, 'inbound reply');
    const advanced = clinic.providers.twilio?.advancedOptOut ?? false;

    const task = async (reason: StaffTaskReason) => {
      for (const clientId of clientIds) {
        const [last] = await db
          .select({ id: messages.id, workflowId: messages.workflowId, treatmentType: messages.treatmentType })
          .from(messages)
          .where(and(eq(messages.clientId, clientId), eq(messages.channel, 'sms')))
          .orderBy(desc(messages.dueAt))
          .limit(1);
        await createStaffTask(
          staff,
          clinic,
          {
            idempotencyKey: `reply|${p.MessageSid}|${clientId}`,
            clinicId: clinic.id,
            clientId,
            workflowId: last?.workflowId ?? null,
            treatmentType: last?.treatmentType ?? null,
            reason,
            details: { intent, inboundMessageId: inbound.id },
            dueAt: at,
            messageId: last?.id ?? null,
            inboundMessageId: inbound.id,
          },
          { now: at },
        );
      }
    };

    switch (intent) {
      case 'opt_out':
        await recordOptOut(db, { clinicId: clinic.id, clientIds }, 'sms', 'reply', at, inbound.id);
        return undefined; // Twilio's own STOP handling confirms to the carrier's rules
      case 'opt_in':
        await recordOptIn(db, { clinicId: clinic.id, clientIds }, 'sms', 'reply', at, inbound.id);
        return undefined;
      case 'help':
        // Never both: Twilio answers when the clinic says Advanced Opt-Out is on, or when the
        // webhook itself says Twilio matched its HELP keyword (a clinic config lagging behind).
        return advanced || p.OptOutType?.toUpperCase() === 'HELP' ? undefined : helpText(clinic);
      case 'opt_out_free_text':
        await recordOptOut(db, { clinicId: clinic.id, clientIds }, 'sms', 'reply', at, inbound.id);
        await task('reply_opt_out_review');
        return `${clinic.name}: you will not get more texts from us. Reply START to resubscribe.`;
      case 'snooze': {
        const running = await runningSequences(clientIds);
        // "Remind me next month": the touch goes out on the day the reply names (issue 11 §3).
        const until = snoozeUntil(p.Body, at.getTime(), clinic);
        for (const s of running)
          await deps.signals?.snooze(s.workflowId, { reason: 'not_now_reply', ...(until ? { until } : {}) });
        if (!deps.signals && running.length)
          log.warn({ inboundId: inbound.id }, 'no Temporal client: snooze not signalled');
        return undefined;
      }
      case 'hot_lead':
        await task('hot_lead');
        return undefined;
      case 'appointment_change':
        await task('appointment_change');
        return undefined;
      case 'acknowledgement':
        return undefined; // kept with its thread; a thank-you is no task for the front desk
      case 'other':
        await task('reply_needs_human');
        return undefined;
    }
  }

  /** SendGrid events: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event */
  async function sendgridEvent(e: {
    event: string;
    sg_event_id: string;
    sg_message_id?: string;
    timestamp: number;
    rebook_message_id?: string;
    reason?: string;
  }) {
    if (!(await firstDelivery(db, 'sendgrid', e.sg_event_id))) return 'duplicate' as const;
    // sg_message_id is "<X-Message-Id>.<filter…>": the prefix is what Mail Send returned.
    const m = await findMessage(db, e.rebook_message_id, 'sendgrid', e.sg_message_id?.split('.')[0]);
    if (!m) return 'unknown' as const;
    const at = new Date(e.timestamp * 1000);
    const ref = { clinicId: m.clinicId, clientIds: [m.clientId] };
    const channel: Channel = 'email';
    switch (e.event) {
      case 'delivered':
        await setStatus(db, m, 'delivered', {}, at);
        break;
      case 'bounce':
      case 'dropped':
        await setStatus(db, m, e.event === 'bounce' ? 'bounced' : 'dropped', { errorCode: e.event }, at);
        if (m.channel === 'email') await markUndeliverable(db, m.clientId, channel, e.event, at);
        break;
      case 'spamreport':
        // Kept per message as well: the console's sending health counts spam reports apart from unsubscribes.
        await db.insert(messageEvents).values({ messageId: m.id, event: 'spamreport', occurredAt: at });
        if (m.channel === 'email') await recordOptOut(db, ref, channel, 'provider', at, e.sg_event_id);
        break;
      case 'unsubscribe':
      case 'group_unsubscribe':
        if (m.channel === 'email') await recordOptOut(db, ref, channel, 'provider', at, e.sg_event_id);
        break;
      case 'group_resubscribe':
        if (m.channel === 'email') await recordOptIn(db, ref, channel, 'provider', at, e.sg_event_id);
        break;
      case 'open':
      case 'click':
        await db.insert(messageEvents).values({ messageId: m.id, event: e.event, occurredAt: at });
        break;
      default:
        break; // processed, deferred: nothing to record
    }
    log.info({ messageId: m.id, event: e.event }, 'email event');
    return 'applied' as const;
  }

  /** One-click unsubscribe (RFC 8058): opts the message's client out of email. */
  async function unsubscribe(messageId: string): Promise<boolean> {
    const [m] = await db.select().from(messages).where(eq(messages.id, messageId));
    if (!m) return false;
    await recordOptOut(db, { clinicId: m.clinicId, clientIds: [m.clientId] }, 'email', 'unsubscribe', now(), m.id);
    log.info({ messageId: m.id }, 'unsubscribed');
    return true;
  }

  return { twilioStatus, twilioInbound, sendgridEvent, unsubscribe };
}

export type Inbound = ReturnType<typeof createInbound>;
