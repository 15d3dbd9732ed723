/**
 * What a client-facing stage says: the template values the delivery activity renders at send time
 * and the preview renders ahead of time, from the same clinic settings. Pure.
 */
import { renderTemplate, type TemplateToken } from './templates.js';
import type { Channel, SeriesPosition } from './types.js';
import { toLocal } from './zoned-time.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Jun 3" on the clinic's calendar: how an offer's expiry reads in a message. */
export function shortLocalDate(ms: number, timeZone: string): string {
  const l = toLocal(ms, timeZone);
  return `${MONTHS[l.month - 1]} ${l.day}`;
}

/** The clinic fields a message shows. */
export interface ContentClinic {
  name: string;
  bookingUrl: string;
  address: string;
  timeZone: string;
  /** Keeps treatment names out of SMS (lock screens). */
  discreet: boolean;
  /** Keeps treatment names out of email (an email provider without a HIPAA BAA, e.g. SendGrid). */
  emailHidesTreatment?: boolean;
}

export interface StageContentInput {
  channel: Channel;
  firstName: string;
  /** The treatment type's label; absent when the type is no longer configured. */
  treatmentLabel?: string;
  /** The offer; without a code when it is no discount (credits left, a member price: core/offers.ts). */
  incentive?: { description: string; code?: string; expiresAtMs: number };
  /** When the sequence's offer expires (used for {{expiresOn}} when there is no incentive). */
  offerExpiresAtMs: number;
  unsubscribeUrl?: string;
  /** A series' between-session stage: the session it reminds for (empty tokens otherwise). */
  series?: SeriesPosition;
}

/** Values of every template token for one message. */
export function stageTemplateValues(clinic: ContentClinic, m: StageContentInput): Record<TemplateToken, string> {
  return {
    firstName: m.firstName,
    clinicName: clinic.name,
    // Discreet clinics: nothing on a lock screen says what the client had done. Email through a
    // provider without a BAA names no treatment either, unless the clinic accepts it.
    treatmentLabel:
      (m.channel === 'sms' && clinic.discreet) || (m.channel === 'email' && clinic.emailHidesTreatment)
        ? 'treatment'
        : (m.treatmentLabel ?? 'treatment'),
    providerName: clinic.name,
    bookingUrl: clinic.bookingUrl,
    incentive: m.incentive
      ? m.incentive.code
        ? `${m.incentive.description} with code ${m.incentive.code}`
        : m.incentive.description
      : '',
    expiresOn: shortLocalDate(m.incentive ? m.incentive.expiresAtMs : m.offerExpiresAtMs, clinic.timeZone),
    unsubscribeUrl: m.unsubscribeUrl ?? '',
    clinicAddress: clinic.address,
    session: m.series ? String(m.series.session) : '',
    sessions: m.series ? String(m.series.sessions) : '',
  };
}

/**
 * Whether a stage's template asks for an incentive code (the incentive stage always does). A
 * provider-side template (no body here) is only known by its stage's purpose.
 */
export function needsIncentive(purpose: string, templateBody: string | undefined): boolean {
  return purpose === 'incentive' || /\{\{\s*incentive\s*\}\}/.test(templateBody ?? '');
}

/**
 * The text of one message. A SendGrid dynamic template (`templateId`) is filled by SendGrid from
 * the same values: nothing to render here, the body stays empty.
 */
export function renderStageContent(
  template: { subject?: string; body?: string; templateId?: string },
  values: Partial<Record<TemplateToken, string>>,
): { subject?: string; body: string; templateId?: string } {
  if (template.templateId) return { body: '', templateId: template.templateId };
  return {
    ...(template.subject ? { subject: renderTemplate(template.subject, values) } : {}),
    body: renderTemplate(template.body ?? '', values),
  };
}

/**
 * The channel a stage goes out on: its own when usable, else the other one when the clinic's
 * fallback allows it and the clinic has a template for it, else none. `unusable[c]` is the reason
 * channel `c` cannot be used, or null.
 */
export function stageChannel(
  preferred: Channel,
  unusable: Record<Channel, unknown>,
  fallback: Record<Channel, string>,
  hasTemplate: (c: Channel) => boolean,
): Channel | null {
  if (!unusable[preferred]) return preferred;
  const other: Channel = preferred === 'sms' ? 'email' : 'sms';
  if (fallback[preferred] !== 'none' && !unusable[other] && hasTemplate(other)) return other;
  return null;
}
