/**
 * The generic connector: for clinics that push canonical events to /v1/clinics/:id/events
 * (Zapier, an in-house system). It has no vendor API to ask, so the booking check answers from
 * the bookings Rebook has already received.
 */
import { nextBookedAppointment } from '../../src/db/connector-store.js';
import type { BookingConnector } from '../types.js';

export const genericConnector: BookingConnector = {
  platform: 'generic',
  async hasUpcomingAppointment({ db, clinic }, q) {
    const next = await nextBookedAppointment(db, {
      clinicId: clinic.id,
      clientExternalId: q.clientExternalId,
      after: new Date(q.after),
      excludeAppointmentId: q.excludeAppointmentId,
    });
    return next
      ? { booked: true, appointmentId: next.externalId, startAt: next.startAt.toISOString() }
      : { booked: false };
  },
};
