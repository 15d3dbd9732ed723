/**
 * Canonical events: the one vocabulary every connector, CSV import and custom integration
 * speaks. Validated with zod at the boundary; the inferred types are the domain's.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

const id = z.string().trim().min(1).max(200);
const instant = z.iso.datetime({
  offset: true,
  message: 'an ISO 8601 instant with offset, e.g. 2026-03-01T15:30:00-05:00',
});
/** When the platform says the change happened; ordering uses it (stale updates are ignored), never receive time. */
const occurredAt = instant.optional();

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
  occurredAt,
  client: clientSchema,
  appointmentId: id,
  service: z.strictObject({ id: id.nullish(), name: z.string().trim().min(1).max(200) }),
  completedAt: instant,
  price: z.number().nonnegative().max(1_000_000).nullish(),
  provider: z.string().trim().max(200).nullish(),
  /**
   * For a treatment given as a course (issue 11): which session this was, and of how many, when
   * the booking platform knows (a package, a contract, a pricing option's sessions remaining).
   * Absent: the planner counts the client's completed treatments of the type.
   */
  series: z
    .strictObject({
      session: z.number().int().min(1).max(100),
      sessions: z.number().int().min(1).max(100).optional(),
    })
    .refine((s) => s.sessions === undefined || s.session <= s.sessions, {
      message: 'session cannot be after the last of sessions',
      path: ['session'],
    })
    .nullish(),
});

export const appointmentBookedSchema = z.strictObject({
  type: z.literal('appointment.booked'),
  eventId: id.optional(),
  occurredAt,
  clientId: id,
  appointmentId: id,
  startAt: instant,
});

export const appointmentCancelledSchema = z.strictObject({
  type: z.literal('appointment.cancelled'),
  eventId: id.optional(),
  occurredAt,
  clientId: id,
  appointmentId: id,
});

/**
 * The client did not come to a booked appointment. Each connector maps its platform's no-show
 * status to this event; custom integrations send it to the events API.
 */
export const appointmentNoShowSchema = z.strictObject({
  type: z.literal('appointment.no_show'),
  eventId: id.optional(),
  occurredAt,
  clientId: id,
  appointmentId: id,
});

/** Contact or consent changed on the platform; only the fields given are changed. */
export const clientUpdatedSchema = z.strictObject({
  type: z.literal('client.updated'),
  eventId: id.optional(),
  occurredAt,
  client: z.strictObject({
    id,
    firstName: z.string().trim().min(1).max(100).optional(),
    lastName: z.string().trim().max(100).optional(),
    email: z.email().max(254).nullish(),
    phone: z.string().trim().min(5).max(32).nullish(),
    consent: z.strictObject({ sms: z.boolean().optional(), email: z.boolean().optional() }).optional(),
  }),
  /** Create the client when unknown (needs firstName; consent not given counts as none). Default: update known clients only. */
  createIfMissing: z.boolean().optional(),
});

/** Two client profiles merged on the platform: events naming the removed id now apply to the kept one. */
export const clientMergedSchema = z.strictObject({
  type: z.literal('client.merged'),
  eventId: id.optional(),
  occurredAt,
  keptClientId: id,
  removedClientId: id,
});

/**
 * What one plan says a client is entitled to, for a treatment: `treatmentType` (our slug) or the
 * platform's `service` (classified like a completed treatment's), or neither for every treatment.
 */
export const planBenefitSchema = z
  .strictObject({
    treatmentType: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'a treatment type key, e.g. botox')
      .optional(),
    service: z.strictObject({ id: id.nullish(), name: z.string().trim().min(1).max(200) }).optional(),
    /** The member price: percent off this treatment the plan already gives. */
    percentOff: z.number().min(0).max(100).optional(),
    /** Prepaid sessions of this treatment left on a package. */
    creditsLeft: z.number().int().min(0).max(1000).optional(),
  })
  .refine((b) => !(b.treatmentType && b.service), {
    message: 'set treatmentType or service, not both',
    path: ['service'],
  })
  .refine((b) => b.percentOff !== undefined || b.creditsLeft !== undefined, {
    message: 'set percentOff or creditsLeft',
    path: ['percentOff'],
  });

