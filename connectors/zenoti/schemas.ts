/**
 * Zenoti payloads: the webhook envelope (`{id, event_id, event_schema, event_resource,
 * event_type, event_timestamp, data}`, from the docs' event list) and API answers (field names
 * (unconfirmed) beyond the envelope). Ids are strings (GUIDs).
 */
import { z } from 'zod';

const id = z.union([z.string().min(1), z.number()]).transform(String);

export const webhookSchema = z.object({
  id: id,
  event_id: id.nullish(),
  event_type: z.string().min(1),
  event_timestamp: z.string().min(1),
  event_resource: z.string().nullish(),
  data: z
    .object({
      center_id: id.nullish(),
      appointment_id: id.nullish(),
      appointments: z.array(z.object({ appointment_id: id }).loose()).nullish(),
      guest_id: id.nullish(),
    })
    .loose(),
});

export const appointmentSchema = z.object({
  appointment_id: id,
  appointment_group_id: id.nullish(),
  center_id: id.nullish(),
  guest: z.object({ id: id }).loose().nullish(),
  guest_id: id.nullish(),
  service: z.object({ id: id, name: z.string() }).loose().nullish(),
  price: z.number().nullish(),
  start_time: z.string(),
  end_time: z.string().nullish(),
  status: z.number().int(),
  last_updated_date: z.string().nullish(),
});

export const guestSchema = z.object({
  id: id,
  personal_info: z
    .object({
      first_name: z.string().nullish(),
      last_name: z.string().nullish(),
      email: z.string().nullish(),
      mobile_phone: z.object({ number: z.string().nullish() }).loose().nullish(),
    })
    .loose(),
  preferences: z
    .object({ receive_marketing_email: z.boolean().nullish(), receive_marketing_sms: z.boolean().nullish() })
    .loose()
    .nullish(),
});

export const appointmentsResponse = z.object({ appointments: z.array(appointmentSchema) });
export const servicesResponse = z.object({
  services: z.array(
    z.object({
      id: id,
      name: z.string(),
      price_info: z.object({ sale_price: z.number().nullish() }).loose().nullish(),
    }),
  ),
  page_info: z.object({ total: z.number(), page: z.number(), size: z.number() }).loose().nullish(),
});

/** (unconfirmed) A guest's membership: its plan, state, dates and the discount it gives. */
export const guestMembershipSchema = z.object({
  id: id,
  center_id: id.nullish(),
  membership: z.object({ id: id, name: z.string().min(1) }).loose(),
  status: z.string().min(1),
  expiry_date: z.string().nullish(),
  next_billing_date: z.string().nullish(),
  discount: z
    .object({
      percentage: z.number().min(0).max(100),
      /** `all`: every service; `services`: the listed ones. */
      applies_to: z.enum(['all', 'services']).default('all'),
      services: z.array(z.object({ id: id, name: z.string().min(1) }).loose()).default([]),
    })
    .loose()
    .nullish(),
});

/** (unconfirmed) A guest's package: sessions of services bought ahead, with what is left. */
export const guestPackageSchema = z.object({
  id: id,
  center_id: id.nullish(),
  package: z.object({ id: id, name: z.string().min(1) }).loose(),
  status: z.string().min(1),
  expiry_date: z.string().nullish(),
  services: z
    .array(
      z
        .object({
          service: z.object({ id: id, name: z.string().min(1) }).loose(),
          remaining_quantity: z.number().int().min(0),
        })
        .loose(),
    )
    .default([]),
});

export const guestMembershipsResponse = z.object({ memberships: z.array(guestMembershipSchema) });
export const guestPackagesResponse = z.object({ packages: z.array(guestPackageSchema) });

export type ZenotiAppointment = z.infer<typeof appointmentSchema>;
export type ZenotiGuestMembership = z.infer<typeof guestMembershipSchema>;
export type ZenotiGuestPackage = z.infer<typeof guestPackageSchema>;
export type ZenotiGuest = z.infer<typeof guestSchema>;
