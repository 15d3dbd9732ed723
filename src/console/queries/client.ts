/** Everything the client page shows about one client, read in a handful of queries. */
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import {
  appointments,
  clientChannels,
  clients,
  consentEvents,
  deliveryHolds,
  inboundMessages,
  incentives,
  messages,
  sequences,
  staffTasks,
} from '../../db/schema.js';

export type ClientRow = typeof clients.$inferSelect;

/** The client row by our opaque id (the caller checks the clinic against the viewer). */
export async function clientById(db: Db, clientId: string): Promise<ClientRow | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(clientId)) return undefined;
  const [row] = await db.select().from(clients).where(eq(clients.id, clientId));
  return row;
}

export async function clientDetail(db: Db, client: ClientRow) {
  const [treatments, seqs, msgs, replies, consent, channels, tasks, codes] = await Promise.all([
    db
      .select()
      .from(appointments)
      .where(and(eq(appointments.clinicId, client.clinicId), eq(appointments.clientExternalId, client.externalId)))
      .orderBy(desc(appointments.startAt)),
    db.select().from(sequences).where(eq(sequences.clientId, client.id)).orderBy(desc(sequences.createdAt)),
    db.select().from(messages).where(eq(messages.clientId, client.id)).orderBy(desc(messages.dueAt)),
    db
      .select()
      .from(inboundMessages)
      .where(eq(inboundMessages.clientId, client.id))
      .orderBy(desc(inboundMessages.receivedAt)),
    db
      .select()
      .from(consentEvents)
      .where(eq(consentEvents.clientId, client.id))
      .orderBy(desc(consentEvents.occurredAt)),
    db.select().from(clientChannels).where(eq(clientChannels.clientId, client.id)),
    db.select().from(staffTasks).where(eq(staffTasks.clientId, client.id)).orderBy(desc(staffTasks.createdAt)),
    db.select().from(incentives).where(eq(incentives.clientId, client.id)).orderBy(desc(incentives.createdAt)),
  ]);
  const holds = seqs.length
    ? await db
        .select()
        .from(deliveryHolds)
        .where(
          inArray(
            deliveryHolds.workflowId,
            seqs.map((s) => s.workflowId),
          ),
        )
        .orderBy(asc(deliveryHolds.occurredAt))
    : [];
  return { treatments, sequences: seqs, messages: msgs, replies, consent, channels, tasks, incentives: codes, holds };
}

export type ClientDetail = Awaited<ReturnType<typeof clientDetail>>;
