/**
 * A clinic's effective configuration as the settings page shows it: what the loader resolved
 * (built-in defaults < agency defaults < clinic file) in plain words, and the loader's warnings
 * for this clinic. Pure: no secrets are read (credentials are env-var names and are not shown).
 */

import { type ConfigProblem, type LoadedConfig, treatmentTypesFor } from '../../config/load.js';
import { capRulesFor, emailHidesTreatment, sendWindowFor } from '../../config/messaging.js';
import type { ClinicConfig } from '../../config/schema.js';
import { describeRule } from '../../core/caps.js';
import { WEEKDAY_NAMES } from '../../core/send-window.js';
import type { StageDefinition } from '../../core/types.js';
import { warningsFor } from './agency-overview.js';

export interface ClinicSettings {
  clinicId: string;
  clinicName: string;
  agencyName: string | null;
  file: string | null;
  timeZone: string;
  sendTime: string;
  sendWindow: { days: string; start: string; end: string };
  caps: string[];
  treatmentTypes: { key: string; label: string; intervalDays: number; stages: StageDefinition[] }[];
  channels: { channel: string; provider: string; fallback: string }[];
  templates: { name: string; channels: string[] }[];
  booking: { platform: string; url: string; pollIntervalMinutes: number | null };
  consent: string[];
  warnings: ConfigProblem[];
}

const DAY_NAMES: Record<(typeof WEEKDAY_NAMES)[number], string> = {
  sun: 'Sun',
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
};

/** [0..6] as "Every day", "Mon–Fri", or a list. */
export function describeDays(days: number[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  if (sorted.length === 7) return 'Every day';
  const name = (d: number) => DAY_NAMES[WEEKDAY_NAMES[d]!];
  const consecutive = sorted.every((d, i) => i === 0 || d === sorted[i - 1]! + 1);
  if (consecutive && sorted.length > 2) return `${name(sorted[0]!)}–${name(sorted.at(-1)!)}`;
  return sorted.map(name).join(', ');
}

export function clinicSettings(config: LoadedConfig, clinic: ClinicConfig): ClinicSettings {
  const window = sendWindowFor(clinic);
  const twilio = clinic.providers.twilio;
  const sendgrid = clinic.providers.sendgrid;
  const consent = [
    `Clients without a consent flag from the booking platform are assumed to accept email: ${(clinic.connector?.assumedConsent.email ?? true) ? 'yes' : 'no'}; texts: ${(clinic.connector?.assumedConsent.sms ?? false) ? 'yes' : 'no'}.`,
    'An opt-out (STOP, unsubscribe link or staff) stops that channel for the client at once.',
    clinic.discreet ? 'Texts never name the treatment (discreet).' : 'Texts may name the treatment.',
    emailHidesTreatment(clinic)
      ? 'Emails say “treatment” instead of its name (SendGrid signs no HIPAA BAA).'
      : 'Emails may name the treatment.',
  ];
  return {
    clinicId: clinic.id,
    clinicName: clinic.name,
    agencyName: clinic.agency ? (config.agencies.get(clinic.agency)?.name ?? clinic.agency) : null,
    file: config.clinicFiles.get(clinic.id) ?? null,
    timeZone: clinic.timeZone,
    sendTime: clinic.sendTime,
    sendWindow: { days: describeDays(window.days), start: window.start, end: window.end },
    caps: capRulesFor(clinic).map(describeRule),
    treatmentTypes: [...treatmentTypesFor(config, clinic)].map(([key, t]) => ({
      key,
      label: t.label,
      intervalDays: t.intervalDays,
      stages: [...t.stages].sort((a, b) => a.day - b.day),
    })),
    channels: [
      {
        channel: 'Text (SMS)',
        provider: twilio
          ? `Twilio (${twilio.messagingServiceSid ? 'messaging service' : 'own number'})`
          : 'None: texts stay in the outbox',
        fallback: clinic.fallback.sms === 'email' ? 'email' : 'none',
      },
      {
        channel: 'Email',
        provider: sendgrid
          ? `SendGrid from ${sendgrid.from}${sendgrid.sandbox ? ' (sandbox)' : ''}`
          : 'None: emails stay in the outbox',
        fallback: clinic.fallback.email === 'sms' ? 'text' : 'none',
      },
    ],
    templates: Object.entries(clinic.templates)
      .map(([name, t]) => ({ name, channels: Object.keys(t).filter((k) => t[k as keyof typeof t] !== undefined) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    booking: {
      platform: clinic.platform,
      url: clinic.bookingUrl,
      pollIntervalMinutes: clinic.platform === 'generic' ? null : (clinic.connector?.pollIntervalMinutes ?? 15),
    },
    consent,
    warnings: warningsFor(config, clinic.id),
  };
}
