/**
 * The generic connector: for clinics that push canonical events to /v1/clinics/:id/events
 * (Zapier, an in-house system). It has no vendor API to ask, so the booking check answers from
 * the bookings Rebook has already received.
 */
import { and, asc, eq, gt, ne } from 'drizzle-orm';
import { appointments } from '../../src/db/schema.js';
import type { BookingConnector } from '../types.js';

export const genericConnector: BookingConnector = {
  platform: 'generic',
  async hasUpcomingAppointment({ db, clinic }, q) {
    const [row] = await db
      .select({ id: appointments.externalId, startAt: appointments.startAt })
      .from(appointments)
      .where(
        and(
          eq(appointments.clinicId, clinic.id),
          eq(appointments.clientExternalId, q.clientExternalId),
          eq(appointments.status, 'booked'),
          gt(appointments.startAt, new Date(q.after)),
          ne(appointments.externalId, q.excludeAppointmentId),
        ),
      )
      .orderBy(asc(appointments.startAt))
      .limit(1);
    return row ? { booked: true, appointmentId: row.id, startAt: row.startAt?.toISOString() } : { booked: false };
  },
};
