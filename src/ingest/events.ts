/**
 * Canonical events: the one vocabulary every connector, CSV import and custom integration
 * speaks. Validated with zod at the boundary; the inferred types are the domain's.
 */
import { z } from 'zod';

const id = z.string().trim().min(1).max(200);
const instant = z.iso.datetime({ offset: true, message: 'an ISO 8601 instant with offset, e.g. 2026-03-01T15:30:00-05:00' });

export const clientSchema = z.strictObject({
  id,
  firstName: z.string().trim().min(1).max(100),
  lastName: z.string().trim().max(100).default(''),
  email: z.email().max(254).nullish(),
  phone: z.string().trim().min(5).max(32).nullish(),
  consent: z.strictObject({ sms: z.boolean(), email: z.boolean() }),
});

export const treatmentCompletedSchema = z.strictObject({
  type: z.literal('treatment.completed'),
  eventId: id.optional(),
  client: clientSchema,
  appointmentId: id,
  service: z.strictObject({ id: id.nullish(), name: z.string().trim().min(1).max(200) }),
  completedAt: instant,
  price: z.number().nonnegative().max(1_000_000).nullish(),
  provider: z.string().trim().max(200).nullish(),
});

export const appointmentBookedSchema = z.strictObject({
  type: z.literal('appointment.booked'),
  eventId: id.optional(),
  clientId: id,
  appointmentId: id,
  startAt: instant,
});

export const appointmentCancelledSchema = z.strictObject({
  type: z.literal('appointment.cancelled'),
  eventId: id.optional(),
  clientId: id,
  appointmentId: id,
});

export const canonicalEventSchema = z.discriminatedUnion('type', [treatmentCompletedSchema, appointmentBookedSchema, appointmentCancelledSchema]);

const MAX_BATCH = 500;
export const eventArraySchema = z.array(canonicalEventSchema).min(1).max(MAX_BATCH);
export const eventEnvelopeSchema = z.strictObject({ events: eventArraySchema });

export type CanonicalEvent = z.infer<typeof canonicalEventSchema>;
export type TreatmentCompleted = z.infer<typeof treatmentCompletedSchema>;

/** Same event delivered twice → same key, so the inbox keeps one. */
export function dedupeKey(e: CanonicalEvent): string {
  if (e.eventId) return `id:${e.eventId}`;
  switch (e.type) {
    case 'treatment.completed':
      return `treatment.completed:${e.appointmentId}`;
    case 'appointment.booked':
      return `appointment.booked:${e.appointmentId}:${e.startAt}`;
    case 'appointment.cancelled':
      return `appointment.cancelled:${e.appointmentId}`;
  }
}

export type EventResult =
  | { index: number; type: string; status: 'accepted'; enrolled: true; sequenceId: string; treatmentType: string; staffEscalationOnly?: boolean }
  | { index: number; type: string; status: 'accepted'; enrolled: false; reason: 'unclassified_service' | 'window_passed' | 'treatment_type_disabled' }
  | { index: number; type: string; status: 'accepted'; sequencesSignalled: number }
  | { index: number; type: string; status: 'duplicate'; enrolled: false; reason: 'duplicate' }
  | { index: number; type: string; status: 'queued'; reason: 'temporal_unavailable' };
