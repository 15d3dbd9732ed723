/**
 * Per-client channel state in the database: opt-outs (which beat any platform flag), opt-ins,
 * undeliverable numbers and addresses, each with a consent event recording source and time.
 * Used by the delivery activity and by the provider webhooks alike.
 */
import { and, desc, eq, inArray } from 'drizzle-orm';
import { normalizePhone, type PhoneCheck } from '../core/phone.js';
import type { Channel } from '../core/types.js';
import type { Db } from '../db/client.js';
import { clientChannels, clients, consentEvents } from '../db/schema.js';

export type ConsentSource = 'reply' | 'unsubscribe' | 'provider' | 'staff' | 'platform' | 'import';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

async function upsert(
  db: Db | Tx,
  clientId: string,
  channel: Channel,
  set: Partial<typeof clientChannels.$inferInsert>,
) {
  await db
    .insert(clientChannels)
    .values({ clientId, channel, ...set, updatedAt: new Date() })
    .onConflictDoUpdate({
      target: [clientChannels.clientId, clientChannels.channel],
      set: { ...set, updatedAt: new Date() },
    });
}

export async function recordOptOut(
  db: Db,
  ref: { clinicId: string; clientIds: string[] },
  channel: Channel,
  source: ConsentSource,
  at: Date,
  eventRef?: string,
): Promise<void> {
  if (ref.clientIds.length === 0) return;
  await db.transaction(async (tx) => {
    for (const clientId of ref.clientIds) {
      await upsert(tx, clientId, channel, { optedOutAt: at, optOutSource: source });
      await tx.insert(consentEvents).values({
        clinicId: ref.clinicId,
        clientId,
        channel,
        action: 'revoked',
        source,
        ref: eventRef ?? null,
        occurredAt: at,
      });
    }
  });
}

export async function recordOptIn(
  db: Db,
  ref: { clinicId: string; clientIds: string[] },
  channel: Channel,
  source: ConsentSource,
  at: Date,
  eventRef?: string,
): Promise<void> {
  if (ref.clientIds.length === 0) return;
  await db.transaction(async (tx) => {
    for (const clientId of ref.clientIds) {
      await upsert(tx, clientId, channel, { optedOutAt: null, optOutSource: null });
      await tx.insert(consentEvents).values({
        clinicId: ref.clinicId,
        clientId,
        channel,
        action: 'granted',
        source,
        ref: eventRef ?? null,
        occurredAt: at,
      });
    }
  });
}

export async function markUndeliverable(
  db: Db,
  clientId: string,
  channel: Channel,
  code: string,
  at: Date,
): Promise<void> {
  await upsert(db, clientId, channel, { undeliverableAt: at, undeliverableCode: code });
}

export interface ChannelFlags {
  optedOut: boolean;
  undeliverable: boolean;
}

export async function channelFlags(db: Db, clientId: string): Promise<Record<Channel, ChannelFlags>> {
  const rows = await db
    .select()
    .from(clientChannels)
    .where(and(eq(clientChannels.clientId, clientId), inArray(clientChannels.channel, ['sms', 'email'])));
  const out: Record<Channel, ChannelFlags> = {
    sms: { optedOut: false, undeliverable: false },
    email: { optedOut: false, undeliverable: false },
  };
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
  /**
   * The row was created by the statement that wrote it, its phone already in stored form
   * (`storedPhone`, whose check this is): no earlier channel state or consent flag can exist.
   */
  newClient?: { phoneCheck?: PhoneCheck | undefined };
}

/**
 * A phone as stored: E.164 when it parses (clinic's default country), else as given, without an
 * E.164 form. `check` is what the channel state needs to know about it.
 */
