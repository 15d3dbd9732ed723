/**
 * Time-based one-time passwords as every authenticator app computes them: HOTP (RFC 4226) over
 * the 30-second step count (RFC 6238), HMAC-SHA-1, 6 digits, the shared secret written in base32.
 * Pure functions only (the clock is a parameter); storing, sealing and replay protection are in
 * two-step.ts.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps either side of now that still count: a phone clock a little off, a code typed as it turned. */
export const TOTP_WINDOW = 1;
/** RFC 4226 section 4 asks for at least 128 bits and recommends 160: one SHA-1 block's worth. */
const SECRET_BYTES = 20;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (authenticator apps accept it and people type less). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Base32 as people copy it: any case, spaces and padding ignored. Throws on any other character. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Error('not a base32 secret');
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** A new shared secret (160 random bits) in base32. */
export const generateTotpSecret = (): string => base32Encode(randomBytes(SECRET_BYTES));

/** The secret in groups of four, the way it is easiest to read out and type. */
export const groupedSecret = (secret: string): string => secret.match(/.{1,4}/g)?.join(' ') ?? '';

/** RFC 4226 section 5.3: HMAC-SHA-1 of the 8-byte counter, dynamic truncation, the low `digits` decimals. */
export function hotp(key: Uint8Array, counter: number, digits = TOTP_DIGITS): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The RFC 6238 time step `at` (ms since the epoch) falls in. */
export const totpStep = (at: number): number => Math.floor(at / 1000 / TOTP_STEP_SECONDS);

/** The code an authenticator app shows at `at` for this base32 secret. */
export const totpCode = (secret: string, at: number, digits = TOTP_DIGITS): string =>
  hotp(base32Decode(secret), totpStep(at), digits);

/**
 * The step whose code `code` is, within TOTP_WINDOW steps of `at`, and later than `after` (the
 * last step this user already spent: a code works once); undefined otherwise. Every candidate is
 * computed and compared in constant time, so the answer time does not tell which step was near.
 */
export function matchTotp(secret: string, code: string, at: number, after: number | null = null): number | undefined {
  const typed = code.replace(/\s/g, '');
  if (!new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(typed)) return undefined;
  const key = base32Decode(secret);
  const now = totpStep(at);
  let found: number | undefined;
  for (let step = now - TOTP_WINDOW; step <= now + TOTP_WINDOW; step++) {
    const same = timingSafeEqual(Buffer.from(hotp(key, step)), Buffer.from(typed));
    if (same && found === undefined && (after === null || step > after)) found = step;
  }
  return found;
}

/**
 * The otpauth:// URI (Key Uri Format of Google Authenticator, which other apps follow) that an
 * app imports: label "Issuer:account", the secret, and the algorithm defaults spelled out.
 * https://github.com/google/google-authenticator/wiki/Key-Uri-Format
 */
export function otpauthUri(p: { secret: string; account: string; issuer: string }): string {
  const label = `${encodeURIComponent(p.issuer)}:${encodeURIComponent(p.account)}`;
  const query = new URLSearchParams({
    secret: p.secret,
    issuer: p.issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_STEP_SECONDS),
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}
