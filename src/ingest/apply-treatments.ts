/** Applying completed treatments: classification, the client, the appointment and enrolment. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import { classificationRulesFor, clinicOrThrow, treatmentTypesFor } from '../config/load.js';
import { type Classification, classifyService } from '../core/classify.js';
import { windowPassed } from '../core/plan.js';
import { clientAliases, serviceMappings, unmappedServices } from '../db/schema.js';
import { type AppointmentFacts, recordAppointment } from './apply-appointments.js';
import { upsertClient } from './apply-clients.js';
import type { AppliedBody, ApplyContext } from './apply-context.js';
import { enroll } from './enroll.js';
import type { TreatmentCompleted } from './events.js';
import { preferredMapping, serviceKeyOf, serviceMappingKeys } from './service-mappings.js';

/**
 * The kept profile's id when the client's was merged into another, and the staff mapping of the
 * service (src/ingest/service-mappings.ts): one round trip, as every completed treatment needs both.
 */
async function treatmentLookups(
  { db }: ApplyContext,
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

/** A completed treatment: client and appointment recorded, and a sequence started when the treatment is repeatable. */
export async function applyTreatment(
  ctx: ApplyContext,
  clinicId: string,
  event: TreatmentCompleted,
  source: string,
): Promise<AppliedBody> {
  const { db, config, log, now } = ctx;
  const cfg = config.current();
  const clinic = clinicOrThrow(cfg, clinicId);
  const { clientId: canonicalId, mapping } = await treatmentLookups(ctx, clinicId, event);
  const e = canonicalId === event.client.id ? event : { ...event, client: { ...event.client, id: canonicalId } };
  // A staff mapping of this exact service beats the synonyms.
  const cls: Classification = mapping?.treatmentType
    ? { matched: true, treatmentType: mapping.treatmentType, by: 'service_id' }
    : mapping
      ? { matched: false }
      : classifyService(e.service, classificationRulesFor(cfg, clinic));
  const clientId = await upsertClient(ctx, clinicId, e, source);
  const appointment: AppointmentFacts = {
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
  // Not enrolled: the appointment is recorded on its own. (Enrolled: with the sequence row, below.)
  const notEnrolled = async (
    reason: 'not_repeatable' | 'unclassified_service' | 'treatment_type_disabled' | 'window_passed',
  ): Promise<AppliedBody> => {
    await recordAppointment(ctx, clinicId, appointment);
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
    ctx,
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