export function storedPhone(
  phone: string | null | undefined,
  defaultCountry: string,
): { phone: string | null; phoneE164: string | null; check?: PhoneCheck } {
  if (!phone) return { phone: phone ?? null, phoneE164: null };
  const check = normalizePhone(phone, defaultCountry);
  const e164 = 'e164' in check ? check.e164 : null;
  return { phone: e164 ?? phone, phoneE164: e164, check };
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
  if (p.newClient) return firstContact(db, p, p.newClient.phoneCheck);
  await db.transaction(async (tx) => {
    if (p.phoneGiven) {
      const [c] = await tx
        .select({ phone: clients.phone, phoneE164: clients.phoneE164 })
        .from(clients)
        .where(eq(clients.id, p.clientId));
      if (c) {
        const { phone, phoneE164: e164, check } = storedPhone(c.phone, p.defaultCountry);
        const changed = e164 !== c.phoneE164;
        if (changed || phone !== c.phone)
          await tx.update(clients).set({ phone, phoneE164: e164 }).where(eq(clients.id, p.clientId));
        const [state] = await tx
          .select({ undeliverableAt: clientChannels.undeliverableAt })
          .from(clientChannels)
          .where(and(eq(clientChannels.clientId, p.clientId), eq(clientChannels.channel, 'sms')));
        const flagged = !!state?.undeliverableAt;
        if (changed && flagged) await upsert(tx, p.clientId, 'sms', { undeliverableAt: null, undeliverableCode: null });
        if (check && !check.ok && (changed || !flagged))
          await upsert(tx, p.clientId, 'sms', { undeliverableAt: p.at, undeliverableCode: check.reason });
      }
    }
    const given = (['sms', 'email'] as const).filter((channel) => p.consent?.[channel] !== undefined);
    if (given.length === 0) return;
    // The last flag the platform or an import gave, per channel, in one query.
    const last = await tx
      .selectDistinctOn([consentEvents.channel], { channel: consentEvents.channel, action: consentEvents.action })
      .from(consentEvents)
      .where(
        and(
          eq(consentEvents.clientId, p.clientId),
          inArray(consentEvents.channel, given),
          inArray(consentEvents.source, ['platform', 'import']),
        ),
      )
      .orderBy(consentEvents.channel, desc(consentEvents.id));
    // No earlier flag reads as "no consent" (the column's default): a first "no" is no change.
    const changes = given.filter(
      (channel) => (last.find((l) => l.channel === channel)?.action === 'granted') !== p.consent![channel],
    );
    if (changes.length) await tx.insert(consentEvents).values(changes.map((channel) => consentEvent(p, channel)));
  });
}

const consentEvent = (p: PlatformContact, channel: Channel) =>
  ({
    clinicId: p.clinicId,
    clientId: p.clientId,
    channel,
    action: p.consent![channel] ? 'granted' : 'revoked',
    source: p.source,
    ref: p.ref ?? null,
    occurredAt: p.at,
  }) as const;

/**
 * A client row just created, phone already stored by `storedPhone`: the same outcome as the
 * general path for a client with no history (an unusable number marked, each consent the platform
 * grants recorded; a "no" is the default and no change) without reading anything. It runs for
 * every new client a webhook brings, so it stays at one or two statements.
 */
async function firstContact(db: Db, p: PlatformContact, check: PhoneCheck | undefined): Promise<void> {
  await applyFirstContacts(db, [{ ...p, newClient: { phoneCheck: check } }]);
}

/**
 * `firstContact` for the clients one ingest batch created (each with `newClient`): their granted
 * consents in one statement, whatever the batch's size.
 */
export async function applyFirstContacts(db: Db, ps: PlatformContact[]): Promise<void> {
  for (const p of ps) {
    const check = p.newClient?.phoneCheck;
    if (p.phoneGiven && check && !check.ok)
      await upsert(db, p.clientId, 'sms', { undeliverableAt: p.at, undeliverableCode: check.reason });
  }
  const granted = ps.flatMap((p) =>
    (['sms', 'email'] as const).filter((channel) => p.consent?.[channel] === true).map((c) => consentEvent(p, c)),
  );
  if (granted.length) await db.insert(consentEvents).values(granted);
}
