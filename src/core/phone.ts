/**
 * Phone numbers: parsed with the clinic's default country, stored and sent as E.164. Anything
 * that does not parse as a valid number never reaches Twilio. libphonenumber-js cannot tell US
 * landlines from mobiles (FIXED_LINE_OR_MOBILE): Twilio's 21614/30006 tells us later.
 */
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** A known fixed line still has an E.164 form (stored as such); an invalid number has none. */
export type PhoneCheck =
  | { ok: true; e164: string }
  | { ok: false; reason: 'not_mobile'; e164: string }
  | { ok: false; reason: 'invalid_number' };

export function normalizePhone(input: string, defaultCountry: string): PhoneCheck {
  const parsed = parsePhoneNumberFromString(input, { defaultCountry: defaultCountry as CountryCode, extract: false });
  if (!parsed?.isValid()) return { ok: false, reason: 'invalid_number' };
  const type = parsed.getType();
  // Only numbers known to be fixed lines are refused here; "fixed line or mobile" gets a chance.
  if (
    type === 'FIXED_LINE' ||
    type === 'TOLL_FREE' ||
    type === 'PREMIUM_RATE' ||
    type === 'SHARED_COST' ||
    type === 'VOICEMAIL'
  )
    return { ok: false, reason: 'not_mobile', e164: parsed.number };
  return { ok: true, e164: parsed.number };
}