/**
 * A client's membership or package as the platform knows it now (issue 14 §3): one plan, its
 * state replacing what we had for it (older updates by `occurredAt` are ignored). Offers follow
 * it: credits left mean "use your credit", a member price means no stacked discount.
 */
export const clientMembershipSchema = z.strictObject({
  type: z.literal('client.membership'),
  eventId: id.optional(),
  occurredAt,
  clientId: id,
  plan: z.strictObject({
    id,
    kind: z.enum(['membership', 'package']),
    /** The clinic's name for the plan ("Glow Club"); shown in offers ("your Glow Club member price"). */
    name: z.string().trim().min(1).max(100),
    status: z.enum(['active', 'paused', 'cancelled', 'expired']),
    renewsAt: instant.nullish(),
    endsAt: instant.nullish(),
    benefits: z.array(planBenefitSchema).max(100).default([]),
  }),
});

export const canonicalEventSchema = z.discriminatedUnion('type', [
  treatmentCompletedSchema,
  appointmentBookedSchema,
  appointmentCancelledSchema,
  appointmentNoShowSchema,
  clientUpdatedSchema,
  clientMergedSchema,
  clientMembershipSchema,
]);

const MAX_BATCH = 500;
export const eventArraySchema = z.array(canonicalEventSchema).min(1).max(MAX_BATCH);
export const eventEnvelopeSchema = z.strictObject({ events: eventArraySchema });

export type CanonicalEvent = z.infer<typeof canonicalEventSchema>;
export type TreatmentCompleted = z.infer<typeof treatmentCompletedSchema>;
export type ClientUpdated = z.infer<typeof clientUpdatedSchema>;
export type ClientMembership = z.infer<typeof clientMembershipSchema>;

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
    case 'appointment.no_show':
      return `appointment.no_show:${e.appointmentId}`;
    case 'client.updated':
      // A digest, not the contact itself: dedupe keys outlive the payload and must carry no PHI.
      return `client.updated:${e.client.id}:${e.occurredAt ?? createHash('sha256').update(JSON.stringify(e.client)).digest('base64url')}`;
    case 'client.merged':
      return `client.merged:${e.removedClientId}:${e.keptClientId}`;
    case 'client.membership':
      // A digest of the plan (no contact data in it, but the key should not grow with benefits).
      return `client.membership:${e.clientId}:${e.plan.id}:${e.occurredAt ?? createHash('sha256').update(JSON.stringify(e.plan)).digest('base64url')}`;
  }
}

/**
 * Request header naming where a batch sent to the events API comes from (only `import` is
 * recognised): `rebook import` sets it, the events route reads it.
 */
export const IMPORT_SOURCE_HEADER = 'x-rebook-source';

export type EventResult =
  | {
      index: number;
      type: string;
      status: 'accepted';
      enrolled: true;
      sequenceId: string;
      treatmentType: string;
      staffEscalationOnly?: boolean;
    }
  | {
      index: number;
      type: string;
      status: 'accepted';
      enrolled: false;
      reason: 'unclassified_service' | 'not_repeatable' | 'window_passed' | 'treatment_type_disabled';
    }
  | { index: number; type: string; status: 'accepted'; sequencesSignalled: number; stale?: true }
  | { index: number; type: string; status: 'accepted'; clientsUpdated: number; stale?: true }
  | { index: number; type: string; status: 'accepted'; plansUpdated: number; stale?: true }
  | { index: number; type: string; status: 'accepted'; events: unknown[] }
  | { index: number; type: string; status: 'duplicate'; enrolled: false; reason: 'duplicate' }
  /**
   * Stored, applying failed, retried by the forwarder: `temporal_unavailable` while the cluster
   * cannot be reached; `processing_failed` for anything else (backed off, dead-lettered if it persists).
   */
  | { index: number; type: string; status: 'queued'; reason: 'temporal_unavailable' | 'processing_failed' };
