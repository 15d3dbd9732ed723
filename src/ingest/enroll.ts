/** Sequences started from completed treatments, and moved when two client profiles merge. */
import { and, desc, eq, sql } from 'drizzle-orm';
import { sequenceWorkflowId } from '../../workflows/definitions.js';
import { clinicOrThrow } from '../config/load.js';
import { inLockOrder } from '../db/client.js';
import { nextBookedAppointments } from '../db/connector-store.js';
import { appointments, sequences } from '../db/schema.js';
import { enrollSequence, signalBooking, signalEnd } from '../temporal/sequences.js';
import { type AppointmentFacts, completedAppointmentsUpsert } from './apply-appointments.js';
import type { ApplyContext } from './apply-context.js';
import { assignArm } from './holdout.js';

/** Starts (or signals) the client's sequence of `treatmentType` with a completed treatment; returns its workflow id. */
export async function enroll(
  ctx: ApplyContext,
  clinicId: string,
  client: { id: string; externalId: string },
  treatmentType: string,
  treatment: { appointmentId: string; completedAt: string },
  appointment?: AppointmentFacts & { status: 'completed' },
): Promise<string> {
  const [outcome] = await enrollMany(ctx, [
    { clinicId, client, treatmentType, treatment, ...(appointment ? { appointment } : {}) },
  ]);
  if ('failed' in outcome!) throw outcome.failed;
  return outcome!.workflowId;
}

export interface Enrolment {
  clinicId: string;
  client: { id: string; externalId: string };
  treatmentType: string;
  treatment: { appointmentId: string; completedAt: string };
  /** The completed appointment to record with the sequence row (without series facts: see completedAppointmentsUpsert). */
  appointment?: AppointmentFacts & { status: 'completed' };
}

/**
 * `enroll` for an ingest batch (each workflow once): the sequence rows and their completed
 * appointments in one statement, the workflows started side by side, the bookings that came first
 * looked up in one query. A Temporal call that fails fails only its own enrolment.
 */
export async function enrollMany(
  ctx: ApplyContext,
  items: Enrolment[],
): Promise<({ workflowId: string } | { failed: unknown })[]> {
  const { db } = ctx;
  if (items.length === 0) return [];
  const cfg = ctx.config.current();
  const now = new Date();
  const rows = items.map((it) => ({
    workflowId: sequenceWorkflowId(it.clinicId, it.client.id, it.treatmentType),
    clinicId: it.clinicId,
    clientId: it.client.id,
    treatmentType: it.treatmentType,
    running: true,
    // The arm is decided once, here, and kept: a re-enrolment (a newer treatment) or a config
    // reload that changes the share never moves a client already in a sequence.
    arm: assignArm(ctx.holdoutSecret, clinicOrThrow(cfg, it.clinicId), it.treatmentType, it.client.id),
  }));
  // The completed appointments, when the callers have them to record, go in the same statement
  // (a data-modifying CTE: one round trip less for every enrolling treatment).
  const appointments = items.flatMap((it) =>
    it.appointment ? [{ clinicId: it.clinicId, facts: it.appointment }] : [],
  );
  await (appointments.length ? db.with(db.$with('appointment').as(completedAppointmentsUpsert(ctx, appointments))) : db)
    .insert(sequences)
    .values(inLockOrder(rows, (r) => r.workflowId))
    .onConflictDoUpdate({
      target: sequences.workflowId,
      set: { running: true, updatedAt: now, arm: sql`coalesce(${sequences.arm}, excluded.arm)` },
    });
  const started = await Promise.allSettled(
    items.map((it, i) =>
      enrollSequence(
        ctx.temporal,
        ctx.taskQueue,
        { clinicId: it.clinicId, clientId: it.client.id, treatmentType: it.treatmentType },
        rows[i]!.workflowId,
        it.treatment,
      ),
    ),
  );
  // A booking that reached us before this completion (out of order) ends the new sequence at
  // once. Looked up after the start, so a booking applied meanwhile is seen here or signals the
  // running workflow itself.
  const ok = items.flatMap((_it, i) => (started[i]!.status === 'fulfilled' ? [i] : []));
  const later = await nextBookedAppointments(
    db,
    ok.map((i) => ({
      clinicId: items[i]!.clinicId,
      clientExternalId: items[i]!.client.externalId,
      after: new Date(items[i]!.treatment.completedAt),
      excludeAppointmentId: items[i]!.treatment.appointmentId,
    })),
  );
  const ended = new Map<number, PromiseSettledResult<boolean>>();
  await Promise.all(
    ok.map(async (i, j) => {
      const booking = later[j];
      if (!booking) return;
      const signalled = signalBooking(ctx.temporal, rows[i]!.workflowId, {
        appointmentId: booking.externalId,
        startAt: booking.startAt.toISOString(),
      });
      ended.set(i, (await Promise.allSettled([signalled]))[0]!);
    }),
  );
  return items.map((_, i) => {
    const start = started[i]!;
    if (start.status === 'rejected') return { failed: start.reason as unknown };
    const end = ended.get(i);
    if (end?.status === 'rejected') return { failed: end.reason as unknown };
    return { workflowId: rows[i]!.workflowId };
  });
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
