/**
 * Ingestion: every accepted event goes to the durable inbox first, then is applied (database
 * state + Temporal signals). When Temporal cannot be reached the event stays pending and the
 * forwarder delivers it later, so an event answered 2xx is never lost.
 */
import { and, eq, inArray, lt, or, isNull, sql, asc } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import { classificationRulesFor, clinicOrThrow, treatmentTypesFor } from '../config/load.js';
import type { ConfigStore } from '../config/store.js';
import { classifyService, normalizeServiceName } from '../core/classify.js';
import { windowPassed } from '../core/plan.js';
import type { Db } from '../db/client.js';
import { appointments, clients, inboxEvents, sequences, unmappedServices } from '../db/schema.js';
import type { Logger } from '../log.js';
import { enrollSequence, signalBooking } from '../temporal/sequences.js';
import { sequenceWorkflowId } from '../../workflows/definitions.js';
import { dedupeKey, type CanonicalEvent, type EventResult, type TreatmentCompleted } from './events.js';
import { RebookError } from '../errors.js';

export interface IngestDeps {
  db: Db;
  config: ConfigStore;
  temporal: Client;
  taskQueue: string;
  log: Logger;
  /** Injected clock (tests drive it with the time-skipping server's time). */
  now?: () => number;
}

type Applied = Exclude<EventResult, { status: 'duplicate' } | { status: 'queued' }>;
type AppliedBody = Applied extends infer R ? (R extends unknown ? Omit<R, 'index' | 'type'> : never) : never;

/** A completedAt this far ahead of our clock is treated as clock skew, not a future date. */
const FUTURE_SKEW_MS = 5 * 60_000;

