/** Applying appointment events: what we know of each appointment, and bookings ending sequences. */
import { and, eq, sql } from 'drizzle-orm';
import { appointments, clients, sequences } from '../db/schema.js';
import { signalBooking, signalLapsed } from '../temporal/sequences.js';
import { type AppliedBody, type ApplyContext, fresher } from './apply-context.js';
import type { CanonicalEvent } from './events.js';

/** What an event tells us about one appointment. */
export type AppointmentFacts = {
  externalId: string;
  clientExternalId: string;
  status: 'booked' | 'cancelled' | 'completed' | 'no_show';
  startAt?: Date;
  serviceName?: string;
  treatmentType?: string | null;
  priceCents?: number | null;
  sourceUpdatedAt?: Date;
  /** A series session as the platform counts it (completed treatments only). */
  seriesSession?: number | null;
  seriesSessions?: number | null;
};

/** The statement recording what we know of an appointment (returns the row when it changed it). */
export function appointmentUpsert({ db }: ApplyContext, clinicId: string, v: AppointmentFacts) {
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

/**
 * `appointmentUpsert` for completed appointments of an ingest batch, in one statement. A
 * completed appointment is final, so every row is written whatever was there; only a missing
 * event time keeps the one stored. Series facts are written when the rows carry them, and the
 * rows must agree on that (a row without them keeps the stored ones, as the single form does).
 */
export function completedAppointmentsUpsert(
  { db }: ApplyContext,
  rows: { clinicId: string; facts: AppointmentFacts & { status: 'completed' } }[],
) {
  const series = rows.filter((r) => 'seriesSession' in r.facts).length;
  if (series !== 0 && series !== rows.length)
    throw new Error('completedAppointmentsUpsert: series facts on some rows only');
  const now = new Date();
  return db
    .insert(appointments)
    .values(rows.map(({ clinicId, facts }) => ({ clinicId, ...facts, updatedAt: now })))
    .onConflictDoUpdate({
      target: [appointments.clinicId, appointments.externalId],
      set: {
        clientExternalId: sql`excluded.client_external_id`,
        status: sql`excluded.status`,
        startAt: sql`excluded.start_at`,
        serviceName: sql`excluded.service_name`,
        treatmentType: sql`excluded.treatment_type`,
        priceCents: sql`excluded.price_cents`,
        updatedAt: sql`excluded.updated_at`,
        sourceUpdatedAt: sql`coalesce(excluded.source_updated_at, ${appointments.sourceUpdatedAt})`,
        ...(series
          ? { seriesSession: sql`excluded.series_session`, seriesSessions: sql`excluded.series_sessions` }
          : {}),
      },
    })
    .returning({ id: appointments.externalId });
}

/** Records what we know of an appointment; false when the update was stale and changed nothing. */
export async function recordAppointment(ctx: ApplyContext, clinicId: string, v: AppointmentFacts): Promise<boolean> {
  return (await appointmentUpsert(ctx, clinicId, v)).length > 0;
}

/** A booking: recorded, and every running sequence of the client is told (one booking ends them all). */
export async function applyBooked(
  ctx: ApplyContext,
  clinicId: string,
  e: Extract<CanonicalEvent, { type: 'appointment.booked' }>,
  at: { sourceUpdatedAt?: Date },
): Promise<AppliedBody> {
  const { db } = ctx;
  const fresh = await recordAppointment(ctx, clinicId, {
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
    .where(and(eq(sequences.clinicId, clinicId), eq(clients.externalId, e.clientId), eq(sequences.running, true)));
  // Every running sequence of the client stops: one booking ends them all.
  const results = await Promise.all(
    running.map((s) =>
      signalBooking(ctx.temporal, s.workflowId, {
        appointmentId: e.appointmentId,
        startAt: new Date(e.startAt).toISOString(),
      }),
    ),
  );
  return { status: 'accepted', sequencesSignalled: results.filter(Boolean).length };
}

/**
 * A cancellation or a no-show: recorded, and every running sequence of the client is told (a
 * sequence watching that booking resumes follow-up; the others ignore an appointment they do
 * not watch).
 */
export async function applyLapsed(
  ctx: ApplyContext,
  clinicId: string,
  e: Extract<CanonicalEvent, { type: 'appointment.cancelled' | 'appointment.no_show' }>,
  at: { sourceUpdatedAt?: Date },
): Promise<AppliedBody> {
  const kind = e.type === 'appointment.no_show' ? 'no_show' : 'cancelled';
  const fresh = await recordAppointment(ctx, clinicId, {
    externalId: e.appointmentId,
    clientExternalId: e.clientId,
    status: kind,
    ...at,
  });
  if (!fresh) return { status: 'accepted', sequencesSignalled: 0, stale: true };
  const running = await ctx.db
    .select({ workflowId: sequences.workflowId })
    .from(sequences)
    .innerJoin(clients, eq(clients.id, sequences.clientId))
    .where(and(eq(sequences.clinicId, clinicId), eq(clients.externalId, e.clientId), eq(sequences.running, true)));
  // The vendor's event time when given; receive time otherwise (the two-day rebooking grace runs from it).
  const when = (e.occurredAt ? new Date(e.occurredAt) : new Date(ctx.now())).toISOString();
  const results = await Promise.all(
    running.map((s) => signalLapsed(ctx.temporal, s.workflowId, { appointmentId: e.appointmentId, kind, at: when })),
  );
  return { status: 'accepted', sequencesSignalled: results.filter(Boolean).length };
}
