/**
 * Boulevard facts we depend on. Boulevard's developer docs (developers.joinblvd.com) are not in
 * the reference material this was built from except through public client code quoting them:
 * every (unconfirmed) item below is a hypothesis, a named constant with its source and a test,
 * so it is one edit to correct. docs/booking-platforms.md lists the same gaps.
 */
import { createHmac } from 'node:crypto';

/**
 * Admin API endpoint (GraphQL, version 2020-01), as public clients call it. (unconfirmed) The
 * sandbox host; a clinic on the sandbox sets `connector.apiBaseUrl`.
 */
export const BOULEVARD_API_URL = 'https://dashboard.boulevard.io/api/2020-01/admin';

/**
 * Request authentication (https://developers.joinblvd.com/2020-01/admin-api/authentication, as
 * quoted by public Admin API clients): payload = `blvd-admin-v1` + business id + unix seconds;
 * signature = base64(HMAC-SHA256(key = base64-decoded API secret, payload)); token = signature +
 * payload; header `Authorization: Basic base64(apiKey + ":" + token)`. Signed per request: the
 * timestamp is part of the token.
 */
export const BOULEVARD_TOKEN_PREFIX = 'blvd-admin-v1';
export function boulevardAuthorization(o: {
  apiKey: string;
  apiSecret: string;
  businessId: string;
  unixSeconds: number;
}): string {
  const payload = `${BOULEVARD_TOKEN_PREFIX}${o.businessId}${o.unixSeconds}`;
  const signature = createHmac('sha256', Buffer.from(o.apiSecret, 'base64')).update(payload, 'utf8').digest('base64');
  return `Basic ${Buffer.from(`${o.apiKey}:${signature}${payload}`, 'utf8').toString('base64')}`;
}

/**
 * (unconfirmed) Query-cost budget: about 10,000 points refilling at about 50 points/s, as a third
 * party reports it (/work/shared/VENDORS.md). The figures the API returns replace these after
 * the first call (connectors/cost-budget.ts).
 */
export const BOULEVARD_COST_RATE = { capacity: 10_000, restorePerSecond: 50 } as const;
/** What one of our queries is assumed to cost before the API says (small, paginated to 100 nodes). */
export const BOULEVARD_DEFAULT_QUERY_COST = 100;
/** A page of a connection: cost grows with `first`, so pages stay at 100 nodes. */
export const BOULEVARD_PAGE_SIZE = 100;

/**
 * (unconfirmed) Where a GraphQL answer reports its cost: `extensions.cost` with
 * `requestedQueryCost`, `actualQueryCost` and `throttleStatus {maximumAvailable,
 * currentlyAvailable, restoreRate}` (the convention cost-metered GraphQL APIs follow). Read
 * leniently: absent fields leave the bucket's own reckoning in place.
 */
export const BOULEVARD_COST_EXTENSION = 'cost';
/** (unconfirmed) GraphQL error code of a throttled query (answered with HTTP 200 or 429). */
export const BOULEVARD_THROTTLED_CODE = 'THROTTLED';

/**
 * (unconfirmed) `AppointmentState` values. FINAL = checked out (the treatment happened);
 * Boulevard records a no-show as a cancellation (reason NO_SHOW, unconfirmed). The events layer
 * has no `appointment.no_show` (src/ingest/events.ts), so a no-show maps to `appointment.cancelled`.
 */
export const BOULEVARD_COMPLETED = new Set(['FINAL']);
export const BOULEVARD_CANCELLED = new Set(['CANCELLED']);
export const BOULEVARD_BOOKED = new Set(['BOOKED', 'CONFIRMED', 'ARRIVED', 'ACTIVE']);

/**
 * Webhook event names seen in third-party integration docs (unconfirmed). Appointment events name
 * the appointment; it is re-read from the API when processed (its state there is the truth).
 */
export const BOULEVARD_APPOINTMENT_EVENTS = [
  'APPOINTMENT_CREATED',
  'APPOINTMENT_CONFIRMED',
  'APPOINTMENT_COMPLETED',
  'APPOINTMENT_CANCELLED',
  'APPOINTMENT_RESCHEDULED',
  'APPOINTMENT_UPDATED',
] as const;
export const BOULEVARD_CLIENT_EVENTS = ['CLIENT_CREATED', 'CLIENT_UPDATED'] as const;

/**
 * (unconfirmed) Membership events (MEMBERSHIP_CREATED is the one third-party docs list; the others
 * are assumed). Each names a membership; it is re-read and becomes a `client.membership` event.
 */
export const BOULEVARD_MEMBERSHIP_EVENTS = [
  'MEMBERSHIP_CREATED',
  'MEMBERSHIP_UPDATED',
  'MEMBERSHIP_CANCELLED',
  'MEMBERSHIP_PAUSED',
  'MEMBERSHIP_RESUMED',
] as const;

/** (unconfirmed) Membership `status` values → our plan status; any other: expired. */
export const BOULEVARD_MEMBERSHIP_STATUS: Record<string, 'active' | 'paused' | 'cancelled' | 'expired'> = {
  ACTIVE: 'active',
  PAUSED: 'paused',
  CANCELLED: 'cancelled',
  EXPIRED: 'expired',
};

/**
 * (unconfirmed) Webhook signature. Boulevard's webhook-verification docs are not in the material
 * this was built from; the scheme here is the common timestamped one: header
 * `X-Blvd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(webhook secret as UTF-8, "<t>.<raw body>")>`.
 * Deliveries whose `t` is further than the tolerance from now are refused as replays.
 */
export const BOULEVARD_SIGNATURE_HEADER = 'x-blvd-signature';
export const BOULEVARD_TIMESTAMP_TOLERANCE_MS = 5 * 60_000;
export function boulevardWebhookSignature(secret: string, unixSeconds: string, rawBody: Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(Buffer.concat([Buffer.from(`${unixSeconds}.`, 'utf8'), rawBody]))
    .digest('hex');
}

/**
 * (unconfirmed) Query-string filter syntax of `appointments(query:)`: `field >= 'value'`, joined
 * with AND. Polls by `updatedAt`; the booking check by client and start.
 */
export const boulevardUpdatedSince = (iso: string) => `updatedAt >= '${iso}'`;
export const boulevardClientFrom = (clientId: string, iso: string) =>
  `clientId = '${clientId.replace(/'/g, '')}' AND startAt >= '${iso}'`;

export const BOULEVARD_POLL_LOOKBACK_MS = 24 * 3_600_000;
export const BOULEVARD_POLL_OVERLAP_MS = 5 * 60_000;
export const BOULEVARD_BOOKING_HORIZON_MS = 400 * 86_400_000;
export const BOULEVARD_CATALOG_TTL_MS = 12 * 3_600_000;
