/** Sequences started from completed treatments, and moved when two client profiles merge. */
import { and, desc, eq, sql } from 'drizzle-orm';
import { sequenceWorkflowId } from '../../workflows/definitions.js';
import { clinicOrThrow } from '../config/load.js';
import { nextBookedAppointment } from '../db/connector-store.js';
import { appointments, sequences } from '../db/schema.js';
import { enrollSequence, signalBooking, signalEnd } from '../temporal/sequences.js';
import { type AppointmentFacts, appointmentUpsert } from './apply-appointments.js';
import type { ApplyContext } from './apply-context.js';
import { assignArm } from './holdout.js';

/** Starts (or signals) the client's sequence of `treatmentType` with a completed treatment; returns its workflow id. */
export async function enroll(
  ctx: ApplyContext,
  clinicId: string,
  client: { id: string; externalId: string },
  treatmentType: string,
  treatment: { appointmentId: string; completedAt: string },
  appointment?: AppointmentFacts,
): Promise<string> {
  const { db } = ctx;
  const workflowId = sequenceWorkflowId(clinicId, client.id, treatmentType);
  // The arm is decided once, here, and kept: a re-enrolment (a newer treatment) or a config
  // reload that changes the share never moves a client already in a sequence.
  const arm = assignArm(ctx.holdoutSecret, clinicOrThrow(ctx.config.current(), clinicId), treatmentType, client.id);
  // The completed appointment, when the caller has one to record, goes in the same statement
  // (a data-modifying CTE: one round trip less for every enrolling treatment).
  await (appointment ? db.with(db.$with('appointment').as(appointmentUpsert(ctx, clinicId, appointment))) : db)
    .insert(sequences)
    .values({ workflowId, clinicId, clientId: client.id, treatmentType, running: true, arm })
    .onConflictDoUpdate({
      target: sequences.workflowId,
      set: { running: true, updatedAt: new Date(), arm: sql`coalesce(${sequences.arm}, excluded.arm)` },
    });
  await enrollSequence(
    ctx.temporal,
    ctx.taskQueue,
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
    await signalBooking(ctx.temporal, workflowId, {
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
export async function followKeptProfile(
  ctx: ApplyContext,
  clinicId: string,
  removedRowId: string,
  kept: { id: string; externalId: string },
): Promise<number> {
  const { db, log } = ctx;
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
    if (anchor) await enroll(ctx, clinicId, kept, s.treatmentType, anchor);
    await signalEnd(ctx.temporal, s.workflowId, { outcome: 'cancelled' });
    await db
      .update(sequences)
      .set({ running: false, updatedAt: new Date() })
      .where(eq(sequences.workflowId, s.workflowId));
  }
  if (running.length)
    log.info({ clinicId, sequences: running.length }, 'merged profile: sequences follow the kept client');
  return running.length;
}
