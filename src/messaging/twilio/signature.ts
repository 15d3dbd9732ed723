/**
 * X-Twilio-Signature: base64(HMAC-SHA1(authToken, url + each POST param name+value, sorted by
 * name)). The URL is the one Twilio called, rebuilt from our configured public base URL (a proxy
 * in front of us changes scheme, host and port). JSON bodies carry `bodySHA256` in the URL.
 * https://www.twilio.com/docs/usage/webhooks/webhooks-security
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** A form body as Twilio signs it: a repeated parameter name keeps every value. */
export type TwilioParams = Record<string, string | string[]>;

export function parseTwilioForm(body: string): TwilioParams {
  const out: TwilioParams = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const seen = out[k];
    out[k] = seen === undefined ? v : [...(Array.isArray(seen) ? seen : [seen]), v];
  }
  return out;
}

/** Each parameter's first value: the fields we read (sids, status, body) are never repeated. */
export function firstValues(params: TwilioParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) out[k] = (Array.isArray(v) ? v[0] : v) ?? '';
  return out;
}

export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const v = params[name]!;
    // Repeated parameters: each distinct value, sorted (what twilio-node's validateRequest signs).
    for (const value of Array.isArray(v) ? [...new Set(v)].sort() : [v]) data += name + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/**
 * The URL with its port removed and with the scheme's default port added: Twilio signs the URL as
 * configured in the console, which may or may not name :443/:80 while the request we rebuild may
 * differ (twilio-node's validateRequest tries both forms the same way).
 */
function portVariants(url: string): string[] {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!m) return [url];
  const [, scheme, authority, rest] = m as unknown as [string, string, string, string];
  const at = authority.lastIndexOf('@');
  const userInfo = authority.slice(0, at + 1);
  const hostPort = authority.slice(at + 1);
  const colon = hostPort.indexOf(':', hostPort.lastIndexOf(']') + 1);
  const host = colon === -1 ? hostPort : hostPort.slice(0, colon);
  const withoutPort = scheme + userInfo + host + rest;
  const withPort =
    colon === -1 ? `${scheme}${userInfo}${host}${scheme.toLowerCase() === 'https://' ? ':443' : ':80'}${rest}` : url;
  return [...new Set([url, withoutPort, withPort])];
}

export function verifyTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: TwilioParams,
): boolean {
  if (!signature || !authToken) return false;
  const given = Buffer.from(signature);
  return portVariants(url).some((candidate) => {
    const expected = Buffer.from(twilioSignature(authToken, candidate, params));
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** JSON webhooks: the signed URL carries bodySHA256, which must match the raw body. */
export function verifyTwilioJsonBody(url: string, rawBody: string): boolean {
  const hash = new URL(url).searchParams.get('bodySHA256');
  if (!hash) return false;
  const expected = Buffer.from(createHash('sha256').update(rawBody, 'utf8').digest('hex'));
  const given = Buffer.from(hash.toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
