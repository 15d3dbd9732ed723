/** Jane partner API payloads. https://developers.janeapp.com/api */
import { z } from 'zod';

const vendorId = z.union([z.string().min(1), z.number()]).transform(String);

export const appointmentSchema = z.object({
  id: vendorId,
  start_at: z.string(),
  end_at: z.string().nullish(),
  patient_id: vendorId.nullish(),
  treatment_id: vendorId.nullish(),
  staff_member_id: vendorId.nullish(),
  location_id: vendorId.nullish(),
  booked_at: z.string().nullish(),
  arrived_at: z.string().nullish(),
  cancelled_at: z.string().nullish(),
  no_show_at: z.string().nullish(),
  updated_at: z.string().nullish(),
  state: z.enum(['reserved', 'booked', 'arrived', 'no_show', 'cancelled', 'archived']),
});

export const patientSchema = z.object({
  id: vendorId,
  first_name: z.string().nullish(),
  preferred_name: z.string().nullish(),
  last_name: z.string().nullish(),
  email: z.string().nullish(),
  send_marketing_emails: z.boolean().nullish(),
  do_not_email: z.boolean().nullish(),
  phone_numbers: z
    .array(z.object({ number: z.string(), type: z.string().nullish(), sms: z.boolean().nullish() }).loose())
    .nullish(),
});

export const treatmentSchema = z.object({
  id: vendorId,
  name: z.string(),
  price: z.union([z.number(), z.string()]).nullish(),
});

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), cursor: z.string().nullish(), hasNextPage: z.boolean() });

export const tokenResponse = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().nullish(),
  expires_in: z.number().positive().optional(),
  token_type: z.string().optional(),
});

export const webhookSchema = z.object({
  event_id: vendorId,
  event_topic: z.string(),
  event_timestamp: z.string(),
  appointment_id: vendorId.nullish(),
  clinic_guid: z.string().nullish(),
  version: z.union([z.string(), z.number()]).nullish(),
});

export type JaneAppointment = z.infer<typeof appointmentSchema>;
export type JanePatient = z.infer<typeof patientSchema>;
