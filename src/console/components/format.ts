import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** Dates and labels as people read them, on the clinic's calendar. */

// Building an Intl.DateTimeFormat costs far more than formatting with one: a call list formats
// hundreds of dates per page, so one formatter per kind and zone is kept.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: string, timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone, ...options });
    formatters.set(key, f);
  }
  return f;
}

const DATE: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric', year: 'numeric' };
const DATE_TIME: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' };

export function formatDate(d: Date | null | undefined, timeZone: string): string {
  if (!d) return '—';
  return formatter('en-US', timeZone, DATE).format(d);
}

export function formatDateTime(d: Date | null | undefined, timeZone: string): string {
  if (!d) return '—';
  return formatter('en-US', timeZone, DATE_TIME).format(d);
}

/** "3 days ago", "in 2 days", "today". */
export function relativeDays(d: Date, now: Date): string {
  const days = Math.round((d.getTime() - now.getTime()) / 86_400_000);
  if (days === 0) return 'today';
  if (days === -1) return 'yesterday';
  if (days === 1) return 'tomorrow';
  return days < 0 ? `${-days} days ago` : `in ${days} days`;
}

/** The clinic-calendar date (YYYY-MM-DD) of an instant. */
export function localDate(d: Date, timeZone: string): string {
  return formatter('en-CA', timeZone, {}).format(d);
}

export const humanize = (s: string) => (s.charAt(0).toUpperCase() + s.slice(1)).replace(/_/g, ' ');

/** Why a task is on the call list, in the front desk's words. */
export const taskReasonLabels: Record<string, string> = {
  no_response: 'No response to the sequence',
  no_usable_channel: 'No usable channel (no consent or address)',
  undeliverable: 'Messages undeliverable',
  sms_filtered: 'Texts blocked by the carrier',
  hot_lead: 'Hot lead: wants to book',
  reply_needs_human: 'Reply needs a human',
  reply_opt_out_review: 'Opted out in a reply: check',
  appointment_change: 'Wants to change an appointment',
};

/** Most urgent first: people waiting on us, then undeliverable, then no response. */
export const taskReasonRank: Record<string, number> = {
  hot_lead: 0,
  appointment_change: 1,
  reply_needs_human: 2,
  reply_opt_out_review: 3,
  undeliverable: 4,
  sms_filtered: 4,
  no_usable_channel: 5,
  no_response: 6,
};

export const intentLabels: Record<string, string> = {
  opt_out: 'Opt-out (STOP): texts stopped',
  opt_out_free_text: 'Opt-out in words: texts stopped, task raised',
  opt_in: 'Opted back in',
  help: 'Asked for help: help text sent',
  snooze: '"Not now": sequence snoozed',
  hot_lead: 'Hot lead: task raised',
  appointment_change: 'Appointment change: task raised',
  other: 'Needs a human: task raised',
};

/** Sequence stages in plain words. */
export const stageLabels: Record<string, string> = {
  reminder: 'Reminder',
  incentive: 'Incentive',
  results_checkin: 'Results check-in',
  staff_escalation: 'Staff call',
  reactivation: 'Reactivation',
  staff_reply: 'Staff reply',
  enrolled: 'Enrolled',
  // Care touches (catalog keys; a clinic's own keys fall back to plain words).
  care_checkin: 'Day-1 check-in',
  care_swelling: 'Post-care check-in',
  care_aftercare: 'Aftercare tips',
  care_results: 'Results message',
  care_results_photo: 'Results photo check-in',
  // After a booking lapsed, and for non-responders.
  recovery_cancelled: 'New time after a cancellation',
  recovery_no_show: 'New time after a missed visit',
  visit_check: 'Visit check',
  winback_1: 'Win-back 1',
  winback_2: 'Win-back 2',
  snooze_reactivation: 'After the snooze',
  // Treatment series, between sessions.
  series_reminder: 'Next-session reminder',
  series_sms: 'Next-session text',
  series_staff: 'Next-session call',
  before_first_touch: 'Before the first touch',
  window_close: 'End of the window',
};
export const stageLabel = (stage: string) => stageLabels[stage] ?? humanize(stage);

/** A phone number as people dial it ("(212) 555-0123" at home, international otherwise). */
export function formatPhone(e164: string, country = 'US'): string {
  const p = parsePhoneNumberFromString(e164);
  if (!p) return e164;
  return p.country === country ? p.formatNational() : p.formatInternational();
}
