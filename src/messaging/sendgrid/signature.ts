/**
 * Signed Event Webhook: ECDSA P-256 / SHA-256 over the timestamp header followed by the raw body,
 * exactly as received; signature base64 DER, public key base64 SPKI DER.
 * https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

export function sendgridPublicKey(base64Spki: string): KeyObject {
  return createPublicKey({ key: Buffer.from(base64Spki, 'base64'), format: 'der', type: 'spki' });
}

/**
 * The signed timestamp (Unix seconds) is within maxAgeSeconds of now, either side: SendGrid posts
 * events within seconds of signing, so an old timestamp is a replay.
 */
export function isFreshTimestamp(timestamp: string | undefined, nowMs: number, maxAgeSeconds: number): boolean {
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  return Math.abs(nowMs / 1000 - Number(timestamp)) <= maxAgeSeconds;
}

export function verifySendgridSignature(
  key: KeyObject,
  signature: string | undefined,
  timestamp: string | undefined,
  rawBody: Buffer | string,
): boolean {
  if (!signature || !timestamp) return false;
  try {
    const payload = Buffer.concat([
      Buffer.from(timestamp, 'utf8'),
      typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody,
    ]);
    return verify('sha256', payload, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
