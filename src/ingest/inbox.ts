/**
 * The inbox: every accepted event is stored durably first, then applied (src/ingest/apply.ts:
 * database state + Temporal signals). When applying fails the event stays pending and the
 * forwarder delivers it later, so an event answered 2xx is never lost: retried on every pass
 * while Temporal is unreachable, with backoff and then dead-lettered for any other failure.
 */

import type { Client } from '@temporalio/client';
import { and, asc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { clinicOrThrow } from '../config/load.js';
import type { ClinicConfig } from '../config/schema.js';
import type { ConfigStore } from '../config/store.js';
import type { Db } from '../db/client.js';
import { inboxEvents } from '../db/schema.js';
import { RebookError } from '../errors.js';
import type { Logger } from '../log.js';
import { isTemporalUnavailable } from '../temporal/sequences.js';
import { apply } from './apply.js';
import type { AppliedBody, ApplyContext } from './apply-context.js';
import { deadLetterUpdate } from './dead-letters.js';
import { type CanonicalEvent, dedupeKey, type EventResult } from './events.js';

export interface IngestDeps {
  db: Db;
  config: ConfigStore;
  temporal: Client;
  taskQueue: string;
  log: Logger;
  /** Injected clock (tests drive it with the time-skipping server's time). */
  now?: () => number;
  /**
   * Turns a stored vendor event (webhook, poll) into canonical events, re-reading the platform's
   * API when the delivery lacks what we need (connectors/registry.ts `resolveVendorEvent`).
   */
  resolveVendorEvent?: (clinic: ClinicConfig, event: VendorEvent) => Promise<CanonicalEvent[]>;
  /** Key of the holdout hash (proof of lift); see src/ingest/holdout.ts. */
  holdoutSecret?: string;
}

/** A vendor event as the inbox keeps it until processed: the fields we need, not the raw delivery. */
export interface VendorEvent {
  platform: string;
  kind: string;
  data: Record<string, unknown>;
}

/** One entry for the inbox from a webhook or a poll; the dedupe key carries the vendor's event id. */
export interface InboxItem {
  dedupeKey: string;
  eventType: string;
  occurredAt?: string;
  vendor: VendorEvent;
}

function isVendorPayload(p: unknown): p is { vendor: VendorEvent; resolved?: CanonicalEvent[] } {
  return typeof p === 'object' && p !== null && 'vendor' in p;
}

/** An inbox row as processing needs it. */
interface StoredRow {
  id: number;
  clinicId: string;
  payload: unknown;
  occurredAt: Date | null;
  source: string;
}

/** An event stored but not applied yet: why, in the answer (the row's lastError has the code). */
type Queued = Omit<Extract<EventResult, { status: 'queued' }>, 'index' | 'type'>;

/** How long a stored row is reserved for the process that stored it, before the forwarder may take it. */
const INBOX_LOCK_MS = 60_000;
/** Rows kept in memory between store and processStored, at most (see justStored). */
const JUST_STORED_MAX = 10_000;

/** A completedAt this far ahead of our clock is treated as clock skew, not a future date. */
const FUTURE_SKEW_MS = 5 * 60_000;

export function createIngest(deps: IngestDeps) {
  const { db, config, log } = deps;
  const now = deps.now ?? Date.now;
  const ctx: ApplyContext = {
    db,
    config,
    temporal: deps.temporal,
    taskQueue: deps.taskQueue,
    log,
    now,
    ...(deps.holdoutSecret ? { holdoutSecret: deps.holdoutSecret } : {}),
  };
  /**
   * Rows `store` wrote in this process, until processStored takes them: they are not read back
   * (one statement less per webhook). Only while well inside their lock: a row waiting longer
   * could have been claimed by the forwarder meanwhile, so it is read back, and skipped unless
   * still pending.
   */
  const justStored = new Map<number, { at: number; row: StoredRow }>();

  /** Rejects events no clinic could have produced; runs before anything is stored. */
  function validate(events: CanonicalEvent[]): void {
    const issues = events.flatMap((e, i) =>
      e.type === 'treatment.completed' && Date.parse(e.completedAt) > now() + FUTURE_SKEW_MS
        ? [{ path: `events.${i}.completedAt`, message: 'completedAt is in the future' }]
        : [],
    );
    if (issues.length) throw new RebookError('validation_failed', 'invalid events', { issues });
  }

  /**
   * A vendor event: resolved to canonical events (maybe re-reading the platform), each applied.
   * The resolution goes into `attempt`: should applying fail, processRow saves it on the row with
   * the failure, so the retry (Temporal down) applies it again without calling the vendor's API
   * again. (Saved then rather than up front: the usual row succeeds and would not need it.)
   */
  async function applyVendor(
    clinicId: string,
    payload: { vendor: VendorEvent; resolved?: CanonicalEvent[] },
    source: string,
    attempt: { resolved?: CanonicalEvent[] },
  ): Promise<AppliedBody> {
    let events = payload.resolved;
    if (!events) {
      if (!deps.resolveVendorEvent)
        throw new RebookError('config_invalid', 'no connector resolver configured for vendor events');
      const clinic = clinicOrThrow(config.current(), clinicId);
      events = await deps.resolveVendorEvent(clinic, payload.vendor);
      attempt.resolved = events;
    }
    const results: unknown[] = [];
    for (const e of events) results.push({ type: e.type, ...(await apply(ctx, clinicId, e, source)) });
    return { status: 'accepted', events: results };
  }

  /** Applies one inbox row; on failure leaves it pending for the forwarder. */
  async function processRow(row: {
    id: number;
    clinicId: string;
    payload: unknown;
    source: string;
  }): Promise<AppliedBody | Queued> {
    const attempt: { resolved?: CanonicalEvent[] } = {};
    // Kept for the retry: the vendor's events as resolved by this attempt (see applyVendor).
    const resolvedPayload = () =>
      attempt.resolved && isVendorPayload(row.payload)
        ? { payload: { vendor: row.payload.vendor, resolved: attempt.resolved } }
        : {};
    try {
      const result = isVendorPayload(row.payload)
        ? await applyVendor(row.clinicId, row.payload, row.source, attempt)
        : await apply(ctx, row.clinicId, row.payload as CanonicalEvent, row.source);
      // Processed: drop the payload (it carries PHI) and keep only the outcome.
      await db
        .update(inboxEvents)
        .set({
          status: 'done',
          payload: null,
          result,
          processedAt: new Date(),
          lockedUntil: null,
          attempts: sql`${inboxEvents.attempts} + 1`,
        })
        .where(eq(inboxEvents.id, row.id));
      return result;
    } catch (err) {
      if (err instanceof RebookError && !err.retryable) {
        // The reason stays with the row (our own message: never vendor text, never PHI).
        await db
          .update(inboxEvents)
          .set({
            status: 'rejected',
            payload: null,
            lastError: `${err.code}: ${err.message}`,
            processedAt: new Date(),
            lockedUntil: null,
          })
          .where(eq(inboxEvents.id, row.id));
        throw err;
      }
      if (isTemporalUnavailable(err)) {
        // Retried on every forwarder pass and never dead-lettered: a cluster outage is what the inbox is for.
        await db
          .update(inboxEvents)
          .set({
            lastError: 'temporal_unavailable',
            lockedUntil: null,
            attempts: sql`${inboxEvents.attempts} + 1`,
            ...resolvedPayload(),
          })
          .where(eq(inboxEvents.id, row.id));
        log.warn({ inboxId: row.id, error: 'temporal_unavailable' }, 'event kept in inbox for retry');
        return { status: 'queued', reason: 'temporal_unavailable' };
      }
      // Anything else (a vendor API down, a refused credential, a bug): retried with backoff, and
      // dead-lettered with its code once it has failed for too long (src/ingest/dead-letters.ts).
      const code = err instanceof RebookError ? err.code : err instanceof Error ? err.name : 'Error';
      const [after] = await db
        .update(inboxEvents)
        .set({
          lastError: code,
          attempts: sql`${inboxEvents.attempts} + 1`,
          ...deadLetterUpdate(now()),
          ...resolvedPayload(),
        })
        .where(eq(inboxEvents.id, row.id))
        .returning({ status: inboxEvents.status });
      if (after?.status === 'dead')
        log.error({ inboxId: row.id, clinicId: row.clinicId, error: code }, 'inbox event dead-lettered');
      else log.warn({ inboxId: row.id, error: code }, 'event kept in inbox for retry');
      return { status: 'queued', reason: 'processing_failed' };
    }
  }

  return {
    /** Stores every event durably, then applies each; the answer says what happened to each. */
    async accept(clinicId: string, events: CanonicalEvent[], source = 'api'): Promise<EventResult[]> {
      clinicOrThrow(config.current(), clinicId);
      validate(events);
      const out: EventResult[] = [];
      // Stored in one statement before anything is applied: the 2xx is only sent once all are durable.
      const stored = await db
        .insert(inboxEvents)
        .values(
          events.map((e) => ({
            clinicId,
            source,
            dedupeKey: dedupeKey(e),
            eventType: e.type,
            payload: e,
            lockedUntil: new Date(Date.now() + INBOX_LOCK_MS),
          })),
        )
        .onConflictDoNothing()
        .returning({ id: inboxEvents.id, dedupeKey: inboxEvents.dedupeKey });
      const byKey = new Map(stored.map((s) => [s.dedupeKey, s.id]));
      for (const [index, e] of events.entries()) {
        const key = dedupeKey(e);
        const rowId = byKey.get(key);
        byKey.delete(key); // the same event twice in one batch: the second is a duplicate
        if (rowId === undefined) {
          out.push({ index, type: e.type, status: 'duplicate', enrolled: false, reason: 'duplicate' });
          continue;
        }
        const r = await processRow({ id: rowId, clinicId, payload: e, source });
        out.push({ index, type: e.type, ...r } as EventResult);
      }
      return out;
    },

    /**
     * Stores vendor events durably (duplicates of a vendor event id are dropped by the unique
     * key) and returns the new rows, locked for the caller to process right after answering.
     */
    async store(
      clinicId: string,
      source: string,
      items: InboxItem[],
    ): Promise<{ stored: number[]; duplicates: number }> {
      if (items.length === 0) return { stored: [], duplicates: 0 };
      const rows = await db
        .insert(inboxEvents)
        .values(
          items.map((i) => ({
            clinicId,
            source,
            dedupeKey: i.dedupeKey,
            eventType: i.eventType,
            occurredAt: i.occurredAt ? new Date(i.occurredAt) : null,
            payload: { vendor: i.vendor },
            lockedUntil: new Date(Date.now() + INBOX_LOCK_MS),
          })),
        )
        .onConflictDoNothing()
        .returning({ id: inboxEvents.id, dedupeKey: inboxEvents.dedupeKey });
      const byKey = new Map(items.map((i) => [i.dedupeKey, i]));
      for (const r of rows) {
        const i = byKey.get(r.dedupeKey)!;
        justStored.set(r.id, {
          at: Date.now(),
          row: {
            id: r.id,
            clinicId,
            payload: { vendor: i.vendor },
            occurredAt: i.occurredAt ? new Date(i.occurredAt) : null,
            source,
          },
        });
      }
      // Bounded: rows stored but never handed to processStored (a caller that stopped) age out.
      for (const id of justStored.keys()) {
        if (justStored.size <= JUST_STORED_MAX) break;
        justStored.delete(id);
      }
      return { stored: rows.map((r) => r.id), duplicates: items.length - rows.length };
    },

    /** Processes rows `store` returned (in event-time order); failures stay pending for the forwarder. */
    async processStored(ids: number[]): Promise<void> {
      if (ids.length === 0) return;
      const rows: StoredRow[] = [];
      const readBack: number[] = [];
      for (const id of ids) {
        const kept = justStored.get(id);
        justStored.delete(id);
        if (kept && Date.now() - kept.at < INBOX_LOCK_MS / 2) rows.push(kept.row);
        else readBack.push(id);
      }
      if (readBack.length) {
        rows.push(
          ...(await db
            .select({
              id: inboxEvents.id,
              clinicId: inboxEvents.clinicId,
              payload: inboxEvents.payload,
              occurredAt: inboxEvents.occurredAt,
              source: inboxEvents.source,
            })
            .from(inboxEvents)
            .where(and(inArray(inboxEvents.id, readBack), eq(inboxEvents.status, 'pending')))),
        );
      }
      rows.sort((a, b) => (a.occurredAt?.getTime() ?? 0) - (b.occurredAt?.getTime() ?? 0) || a.id - b.id);
      for (const row of rows) {
        try {
          await processRow(row);
        } catch {
          // rejected rows are recorded by processRow
        }
      }
    },

    /** Delivers pending inbox rows (oldest first); returns how many were applied. */
    async forwardPending(limit = 100): Promise<number> {
      const claimed = await db
        .update(inboxEvents)
        .set({ lockedUntil: new Date(Date.now() + INBOX_LOCK_MS) })
        .where(
          inArray(
            inboxEvents.id,
            db
              .select({ id: inboxEvents.id })
              .from(inboxEvents)
              .where(
                and(
                  eq(inboxEvents.status, 'pending'),
                  or(isNull(inboxEvents.lockedUntil), lt(inboxEvents.lockedUntil, new Date())),
                ),
              )
              .orderBy(asc(inboxEvents.id))
              .limit(limit),
          ),
        )
        .returning({
          id: inboxEvents.id,
          clinicId: inboxEvents.clinicId,
          payload: inboxEvents.payload,
          source: inboxEvents.source,
        });
      claimed.sort((a, b) => a.id - b.id);
      let applied = 0;
      for (const [i, row] of claimed.entries()) {
        try {
          const r = await processRow(row);
          if (r.status !== 'queued') applied++;
          else if (r.reason === 'temporal_unavailable') {
            // The cluster is down: the rest of the batch would each wait out the call deadline (5 s a
            // row: a 1,000-row backlog held one pass for 80 minutes, and the rows it had passed waited
            // for the next one after the cluster was back). Released now, tried on the next pass.
            const rest = claimed.slice(i + 1).map((c) => c.id);
            if (rest.length > 0)
              await db.update(inboxEvents).set({ lockedUntil: null }).where(inArray(inboxEvents.id, rest));
            break;
          }
        } catch {
          // rejected rows are recorded by processRow
        }
      }
      return applied;
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;
