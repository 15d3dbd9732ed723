/**
 * Mindbody payloads as zod schemas: the webhook envelope and event data (camelCase), and the
 * Public API v6 records (PascalCase, site-local times without offset). Ids are kept as strings.
 * https://developers.mindbodyonline.com/WebhooksDocumentation#event-payloads
 * https://developers.mindbodyonline.com/PublicDocumentation/V6
 */
import { z } from 'zod';

/** Ids arrive as numbers or strings depending on the event; we keep strings everywhere. */
const vendorId = z.union([z.string().min(1), z.number()]).transform(String);
const text = z.string().nullish();

export const webhookEnvelopeSchema = z.object({
  messageId: z.string().min(1),
  eventId: z.string().min(1),
  eventSchemaVersion: z.number().optional(),
  eventInstanceOriginationDateTime: z.string().min(1),
  eventData: z.object({ siteId: vendorId }).loose(),
});

export const appointmentEventDataSchema = z.object({
  siteId: vendorId,
  appointmentId: vendorId,
  status: text,
  isConfirmed: z.boolean().nullish(),
  hasArrived: z.boolean().nullish(),
  locationId: vendorId.nullish(),
  clientId: vendorId.nullish(),
  clientUniqueId: vendorId.nullish(),
  startDateTime: text,
  endDateTime: text,
  sessionTypeId: vendorId.nullish(),
  staffId: vendorId.nullish(),
});

export const clientEventDataSchema = z.object({
  siteId: vendorId,
  clientId: vendorId.nullish(),
  clientUniqueId: vendorId,
  firstName: text,
  lastName: text,
  email: text,
  mobilePhone: text,
  sendPromotionalEmails: z.boolean().nullish(),
  sendPromotionalTexts: z.boolean().nullish(),
});

export const mergerEventDataSchema = z.object({
  siteId: vendorId,
  keptClientId: vendorId.nullish(),
  keptClientUniqueId: vendorId,
  removedClientUniqueId: vendorId,
  mergeDateTime: text,
});

export const paginationSchema = z.object({
  RequestedLimit: z.number().optional(),
  RequestedOffset: z.number().optional(),
  PageSize: z.number().optional(),
  TotalResults: z.number(),
});

export const apiAppointmentSchema = z.object({
  Id: vendorId,
  Status: z.string(),
  StartDateTime: z.string(),
  EndDateTime: z.string().nullish(),
  SessionTypeId: vendorId.nullish(),
  ClientId: vendorId,
  LocationId: vendorId.nullish(),
  StaffId: vendorId.nullish(),
  /** The client's pricing option that paid for the visit (a package of sessions, a contract's), if any. */
  ClientServiceId: vendorId.nullish(),
});

/**
 * A pricing option on a client's account: `Count` sessions when bought, `Remaining` left.
 * https://developers.mindbodyonline.com/PublicDocumentation/V6#get-client-services
 */
export const apiClientServiceSchema = z.object({
  Id: vendorId,
  Name: z.string().nullish(),
  Count: z.number().int().nullish(),
  Remaining: z.number().int().nullish(),
  Current: z.boolean().nullish(),
  /** Site-local wall times (like every API v6 date): usable from `ActiveDate`, until `ExpirationDate`. */
  ActiveDate: z.string().nullish(),
  ExpirationDate: z.string().nullish(),
  /** (unconfirmed) A returned (refunded) option: its sessions are gone. */
  Returned: z.boolean().nullish(),
});

export const apiClientSchema = z.object({
  Id: vendorId,
  UniqueId: vendorId,
  FirstName: z.string().nullish(),
  LastName: z.string().nullish(),
  Email: z.string().nullish(),
  MobilePhone: z.string().nullish(),
  SendPromotionalEmails: z.boolean().nullish(),
  SendPromotionalTexts: z.boolean().nullish(),
  LastModifiedDateTime: z.string().nullish(),
});

export const apiSessionTypeSchema = z.object({
  Id: vendorId,
  Name: z.string(),
  ProgramId: vendorId.nullish(),
  Category: z.string().nullish(),
});

export const staffAppointmentsResponse = z.object({
  PaginationResponse: paginationSchema,
  Appointments: z.array(apiAppointmentSchema),
});
export const clientsResponse = z.object({ PaginationResponse: paginationSchema, Clients: z.array(apiClientSchema) });
export const sessionTypesResponse = z.object({
  PaginationResponse: paginationSchema.optional(),
  SessionTypes: z.array(apiSessionTypeSchema),
});
export const clientServicesResponse = z.object({
  PaginationResponse: paginationSchema,
  ClientServices: z.array(apiClientServiceSchema),
});
export const userTokenResponse = z.object({ AccessToken: z.string().min(1) });

export const subscriptionSchema = z.object({
  subscriptionId: z.string(),
  status: z.string(),
  webhookUrl: z.string(),
  eventIds: z.array(z.string()),
  referenceId: z.string().nullish(),
  messageSignatureKey: z.string().nullish(),
});
export const subscriptionListResponse = z.object({ items: z.array(subscriptionSchema) });

export type ApiAppointment = z.infer<typeof apiAppointmentSchema>;
export type ApiClient = z.infer<typeof apiClientSchema>;
export type ApiClientService = z.infer<typeof apiClientServiceSchema>;
