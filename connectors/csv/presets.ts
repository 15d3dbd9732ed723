/**
 * Column presets for appointment exports. (unconfirmed) Header names come from public help
 * articles and sample exports; each field lists the headers tried in order (case-, space- and
 * underscore-insensitive, src/csv/treatments.ts),
 * and `--map field=Header` overrides any of them for a file that differs.
 * Jane: https://jane.app/guide/reports/appointments-report
 * Mindbody: https://support.mindbodyonline.com/s/article/203261653-Appointments-report
 * Vagaro: https://support.vagaro.com/hc/en-us/articles/360019955033-Appointments-Summary-Report
 * Boulevard and Zenoti: their report column names are not in the reference material these were
 * written from (unconfirmed throughout); the client id column must be the id their APIs and
 * webhooks use (Boulevard's client URN, Zenoti's guest GUID) for imported clients to match.
 */

import { type ColumnPreset, CSV_FIELDS, type CsvField, TREATMENT_COLUMNS } from '../../src/csv/treatments.js';

export const CSV_FORMATS = ['jane', 'mindbody', 'vagaro', 'boulevard', 'zenoti', 'generic'] as const;
export type CsvFormat = (typeof CSV_FORMATS)[number];

export const presets: Record<CsvFormat, ColumnPreset> = {
  jane: {
    appointmentId: ['Appointment ID', 'Appointment Id'],
    clientId: ['Patient ID', 'Patient Id', 'Patient Number'],
    firstName: ['Patient First Name', 'First Name', 'Preferred Name'],
    lastName: ['Patient Last Name', 'Last Name'],
    fullName: ['Patient', 'Patient Name'],
    email: ['Patient Email', 'Email'],
    phone: ['Patient Mobile Phone', 'Mobile Phone', 'Phone'],
    service: ['Treatment', 'Treatment Name'],
    date: ['Date', 'Appointment Date'],
    time: ['Start Time', 'Time'],
    completedAt: ['Start At', 'Start'],
    status: ['State', 'Status'],
    price: ['Price', 'Fee'],
    emailConsent: ['Email Marketing', 'Send Marketing Emails'],
  },
  mindbody: {
    appointmentId: ['Appointment ID', 'Visit ID'],
    // Webhooks and the API key Mindbody clients on the immutable UniqueId; an export that carries
    // it matches them. (unconfirmed) header names of that column.
    clientId: ['Unique ID', 'UniqueID', 'Unique Id', 'Client Unique ID', 'Unique Client ID'],
    // The "Client ID" most exports carry is editable by the business and is not the UniqueId.
    editableClientId: ['Client ID', 'ID'],
    firstName: ['First Name', 'Client First Name'],
    lastName: ['Last Name', 'Client Last Name'],
    fullName: ['Client', 'Client Name'],
    email: ['Email', 'Client Email'],
    phone: ['Mobile Phone', 'Cell Phone', 'Phone'],
    service: ['Appointment Type', 'Session Type', 'Service'],
    serviceId: ['Session Type ID'],
    date: ['Date', 'Appointment Date'],
    time: ['Start Time', 'Time'],
    status: ['Status', 'Appointment Status'],
    price: ['Price', 'Amount'],
    smsConsent: ['Send Promotional Texts', 'Promotional Texts'],
    emailConsent: ['Send Promotional Emails', 'Promotional Emails'],
  },
  vagaro: {
    appointmentId: ['Appointment ID', 'Appt ID'],
    clientId: ['Customer ID'],
    firstName: ['Customer First Name', 'First Name'],
    lastName: ['Customer Last Name', 'Last Name'],
    fullName: ['Customer', 'Customer Name'],
    email: ['Email', 'Customer Email'],
    phone: ['Cell Phone', 'Mobile Phone', 'Phone'],
    service: ['Service', 'Service Title'],
    date: ['Appointment Date', 'Date'],
    time: ['Start Time', 'Time'],
    status: ['Status', 'Booking Status'],
    price: ['Amount', 'Price', 'Service Price'],
  },
  // (unconfirmed) Boulevard's Appointments report; its state FINAL means checked out.
  boulevard: {
    appointmentId: ['Appointment ID', 'Appointment Id'],
    clientId: ['Client ID', 'Client Id'],
    firstName: ['Client First Name', 'First Name'],
    lastName: ['Client Last Name', 'Last Name'],
    fullName: ['Client', 'Client Name'],
    email: ['Client Email', 'Email'],
    phone: ['Client Mobile Phone', 'Mobile Phone', 'Phone'],
    service: ['Service', 'Service Name'],
    serviceId: ['Service ID'],
    date: ['Appointment Date', 'Date'],
    time: ['Start Time', 'Time'],
    status: ['Appointment State', 'State', 'Status'],
    price: ['Service Price', 'Price'],
  },
  // (unconfirmed) Zenoti's appointment report, one center per export; Closed means checked out.
  zenoti: {
    appointmentId: ['Appointment ID', 'Appointment Id'],
    clientId: ['Guest ID', 'Guest Id'],
    firstName: ['Guest First Name', 'First Name'],
    lastName: ['Guest Last Name', 'Last Name'],
    fullName: ['Guest Name', 'Guest'],
    email: ['Guest Email', 'Email'],
    phone: ['Guest Mobile', 'Mobile Phone', 'Phone'],
    service: ['Service', 'Service Name'],
    serviceId: ['Service Code', 'Service ID'],
    date: ['Appointment Date', 'Date'],
    time: ['Start Time', 'Time'],
    status: ['Status', 'Appointment Status'],
    price: ['Sale Price', 'Price', 'Service Price'],
  },
  // The treatment CSV format `rebook simulate` reads too (docs/csv-format.md).
  generic: TREATMENT_COLUMNS,
};

/**
 * Clients keyed on an editable platform id (no `clientId` column) are kept apart under this
 * prefix: an editable Mindbody Client ID can equal another person's UniqueId, and must never be
 * taken for it.
 */
export const EDITABLE_ID_PREFIX: Partial<Record<CsvFormat, string>> = { mindbody: 'mindbody-client-id:' };

/** What the import says when it has to key clients on an editable id (README: Booking platforms → CSV). */
export function editableIdWarning(format: CsvFormat, header: string): string {
  return [
    `warning: this ${format} export has no unique client id column, so clients are keyed on the editable "${header}" (as ${EDITABLE_ID_PREFIX[format] ?? ''}<id>).`,
    `  They will NOT match the clients Rebook hears of through ${format} webhooks and polling (keyed on UniqueId): a booking seen there does not stop a sequence enrolled from this file, and the booking check falls back to bookings Rebook received.`,
    `  Fix: add a column with each client's UniqueId (the id Mindbody's API and webhooks use; a client list export or the API gives it), then --map clientId=<that header>.`,
  ].join('\n');
}

/** `field=Header,field=Header` → overrides on top of a preset. */
export function parseMapping(spec: string | undefined): ColumnPreset {
  if (!spec) return {};
  const out: ColumnPreset = {};
  for (const part of spec.split(',')) {
    const [k, ...rest] = part.split('=');
    const field = k?.trim() as CsvField;
    if (!(CSV_FIELDS as readonly string[]).includes(field) || rest.length === 0)
      throw new Error(`--map: "${part}" is not field=Header (fields: ${CSV_FIELDS.join(', ')})`);
    out[field] = [rest.join('=').trim()];
  }
  return out;
}
