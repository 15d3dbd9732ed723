/**
 * Per-client channel state in the database: opt-outs (which beat any platform flag), opt-ins,
 * undeliverable numbers and addresses, each with a consent event recording source and time.
 * Used by the delivery activity and by the provider webhooks alike.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { clientChannels, consentEvents } from '../db/schema.js';
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

