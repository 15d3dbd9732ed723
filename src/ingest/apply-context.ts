/** What applying an event needs, and what it answers: shared by the apply-* modules and the inbox. */
import type { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import type { ConfigStore } from '../config/store.js';
import type { Db } from '../db/client.js';
import type { appointments, clientPlans, clients } from '../db/schema.js';
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
