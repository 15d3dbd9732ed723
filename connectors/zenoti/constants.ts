/**
 * Zenoti facts we depend on (https://docs.zenoti.com). What the reference material here confirms:
 * webhooks need the Zenoti API package (enabled by the account manager) and are set up per
 * organisation or per center (docs.zenoti.com/docs/add-an-automation); the API authenticates with
 * an API key of a backend app, valid one year (docs.zenoti.com/docs/authentication,
 * /docs/onboarding). Every (unconfirmed) item is a hypothesis, a named constant with a test;
 * docs/booking-platforms.md lists the same gaps.
 */
import { createHmac } from 'node:crypto';

/** API base (US data centre; EU and AU have their own hosts: set `connector.apiBaseUrl`). */
export const ZENOTI_API_BASE = 'https://api.zenoti.com/v1';

/** (unconfirmed) Header form of API-key authentication: `Authorization: apikey <key>`. */
export const zenotiAuthorization = (apiKey: string) => `apikey ${apiKey}`;

/** (unconfirmed) Request budget per API key; a 429 with Retry-After is honoured on top. */
export const ZENOTI_RATE_LIMIT = { limit: 60, windowMs: 60_000 } as const;

/**
 * (unconfirmed) Appointment `status` codes: 0 booked (new), 2 checked in, 4 confirmed, 1 closed
 * (checked out: the treatment happened), 10 cancelled, -1 no-show, -2 deleted. The events layer
 * has no `appointment.no_show` (src/ingest/events.ts), so a no-show maps to `appointment.cancelled`.
 */
export const ZENOTI_COMPLETED = new Set([1]);
export const ZENOTI_CANCELLED = new Set([10, -1, -2]);
export const ZENOTI_BOOKED = new Set([0, 2, 4]);

/**
 * (unconfirmed) `event_type` strings of the webhook events the docs list ("Appointment
 * Completed", "Appointment Group Created/Status", "Guest Created/Updated"). Invoice Closed is not
 * used: the appointment's own completion is the treatment signal, and an invoice can close
 * without one. Membership and package events: ZENOTI_PLAN_EVENTS.
 */
export const ZENOTI_APPOINTMENT_EVENTS = [
  'Appointment.Completed',
  'AppointmentGroup.Created',
  'AppointmentGroup.Status',
] as const;
export const ZENOTI_GUEST_EVENTS = ['Guest.Created', 'Guest.Updated'] as const;

/**
 * (unconfirmed) `event_type` strings of the guest membership and package events the docs list
 * ("Guest Membership Created/Freeze/Unfreeze/Cancelled/Reinstate", "Guest Package
 * Creation/Redemption"). Each names a guest; the guest's memberships and packages are re-read
 * (ZENOTI_PLAN_PATHS) and each becomes a `client.membership` event (issue 14 §3).
 */
export const ZENOTI_PLAN_EVENTS = [
  'GuestMembership.Created',
  'GuestMembership.Freeze',
  'GuestMembership.Unfreeze',
  'GuestMembership.Cancelled',
  'GuestMembership.Reinstate',
  'GuestPackage.Created',
  'GuestPackage.Redemption',
] as const;

/** (unconfirmed) Where a guest's memberships and packages are read, with `center_id`. */
export const ZENOTI_PLAN_PATHS = {
  memberships: (guestId: string) => `/guests/${encodeURIComponent(guestId)}/memberships`,
  packages: (guestId: string) => `/guests/${encodeURIComponent(guestId)}/packages`,
} as const;

/** (unconfirmed) Membership and package `status` strings (case ignored) → our plan status; others: expired. */
export const ZENOTI_PLAN_STATUS: Record<string, 'active' | 'paused' | 'cancelled' | 'expired'> = {
  active: 'active',
  frozen: 'paused',
  freeze: 'paused',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  expired: 'expired',
  closed: 'expired',
};

/**
 * (unconfirmed) Webhook signature: Zenoti's docs here say a header carries a signature but not
 * its scheme. Taken as `X-Zenoti-Signature: <hex HMAC-SHA256(webhook secret as UTF-8, raw body)>`.
 * The envelope's `event_timestamp` is inside the signed body, so a delivery older than
 * ZENOTI_MAX_EVENT_AGE_MS is refused as a replay (Zenoti's retry schedule is not documented here:
 * the window is generous).
 */
export const ZENOTI_SIGNATURE_HEADER = 'x-zenoti-signature';
export const ZENOTI_MAX_EVENT_AGE_MS = 6 * 3_600_000;
/** Clock skew allowed for an event stamped in the future. */
export const ZENOTI_MAX_FUTURE_SKEW_MS = 5 * 60_000;
export function zenotiWebhookSignature(secret: string, rawBody: Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(rawBody).digest('hex');
}

/** Polls read appointments by date: from this far back (completions) to this far ahead (bookings). */
export const ZENOTI_POLL_BACK_DAYS = 2;
export const ZENOTI_POLL_AHEAD_DAYS = 90;
export const ZENOTI_BOOKING_HORIZON_MS = 400 * 86_400_000;
export const ZENOTI_CATALOG_TTL_MS = 12 * 3_600_000;
