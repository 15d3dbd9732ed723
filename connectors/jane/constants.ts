/**
 * Jane App (Jane Developer Platform, approved partners) facts we depend on. (unconfirmed) items
 * are hypotheses; each is a named constant with its source and a test.
 * https://developers.janeapp.com/
 */

/** (unconfirmed) OAuth endpoints, relative to the clinic's origin (https://{clinic}.janeapp.com). */
export const JANE_AUTHORIZE_PATH = '/oauth/authorize';
export const JANE_TOKEN_PATH = '/oauth/token';

/** 100 requests per minute per endpoint per clinic; 429 carries the seconds to wait. */
export const JANE_RATE_LIMIT = { limit: 100, windowMs: 60_000 } as const;

export const JANE_PAGE_LIMIT = 100;

export const JANE_SIGNATURE_HEADER = 'x-jane-signature';
export const JANE_TIMESTAMP_HEADER = 'x-jane-timestamp';
export const JANE_SIGNATURE_PREFIX = 'sha256=';

/**
 * (unconfirmed) The string Jane signs: `${X-Jane-Timestamp}.${raw body}`, HMAC-SHA256 keyed with
 * the webhook secret's UTF-8 bytes, hex-encoded (the Stripe-style scheme partner docs describe).
 * https://developers.janeapp.com/webhooks#verifying-signatures
 */
export function janeSignedString(timestamp: string, rawBody: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), rawBody]);
}
export const JANE_SIGNATURE_ENCODING: 'hex' | 'base64' = 'hex';

/** Deliveries older (or further in the future) than this are refused as replays. */
export const JANE_TIMESTAMP_TOLERANCE_MS = 5 * 60_000;

export const JANE_TOPICS = [
  'APPOINTMENT_BOOKED',
  'APPOINTMENT_CANCELLED',
  'APPOINTMENT_RESCHEDULED',
  'APPOINTMENT_UNCANCELLED',
] as const;

/** Completion is never pushed: polls look back this far for `arrived` appointments that have ended. */
export const JANE_POLL_LOOKBACK_MS = 24 * 3_600_000;
export const JANE_POLL_OVERLAP_MS = 5 * 60_000;
export const JANE_BOOKING_HORIZON_MS = 400 * 86_400_000;
