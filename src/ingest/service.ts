/**
 * Ingestion: every accepted event goes to the durable inbox first, then is applied (database
 * state + Temporal signals). When Temporal cannot be reached the event stays pending and the
 * forwarder delivers it later, so an event answered 2xx is never lost.
 */

import type { Client } from '@temporalio/client';
import { and, asc, desc, eq, gt, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import { sequenceWorkflowId } from '../../workflows/definitions.js';
import { classificationRulesFor, clinicOrThrow, treatmentTypesFor } from '../config/load.js';
import type { ClinicConfig } from '../config/schema.js';
import type { ConfigStore } from '../config/store.js';
import { type Classification, classifyService } from '../core/classify.js';
import { windowPassed } from '../core/plan.js';
import type { Db } from '../db/client.js';
import { nextBookedAppointment } from '../db/connector-store.js';
import {
  appointments,
  clientAliases,
  clients,
  inboxEvents,
  sequences,
  serviceMappings,
  unmappedServices,
} from '../db/schema.js';
import { RebookError } from '../errors.js';
import type { Logger } from '../log.js';
import { applyPlatformContact, type PlatformContact, storedPhone } from '../messaging/channel-state.js';
import { enrollSequence, isTemporalUnavailable, signalBooking, signalEnd } from '../temporal/sequences.js';
import { deadLetterUpdate } from './dead-letters.js';
import {
  type CanonicalEvent,
  type ClientUpdated,
  dedupeKey,
  type EventResult,
  type TreatmentCompleted,
} from './events.js';
import { preferredMapping, serviceKeyOf, serviceMappingKeys } from './service-mappings.js';

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

type Applied = Exclude<EventResult, { status: 'duplicate' } | { status: 'queued' }>;
type AppliedBody = Applied extends infer R ? (R extends unknown ? Omit<R, 'index' | 'type'> : never) : never;

/** An inbox row as processing needs it. */
interface StoredRow {
  id: number;
  clinicId: string;
  payload: unknown;
  occurredAt: Date | null;
  source: string;
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

  /** An update older than the last one applied (by vendor event time) changes nothing. */
  const fresher = (col: typeof clients.sourceUpdatedAt | typeof appointments.sourceUpdatedAt, at: Date | undefined) =>
    at ? sql`(${col} is null or ${col} <= ${at.toISOString()}::timestamptz)` : sql`true`;

  /** The kept client's id when `externalId` was merged into another profile. */
  async function canonicalClientId(clinicId: string, externalId: string): Promise<string> {
    const [alias] = await db
      .select({ id: clientAliases.externalId })
      .from(clientAliases)
      .where(and(eq(clientAliases.clinicId, clinicId), eq(clientAliases.aliasExternalId, externalId)));
    return alias?.id ?? externalId;
  }

  /** After a client row was written: phone as E.164 (or flagged), consent flag changes as consent events. */
  const contactState = (
    clinicId: string,
    clientId: string,
    c: { phone?: string | null; consent?: { sms?: boolean; email?: boolean } },
    at: Date | undefined,
    source: string,
    newClient?: PlatformContact['newClient'],
  ) =>
    applyPlatformContact(db, {
      clinicId,
      clientId,
      defaultCountry: clinicOrThrow(config.current(), clinicId).defaultCountry,
      phoneGiven: c.phone !== undefined,
      ...(c.consent ? { consent: c.consent } : {}),
      source: source === 'import' ? 'import' : 'platform',
      ref: source,
      at: at ?? new Date(now()),
      ...(newClient ? { newClient } : {}),
    });

  async function upsertClient(clinicId: string, e: TreatmentCompleted, source: string): Promise<string> {
    const c = e.client;
    const at = e.occurredAt ? new Date(e.occurredAt) : undefined;
    const values = {
      firstName: c.firstName,
      lastName: c.lastName,
      email: c.email ?? null,
      phone: c.phone ?? null,
      consentSms: c.consent.sms,
      consentEmail: c.consent.email,
      updatedAt: new Date(),
      ...(at ? { sourceUpdatedAt: at } : {}),
    };
    // A new row gets its phone in stored form at once (its channel state then needs no reads); an
    // existing row's phone is normalised by the contact step, which compares it with the old one.
    const phone = storedPhone(c.phone, clinicOrThrow(config.current(), clinicId).defaultCountry);
    const [row] = await db
      .insert(clients)
      .values({ clinicId, externalId: c.id, ...values, phone: phone.phone, phoneE164: phone.phoneE164 })
      .onConflictDoUpdate({
        target: [clients.clinicId, clients.externalId],
        set: values,
        setWhere: fresher(clients.sourceUpdatedAt, at),
      })
      // xmax is 0 on a row this statement inserted (PostgreSQL's documented upsert idiom).
      .returning({ id: clients.id, inserted: sql<boolean>`(xmax = 0)` });
    if (row) {
      await contactState(clinicId, row.id, c, at, source, row.inserted ? { phoneCheck: phone.check } : undefined);
      return row.id;
    }
    // A newer contact update was applied already: keep it, only look the client up.
    const [existing] = await db
      .select({ id: clients.id })
      .from(clients)
      .where(and(eq(clients.clinicId, clinicId), eq(clients.externalId, c.id)));
    return existing!.id;
  }

  async function applyClientUpdate(clinicId: string, e: ClientUpdated, source: string): Promise<AppliedBody> {
    const c = e.client;
    const at = e.occurredAt ? new Date(e.occurredAt) : undefined;
    const set = {
      ...(c.firstName !== undefined ? { firstName: c.firstName } : {}),
      ...(c.lastName !== undefined ? { lastName: c.lastName } : {}),
      ...(c.email !== undefined ? { email: c.email } : {}),
      ...(c.phone !== undefined ? { phone: c.phone } : {}),
      ...(c.consent?.sms !== undefined ? { consentSms: c.consent.sms } : {}),
      ...(c.consent?.email !== undefined ? { consentEmail: c.consent.email } : {}),
      ...(at ? { sourceUpdatedAt: at } : {}),
      updatedAt: new Date(),
    };
    // Known clients only, unless asked: a treatment event brings the full record for new ones
    // (and we keep no contact data of people who never had a treatment).
    if (e.createIfMissing && c.firstName) {
      await db
        .insert(clients)
        .values({
          clinicId,
          externalId: c.id,
          firstName: c.firstName,
          lastName: c.lastName ?? '',
          email: c.email ?? null,
          phone: c.phone ?? null,
          consentSms: c.consent?.sms ?? false,
          consentEmail: c.consent?.email ?? false,
          sourceUpdatedAt: at ?? null,
        })
        .onConflictDoNothing();
    }
    const updated = await db
      .update(clients)
      .set(set)
      .where(and(eq(clients.clinicId, clinicId), eq(clients.externalId, c.id), fresher(clients.sourceUpdatedAt, at)))
      .returning({ id: clients.id });
    for (const u of updated) await contactState(clinicId, u.id, c, at, source);
    return { status: 'accepted', clientsUpdated: updated.length };
  }

  async function applyMerge(clinicId: string, kept: string, removed: string): Promise<AppliedBody> {
    await db
      .insert(clientAliases)
      .values({ clinicId, aliasExternalId: removed, externalId: kept })
      .onConflictDoUpdate({
        target: [clientAliases.clinicId, clientAliases.aliasExternalId],
        set: { externalId: kept },
      });
    // Earlier aliases of the removed profile now point at the kept one too.
    await db
      .update(clientAliases)
      .set({ externalId: kept })
      .where(and(eq(clientAliases.clinicId, clinicId), eq(clientAliases.externalId, removed)));
    await db
      .update(appointments)
      .set({ clientExternalId: kept })
      .where(and(eq(appointments.clinicId, clinicId), eq(appointments.clientExternalId, removed)));
    const [keptRow] = await db
      .select({ id: clients.id })
      .from(clients)
      .where(and(eq(clients.clinicId, clinicId), eq(clients.externalId, kept)));
    if (keptRow) {
      const [removedRow] = await db
        .select({ id: clients.id })
        .from(clients)
        .where(and(eq(clients.clinicId, clinicId), eq(clients.externalId, removed)));
      if (removedRow && removedRow.id !== keptRow.id)
        await followKeptProfile(clinicId, removedRow.id, { id: keptRow.id, externalId: kept });
      return { status: 'accepted', clientsUpdated: 0 };
    }
    // The kept id is new to us: the removed profile's row (and its sequences) becomes the kept one.
    const renamed = await db
      .update(clients)
      .set({ externalId: kept, updatedAt: new Date() })
      .where(and(eq(clients.clinicId, clinicId), eq(clients.externalId, removed)))
      .returning({ id: clients.id });
    return { status: 'accepted', clientsUpdated: renamed.length };
  }

  type AppointmentFacts = {
    externalId: string;
    clientExternalId: string;
    status: 'booked' | 'cancelled' | 'completed';
    startAt?: Date;
    serviceName?: string;
    treatmentType?: string | null;
    priceCents?: number | null;
    sourceUpdatedAt?: Date;
  };

  /** The statement recording what we know of an appointment (returns the row when it changed it). */
  function appointmentUpsert(clinicId: string, v: AppointmentFacts) {
    const set = { ...v, updatedAt: new Date() };
    return db
      .insert(appointments)
      .values({ clinicId, ...v })
      .onConflictDoUpdate({
        target: [appointments.clinicId, appointments.externalId],
        set,
        // A completed appointment is final: a late "booked" or "cancelled" for it is stale; so is
        // any update older (by vendor event time) than the one already applied.
        setWhere:
          v.status === 'completed'
            ? fresher(appointments.sourceUpdatedAt, undefined)
            : sql`${appointments.status} <> 'completed' and ${fresher(appointments.sourceUpdatedAt, v.sourceUpdatedAt)}`,
      })
      .returning({ id: appointments.externalId });
  }

  /** Records what we know of an appointment; false when the update was stale and changed nothing. */
  async function recordAppointment(clinicId: string, v: AppointmentFacts): Promise<boolean> {
    return (await appointmentUpsert(clinicId, v)).length > 0;
  }

  /** Starts (or signals) the client's sequence of `treatmentType` with a completed treatment; returns its workflow id. */
  async function enroll(
    clinicId: string,
    client: { id: string; externalId: string },
    treatmentType: string,
    treatment: { appointmentId: string; completedAt: string },
    appointment?: AppointmentFacts,
  ): Promise<string> {
    const workflowId = sequenceWorkflowId(clinicId, client.id, treatmentType);
    // The completed appointment, when the caller has one to record, goes in the same statement
    // (a data-modifying CTE: one round trip less for every enrolling treatment).
    await (appointment ? db.with(db.$with('appointment').as(appointmentUpsert(clinicId, appointment))) : db)
      .insert(sequences)
      .values({ workflowId, clinicId, clientId: client.id, treatmentType, running: true })
      .onConflictDoUpdate({ target: sequences.workflowId, set: { running: true, updatedAt: new Date() } });
    await enrollSequence(
      deps.temporal,
      deps.taskQueue,
      { clinicId, clientId: client.id, treatmentType },
      workflowId,
      treatment,
    );
    // A booking that reached us before this completion (out of order) ends the new sequence at once.
    const laterBooking = await nextBookedAppointment(db, {
      clinicId,
      clientExternalId: client.externalId,
      after: new Date(treatment.completedAt),
      excludeAppointmentId: treatment.appointmentId,
    });
    if (laterBooking)
      await signalBooking(deps.temporal, workflowId, {
        appointmentId: laterBooking.externalId,
        startAt: laterBooking.startAt.toISOString(),
      });
    return workflowId;
  }

  /**
   * Both profiles of a merge were known: each running sequence of the removed profile continues
   * under the kept one (same anchor treatment — the kept workflow dedupes it, and of two anchors
   * the newer wins) and then ends, so bookings, the booking check before each send and the
   * contact details all follow the kept profile. Safe to repeat (an inbox retry): enrolling is
   * deduplicated by the workflow, ending is idempotent, ended sequences are skipped.
   */
  async function followKeptProfile(
    clinicId: string,
    removedRowId: string,
    kept: { id: string; externalId: string },
  ): Promise<number> {
    const running = await db
      .select({
        workflowId: sequences.workflowId,
        treatmentType: sequences.treatmentType,
        anchorAppointmentId: sequences.anchorAppointmentId,
        anchorAt: sequences.anchorAt,
      })
      .from(sequences)
      .where(and(eq(sequences.clinicId, clinicId), eq(sequences.clientId, removedRowId), eq(sequences.running, true)));
    for (const s of running) {
      // The anchor the workflow recorded; before its first progress, the latest such treatment (already re-pointed to the kept id).
      let anchor =
        s.anchorAppointmentId && s.anchorAt
          ? { appointmentId: s.anchorAppointmentId, completedAt: s.anchorAt.toISOString() }
          : undefined;
      if (!anchor) {
        const [latest] = await db
          .select({ id: appointments.externalId, at: appointments.startAt })
          .from(appointments)
          .where(
            and(
              eq(appointments.clinicId, clinicId),
              eq(appointments.clientExternalId, kept.externalId),
              eq(appointments.status, 'completed'),
              eq(appointments.treatmentType, s.treatmentType),
            ),
          )
          .orderBy(desc(appointments.startAt))
          .limit(1);
        if (latest?.at) anchor = { appointmentId: latest.id, completedAt: latest.at.toISOString() };
      }
      if (anchor) await enroll(clinicId, kept, s.treatmentType, anchor);
      await signalEnd(deps.temporal, s.workflowId, { outcome: 'cancelled' });
      await db
        .update(sequences)
        .set({ running: false, updatedAt: new Date() })
        .where(eq(sequences.workflowId, s.workflowId));
    }
    if (running.length)
      log.info({ clinicId, sequences: running.length }, 'merged profile: sequences follow the kept client');
    return running.length;
  }

  /**
   * The kept profile's id when the client's was merged into another, and the staff mapping of the
   * service (src/ingest/service-mappings.ts): one round trip, as every completed treatment needs both.
   */
  async function treatmentLookups(
    clinicId: string,
    e: TreatmentCompleted,
  ): Promise<{ clientId: string; mapping: { treatmentType: string | null } | undefined }> {
    const keys = serviceMappingKeys(e.service);
    const rows = await unionAll(
      db
        .select({
          kind: sql<'alias' | 'mapping'>`'alias'`.as('kind'),
          key: clientAliases.externalId,
          treatmentType: sql<string | null>`null::text`.as('treatment_type'),
        })
        .from(clientAliases)
        .where(and(eq(clientAliases.clinicId, clinicId), eq(clientAliases.aliasExternalId, e.client.id))),
      db
        .select({
          kind: sql<'alias' | 'mapping'>`'mapping'`.as('kind'),
          key: serviceMappings.serviceKey,
          treatmentType: serviceMappings.treatmentType,
        })
        .from(serviceMappings)
        .where(and(eq(serviceMappings.clinicId, clinicId), inArray(serviceMappings.serviceKey, keys))),
    );
    return {
      clientId: rows.find((r) => r.kind === 'alias')?.key ?? e.client.id,
      mapping: preferredMapping(
        rows.filter((r) => r.kind === 'mapping').map((r) => ({ serviceKey: r.key, treatmentType: r.treatmentType })),
        keys,
      ),
    };
  }

  async function applyTreatment(clinicId: string, event: TreatmentCompleted, source: string): Promise<AppliedBody> {
    const cfg = config.current();
    const clinic = clinicOrThrow(cfg, clinicId);
    const { clientId: canonicalId, mapping } = await treatmentLookups(clinicId, event);
    const e = canonicalId === event.client.id ? event : { ...event, client: { ...event.client, id: canonicalId } };
    // A staff mapping of this exact service beats the synonyms.
    const cls: Classification = mapping?.treatmentType
      ? { matched: true, treatmentType: mapping.treatmentType, by: 'service_id' }
      : mapping
        ? { matched: false }
        : classifyService(e.service, classificationRulesFor(cfg, clinic));
    const clientId = await upsertClient(clinicId, e, source);
    const appointment: AppointmentFacts = {
      externalId: e.appointmentId,
      clientExternalId: e.client.id,
      ...(e.occurredAt ? { sourceUpdatedAt: new Date(e.occurredAt) } : {}),
      status: 'completed',
      startAt: new Date(e.completedAt),
      serviceName: e.service.name,
      treatmentType: cls.matched ? cls.treatmentType : null,
      priceCents: e.price != null ? Math.round(e.price * 100) : null,
    };
    // Not enrolled: the appointment is recorded on its own. (Enrolled: with the sequence row, below.)
    const notEnrolled = async (
      reason: 'not_repeatable' | 'unclassified_service' | 'treatment_type_disabled' | 'window_passed',
    ): Promise<AppliedBody> => {
      await recordAppointment(clinicId, appointment);
      return { status: 'accepted', enrolled: false, reason };
    };
    // Mapped by staff to no treatment type: not repeatable, and no longer reported.
    if (mapping && !mapping.treatmentType) return notEnrolled('not_repeatable');
    if (!cls.matched) {
      const serviceKey = serviceKeyOf(e.service);
      await db
        .insert(unmappedServices)
        .values({ clinicId, serviceKey, serviceId: e.service.id ?? null, serviceName: e.service.name })
        .onConflictDoUpdate({
          target: [unmappedServices.clinicId, unmappedServices.serviceKey],
          set: {
            occurrences: sql`${unmappedServices.occurrences} + 1`,
            lastSeenAt: new Date(),
            serviceName: e.service.name,
          },
        });
      log.info({ clinicId, serviceKey: e.service.id ? 'by_id' : 'by_name' }, 'unclassified service not enrolled');
      return notEnrolled('unclassified_service');
    }
    const type = treatmentTypesFor(cfg, clinic).get(cls.treatmentType);
    if (!type) return notEnrolled('treatment_type_disabled');
    if (windowPassed(type, e.completedAt, now(), clinic.timeZone)) return notEnrolled('window_passed');

    const workflowId = await enroll(
      clinicId,
      { id: clientId, externalId: e.client.id },
      type.key,
      { appointmentId: e.appointmentId, completedAt: new Date(e.completedAt).toISOString() },
      appointment,
    );
    const reachable = (e.client.email && e.client.consent.email) || (e.client.phone && e.client.consent.sms);
    return {
      status: 'accepted',
      enrolled: true,
      sequenceId: workflowId,
      treatmentType: type.key,
      ...(reachable ? {} : { staffEscalationOnly: true }),
    };
  }

  async function apply(clinicId: string, event: CanonicalEvent, source: string): Promise<AppliedBody> {
    // A treatment looks up the kept profile together with its service mapping (treatmentLookups).
    if (event.type === 'treatment.completed') return applyTreatment(clinicId, event, source);
    const e = await withCanonicalClient(clinicId, event);
    const at = e.occurredAt ? { sourceUpdatedAt: new Date(e.occurredAt) } : {};
    switch (e.type) {
      case 'client.updated':
        return applyClientUpdate(clinicId, e, source);
      case 'client.merged':
        return applyMerge(clinicId, e.keptClientId, e.removedClientId);
      case 'appointment.booked': {
        const fresh = await recordAppointment(clinicId, {
          externalId: e.appointmentId,
          clientExternalId: e.clientId,
          status: 'booked',
          startAt: new Date(e.startAt),
          ...at,
        });
        // Stale (older than a cancellation or a completion already applied): no signal.
        if (!fresh) return { status: 'accepted', sequencesSignalled: 0, stale: true };
        const running = await db
          .select({ workflowId: sequences.workflowId })
          .from(sequences)
          .innerJoin(clients, eq(clients.id, sequences.clientId))
          .where(
            and(eq(sequences.clinicId, clinicId), eq(clients.externalId, e.clientId), eq(sequences.running, true)),
          );
        // Every running sequence of the client stops: one booking ends them all.
        const results = await Promise.all(
          running.map((s) =>
            signalBooking(deps.temporal, s.workflowId, {
              appointmentId: e.appointmentId,
              startAt: new Date(e.startAt).toISOString(),
            }),
          ),
        );
        return { status: 'accepted', sequencesSignalled: results.filter(Boolean).length };
      }
      case 'appointment.cancelled': {
        const fresh = await recordAppointment(clinicId, {
          externalId: e.appointmentId,
          clientExternalId: e.clientId,
          status: 'cancelled',
          ...at,
        });
        return { status: 'accepted', sequencesSignalled: 0, ...(fresh ? {} : { stale: true as const }) };
      }
    }
  }

  /** Rewrites client ids of merged profiles to the kept profile's id. */
  async function withCanonicalClient<E extends Exclude<CanonicalEvent, TreatmentCompleted>>(
    clinicId: string,
    e: E,
  ): Promise<E> {
    switch (e.type) {
      case 'client.updated': {
        const id = await canonicalClientId(clinicId, e.client.id);
        return id === e.client.id ? e : { ...e, client: { ...e.client, id } };
      }
      case 'appointment.booked':
      case 'appointment.cancelled': {
        const id = await canonicalClientId(clinicId, e.clientId);
        return id === e.clientId ? e : { ...e, clientId: id };
      }
      case 'client.merged':
        return e;
    }
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
    for (const e of events) results.push({ type: e.type, ...(await apply(clinicId, e, source)) });
    return { status: 'accepted', events: results };
  }

  /** Applies one inbox row; on failure leaves it pending for the forwarder. */
  async function processRow(row: {
    id: number;
    clinicId: string;
    payload: unknown;
    source: string;
  }): Promise<AppliedBody | { status: 'queued'; reason: 'temporal_unavailable' }> {
    const attempt: { resolved?: CanonicalEvent[] } = {};
    // Kept for the retry: the vendor's events as resolved by this attempt (see applyVendor).
    const resolvedPayload = () =>
      attempt.resolved && isVendorPayload(row.payload)
        ? { payload: { vendor: row.payload.vendor, resolved: attempt.resolved } }
        : {};
    try {
      const result = isVendorPayload(row.payload)
        ? await applyVendor(row.clinicId, row.payload, row.source, attempt)
        : await apply(row.clinicId, row.payload as CanonicalEvent, row.source);
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
      if (process.env.DEBUG_INGEST) console.error(err);
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
