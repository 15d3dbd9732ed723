/** Mindbody records → canonical events. Clients are keyed on `UniqueId` (immutable); `Id` is editable. */
import type { CanonicalEvent } from '../../src/ingest/events.js';
import { vendorInstant } from '../shared.js';
import type { ClientRecord } from '../types.js';
import { MINDBODY_NOT_BOOKED, MINDBODY_PACKAGE_PLAN, MINDBODY_SERIES_MIN_COUNT } from './constants.js';
import type { ApiAppointment, ApiClient, ApiClientService } from './schemas.js';

const blank = (s: string | null | undefined) => (s?.trim() ? s.trim() : null);
const plausibleEmail = (s: string | null) => (s && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s) ? s : null);

export function clientRecord(c: ApiClient): ClientRecord {
  return {
    id: c.UniqueId,
    // Mindbody requires a first name; a blank one reads as "Hi there" rather than failing the event.
    firstName: blank(c.FirstName) ?? 'there',
    lastName: blank(c.LastName) ?? '',
    email: plausibleEmail(blank(c.Email)),
    phone: blank(c.MobilePhone),
    // Marketing consent: the promotional flags, not the account/schedule ones.
    consent: { sms: c.SendPromotionalTexts === true, email: c.SendPromotionalEmails === true },
  };
}

/** Completed treatment: `Completed`, or `Arrived` once the appointment has ended. */
export function isCompleted(
  a: { Status: string; EndDateTime?: string | null },
  timeZone: string,
  nowMs: number,
): boolean {
  if (a.Status === 'Completed') return true;
  return a.Status === 'Arrived' && !!a.EndDateTime && Date.parse(vendorInstant(a.EndDateTime, timeZone)) <= nowMs;
}

export function isLiveBooking(status: string | null | undefined): boolean {
  return !!status && !MINDBODY_NOT_BOOKED.has(status) && status !== 'Completed';
}

/**
 * The session a visit was, from the pricing option that paid for it: `Count - Remaining` of
 * `Count` (see MINDBODY_SERIES_MIN_COUNT). Undefined when the option is no course or says nothing.
 */
export function seriesFromPricingOption(
  cs: Pick<ApiClientService, 'Count' | 'Remaining'> | undefined,
): { session: number; sessions: number } | undefined {
  if (!cs || cs.Count == null || cs.Remaining == null || cs.Count < MINDBODY_SERIES_MIN_COUNT) return undefined;
  const session = cs.Count - cs.Remaining;
  return session >= 1 && session <= cs.Count ? { session, sessions: cs.Count } : undefined;
}

export function treatmentEvent(
  a: ApiAppointment,
  c: ApiClient,
  serviceName: string,
  timeZone: string,
  occurredAt: string | undefined,
  nowMs: number,
  series?: { session: number; sessions: number },
): CanonicalEvent {
  const end = a.EndDateTime ? vendorInstant(a.EndDateTime, timeZone) : vendorInstant(a.StartDateTime, timeZone);
  // Marked complete before its scheduled end: the treatment happened by now, not in the future.
  const completedAt = new Date(Math.min(Date.parse(end), nowMs)).toISOString();
  return {
    type: 'treatment.completed',
    ...(occurredAt ? { occurredAt } : {}),
    client: clientRecord(c),
    appointmentId: a.Id,
    service: { id: a.SessionTypeId ?? null, name: serviceName },
    completedAt,
    ...(series ? { series } : {}),
  };
}

/**
 * A client's package credits (issue 14 §3) from their pricing options: each option active now
 * (`ActiveDate` passed, `ExpirationDate` not), not returned, with `Remaining` > 0 becomes credits
 * for the service its `Name` names — classified at ingest with the clinic's mapping, so an option
 * matching no treatment type (a class card, a retail voucher) is dropped there. `Current` is not
 * relied on (unconfirmed what it means beyond this). An option without `Remaining` (an unlimited
 * one) gives no credits. Contracts' discounts (autopay memberships) are not read.
 *
 * One plan for all options: its end is the earliest expiry among them (unconfirmed whether
 * Mindbody's expiration day is still usable: taken as not). Ending early errs toward a normal
 * offer rather than "your credit is waiting" for a credit gone; the next read puts the rest back.
 * No credits left: the plan is sent expired, so credits stored earlier stop counting.
 */
export function packageCreditsEvent(
  options: ApiClientService[],
  clientId: string,
  timeZone: string,
  nowMs: number,
  occurredAt: string | undefined,
): CanonicalEvent {
  const at = (s: string | null | undefined) => (s ? Date.parse(vendorInstant(s, timeZone)) : undefined);
  const live = options.filter((o) => {
    const from = at(o.ActiveDate);
    const until = at(o.ExpirationDate);
    return (
      !o.Returned &&
      (o.Remaining ?? 0) > 0 &&
      !!o.Name?.trim() &&
      (from === undefined || from <= nowMs) &&
      (until === undefined || until > nowMs)
    );
  });
  const ends = live.map((o) => at(o.ExpirationDate)).filter((t): t is number => t !== undefined);
  return {
    type: 'client.membership',
    ...(occurredAt ? { occurredAt } : {}),
    clientId,
    plan: {
      id: MINDBODY_PACKAGE_PLAN.id,
      kind: 'package',
      name: MINDBODY_PACKAGE_PLAN.name,
      status: live.length ? 'active' : 'expired',
      renewsAt: null,
      endsAt: ends.length ? new Date(Math.min(...ends)).toISOString() : null,
      // The option's own id is no session type id: the name alone is classified.
      benefits: live
        .slice(0, 100)
        .map((o) => ({ service: { id: null, name: o.Name!.trim() }, creditsLeft: Math.min(o.Remaining!, 1000) })),
    },
  };
}
