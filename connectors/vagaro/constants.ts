/**
 * Vagaro facts we depend on. (unconfirmed) items are hypotheses from public docs; each is a named
 * constant with its source and a test. https://docs.vagaro.com/public/docs/webhooks-overview
 */

/** https://docs.vagaro.com/public/reference/generate-access-token — `{base}/{region}/api/v2/…` */
export const VAGARO_API_BASE = 'https://api.vagaro.com';

export const VAGARO_SIGNATURE_HEADER = 'x-vagaro-signature';

/** (unconfirmed) Token lifetime from `expires_in` (3600 s); renewed a minute early. */
export const VAGARO_TOKEN_EARLY_RENEW_MS = 60_000;

/** (unconfirmed) Scope string for read access to appointments and customers. */
export const VAGARO_TOKEN_SCOPE = 'read';

/**
 * `bookingStatus` values, as the webhook sends them (the "Appointments Summary" export uses
 * other words: Cancelled, In Progress, Service Completed).
 * https://docs.vagaro.com/public/docs/appointment-webhook
 */
export const VAGARO_COMPLETED = new Set(['Service Complete', 'Service Completed']);
export const VAGARO_CANCELLED = new Set(['Cancel', 'Cancelled', 'Deleted', 'Denied']);
/** The client did not come: our canonical `appointment.no_show` (issue 11), worded apart from a cancellation. */
export const VAGARO_NO_SHOW = new Set(['No Show']);
export const VAGARO_BOOKED = new Set([
  'Accepted',
  'Awaiting Confirmation',
  'Confirmed',
  'Need Acceptance',
  'Ready to Start',
  'Show',
  'Service In Progress',
  'In Progress',
]);
/** Staff time off, not a client appointment. */
export const VAGARO_IGNORED = new Set(['PersonalOff']);

export const VAGARO_EVENT_TYPES = ['appointment', 'customer'] as const;

/** (unconfirmed) Vagaro times are UTC; a timestamp that arrives without an offset is read as UTC. */
export const VAGARO_NAIVE_TIME_ZONE = 'UTC';
