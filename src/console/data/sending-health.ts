/**
 * Sending health of one or several clinics over a window of send time (not a treatment cohort:
 * carriers and mailbox providers judge a sender by what it sent lately): messages that went out
 * and failed, clients who opted out, emails reported as spam. Statuses are the report's
 * (NOT_SENT, FAILED in src/reports/rebooking.ts).
 */
import { and, eq, gte, inArray, lt, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { consentEvents, messageEvents, messages } from '../../db/schema.js';
import type { Period } from '../../reports/query.js';
import { FAILED, NOT_SENT } from '../../reports/rebooking.js';
import {
  type RagVerdict,
  type SendingFigures,
  type SendingRates,
  sendingRates,
  sendingVerdict,
} from './health-rules.js';

export interface SendingHealth extends SendingFigures, SendingRates, RagVerdict {
  clinicId: string;
}

/** The default window: the last 30 days. */
export const SENDING_WINDOW_DAYS = 30;

export async function loadSendingHealth(
  db: Db,
  clinicIds: readonly string[],
  window: Period,
): Promise<SendingHealth[]> {
  if (clinicIds.length === 0) return [];
  const ids = [...clinicIds];
  const from = new Date(window.fromMs);
  const to = new Date(window.toMs);
  const sentAt = sql`coalesce(${messages.attemptedAt}, ${messages.dueAt})`;
  const inWindow = and(
    inArray(messages.clinicId, ids),
    inArray(messages.channel, ['email', 'sms']),
    notInArray(messages.status, [...NOT_SENT]),
    sql`${sentAt} >= ${from.toISOString()}::timestamptz`,
    sql`${sentAt} < ${to.toISOString()}::timestamptz`,
  );
  const sent = await db
    .select({
      clinicId: messages.clinicId,
      sent: sql<number>`count(*)::int`,
      emailsSent: sql<number>`(count(*) filter (where ${messages.channel} = 'email'))::int`,
      failed: sql<number>`(count(*) filter (where ${inArray(messages.status, [...FAILED])}))::int`,
      unconfirmed: sql<number>`(count(*) filter (where ${messages.status} = 'unconfirmed'))::int`,
      clientsMessaged: sql<number>`count(distinct ${messages.clientId})::int`,
    })
    .from(messages)
    .where(inWindow)
    .groupBy(messages.clinicId);
  const optOuts = await db
    .select({ clinicId: consentEvents.clinicId, n: sql<number>`count(distinct ${consentEvents.clientId})::int` })
    .from(consentEvents)
    .where(
      and(
        inArray(consentEvents.clinicId, ids),
        eq(consentEvents.action, 'revoked'),
        gte(consentEvents.occurredAt, from),
        lt(consentEvents.occurredAt, to),
      ),
    )
    .groupBy(consentEvents.clinicId);
  const spam = await db
    .select({ clinicId: messages.clinicId, n: sql<number>`count(*)::int` })
    .from(messageEvents)
    .innerJoin(messages, eq(messages.id, messageEvents.messageId))
    .where(
      and(
        inArray(messages.clinicId, ids),
        eq(messageEvents.event, 'spamreport'),
        gte(messageEvents.occurredAt, from),
        lt(messageEvents.occurredAt, to),
      ),
    )
    .groupBy(messages.clinicId);

  return ids.map((clinicId) => {
    const s = sent.find((r) => r.clinicId === clinicId);
    const figures: SendingFigures = {
      sent: Number(s?.sent ?? 0),
      unconfirmed: Number(s?.unconfirmed ?? 0),
      emailsSent: Number(s?.emailsSent ?? 0),
      failed: Number(s?.failed ?? 0),
      clientsMessaged: Number(s?.clientsMessaged ?? 0),
      optOuts: Number(optOuts.find((r) => r.clinicId === clinicId)?.n ?? 0),
      spamReports: Number(spam.find((r) => r.clinicId === clinicId)?.n ?? 0),
    };
    return { clinicId, ...figures, ...sendingRates(figures), ...sendingVerdict(figures) };
  });
}
