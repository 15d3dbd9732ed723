/**
 * Boulevard payloads: the webhook envelope and the Admin API (GraphQL) answers. Field names of
 * the envelope are (unconfirmed): see constants.ts. Ids are URNs (`urn:blvd:Appointment:<uuid>`).
 */
import { z } from 'zod';

const urn = z.string().min(1);

export const webhookSchema = z.object({
  id: z.string().min(1),
  businessId: z.string().min(1).nullish(),
  event: z.string().min(1),
  timestamp: z.string().min(1),
  resource: z.object({ id: urn, type: z.string().nullish() }).loose(),
});

export const appointmentSchema = z.object({
  id: urn,
  clientId: urn.nullish(),
  startAt: z.string(),
  endAt: z.string().nullish(),
  state: z.string(),
  cancelled: z.boolean().nullish(),
  updatedAt: z.string().nullish(),
  locationId: urn.nullish(),
  appointmentServices: z
    .array(
      z.object({
        serviceId: urn.nullish(),
        price: z.number().nullish(),
        service: z.object({ id: urn, name: z.string() }).nullish(),
      }),
    )
    .nullish(),
});

export const clientSchema = z.object({
  id: urn,
  firstName: z.string().nullish(),
  lastName: z.string().nullish(),
  email: z.string().nullish(),
  mobilePhone: z.string().nullish(),
});

/**
 * (unconfirmed) A client's membership: its plan name, state, dates (`nextChargeOn`: the renewal;
 * `endOn`), the vouchers it holds (sessions of services left) and the discount members get.
 */
export const membershipSchema = z.object({
  id: urn,
  clientId: urn,
  name: z.string().min(1),
  status: z.string().min(1),
  endOn: z.string().nullish(),
  nextChargeOn: z.string().nullish(),
  locationId: urn.nullish(),
  vouchers: z
    .array(
      z.object({
        quantity: z.number().int().min(0),
        services: z.array(z.object({ id: urn, name: z.string().min(1) })).default([]),
      }),
    )
    .nullish(),
  discountPercentage: z.number().min(0).max(100).nullish(),
});

export const serviceSchema = z.object({ id: urn, name: z.string(), defaultPrice: z.number().nullish() });

const pageInfo = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() });
export const connection = <T extends z.ZodType>(node: T) => z.object({ edges: z.array(z.object({ node })), pageInfo });

/** A GraphQL answer: `data` must be there (errors without data are a failed call). */
export const gqlResponse = <T extends z.ZodType>(data: T) => z.object({ data });

export type BoulevardAppointment = z.infer<typeof appointmentSchema>;
export type BoulevardClient = z.infer<typeof clientSchema>;
export type BoulevardMembership = z.infer<typeof membershipSchema>;

/** Prices: Boulevard reports money in cents (unconfirmed); ours are in currency units. */
export const centsToUnits = (cents: number) => Math.round(cents) / 100;
