/**
 * Conversation threads: a clinic's inbound replies, newest first, each with the outbound messages
 * that preceded it for that client, what the classifier did with it (src/core/reply-intent.ts,
 * acted on by src/messaging/inbound.ts) and whether it is handled: automatically (opt-out,
 * opt-in, help, snooze need nobody), by resolving the task it raised, or marked by staff.
 */
import { and, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { ReplyIntent } from '../../core/reply-intent.js';
import { type Db, rows } from '../../db/client.js';
import { clients, inboundMessages, staffTasks } from '../../db/schema.js';

/** What the engine did with each kind of reply, in the words the page shows. */
export const INTENT_ACTION: Record<ReplyIntent, { label: string; automatic: boolean }> = {
  opt_out: { label: 'Opted out of SMS', automatic: true },
  opt_in: { label: 'Opted back in to SMS', automatic: true },
  help: { label: 'Answered with the help text', automatic: true },
  snooze: { label: 'Snoozed: one reactivation touch later', automatic: true },
  opt_out_free_text: { label: 'Opted out; staff to review the wording', automatic: false },
  appointment_change: { label: 'Asks to change an appointment: task for staff', automatic: false },
  acknowledgement: { label: 'A thank-you or an emoji: nothing to do', automatic: true },
  hot_lead: { label: 'Hot lead: call task for staff', automatic: false },
  other: { label: 'Needs a human: task for staff', automatic: false },
};

export interface ThreadMessage {
  id: string;
  stage: string;
  channel: string;
  status: string;
  at: Date;
  subject: string | null;
  body: string | null;
}

export interface ThreadTask {
  id: string;
  reason: string;
  status: string;
  outcome: string | null;
}

export interface ConversationThread {
  id: string;
  receivedAt: Date;
  body: string;
  fromAddress: string;
  intent: string;
  action: string;
  client: { id: string; firstName: string; lastName: string } | null;
  /** The outbound messages to this client before the reply, newest first. */
  preceding: ThreadMessage[];
  tasks: ThreadTask[];
  handled: boolean;
  handledBy: 'automatic' | 'task' | 'staff' | null;
}

/** Outbound messages shown before each reply at most. */
export const THREAD_PRECEDING = 3;

export interface ThreadQuery {
  limit?: number;
  /** Replies received before this instant (paging: the last thread's receivedAt). */
  beforeMs?: number;
  /** Only replies still waiting for staff. */
  unhandledOnly?: boolean;
}

function handledOf(
  intent: string,
  handledAt: Date | null,
  tasks: ThreadTask[],
): Pick<ConversationThread, 'handled' | 'handledBy'> {
  if (handledAt) return { handled: true, handledBy: 'staff' };
  if (INTENT_ACTION[intent as ReplyIntent]?.automatic) return { handled: true, handledBy: 'automatic' };
  if (tasks.length > 0 && tasks.every((t) => t.status === 'resolved')) return { handled: true, handledBy: 'task' };
  return { handled: false, handledBy: null };
}

export async function loadConversationThreads(
  db: Db,
  clinicId: string,
  q: ThreadQuery = {},
): Promise<ConversationThread[]> {
  const limit = Math.min(q.limit ?? 50, 200);
  const automatic = Object.entries(INTENT_ACTION)
    .filter(([, a]) => a.automatic)
    .map(([k]) => k);
  const unresolvedOrNone = sql`(not exists (select 1 from staff_tasks t where t.inbound_message_id = ${inboundMessages.id})
    or exists (select 1 from staff_tasks t where t.inbound_message_id = ${inboundMessages.id} and t.status <> 'resolved'))`;
  const replies = await db
    .select({
      id: inboundMessages.id,
      receivedAt: inboundMessages.receivedAt,
      body: inboundMessages.body,
      fromAddress: inboundMessages.fromAddress,
      intent: inboundMessages.intent,
      handledAt: inboundMessages.handledAt,
      clientId: clients.id,
      firstName: clients.firstName,
      lastName: clients.lastName,
    })
    .from(inboundMessages)
    .leftJoin(clients, eq(clients.id, inboundMessages.clientId))
    .where(
      and(
        eq(inboundMessages.clinicId, clinicId),
        q.beforeMs !== undefined ? lt(inboundMessages.receivedAt, new Date(q.beforeMs)) : undefined,
        q.unhandledOnly
          ? and(
              isNull(inboundMessages.handledAt),
              sql`${inboundMessages.intent} not in (${sql.join(
                automatic.map((a) => sql`${a}`),
                sql`, `,
              )})`,
              unresolvedOrNone,
            )
          : undefined,
      ),
    )
    .orderBy(desc(inboundMessages.receivedAt), desc(inboundMessages.id))
    .limit(limit);
  if (replies.length === 0) return [];
  const ids = replies.map((r) => r.id);

  // The last few messages to the client before each reply: one lateral query for the page.
  const preceding = rows<{
    inbound_id: string;
    id: string;
    stage: string;
    channel: string;
    status: string;
    at: string | Date;
    subject: string | null;
    body: string | null;
  }>(
    await db.execute(sql`select r.id as inbound_id, m.id, m.stage, m.channel, m.status, m.at, m.subject, m.body
      from inbound_messages r
      cross join lateral (
        select x.id, x.stage, x.channel, x.status, coalesce(x.sent_at, x.attempted_at, x.due_at) as at, x.subject, x.body
        from messages x
        where x.clinic_id = r.clinic_id and x.client_id = r.client_id
          and x.channel in ('email', 'sms')
          and coalesce(x.sent_at, x.attempted_at, x.due_at) <= r.received_at
        order by coalesce(x.sent_at, x.attempted_at, x.due_at) desc
        limit ${THREAD_PRECEDING}
      ) m
      where r.id in (${sql.join(
        ids.map((id) => sql`${id}::uuid`),
        sql`, `,
      )})`),
  );
  const tasks = await db
    .select({
      inboundId: staffTasks.inboundMessageId,
      id: staffTasks.id,
      reason: staffTasks.reason,
      status: staffTasks.status,
      outcome: staffTasks.outcome,
    })
    .from(staffTasks)
    .where(inArray(staffTasks.inboundMessageId, ids));

  return replies.map((r) => {
    const own = tasks
      .filter((t) => t.inboundId === r.id)
      .map(({ id, reason, status, outcome }) => ({ id, reason, status, outcome }));
    return {
      id: r.id,
      receivedAt: r.receivedAt,
      body: r.body,
      fromAddress: r.fromAddress,
      intent: r.intent,
      action: INTENT_ACTION[r.intent as ReplyIntent]?.label ?? r.intent,
      client: r.clientId ? { id: r.clientId, firstName: r.firstName!, lastName: r.lastName! } : null,
      preceding: preceding
        .filter((m) => m.inbound_id === r.id)
        .map((m) => ({
          id: m.id,
          stage: m.stage,
          channel: m.channel,
          status: m.status,
          at: new Date(m.at),
          subject: m.subject,
          body: m.body,
        }))
        .sort((a, b) => b.at.getTime() - a.at.getTime()),
      tasks: own,
      ...handledOf(r.intent, r.handledAt, own),
    };
  });
}

/** Staff marks a reply of this clinic handled; false when the clinic has no such reply. */
export async function markReplyHandled(
  db: Db,
  clinicId: string,
  inboundId: string,
  by: string,
  at = new Date(),
): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/i.test(inboundId)) return false;
  const updated = await db
    .update(inboundMessages)
    .set({ handledAt: at, handledBy: by })
    .where(and(eq(inboundMessages.id, inboundId), eq(inboundMessages.clinicId, clinicId)))
    .returning({ id: inboundMessages.id });
  return updated.length > 0;
}
