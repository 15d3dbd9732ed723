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
import { type Db, foreground } from '../db/client.js';
import { inboxEvents } from '../db/schema.js';
import { RebookError } from '../errors.js';
import type { Logger } from '../log.js';
import { isTemporalUnavailable } from '../temporal/sequences.js';
import { apply } from './apply.js';
import { applyBookings } from './apply-appointments.js';
import type { AppliedBody, ApplyContext } from './apply-context.js';
import { canonicalClientIds } from './apply-context.js';
import { applyTreatments, type TreatmentOutcome } from './apply-treatments.js';
import { deadLetterUpdate } from './dead-letters.js';
import { type CanonicalEvent, dedupeKey, type EventResult, type TreatmentCompleted } from './events.js';

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

/** An events-API request waiting for its batch. */
interface Waiting {
  clinicId: string;
  events: CanonicalEvent[];
  source: string;
  resolve(results: EventResult[]): void;
  reject(err: unknown): void;
}

/** One stored event of a batch: its request, its place in it, and its row. */
interface Entry {
  r: number;
  index: number;
  row: { id: number; clinicId: string; payload: CanonicalEvent; source: string };
}

/** Events applied together at most (whole requests; one request of the events API is at most 500). */
const BATCH_EVENTS = 500;
/**
 * Batches applied at once: two, so a request arriving during a long batch (an import's 500
 * events) waits for a free slot, not for that batch; and the Temporal calls of one overlap the
 * statements of the other.
 */
const BATCHES_IN_FLIGHT = 2;

