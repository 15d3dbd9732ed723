/**
 * Inbox dead letters. A row whose processing fails for a retryable reason other than Temporal
 * being unreachable (a vendor API down for days, a refused credential, a bug) is retried with
 * exponential backoff and, once it has failed for INBOX_DEAD_AFTER_MS or INBOX_DEAD_AFTER_FAILURES
 * times, is marked `dead` with its error code: visible with `rebook inbox`, retried by staff with
 * `rebook inbox retry` once the cause is fixed. Its payload is kept for that retry (and dropped
 * once processed, as for every row). Temporal-unreachable rows are never dead-lettered.
 */
import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { inboxEvents } from '../db/schema.js';

export const INBOX_DEAD_AFTER_MS = 72 * 3_600_000;
export const INBOX_DEAD_AFTER_FAILURES = 100;
/** Backoff between retries of a failing row: 30 s doubling per failure, at most an hour. */
export const INBOX_RETRY_BASE_SECONDS = 30;
export const INBOX_RETRY_MAX_SECONDS = 3_600;

/**
 * The columns a retryable, non-Temporal failure sets (in one UPDATE, from the row's values before
 * it): one more failure, the failing clock started, and either `dead` or the next retry time.
 * `nowMs` is the ingest clock (the dead-letter age); the retry time is wall-clock, as the
 * forwarder's claim compares it with wall-clock time.
 */
export function deadLetterUpdate(nowMs: number) {
  const at = new Date(nowMs).toISOString();
  const deadline = new Date(nowMs - INBOX_DEAD_AFTER_MS).toISOString();
  const dead: SQL = sql`(${inboxEvents.failures} + 1 >= ${INBOX_DEAD_AFTER_FAILURES} or coalesce(${inboxEvents.failingSince}, ${at}::timestamptz) <= ${deadline}::timestamptz)`;
  return {
    failures: sql`${inboxEvents.failures} + 1`,
    failingSince: sql`coalesce(${inboxEvents.failingSince}, ${at}::timestamptz)`,
    status: sql<'pending' | 'dead'>`case when ${dead} then 'dead' else 'pending' end`,
    processedAt: sql`case when ${dead} then ${at}::timestamptz else null end`,
    lockedUntil: sql`case when ${dead} then null else ${new Date().toISOString()}::timestamptz + least(${INBOX_RETRY_MAX_SECONDS}, ${INBOX_RETRY_BASE_SECONDS} * power(2, ${inboxEvents.failures})) * interval '1 second' end`,
  };
}

/** One inbox row as operators see it: ids, type, counts and codes; never the payload. */
export interface InboxEntry {
  id: number;
  clinicId: string;
  source: string;
  eventType: string;
  status: string;
  attempts: number;
  failures: number;
  lastError: string | null;
  receivedAt: Date;
  failingSince: Date | null;
  processedAt: Date | null;
}

export async function listInbox(
  db: Db,
  filter: { status?: 'pending' | 'done' | 'rejected' | 'dead'; clinicId?: string; limit?: number } = {},
): Promise<InboxEntry[]> {
  const where = and(
    filter.status ? eq(inboxEvents.status, filter.status) : undefined,
    filter.clinicId ? eq(inboxEvents.clinicId, filter.clinicId) : undefined,
  );
  return db
    .select({
      id: inboxEvents.id,
      clinicId: inboxEvents.clinicId,
      source: inboxEvents.source,
      eventType: inboxEvents.eventType,
      status: inboxEvents.status,
      attempts: inboxEvents.attempts,
      failures: inboxEvents.failures,
      lastError: inboxEvents.lastError,
      receivedAt: inboxEvents.receivedAt,
      failingSince: inboxEvents.failingSince,
      processedAt: inboxEvents.processedAt,
    })
    .from(inboxEvents)
    .where(where)
    .orderBy(desc(inboxEvents.id))
    .limit(filter.limit ?? 100);
}

/** Dead rows back to pending with a fresh failure budget; the forwarder picks them up. Returns the ids revived. */
export async function retryDead(db: Db, o: { ids?: number[]; clinicId?: string }): Promise<number[]> {
  const rows = await db
    .update(inboxEvents)
    .set({ status: 'pending', failures: 0, failingSince: null, lockedUntil: null, processedAt: null })
    .where(
      and(
        eq(inboxEvents.status, 'dead'),
        o.ids ? inArray(inboxEvents.id, o.ids) : undefined,
        o.clinicId ? eq(inboxEvents.clinicId, o.clinicId) : undefined,
      ),
    )
    .returning({ id: inboxEvents.id });
  return rows.map((r) => r.id).sort((a, b) => a - b);
}
