/**
 * Vagaro webhook payloads. The envelope's time is `createdDate` in most deliveries and
 * `createdAt` in some: both are accepted. Appointment ids are base64 strings.
 * https://docs.vagaro.com/public/docs/webhooks-overview
 */
import { z } from 'zod';

const vendorId = z.union([z.string().min(1), z.number()]).transform(String);

export const webhookEnvelopeSchema = z
  .object({
    id: vendorId,
    createdDate: z.string().optional(),
    createdAt: z.string().optional(),
    type: z.string(),
    action: z.string(),
    payload: z.object({}).loose(),
  })
  .refine((e) => e.createdDate ?? e.createdAt, {
    message: 'createdDate or createdAt is required',
    path: ['createdDate'],
  });

export const appointmentPayloadSchema = z.object({
  appointmentId: vendorId,
  businessId: vendorId.nullish(),
  customerId: vendorId.nullish(),
  startTime: z.string().nullish(),
  endTime: z.string().nullish(),
  bookingStatus: z.string().nullish(),
  serviceTitle: z.string().nullish(),
  serviceId: vendorId.nullish(),
  amount: z.number().nullish(),
  serviceProviderId: vendorId.nullish(),
});

export const customerPayloadSchema = z.object({
  customerId: vendorId,
  businessIds: z.array(vendorId).nullish(),
  customerFirstName: z.string().nullish(),
  customerLastName: z.string().nullish(),
  email: z.string().nullish(),
  mobilePhone: z.string().nullish(),
});

export const tokenResponse = z.object({
  data: z.object({ access_token: z.string().min(1), expires_in: z.number().positive() }),
});
export const appointmentResponse = z.object({ data: appointmentPayloadSchema });
export const customerResponse = z.object({ data: customerPayloadSchema });

export type AppointmentPayload = z.infer<typeof appointmentPayloadSchema>;
