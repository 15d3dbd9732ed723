/**
 * One-click unsubscribe tokens (RFC 8058 links in every email). A token names only our ledger
 * message id (a random uuid, no PHI) and is signed with HMAC-SHA256, so it cannot be forged or
 * enumerated; the message row leads to the client and the clinic.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The environment variable holding the signing secret (server and worker share it). */
export const UNSUBSCRIBE_SECRET_ENV = 'REBOOK_UNSUBSCRIBE_SECRET';

const mac = (secret: string, id: Buffer) =>
  createHmac('sha256', secret).update('rebook-unsubscribe-v1:').update(id).digest().subarray(0, 16);

export function signUnsubscribeToken(secret: string, messageId: string): string {
  const id = Buffer.from(messageId.replace(/-/g, ''), 'hex');
  if (id.length !== 16) throw new RangeError('message id must be a uuid');
  return `${id.toString('base64url')}.${mac(secret, id).toString('base64url')}`;
}

/** The message id a token was signed for, or undefined when it is malformed or forged. */
export function verifyUnsubscribeToken(secret: string, token: string): string | undefined {
  const m = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return undefined;
  const id = Buffer.from(m[1]!, 'base64url');
  const given = Buffer.from(m[2]!, 'base64url');
  if (id.length !== 16 || given.length !== 16 || !timingSafeEqual(given, mac(secret, id))) return undefined;
  const hex = id.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
