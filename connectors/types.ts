/** The shape every booking-platform connector has; `registry.ts` lists them. */
import type { IncomingHttpHeaders } from 'node:http';
import type { ClinicConfig } from '../src/config/schema.js';
import type { Db } from '../src/db/client.js';
import type { CanonicalEvent } from '../src/ingest/events.js';
import type { InboxItem, VendorEvent } from '../src/ingest/inbox.js';
import type { Logger } from '../src/log.js';
import type { ApiCallCounter, RetryPolicy } from './http.js';

/** What API connectors need besides the database: injected once per process. */
export interface ConnectorRuntime {
  /** Where credential variables named in clinic config are read from. */
  secrets: NodeJS.ProcessEnv;
  log: Logger;
  counter: ApiCallCounter;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** One API client per clinic and platform for the life of the process, never one per call. */
  memo<T>(key: string, build: () => T): T;
  retry?: RetryPolicy;
}

export interface ConnectorContext {
  db: Db;
  clinic: ClinicConfig;
  /** Absent only for connectors without a vendor API (generic). */
  runtime?: ConnectorRuntime;
}

export type ApiContext = Required<ConnectorContext>;

export interface BookingCheck {
  booked: boolean;
  appointmentId?: string;
  startAt?: string;
}

/** Contact and consent as the platform has them. */
export interface ClientRecord {
  id: string;
  firstName: string;
  lastName: string;
  email: string | null;
  phone: string | null;
  consent: { sms: boolean; email: boolean };
}

export interface WebhookDelivery {
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
}

/** Webhook endpoint of one platform: routing, verification and the vendor payload schemas. */
export interface WebhookSpec {
  /** Route path; `:clinicId` when the clinic is named in the URL. */
  path: string;
  /** Answer HEAD on the path with 200 (Mindbody checks the URL before activating a subscription). */
  answersHead?: boolean;
  /** For deliveries that name their clinic only in the body (Mindbody: `eventData.siteId`); throws `validation_failed` for a body that is not an envelope. */
  clinicFromBody?(body: unknown, clinics: Iterable<ClinicConfig>): ClinicConfig | undefined;
  /** Throws `unauthorized` unless the delivery is authentic; a missing secret authorizes nothing. */
  verify(d: WebhookDelivery, clinic: ClinicConfig, secrets: NodeJS.ProcessEnv, nowMs: number): void;
  /**
   * The delivery as inbox items. Throws `validation_failed` for a malformed envelope, `not_found`
   * for a body naming another business; unknown event types come back as `ignoredType`.
   */
  toInbox(body: unknown, clinic: ClinicConfig): { items: InboxItem[]; ignoredType?: string };
}

/** One batch of polled changes; the cursor moves only after the items are stored. */
export interface PollResult {
  items: InboxItem[];
  commit(): Promise<void>;
}

export interface BookingConnector {
  readonly platform: string;
  /** The booking check calls the vendor's API (cached briefly, counted); otherwise it reads our database. */
  readonly remoteBookingCheck?: boolean;
  /**
   * Whether the client has an appointment booked after `after` (other than the treatment that
   * anchors the sequence). Throws when the platform cannot answer: callers never send blind.
   */
  hasUpcomingAppointment(
    ctx: ConnectorContext,
    q: { clientExternalId: string; after: string; excludeAppointmentId: string },
  ): Promise<BookingCheck>;
  webhook?: WebhookSpec;
  /** A stored vendor event → canonical events, re-reading the API for what the delivery lacks. */
  resolve?(ctx: ApiContext, e: VendorEvent): Promise<CanonicalEvent[]>;
  /** Changes since the stored cursor (the safety net for lost webhooks). */
  poll?(ctx: ApiContext): Promise<PollResult>;
  /** Contact and consent of one client. */
  lookupClient?(ctx: ApiContext, externalId: string): Promise<ClientRecord | undefined>;
  /** The platform's services, for classification and for mapping ids in clinic config. */
  serviceCatalog?(ctx: ApiContext): Promise<{ id: string; name: string; price?: number | null }[]>;
}

export function requireRuntime(ctx: ConnectorContext): ApiContext {
  if (!ctx.runtime)
    throw new Error(`connector for platform "${ctx.clinic.platform}" needs a runtime (secrets, counter)`);
  return ctx as ApiContext;
}
