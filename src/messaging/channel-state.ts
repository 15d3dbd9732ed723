/**
 * Per-client channel state in the database: opt-outs (which beat any platform flag), opt-ins,
 * undeliverable numbers and addresses, each with a consent event recording source and time.
 * Used by the delivery activity and by the provider webhooks alike.
 */
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { clientChannels, clients, consentEvents } from '../db/schema.js';
import { normalizePhone } from '../core/phone.js';
import type { Channel } from '../core/types.js';

export type ConsentSource = 'reply' | 'unsubscribe' | 'provider' | 'staff' | 'platform' | 'import';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

async function upsert(db: Db | Tx, clientId: string, channel: Channel, set: Partial<typeof clientChannels.$inferInsert>) {
  await db
    .insert(clientChannels)
    .values({ clientId, channel, ...set, updatedAt: new Date() })
    .onConflictDoUpdate({ target: [clientChannels.clientId, clientChannels.channel], set: { ...set, updatedAt: new Date() } });
}

export async function recordOptOut(db: Db, ref: { clinicId: string; clientIds: string[] }, channel: Channel, source: ConsentSource, at: Date, eventRef?: string): Promise<void> {
  if (ref.clientIds.length === 0) return;
  await db.transaction(async (tx) => {
    for (const clientId of ref.clientIds) {
      await upsert(tx, clientId, channel, { optedOutAt: at, optOutSource: source });
      await tx.insert(consentEvents).values({ clinicId: ref.clinicId, clientId, channel, action: 'revoked', source, ref: eventRef ?? null, occurredAt: at });
    }
  });
}

export async function recordOptIn(db: Db, ref: { clinicId: string; clientIds: string[] }, channel: Channel, source: ConsentSource, at: Date, eventRef?: string): Promise<void> {
  if (ref.clientIds.length === 0) return;
  await db.transaction(async (tx) => {
    for (const clientId of ref.clientIds) {
      await upsert(tx, clientId, channel, { optedOutAt: null, optOutSource: null });
      await tx.insert(consentEvents).values({ clinicId: ref.clinicId, clientId, channel, action: 'granted', source, ref: eventRef ?? null, occurredAt: at });
    }
  });
}

export async function markUndeliverable(db: Db, clientId: string, channel: Channel, code: string, at: Date): Promise<void> {
  await upsert(db, clientId, channel, { undeliverableAt: at, undeliverableCode: code });
}

export interface ChannelFlags {
  optedOut: boolean;
  undeliverable: boolean;
}

export async function channelFlags(db: Db, clientId: string): Promise<Record<Channel, ChannelFlags>> {
  const rows = await db.select().from(clientChannels).where(and(eq(clientChannels.clientId, clientId), inArray(clientChannels.channel, ['sms', 'email'])));
  const out: Record<Channel, ChannelFlags> = { sms: { optedOut: false, undeliverable: false }, email: { optedOut: false, undeliverable: false } };
  for (const r of rows) out[r.channel] = { optedOut: !!r.optedOutAt, undeliverable: !!r.undeliverableAt };
  return out;
}


/** What a booking-platform event or an import said about a client whose row was just written. */
export interface PlatformContact {
  clinicId: string;
  clientId: string;
  /** Region for numbers written without a country code (the clinic's `defaultCountry`). */
  defaultCountry: string;
  /** The event carried a phone (or removed it): normalise what is stored now. */
  phoneGiven: boolean;
  /** The platform's marketing-consent flags, when the event carried them. */
  consent?: { sms?: boolean; email?: boolean };
  source: Extract<ConsentSource, 'platform' | 'import'>;
  /** The platform's event time when it gave one, else when we received the event. */
  at: Date;
  /** Where it came from (inbox source: api, mindbody, …): no client data. */
  ref?: string;
}

/**
 * Applies a platform update to the channel state, right after the client row was written:
 * - the phone is stored as E.164 (clinic's default country); an invalid number is kept as given,
 *   without an E.164 form, and the SMS channel is marked undeliverable, so it never reaches
 *   Twilio; a known landline is stored as E.164 and marked too. A different number clears an
 *   earlier undeliverable mark (it concerned the old number).
 * - each consent flag that differs from the last one the platform or an import gave becomes a
 *   consent event with its source and time. Flags never touch opt-outs: a STOP, an unsubscribe
 *   or a provider opt-out stays in force whatever the platform says (delivery checks both).
 */
export async function applyPlatformContact(db: Db, p: PlatformContact): Promise<void> {
  await db.transaction(async (tx) => {
    if (p.phoneGiven) {
      const [c] = await tx.select({ phone: clients.phone, phoneE164: clients.phoneE164 }).from(clients).where(eq(clients.id, p.clientId));
      if (c) {
        const check = c.phone ? normalizePhone(c.phone, p.defaultCountry) : undefined;
        const e164 = check && 'e164' in check ? check.e164 : null;
        const changed = e164 !== c.phoneE164;
        if (changed || (e164 && c.phone !== e164)) await tx.update(clients).set({ phone: e164 ?? c.phone, phoneE164: e164 }).where(eq(clients.id, p.clientId));
        const [state] = await tx.select({ undeliverableAt: clientChannels.undeliverableAt }).from(clientChannels).where(and(eq(clientChannels.clientId, p.clientId), eq(clientChannels.channel, 'sms')));
        const flagged = !!state?.undeliverableAt;
        if (changed && flagged) await upsert(tx, p.clientId, 'sms', { undeliverableAt: null, undeliverableCode: null });
        if (check && !check.ok && (changed || !flagged)) await upsert(tx, p.clientId, 'sms', { undeliverableAt: p.at, undeliverableCode: check.reason });
      }
    }
    for (const channel of ['sms', 'email'] as const) {
      const given = p.consent?.[channel];
      if (given === undefined) continue;
      const [last] = await tx
        .select({ action: consentEvents.action })
        .from(consentEvents)
        .where(and(eq(consentEvents.clientId, p.clientId), eq(consentEvents.channel, channel), inArray(consentEvents.source, ['platform', 'import'])))
        .orderBy(desc(consentEvents.id))
        .limit(1);
      // No earlier flag reads as "no consent" (the column's default): a first "no" is no change.
      if ((last?.action === 'granted') === given) continue;
      await tx.insert(consentEvents).values({ clinicId: p.clinicId, clientId: p.clientId, channel, action: given ? 'granted' : 'revoked', source: p.source, ref: p.ref ?? null, occurredAt: p.at });
    }
  });
}
