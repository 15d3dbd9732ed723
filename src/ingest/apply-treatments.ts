/** Applying completed treatments: classification, the client, the appointment and enrolment. */
import { sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import { classificationRulesFor, clinicOrThrow, treatmentTypesFor } from '../config/load.js';
import { type Classification, classifyService } from '../core/classify.js';
import { windowPassed } from '../core/plan.js';
import { clientAliases, serviceMappings, unmappedServices } from '../db/schema.js';
import { type AppointmentFacts, recordAppointment } from './apply-appointments.js';
import { upsertClient, upsertClients } from './apply-clients.js';
import type { AppliedBody, ApplyContext } from './apply-context.js';
import { enroll, enrollMany } from './enroll.js';
import type { TreatmentCompleted } from './events.js';
import { preferredMapping, serviceKeyOf, serviceMappingKeys } from './service-mappings.js';

/** One completed treatment of an ingest batch. */
export interface TreatmentItem {
  clinicId: string;
  event: TreatmentCompleted;
  source: string;
}

interface Lookup {
  /** The kept profile's id when the client's was merged into another, else the event's. */
  clientId: string;
  /** The staff mapping of the service (src/ingest/service-mappings.ts), when there is one. */
  mapping: { treatmentType: string | null } | undefined;
}

const pairKey = (clinicId: string, key: string) => `${clinicId}\u0000${key}`;

/**
 * The kept profile and the staff mapping of the service for each treatment: one round trip for
 * the whole batch, as every completed treatment needs both.
 */
async function treatmentLookups({ db }: ApplyContext, items: TreatmentItem[]): Promise<Lookup[]> {
  const keys = items.map((it) => serviceMappingKeys(it.event.service));
  const pairs = (list: [string, string][]) =>
    sql.join(
      list.map(([a, b]) => sql`(${a}, ${b})`),
      sql`, `,
    );
  const rows = await unionAll(
    db
      .select({
        kind: sql<'alias' | 'mapping'>`'alias'`.as('kind'),
        clinicId: clientAliases.clinicId,
        key: clientAliases.aliasExternalId,
        kept: sql<string | null>`${clientAliases.externalId}`.as('kept'),
        treatmentType: sql<string | null>`null::text`.as('treatment_type'),
      })
      .from(clientAliases)
      .where(
        sql`(${clientAliases.clinicId}, ${clientAliases.aliasExternalId}) in (${pairs(items.map((it) => [it.clinicId, it.event.client.id]))})`,
      ),
    db
      .select({
        kind: sql<'alias' | 'mapping'>`'mapping'`.as('kind'),
        clinicId: serviceMappings.clinicId,
        key: serviceMappings.serviceKey,
        kept: sql<string | null>`null::text`.as('kept'),
        treatmentType: serviceMappings.treatmentType,
      })
      .from(serviceMappings)
      .where(
        sql`(${serviceMappings.clinicId}, ${serviceMappings.serviceKey}) in (${pairs(items.flatMap((it, i) => keys[i]!.map((k): [string, string] => [it.clinicId, k])))})`,
      ),
  );
  const aliases = new Map<string, string>();
  const mappings = new Map<string, { serviceKey: string; treatmentType: string | null }>();
  for (const r of rows) {
    if (r.kind === 'alias') aliases.set(pairKey(r.clinicId, r.key), r.kept!);
    else mappings.set(pairKey(r.clinicId, r.key), { serviceKey: r.key, treatmentType: r.treatmentType });
  }
  return items.map((it, i) => {
    const found = keys[i]!.flatMap((k) => mappings.get(pairKey(it.clinicId, k)) ?? []);
    return {
      clientId: aliases.get(pairKey(it.clinicId, it.event.client.id)) ?? it.event.client.id,
      mapping: preferredMapping(found, keys[i]!),
    };
  });
}

type NotEnrolled = 'not_repeatable' | 'unclassified_service' | 'treatment_type_disabled' | 'window_passed';

/** What one treatment amounts to: the sequence type it enrols in, or why it does not. */
function enrolment(
  ctx: ApplyContext,
  clinicId: string,
  e: TreatmentCompleted,
  mapping: Lookup['mapping'],
): { cls: Classification; type?: string; reason?: NotEnrolled } {
  const cfg = ctx.config.current();
  const clinic = clinicOrThrow(cfg, clinicId);
  // A staff mapping of this exact service beats the synonyms.
  const cls: Classification = mapping?.treatmentType
    ? { matched: true, treatmentType: mapping.treatmentType, by: 'service_id' }
    : mapping
      ? { matched: false }
      : classifyService(e.service, classificationRulesFor(cfg, clinic));
  // Mapped by staff to no treatment type: not repeatable, and no longer reported.
  if (mapping && !mapping.treatmentType) return { cls, reason: 'not_repeatable' };
  if (!cls.matched) return { cls, reason: 'unclassified_service' };
  const type = treatmentTypesFor(cfg, clinic).get(cls.treatmentType);
  if (!type) return { cls, reason: 'treatment_type_disabled' };
  if (windowPassed(type, e.completedAt, ctx.now(), clinic.timeZone)) return { cls, reason: 'window_passed' };
  return { cls, type: type.key };
}

/** The completed appointment as we record it. */
function completedAppointment(e: TreatmentCompleted, cls: Classification): AppointmentFacts & { status: 'completed' } {
  return {
    externalId: e.appointmentId,
    clientExternalId: e.client.id,
    ...(e.occurredAt ? { sourceUpdatedAt: new Date(e.occurredAt) } : {}),
    status: 'completed',
    startAt: new Date(e.completedAt),
    serviceName: e.service.name,
    treatmentType: cls.matched ? cls.treatmentType : null,
    priceCents: e.price != null ? Math.round(e.price * 100) : null,
    ...(e.series ? { seriesSession: e.series.session, seriesSessions: e.series.sessions ?? null } : {}),
  };
}

const enrolled = (e: TreatmentCompleted, workflowId: string, type: string): AppliedBody => {
  const reachable = (e.client.email && e.client.consent.email) || (e.client.phone && e.client.consent.sms);
  return {
    status: 'accepted',
    enrolled: true,
    sequenceId: workflowId,
    treatmentType: type,
    ...(reachable ? {} : { staffEscalationOnly: true }),
  };
};

const withClient = (e: TreatmentCompleted, clientId: string): TreatmentCompleted =>
  clientId === e.client.id ? e : { ...e, client: { ...e.client, id: clientId } };

/** A completed treatment: client and appointment recorded, and a sequence started when the treatment is repeatable. */
export async function applyTreatment(
  ctx: ApplyContext,
  clinicId: string,
  event: TreatmentCompleted,
  source: string,
): Promise<AppliedBody> {
  const { db, log } = ctx;
  const [lookup] = await treatmentLookups(ctx, [{ clinicId, event, source }]);
  const e = withClient(event, lookup!.clientId);
  const { cls, type, reason } = enrolment(ctx, clinicId, e, lookup!.mapping);
  const clientId = await upsertClient(ctx, clinicId, e, source);
  const appointment = completedAppointment(e, cls);
  if (!type) {
    if (reason === 'unclassified_service') {
      await db
        .insert(unmappedServices)
        .values({
          clinicId,
          serviceKey: serviceKeyOf(e.service),
          serviceId: e.service.id ?? null,
          serviceName: e.service.name,
        })
        .onConflictDoUpdate({
          target: [unmappedServices.clinicId, unmappedServices.serviceKey],
          set: {
            occurrences: sql`${unmappedServices.occurrences} + 1`,
            lastSeenAt: new Date(),
            serviceName: e.service.name,
          },
        });
      log.info({ clinicId, serviceKey: e.service.id ? 'by_id' : 'by_name' }, 'unclassified service not enrolled');
    }
    // Not enrolled: the appointment is recorded on its own. (Enrolled: with the sequence row, below.)
    await recordAppointment(ctx, clinicId, appointment);
    return { status: 'accepted', enrolled: false, reason: reason! };
  }
  const workflowId = await enroll(
    ctx,
    clinicId,
    { id: clientId, externalId: e.client.id },
    type,
    { appointmentId: e.appointmentId, completedAt: new Date(e.completedAt).toISOString() },
    appointment,
  );
  return enrolled(e, workflowId, type);
}

/** What became of one treatment of a batch: applied, failed (kept in the inbox for retry), or left to `applyTreatment`. */
export type TreatmentOutcome = { applied: AppliedBody } | { failed: unknown } | undefined;

/**
 * The completed treatments of an ingest batch that enrol, applied together: one lookup, one
 * client upsert, one statement for the sequence rows and appointments, the workflows started side
 * by side. The same outcome as `applyTreatment` one by one, in a handful of statements instead of
 * eight per treatment. Each client appears once (the caller sees to it: the rows of one
 * statement must be distinct); a treatment that does not enrol, a laser series session, or one
 * whose merged profile another treatment of the batch already has, is answered `undefined` and
 * goes through `applyTreatment` after.
 */
export async function applyTreatments(ctx: ApplyContext, items: TreatmentItem[]): Promise<TreatmentOutcome[]> {
  if (items.length === 0) return [];
  const lookups = await treatmentLookups(ctx, items);
  const taken = new Set<string>();
  const chosen: { i: number; e: TreatmentCompleted; cls: Classification; type: string }[] = [];
  for (const [i, it] of items.entries()) {
    const e = withClient(it.event, lookups[i]!.clientId);
    const { cls, type } = enrolment(ctx, it.clinicId, e, lookups[i]!.mapping);
    const client = pairKey(it.clinicId, e.client.id);
    if (!type || e.series || taken.has(client)) continue;
    taken.add(client);
    chosen.push({ i, e, cls, type });
  }
  const out: TreatmentOutcome[] = new Array(items.length).fill(undefined);
  if (chosen.length === 0) return out;
  const clientIds = await upsertClients(
    ctx,
    chosen.map(({ i, e }) => ({ clinicId: items[i]!.clinicId, e, source: items[i]!.source })),
  );
  const started = await enrollMany(
    ctx,
    chosen.map(({ i, e, cls, type }, j) => ({
      clinicId: items[i]!.clinicId,
      client: { id: clientIds[j]!, externalId: e.client.id },
      treatmentType: type,
      treatment: { appointmentId: e.appointmentId, completedAt: new Date(e.completedAt).toISOString() },
      appointment: completedAppointment(e, cls),
    })),
  );
  chosen.forEach(({ i, e, type }, j) => {
    const s = started[j]!;
    out[i] = 'failed' in s ? { failed: s.failed } : { applied: enrolled(e, s.workflowId, type) };
  });
  return out;
}
