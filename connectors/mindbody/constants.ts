/**
 * Mindbody facts we depend on. Items marked (unconfirmed) are hypotheses from public docs and
 * public client code: each is a named constant with its source and a test pinning it, so a
 * correction is a one-line change. https://developers.mindbodyonline.com/PublicDocumentation/V6
 */

/** https://developers.mindbodyonline.com/PublicDocumentation/V6#base-url */
export const MINDBODY_API_BASE = 'https://api.mindbodyonline.com/public/v6';

/** Webhooks subscriptions API. https://developers.mindbodyonline.com/WebhooksDocumentation#subscriptions */
export const MINDBODY_PUSH_API_BASE = 'https://mb-api.mindbodyonline.com/push/api/v1';

export const MINDBODY_SIGNATURE_HEADER = 'x-mindbody-signature';
export const MINDBODY_SIGNATURE_PREFIX = 'sha256=';

/**
 * (unconfirmed) How the subscription's `messageSignatureKey` keys the HMAC: its UTF-8 bytes as
 * given ('utf8') or the bytes it decodes to ('base64'). The docs' sample hashes the key string
 * as UTF-8, so that is the default.
 * https://developers.mindbodyonline.com/WebhooksDocumentation#x-mindbody-signature-header
 */
export const MINDBODY_SIGNATURE_KEY_ENCODING: 'utf8' | 'base64' = 'utf8';

/**
 * (unconfirmed) Staff user tokens from POST /usertoken/issue are documented as lasting 7 days;
 * we renew after 6 and on any 401.
 * https://developers.mindbodyonline.com/PublicDocumentation/V6#user-tokens
 */
export const MINDBODY_TOKEN_TTL_MS = 6 * 86_400_000;

/** (unconfirmed) `request.limit` above 100 is clamped by the API; we page at 100. */
export const MINDBODY_PAGE_LIMIT = 100;

/**
 * (unconfirmed) Mindbody documents no per-second or per-minute limit, only the daily quota per
 * site (~1,000 free calls, then billed): this is our own pacing, one window per site shared by
 * every process (connectors/rate-budget.ts), so a backlog replayed by several replicas at once
 * cannot burst the day's free calls in seconds or provoke 429s.
 * https://developers.mindbodyonline.com/resources/faqs
 */
export const MINDBODY_RATE_LIMIT = { limit: 300, windowMs: 60_000 } as const;

/** `request.clientIDs` accepts at most 20 ids per call. */
export const MINDBODY_CLIENT_IDS_PER_CALL = 20;

/** API v6 appointment statuses. */
export const MINDBODY_STATUSES = [
  'None',
  'Requested',
  'Booked',
  'Completed',
  'Confirmed',
  'Arrived',
  'NoShow',
  'Cancelled',
  'LateCancelled',
] as const;

/**
 * Statuses that are not a live booking. The webhook reports a new booking as "Scheduled", which
 * the API calls "Booked" (seen in public handler tests).
 */
export const MINDBODY_NOT_BOOKED = new Set(['Cancelled', 'LateCancelled', 'NoShow', 'None']);
/** Of those, the client did not come: our canonical `appointment.no_show` (issue 11). */
export const MINDBODY_NO_SHOW = 'NoShow';

/** Webhook event types we act on; any other type is answered 200 and ignored. */
export const MINDBODY_EVENT_TYPES = [
  'appointmentBooking.created',
  'appointmentBooking.updated',
  'appointmentBooking.cancelled',
  'client.created',
  'client.updated',
  'clientProfileMerger.created',
] as const;

/** Events we subscribe to (the CLI helper's default list). */
export const MINDBODY_SUBSCRIBED_EVENTS = [...MINDBODY_EVENT_TYPES];

/**
 * Polling safety net. Appointments are listed by date, not by modification, so each poll looks
 * back this far to catch appointments marked Completed hours after they started.
 */
export const MINDBODY_POLL_LOOKBACK_MS = 24 * 3_600_000;
/** Overlap with the previous window for client modifications (clock skew, late commits). */
export const MINDBODY_POLL_OVERLAP_MS = 3_600_000;
/**
 * Bookings and cancellations. API v6 cannot list appointments by modification time
 * (`staffappointments` filters by start date only), so the poll lists upcoming appointments and
 * compares each one's status with what we hold. Each poll's listing reaches this far ahead of now
 * (one page for a typical clinic, so near-term bookings cost nothing extra)…
 * https://developers.mindbodyonline.com/PublicDocumentation/V6#get-staff-appointments
 */
export const MINDBODY_POLL_UPCOMING_MS = 3 * 86_400_000;
/**
 * …and a deeper scan, this often, reaches the horizon of rebookings (the next treatment is often
 * booked at checkout, about one interval ahead). Sparse on purpose: every page is a billable call
 * (MINDBODY budget ≤ 300/day), and the booking check before each send asks the API anyway.
 */
export const MINDBODY_POLL_DEEP_INTERVAL_MS = 12 * 3_600_000;
export const MINDBODY_POLL_DEEP_HORIZON_MS = 120 * 86_400_000;
/** API statuses of a polled upcoming appointment that mean "booked" (a `Requested` one the clinic may still decline). */
export const MINDBODY_POLL_BOOKED = new Set(['Booked', 'Confirmed']);
/** API statuses of a polled appointment that mean "cancelled". */
export const MINDBODY_POLL_CANCELLED = new Set(['Cancelled', 'LateCancelled']);
/** A poller down for longer than this catches up over this much history at most. */
export const MINDBODY_POLL_MAX_CATCHUP_MS = 7 * 86_400_000;
/** How far ahead the booking check looks for an upcoming appointment. */
export const MINDBODY_BOOKING_HORIZON_MS = 400 * 86_400_000;
/** The session-type catalog changes rarely; re-read at most this often. */
export const MINDBODY_CATALOG_TTL_MS = 12 * 3_600_000;

/**
 * (unconfirmed) A pricing option ("client service") counts as a course of sessions when it was
 * bought with at least this many: a single-visit option says nothing about a series. Its session
 * number is `Count - Remaining` once the visit has been paid from it (Mindbody deducts a session
 * when the visit is reconciled); a result below 1 means not yet deducted and is not used.
 * https://developers.mindbodyonline.com/PublicDocumentation/V6#get-client-services
 */
export const MINDBODY_SERIES_MIN_COUNT = 2;

/**
 * A client's pricing options with sessions left are delivered as one package plan under this id
 * (`client.membership`, issue 14 §3): re-read whole, so an option used up or expired since the
 * last read drops out of it rather than lingering as a plan of its own.
 */
export const MINDBODY_PACKAGE_PLAN = { id: 'mindbody-pricing-options', name: 'Prepaid sessions' } as const;
