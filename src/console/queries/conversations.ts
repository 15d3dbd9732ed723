/**
 * Conversations: inbound replies of the viewer's clinics, newest first, each threaded with the
 * messages the client got before it (and the staff replies after it).
 */
import { and, asc, desc, eq, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { clients, inboundMessages, messages } from '../../db/schema.js';

export interface ThreadItem {
  direction: 'in' | 'out';
  at: Date;
  body: string;
  channel: string;
  status?: string;
  stage?: string;
}

export interface Conversation {
  inboundId: string;
  clinicId: string;
  clientId: string | null;
  name: string | null;
  intent: string;
  receivedAt: Date;
  handledAt: Date | null;
  handledBy: string | null;
  thread: ThreadItem[];
}

export async function conversations(
  db: Db,
  clinicIds: string[],
  opts: { handled: boolean; limit?: number },
): Promise<Conversation[]> {
  if (clinicIds.length === 0) return [];
  const rows = await db
    .select({ i: inboundMessages, c: clients })
    .from(inboundMessages)
    .leftJoin(clients, eq(clients.id, inboundMessages.clientId))
    .where(
      and(inArray(inboundMessages.clinicId, clinicIds), opts.handled ? undefined : isNull(inboundMessages.handledAt)),
    )
    .orderBy(desc(inboundMessages.receivedAt))
    .limit(opts.limit ?? 50);
  const clientIds = [...new Set(rows.flatMap((r) => (r.c ? [r.c.id] : [])))];
  const [out, ins] = clientIds.length
    ? await Promise.all([
        db
          .select()
          .from(messages)
          .where(and(inArray(messages.clientId, clientIds), inArray(messages.channel, ['sms', 'email'])))
          .orderBy(asc(messages.dueAt)),
        db
          .select()
          .from(inboundMessages)
          .where(inArray(inboundMessages.clientId, clientIds))
          .orderBy(asc(inboundMessages.receivedAt)),
      ])
    : [[], []];
  return rows.map(({ i, c }) => {
    const thread: ThreadItem[] = c
      ? [
          ...out
            .filter((m) => m.clientId === c.id && m.body)
            .map((m) => ({
              direction: 'out' as const,
              at: m.sentAt ?? m.dueAt,
              body: m.subject ? `${m.subject}: ${m.body}` : m.body!,
              channel: m.channel,
              status: m.status,
              stage: m.stage,
            })),
          ...ins
            .filter((r) => r.clientId === c.id)
            .map((r) => ({ direction: 'in' as const, at: r.receivedAt, body: r.body, channel: 'sms' })),
        ].sort((a, b) => a.at.getTime() - b.at.getTime())
      : [{ direction: 'in', at: i.receivedAt, body: i.body, channel: 'sms' }];
    return {
      inboundId: i.id,
      clinicId: i.clinicId,
      clientId: c?.id ?? null,
      name: c ? `${c.firstName} ${c.lastName}`.trim() : null,
      intent: i.intent,
      receivedAt: i.receivedAt,
      handledAt: i.handledAt,
      handledBy: i.handledBy,
      // The last few exchanges are what a person needs to answer.
      thread: thread.slice(-8),
    };
  });
}

export async function inboundById(db: Db, id: string) {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const [row] = await db.select().from(inboundMessages).where(eq(inboundMessages.id, id));
  return row;
}
