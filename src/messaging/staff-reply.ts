/**
 * A reply a person writes to a client by SMS. It goes where every client message goes: consent
 * and opt-outs are checked first, a ledger row is reserved before the provider is called, and the
 * provider's receipt (or refusal) is recorded on that row. Reserved per reply id, so a resubmitted
 * form sends once.
 */
import { eq } from 'drizzle-orm';
import type { ClinicConfig } from '../config/schema.js';
import { normalizePhone } from '../core/phone.js';
import type { Db } from '../db/client.js';
import { clients, messages } from '../db/schema.js';
import { RebookError } from '../errors.js';
import { channelFlags } from './channel-state.js';
import { type MessageProvider, ProviderError } from './types.js';

export const STAFF_REPLY_MAX_LENGTH = 640;

export interface StaffReply {
  clinic: ClinicConfig;
  clientId: string;
  body: string;
  /** A fresh id per composed reply (the form carries it): the ledger's idempotency key. */
  replyId: string;
  now: Date;
}

export type StaffReplyResult = { messageId: string; status: string };

/** Throws a coded error naming the reason when the client cannot be texted. */
export async function sendStaffReply(
  deps: { db: Db; provider: MessageProvider },
  r: StaffReply,
): Promise<StaffReplyResult> {
  const { db } = deps;
  const text = r.body.trim();
  if (!text) throw new RebookError('validation_failed', 'write a message', { field: 'body' });
  if (text.length > STAFF_REPLY_MAX_LENGTH)
    throw new RebookError('validation_failed', `keep it under ${STAFF_REPLY_MAX_LENGTH} characters`, {
      field: 'body',
    });
  const [client] = await db.select().from(clients).where(eq(clients.id, r.clientId));
  if (!client || client.clinicId !== r.clinic.id)
    throw new RebookError('not_found', 'unknown client', { field: 'clientId' });
  const flags = await channelFlags(db, client.id);
  if (flags.sms.optedOut)
    throw new RebookError('forbidden', 'this client opted out of texts: call or email instead', { field: 'body' });
  if (!client.consentSms)
    throw new RebookError('forbidden', 'this client has not agreed to texts: call or email instead', {
      field: 'body',
    });
  const phone = client.phoneE164
    ? { ok: true as const, e164: client.phoneE164 }
    : client.phone
      ? normalizePhone(client.phone, r.clinic.defaultCountry)
      : undefined;
  if (!phone?.ok || flags.sms.undeliverable)
    throw new RebookError('forbidden', 'this client has no number that can take texts', { field: 'body' });

  const [reserved] = await db
    .insert(messages)
    .values({
      idempotencyKey: `staff-reply|${r.replyId}`,
      clinicId: r.clinic.id,
      clientId: client.id,
      workflowId: 'staff',
      treatmentType: 'none',
      stage: 'staff_reply',
      channel: 'sms',
      status: 'sending',
      provider: deps.provider.name,
      recipient: phone.e164,
      body: text,
      dueAt: r.now,
      attemptedAt: r.now,
    })
    .onConflictDoNothing()
    .returning();
  if (!reserved) {
    const [earlier] = await db
      .select({ id: messages.id, status: messages.status })
      .from(messages)
      .where(eq(messages.idempotencyKey, `staff-reply|${r.replyId}`));
    return { messageId: earlier!.id, status: earlier!.status };
  }
  try {
    const receipt = await deps.provider.send({
      messageId: reserved.id,
      clinicId: r.clinic.id,
      channel: 'sms',
      to: phone.e164,
      body: text,
      categories: ['rebook', r.clinic.id, 'staff_reply'],
    });
    await db
      .update(messages)
      .set({
        status: receipt.status,
        providerMessageId: receipt.providerMessageId,
        sentAt: r.now,
        statusUpdatedAt: r.now,
      })
      .where(eq(messages.id, reserved.id));
    return { messageId: reserved.id, status: receipt.status };
  } catch (err) {
    const code = err instanceof ProviderError ? err.code : 'error';
    await db
      .update(messages)
      .set({ status: 'rejected', errorCode: code, statusUpdatedAt: r.now })
      .where(eq(messages.id, reserved.id));
    throw new RebookError('provider_unavailable', 'the text could not be sent; try again or call', { field: 'body' });
  }
}
