/** What applying an event needs, and what it answers: shared by the apply-* modules and the inbox. */
import type { Client } from '@temporalio/client';
import { type SQL, sql } from 'drizzle-orm';
import type { ConfigStore } from '../config/store.js';
import type { Db } from '../db/client.js';
import type { appointments, clientPlans, clients } from '../db/schema.js';
import { clientAliases } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { EventResult } from './events.js';

export interface ApplyContext {
  db: Db;
  config: ConfigStore;
  temporal: Client;
  taskQueue: string;
  log: Logger;
  /** Injected clock (tests drive it with the time-skipping server's time). */
  now: () => number;
  /** Key of the holdout hash (src/ingest/holdout.ts); needed only when a clinic holds clients out. */
  holdoutSecret?: string;
}

type Applied = Exclude<EventResult, { status: 'duplicate' } | { status: 'queued' }>;
/** The outcome of applying one event, without its place in the batch. */
export type AppliedBody = Applied extends infer R ? (R extends unknown ? Omit<R, 'index' | 'type'> : never) : never;

/** An update older than the last one applied (by vendor event time) changes nothing. */
export const fresher = (
  col: typeof clients.sourceUpdatedAt | typeof appointments.sourceUpdatedAt | typeof clientPlans.sourceUpdatedAt,
  at: Date | undefined,
) => (at ? sql`(${col} is null or ${col} <= ${at.toISOString()}::timestamptz)` : sql`true`);

/**
 * The kept client's id for each platform client id (of the clinic given with it) that was merged
 * into another profile; the id itself otherwise. One query for a whole batch.
 */
export async function canonicalClientIds(
  { db }: ApplyContext,
  asked: { clinicId: string; clientId: string }[],
): Promise<string[]> {
  if (asked.length === 0) return [];
  const found = await db
    .select({ clinicId: clientAliases.clinicId, alias: clientAliases.aliasExternalId, kept: clientAliases.externalId })
    .from(clientAliases)
    .where(
      sql`(${clientAliases.clinicId}, ${clientAliases.aliasExternalId}) in (${sql.join(
        asked.map((a) => sql`(${a.clinicId}, ${a.clientId})`),
        sql`, `,
      )})`,
    );
  const kept = new Map(found.map((f) => [`${f.clinicId}\u0000${f.alias}`, f.kept]));
  return asked.map((a) => kept.get(`${a.clinicId}\u0000${a.clientId}`) ?? a.clientId);
}

/** A clinic's row by its platform id: the order multi-row upserts write in (`inLockOrder`). */
export const clinicRowKey = (r: { clinicId: string; externalId: string }) => `${r.clinicId}\u0000${r.externalId}`;

/**
 * The SET of a multi-row upsert of clients or appointments: each named column from the incoming
 * row (`excluded`), `updated_at` too, and the vendor event time kept when the incoming row has none.
 */
export function fromIncoming<T extends typeof clients | typeof appointments>(
  table: T,
  columns: (keyof T['$inferInsert'] & string)[],
): Record<string, SQL> {
  const set: Record<string, SQL> = {};
  for (const c of [...columns, 'updatedAt'])
    set[c] = sql.raw(`excluded."${(table[c as keyof T] as unknown as { name: string }).name}"`);
  set.sourceUpdatedAt = sql`coalesce(excluded.source_updated_at, ${table.sourceUpdatedAt})`;
  return set;
}
