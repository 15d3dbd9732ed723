/**
 * X-Twilio-Signature: base64(HMAC-SHA1(authToken, url + each POST param name+value, sorted by
 * name)). The URL is the one Twilio called, rebuilt from our configured public base URL (a proxy
 * in front of us changes scheme, host and port). JSON bodies carry `bodySHA256` in the URL.
 * https://www.twilio.com/docs/usage/webhooks/webhooks-security
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export function twilioSignature(authToken: string, url: string, params: Record<string, string | string[]>): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const v = params[name]!;
    // Repeated parameters: each value, in sorted order (what Twilio's own helpers do).
    for (const value of Array.isArray(v) ? [...v].sort() : [v]) data += name + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

export function verifyTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Record<string, string | string[]>,
): boolean {
  if (!signature || !authToken) return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** JSON webhooks: the signed URL carries bodySHA256, which must match the raw body. */
export function verifyTwilioJsonBody(url: string, rawBody: string): boolean {
  const hash = new URL(url).searchParams.get('bodySHA256');
  if (!hash) return false;
  const expected = Buffer.from(createHash('sha256').update(rawBody, 'utf8').digest('hex'));
  const given = Buffer.from(hash.toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
