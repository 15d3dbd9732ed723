/**
 * Twilio error codes and what they mean for a client's SMS channel.
 * https://www.twilio.com/docs/api/errors
 */
import type { ProviderFailure } from '../types.js';

/** Synchronous (REST) errors that mean the number can never receive our SMS. */
export const UNDELIVERABLE_SEND_CODES = new Set(['21211', '21614', '21635']); // invalid To; not a mobile; landline
/** The recipient replied STOP earlier: Twilio blocks the send. */
export const OPTED_OUT_CODE = '21610';
/** Delivery (status callback) errors that mean the number is unreachable for good. */
export const UNDELIVERABLE_DELIVERY_CODES = new Set(['30003', '30005', '30006']); // unreachable; unknown destination; landline/unreachable carrier
/** Carrier filtering: a human should look at the content or the registration; no automatic retry. */
export const FILTERED_DELIVERY_CODE = '30007';

/** Maps a REST failure (HTTP status, Twilio code) to what the ledger should do. */
export function classifySendFailure(
  httpStatus: number | undefined,
  code: number | string | undefined,
): ProviderFailure {
  const c = code === undefined ? '' : String(code);
  if (c === OPTED_OUT_CODE) return 'opted_out';
  if (UNDELIVERABLE_SEND_CODES.has(c)) return 'undeliverable';
  if (httpStatus === undefined || httpStatus === 429 || httpStatus >= 500) return 'retryable';
  return 'rejected';
}
