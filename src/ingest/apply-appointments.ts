/** Applying appointment events: what we know of each appointment, and bookings ending sequences. */
import { and, eq, type SQL, sql } from 'drizzle-orm';
import { inLockOrder } from '../db/client.js';
import { appointments, clients, sequences } from '../db/schema.js';
import { signalBooking, signalLapsed } from '../temporal/sequences.js';
import { type AppliedBody, type ApplyContext, clinicRowKey, fromIncoming } from './apply-context.js';
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

/**
 * May an incoming write change a stored appointment? A completed appointment is final: a late
 * "booked" or "cancelled" for it is stale; so is any update older (by vendor event time,
 * `incomingAt`, SQL null when the event gave none) than the one already applied.
 */
const mayOverwrite = (status: AppointmentFacts['status'], incomingAt: SQL) =>
  status === 'completed'
    ? sql`true`
    : sql`${appointments.status} <> 'completed' and (${incomingAt} is null or ${appointments.sourceUpdatedAt} is null or ${appointments.sourceUpdatedAt} <= ${incomingAt})`;

/** The statement recording what we know of an appointment (returns the row when it changed it). */
export function appointmentUpsert({ db }: ApplyContext, clinicId: string, v: AppointmentFacts) {
  const set = { ...v, updatedAt: new Date() };
  const at = v.sourceUpdatedAt ? sql`${v.sourceUpdatedAt.toISOString()}::timestamptz` : sql`null::timestamptz`;
  return db
    .insert(appointments)
    .values({ clinicId, ...v })
    .onConflictDoUpdate({
      target: [appointments.clinicId, appointments.externalId],
      set,
      setWhere: mayOverwrite(v.status, at),
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
    .values(
      inLockOrder(
        rows.map(({ clinicId, facts }) => ({ clinicId, ...facts, updatedAt: now })),
        clinicRowKey,
      ),
    )
    .onConflictDoUpdate({
      target: [appointments.clinicId, appointments.externalId],
      set: fromIncoming(appointments, [
        'clientExternalId',
        'status',
        'startAt',
        'serviceName',
        'treatmentType',
        'priceCents',
        ...(series ? (['seriesSession', 'seriesSessions'] as const) : []),
      ]),
    })
    .returning({ id: appointments.externalId });
}

/** Records what we know of an appointment; false when the update was stale and changed nothing. */
export async function recordAppointment(ctx: ApplyContext, clinicId: string, v: AppointmentFacts): Promise<boolean> {
  return (await appointmentUpsert(ctx, clinicId, v)).length > 0;
}

type Booked = Extract<CanonicalEvent, { type: 'appointment.booked' }>;

/** A booking: recorded, and every running sequence of the client is told (one booking ends them all). */
export async function applyBooked(ctx: ApplyContext, clinicId: string, e: Booked): Promise<AppliedBody> {
  const [outcome] = await applyBookings(ctx, [{ clinicId, e }]);
  if ('failed' in outcome!) throw outcome.failed;
  return outcome!.applied;
}

/**
 * Bookings of an ingest batch (client ids already the kept profiles'; each appointment once):
 * recorded in one statement, the running sequences of their clients found in one query and told
 * side by side. A signal that fails fails only its own booking.
 */
export async function applyBookings(
  ctx: ApplyContext,
  items: { clinicId: string; e: Booked }[],
): Promise<({ applied: AppliedBody } | { failed: unknown })[]> {
  const { db } = ctx;
  if (items.length === 0) return [];
  const now = new Date();
  const recorded = await db
    .insert(appointments)
    .values(
      inLockOrder(
        items.map(({ clinicId, e }) => ({
          clinicId,
          externalId: e.appointmentId,
          clientExternalId: e.clientId,
          status: 'booked' as const,
          startAt: new Date(e.startAt),
          updatedAt: now,
          sourceUpdatedAt: e.occurredAt ? new Date(e.occurredAt) : null,
        })),
        clinicRowKey,
      ),
    )
    .onConflictDoUpdate({
      target: [appointments.clinicId, appointments.externalId],
      set: fromIncoming(appointments, ['clientExternalId', 'status', 'startAt']),
      setWhere: mayOverwrite('booked', sql`excluded.source_updated_at`),
    })
    .returning({ clinicId: appointments.clinicId, id: appointments.externalId });
  const key = (a: string, b: string) => `${a}\u0000${b}`;
  const fresh = new Set(recorded.map((r) => key(r.clinicId, r.id)));
  const live = items.filter(({ clinicId, e }) => fresh.has(key(clinicId, e.appointmentId)));
  const running = live.length
    ? await db
        .select({ workflowId: sequences.workflowId, clinicId: sequences.clinicId, client: clients.externalId })
        .from(sequences)
        .innerJoin(clients, eq(clients.id, sequences.clientId))
        .where(
          and(
            eq(sequences.running, true),
            sql`(${sequences.clinicId}, ${clients.externalId}) in (${sql.join(
              live.map(({ clinicId, e }) => sql`(${clinicId}, ${e.clientId})`),
              sql`, `,
            )})`,
          ),
        )
    : [];
  return Promise.all(
    items.map(async ({ clinicId, e }) => {
      // Stale (older than a cancellation or a completion already applied): no signal.
      if (!fresh.has(key(clinicId, e.appointmentId)))
        return { applied: { status: 'accepted', sequencesSignalled: 0, stale: true } as AppliedBody };
      // Every running sequence of the client stops: one booking ends them all.
      const told = await Promise.allSettled(
        running
          .filter((s) => s.clinicId === clinicId && s.client === e.clientId)
          .map((s) =>
            signalBooking(ctx.temporal, s.workflowId, {
              appointmentId: e.appointmentId,
              startAt: new Date(e.startAt).toISOString(),
            }),
          ),
      );
      const refused = told.find((t) => t.status === 'rejected');
      if (refused) return { failed: refused.reason as unknown };
      const signalled = told.filter((t) => t.status === 'fulfilled' && t.value).length;
      return { applied: { status: 'accepted', sequencesSignalled: signalled } as AppliedBody };
    }),
  );
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
