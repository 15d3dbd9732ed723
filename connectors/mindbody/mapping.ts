/** Mindbody records → canonical events. Clients are keyed on `UniqueId` (immutable); `Id` is editable. */
import type { CanonicalEvent } from '../../src/ingest/events.js';
import { vendorInstant } from '../shared.js';
import type { ClientRecord } from '../types.js';
import { MINDBODY_NOT_BOOKED, MINDBODY_SERIES_MIN_COUNT } from './constants.js';
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
