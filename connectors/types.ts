/** The shape every booking-platform connector has; `registry.ts` lists them. */
import type { Db } from '../src/db/client.js';
import type { ClinicConfig } from '../src/config/schema.js';

export interface ConnectorContext {
  db: Db;
  clinic: ClinicConfig;
}

export interface BookingCheck {
  booked: boolean;
  appointmentId?: string;
  startAt?: string;
}

export interface BookingConnector {
  readonly platform: string;
  /**
   * Whether the client has an appointment booked after `after` (other than the treatment that
   * anchors the sequence). Throws when the platform cannot answer: callers never send blind.
   */
  hasUpcomingAppointment(ctx: ConnectorContext, q: { clientExternalId: string; after: string; excludeAppointmentId: string }): Promise<BookingCheck>;
}