export function createIngest(deps: IngestDeps) {
  const { db, config, log } = deps;
  const now = deps.now ?? Date.now;

  /** Rejects events no clinic could have produced; runs before anything is stored. */
  function validate(events: CanonicalEvent[]): void {
    const issues = events.flatMap((e, i) =>
      e.type === 'treatment.completed' && Date.parse(e.completedAt) > now() + FUTURE_SKEW_MS
        ? [{ path: `events.${i}.completedAt`, message: 'completedAt is in the future' }]
        : [],
    );
    if (issues.length) throw new RebookError('validation_failed', 'invalid events', { issues });
  }

  async function upsertClient(clinicId: string, e: TreatmentCompleted): Promise<string> {
    const c = e.client;
    const values = {
      firstName: c.firstName,
      lastName: c.lastName,
      email: c.email ?? null,
      phone: c.phone ?? null,
      consentSms: c.consent.sms,
      consentEmail: c.consent.email,
      updatedAt: new Date(),
    };
    const [row] = await db
      .insert(clients)
      .values({ clinicId, externalId: c.id, ...values })
      .onConflictDoUpdate({ target: [clients.clinicId, clients.externalId], set: values })
      .returning({ id: clients.id });
    return row!.id;
  }

  async function recordAppointment(clinicId: string, v: { externalId: string; clientExternalId: string; status: 'booked' | 'cancelled' | 'completed'; startAt?: Date; serviceName?: string; treatmentType?: string | null; priceCents?: number | null }) {
    const set = { ...v, updatedAt: new Date() };
    await db
      .insert(appointments)
      .values({ clinicId, ...v })
      .onConflictDoUpdate({
        target: [appointments.clinicId, appointments.externalId],
        set,
        // A completed appointment is final: a late "booked" or "cancelled" for it is stale.
        setWhere: sql`${appointments.status} <> 'completed'`,
      });
  }

  async function applyTreatment(clinicId: string, e: TreatmentCompleted): Promise<AppliedBody> {
    const cfg = config.current();
    const clinic = clinicOrThrow(cfg, clinicId);
    const cls = classifyService(e.service, classificationRulesFor(cfg, clinic));
    const clientId = await upsertClient(clinicId, e);
    await recordAppointment(clinicId, {
      externalId: e.appointmentId,
      clientExternalId: e.client.id,
      status: 'completed',
      startAt: new Date(e.completedAt),
      serviceName: e.service.name,
      treatmentType: cls.matched ? cls.treatmentType : null,
      priceCents: e.price != null ? Math.round(e.price * 100) : null,
    });
    if (!cls.matched) {
      const serviceKey = e.service.id ? `id:${e.service.id}` : `name:${normalizeServiceName(e.service.name)}`;
      await db
        .insert(unmappedServices)
        .values({ clinicId, serviceKey, serviceId: e.service.id ?? null, serviceName: e.service.name })
        .onConflictDoUpdate({
          target: [unmappedServices.clinicId, unmappedServices.serviceKey],
          set: { occurrences: sql`${unmappedServices.occurrences} + 1`, lastSeenAt: new Date(), serviceName: e.service.name },
        });
      log.info({ clinicId, serviceKey: e.service.id ? 'by_id' : 'by_name' }, 'unclassified service not enrolled');
      return { status: 'accepted', enrolled: false, reason: 'unclassified_service' };
    }
    const type = treatmentTypesFor(cfg, clinic).get(cls.treatmentType);
    if (!type) return { status: 'accepted', enrolled: false, reason: 'treatment_type_disabled' };
    if (windowPassed(type, e.completedAt, now(), clinic.timeZone)) return { status: 'accepted', enrolled: false, reason: 'window_passed' };

    const workflowId = sequenceWorkflowId(clinicId, clientId, type.key);
    await db
      .insert(sequences)
      .values({ workflowId, clinicId, clientId, treatmentType: type.key, running: true })
      .onConflictDoUpdate({ target: sequences.workflowId, set: { running: true, updatedAt: new Date() } });
    await enrollSequence(deps.temporal, deps.taskQueue, { clinicId, clientId, treatmentType: type.key }, workflowId, {
      appointmentId: e.appointmentId,
      completedAt: new Date(e.completedAt).toISOString(),
    });
    const reachable = (e.client.email && e.client.consent.email) || (e.client.phone && e.client.consent.sms);
    return { status: 'accepted', enrolled: true, sequenceId: workflowId, treatmentType: type.key, ...(reachable ? {} : { staffEscalationOnly: true }) };
  }

  async function apply(clinicId: string, e: CanonicalEvent): Promise<AppliedBody> {
    switch (e.type) {
      case 'treatment.completed':
        return applyTreatment(clinicId, e);
      case 'appointment.booked': {
        await recordAppointment(clinicId, { externalId: e.appointmentId, clientExternalId: e.clientId, status: 'booked', startAt: new Date(e.startAt) });
        const running = await db
          .select({ workflowId: sequences.workflowId })
          .from(sequences)
          .innerJoin(clients, eq(clients.id, sequences.clientId))
          .where(and(eq(sequences.clinicId, clinicId), eq(clients.externalId, e.clientId), eq(sequences.running, true)));
        // Every running sequence of the client stops: one booking ends them all.
        const results = await Promise.all(running.map((s) => signalBooking(deps.temporal, s.workflowId, { appointmentId: e.appointmentId, startAt: new Date(e.startAt).toISOString() })));
        return { status: 'accepted', sequencesSignalled: results.filter(Boolean).length };
      }
      case 'appointment.cancelled':
        await recordAppointment(clinicId, { externalId: e.appointmentId, clientExternalId: e.clientId, status: 'cancelled' });
        return { status: 'accepted', sequencesSignalled: 0 };
    }
  }

  /** Applies one inbox row; on failure leaves it pending for the forwarder. */
  async function processRow(row: { id: number; clinicId: string; payload: unknown }): Promise<AppliedBody | { status: 'queued'; reason: 'temporal_unavailable' }> {
    const event = row.payload as CanonicalEvent;
    try {
      const result = await apply(row.clinicId, event);
      // Processed: drop the payload (it carries PHI) and keep only the outcome.
      await db.update(inboxEvents).set({ status: 'done', payload: null, result, processedAt: new Date(), lockedUntil: null, attempts: sql`${inboxEvents.attempts} + 1` }).where(eq(inboxEvents.id, row.id));
      return result;
    } catch (err) {
      if (err instanceof RebookError && !err.retryable) {
        await db.update(inboxEvents).set({ status: 'rejected', payload: null, lastError: err.code, processedAt: new Date(), lockedUntil: null }).where(eq(inboxEvents.id, row.id));
        throw err;
      }
      const code = err instanceof Error ? err.name : 'Error';
      if (process.env.DEBUG_INGEST) console.error(err);
      await db.update(inboxEvents).set({ lastError: code, lockedUntil: null, attempts: sql`${inboxEvents.attempts} + 1` }).where(eq(inboxEvents.id, row.id));
      log.warn({ inboxId: row.id, error: code }, 'event kept in inbox for retry');
      return { status: 'queued', reason: 'temporal_unavailable' };
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
        .values(events.map((e) => ({ clinicId, source, dedupeKey: dedupeKey(e), eventType: e.type, payload: e, lockedUntil: new Date(Date.now() + 60_000) })))
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
        const r = await processRow({ id: rowId, clinicId, payload: e });
        out.push({ index, type: e.type, ...r } as EventResult);
      }
      return out;
    },

    /** Delivers pending inbox rows (oldest first); returns how many were applied. */
    async forwardPending(limit = 100): Promise<number> {
      const claimed = await db
        .update(inboxEvents)
        .set({ lockedUntil: new Date(Date.now() + 60_000) })
        .where(
          inArray(
            inboxEvents.id,
            db
              .select({ id: inboxEvents.id })
              .from(inboxEvents)
              .where(and(eq(inboxEvents.status, 'pending'), or(isNull(inboxEvents.lockedUntil), lt(inboxEvents.lockedUntil, new Date()))))
              .orderBy(asc(inboxEvents.id))
              .limit(limit),
          ),
        )
        .returning({ id: inboxEvents.id, clinicId: inboxEvents.clinicId, payload: inboxEvents.payload });
      claimed.sort((a, b) => a.id - b.id);
      let applied = 0;
      for (const row of claimed) {
        try {
          const r = await processRow(row);
          if (r.status !== 'queued') applied++;
        } catch {
          // rejected rows are recorded by processRow
        }
      }
      return applied;
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;