/** The client ids (the platform's) an event concerns. */
function clientsOf(e: CanonicalEvent): string[] {
  switch (e.type) {
    case 'treatment.completed':
    case 'client.updated':
      return [e.client.id];
    case 'client.merged':
      return [e.keptClientId, e.removedClientId];
    default:
      return [e.clientId];
  }
}

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

  /** Rows applied: the payload (it carries PHI) dropped, only the outcome kept; one statement for many. */
  async function markDone(done: { id: number; result: AppliedBody }[]): Promise<void> {
    if (done.length === 0) return;
    const at = new Date().toISOString();
    const applied = sql.join(
      done.map((d) => sql`(${d.id}::bigint, ${JSON.stringify(d.result)}::jsonb)`),
      sql`, `,
    );
    await db.execute(sql`
      update ${inboxEvents} as i
      set status = 'done', payload = null, result = d.result, processed_at = ${at}::timestamptz,
          locked_until = null, attempts = i.attempts + 1
      from (values ${applied}) as d (id, result)
      where i.id = d.id`);
  }

  /**
   * Why applying a row failed, recorded on the row: a refused event is rejected (and thrown on);
   * anything else leaves it pending for the forwarder. `retryPayload` is what the retry should
   * apply (see applyVendor).
   */
  async function recordFailure(
    row: { id: number; clinicId: string },
    err: unknown,
    retryPayload: { payload?: unknown } = {},
  ): Promise<Queued> {
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
          ...retryPayload,
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
        ...retryPayload,
      })
      .where(eq(inboxEvents.id, row.id))
      .returning({ status: inboxEvents.status });
    if (after?.status === 'dead')
      log.error({ inboxId: row.id, clinicId: row.clinicId, error: code }, 'inbox event dead-lettered');
    else log.warn({ inboxId: row.id, error: code }, 'event kept in inbox for retry');
    return { status: 'queued', reason: 'processing_failed' };
  }

  /** Applies one inbox row; on failure leaves it pending for the forwarder. */
  async function processRow(row: {
    id: number;
    clinicId: string;
    payload: unknown;
    source: string;
  }): Promise<AppliedBody | Queued> {
    const attempt: { resolved?: CanonicalEvent[] } = {};
    let result: AppliedBody;
    try {
      result = isVendorPayload(row.payload)
        ? await applyVendor(row.clinicId, row.payload, row.source, attempt)
        : await apply(ctx, row.clinicId, row.payload as CanonicalEvent, row.source);
      await markDone([{ id: row.id, result }]);
      return result;
    } catch (err) {
      // Kept for the retry: the vendor's events as resolved by this attempt (see applyVendor).
      const retryPayload =
        attempt.resolved && isVendorPayload(row.payload)
          ? { payload: { vendor: row.payload.vendor, resolved: attempt.resolved } }
          : {};
      return recordFailure(row, err, retryPayload);
    }
  }

  /** Requests of the events API waiting for the batch in progress to finish (see accept). */
  const waiting: Waiting[] = [];
  let draining = 0;

  /**
   * A batch's queries go before the worker's on PGlite (see `foreground`: the answers wait for
   * them, the worker's planning can). Whatever escapes acceptBatch still answers every request.
   */
  async function settleBatch(batch: Waiting[]): Promise<void> {
    try {
      await foreground(() => acceptBatch(batch));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }

  async function drain(): Promise<void> {
    draining++;
    try {
      while (waiting.length > 0) {
        const batch = [waiting.shift()!];
        let size = batch[0]!.events.length;
        while (waiting.length > 0 && size + waiting[0]!.events.length <= BATCH_EVENTS) {
          size += waiting[0]!.events.length;
          batch.push(waiting.shift()!);
        }
        await settleBatch(batch);
      }
    } finally {
      draining--;
    }
  }

  /**
   * Stores and applies the events of several requests together, then answers each. Never
   * throws: a request whose events could not be stored, or whose event was refused, gets its
   * error; the others are answered as if they had come alone.
   */
  async function acceptBatch(batch: Waiting[]): Promise<void> {
    const rowKey = (clinicId: string, source: string, key: string) => `${clinicId}\u0000${source}\u0000${key}`;
    // Stored in one statement before anything is applied: the 2xx is only sent once all are durable.
    let stored: { id: number; clinicId: string; source: string; dedupeKey: string }[];
    try {
      stored = await db
        .insert(inboxEvents)
        // In arrival order, not in lock order: the forwarder retries rows by id, so a client's
        // events stay in the order they came.
        .values(
          batch.flatMap(({ clinicId, events, source }) =>
            events.map((e) => ({
              clinicId,
              source,
              dedupeKey: dedupeKey(e),
              eventType: e.type,
              payload: e,
              lockedUntil: new Date(Date.now() + INBOX_LOCK_MS),
            })),
          ),
        )
        .onConflictDoNothing()
        .returning({
          id: inboxEvents.id,
          clinicId: inboxEvents.clinicId,
          source: inboxEvents.source,
          dedupeKey: inboxEvents.dedupeKey,
        });
    } catch (err) {
      // One request's events may be what the database refused: each is then stored on its own.
      if (batch.length === 1) batch[0]!.reject(err);
      else for (const w of batch) await acceptBatch([w]);
      return;
    }
    const byKey = new Map(stored.map((s) => [rowKey(s.clinicId, s.source, s.dedupeKey), s.id]));
    const results = batch.map((w) => new Array<EventResult>(w.events.length));
    const failed = new Map<number, unknown>();
    // Every stored event, in arrival order; the completed treatments and the bookings of clients
    // no earlier event of the batch concerns are applied together, the rest one by one after
    // them, in order (so two events about one client still apply in the order they came).
    const entries: Entry[] = [];
    const together: Entry[] = [];
    const concerned = new Set<string>();
    for (const [r, w] of batch.entries()) {
      for (const [index, e] of w.events.entries()) {
        const key = rowKey(w.clinicId, w.source, dedupeKey(e));
        const id = byKey.get(key);
        byKey.delete(key); // the same event twice: the second is a duplicate
        if (id === undefined) {
          results[r]![index] = { index, type: e.type, status: 'duplicate', enrolled: false, reason: 'duplicate' };
          continue;
        }
        const entry: Entry = { r, index, row: { id, clinicId: w.clinicId, payload: e, source: w.source } };
        const clients = clientsOf(e).map((c) => `${w.clinicId}\u0000${c}`);
        const kind = e.type === 'treatment.completed' || e.type === 'appointment.booked';
        if (kind && !clients.some((c) => concerned.has(c))) together.push(entry);
        else entries.push(entry);
        for (const c of clients) concerned.add(c);
      }
    }
    const settle = (entry: Entry, body: AppliedBody | Queued) => {
      const e = entry.row.payload;
      results[entry.r]![entry.index] = { index: entry.index, type: e.type, ...body } as EventResult;
    };
    // Treatments and bookings of distinct clients: each kind in a few statements, side by side.
    const treatments = together.filter((t) => t.row.payload.type === 'treatment.completed');
    const bookings = together.filter((t) => t.row.payload.type === 'appointment.booked');
    const outcomes = new Map<Entry, TreatmentOutcome>();
    const applyKind = async (kind: Entry[], fn: () => Promise<TreatmentOutcome[]>) => {
      if (kind.length === 0) return;
      try {
        (await fn()).forEach((o, i) => void outcomes.set(kind[i]!, o));
      } catch (err) {
        // Whatever the statement met, each event is applied on its own below (every step is idempotent).
        log.warn(
          { events: kind.length, error: err instanceof Error ? err.name : 'Error' },
          'batch apply fell back to one by one',
        );
      }
    };
    await Promise.all([
      applyKind(treatments, () =>
        applyTreatments(
          ctx,
          treatments.map((t) => ({
            clinicId: t.row.clinicId,
            event: t.row.payload as TreatmentCompleted,
            source: t.row.source,
          })),
        ),
      ),
      applyKind(bookings, async () => {
        const events = bookings.map((b) => b.row.payload as Extract<CanonicalEvent, { type: 'appointment.booked' }>);
        const kept = await canonicalClientIds(
          ctx,
          bookings.map((b, i) => ({ clinicId: b.row.clinicId, clientId: events[i]!.clientId })),
        );
        return applyBookings(
          ctx,
          bookings.map((b, i) => ({ clinicId: b.row.clinicId, e: { ...events[i]!, clientId: kept[i]! } })),
        );
      }),
    ]);
    const done: { entry: Entry; result: AppliedBody }[] = [];
    const alone: Entry[] = [];
    for (const entry of together) {
      const outcome = outcomes.get(entry);
      if (!outcome) alone.push(entry);
      else if ('applied' in outcome) done.push({ entry, result: outcome.applied });
      else {
        try {
          settle(entry, await recordFailure(entry.row, outcome.failed));
        } catch (err) {
          if (!failed.has(entry.r)) failed.set(entry.r, err);
        }
      }
    }
    // Applied is what the answer reports (stored, and the workflow started or signalled); marking
    // the rows done is bookkeeping the answer need not wait for. Should it fail, the rows stay
    // pending under their lock and the forwarder applies them again (every step is idempotent),
    // so the answer was still true. The batch keeps its slot until the rows are marked.
    for (const d of done) settle(d.entry, d.result);
    const marking = markDone(done.map((d) => ({ id: d.entry.row.id, result: d.result }))).catch((err: unknown) =>
      log.warn(
        { events: done.length, error: err instanceof Error ? err.name : 'Error' },
        'applied events not marked done; the forwarder applies them again',
      ),
    );
    const answer = (r: number) => {
      const w = batch[r]!;
      if (failed.has(r)) w.reject(failed.get(r));
      else w.resolve(results[r]!);
    };
    // The rest one by one, each request's in its order and the requests side by side (as they
    // were sent); a request whose event was refused stops there, as when it came alone. A
    // request with nothing left is answered now.
    const rest = batch.map(() => [] as Entry[]);
    for (const entry of [...alone, ...entries].sort((a, b) => a.index - b.index)) rest[entry.r]!.push(entry);
    await Promise.all(
      rest.map(async (mine, r) => {
        for (const entry of mine) {
          if (failed.has(r)) break;
          try {
            settle(entry, await processRow(entry.row));
          } catch (err) {
            failed.set(r, err);
          }
        }
        answer(r);
      }),
    );
    await marking;
  }

  return {
    /**
     * Stores every event durably, then applies each; the answer says what happened to each.
     * Requests that arrive while a batch is being applied wait for it and go together in the
     * next one (group commit): under load, sixteen single-event requests cost a few statements
     * instead of eight each, and one request alone goes straight through.
     */
    async accept(clinicId: string, events: CanonicalEvent[], source = 'api'): Promise<EventResult[]> {
      clinicOrThrow(config.current(), clinicId);
      validate(events);
      return new Promise<EventResult[]>((resolve, reject) => {
        waiting.push({ clinicId, events, source, resolve, reject });
        if (draining < BATCHES_IN_FLIGHT) void drain();
      });
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
