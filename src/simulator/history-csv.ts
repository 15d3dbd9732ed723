/**
 * The simulator's input: a treatment history, in the treatment CSV format `rebook import` reads
 * too (docs/csv-format.md, src/csv/treatments.ts), so a clinic simulates on the file it will import.
 *
 * The simulator needs client_id, appointment_id, service_name and completed_at (or date); the
 * other columns are optional, and names, status, service_id are read as import reads them (a
 * row whose status says it did not take place is skipped and listed). A file without a header row
 * is read in the HISTORY_COLUMNS order, optional trailing columns left off. For the simulator:
 *
 *   email          y/n, or the address itself (only its presence is used).
 *   phone          y/n, or the number (validated like production: an invalid number gets no SMS).
 *
 * A contact column missing from the file means "unknown" (the simulator assumes the client has
 * one); an empty cell in a column that is there means the client has none. Problems name the
 * line and the column, never the value (a history is client data).
 */
import type { RowProblem } from '../csv/records.js';
import { type CsvField, CsvFormatError, readTreatmentCsv, TREATMENT_COLUMNS } from '../csv/treatments.js';

export type { RowProblem } from '../csv/records.js';
export { parseCompletedAt, parsePrice } from '../csv/treatments.js';
/** The file cannot be read at all (e.g. a header without a required column). */
export const HistoryFormatError = CsvFormatError;

/** The columns the synthetic generator writes, and the order of a file without a header. */
export const HISTORY_COLUMNS = [
  'client_id',
  'appointment_id',
  'service_name',
  'completed_at',
  'price',
  'email',
  'phone',
  'sms_consent',
  'email_consent',
] as const;
export type HistoryColumn = (typeof HISTORY_COLUMNS)[number];
const POSITIONAL: readonly CsvField[] = [
  'clientId',
  'appointmentId',
  'service',
  'completedAt',
  'price',
  'email',
  'phone',
  'smsConsent',
  'emailConsent',
];
const REQUIRED: readonly CsvField[] = ['clientId', 'appointmentId'];

/** One completed treatment, as read from the file. */
export interface HistoryRow {
  /** Line of the file the record starts on (1-based). */
  line: number;
  clientId: string;
  appointmentId: string;
  serviceName: string;
  completedAtMs: number;
  priceCents: number | null;
  /** null: the file has no such column (unknown). */
  hasEmail: boolean | null;
  /** A number to validate, true/false for y/n, null when the file has no phone column. */
  phone: string | boolean | null;
  /** null: empty or no column (the clinic's assumed consent applies). */
  smsConsent: boolean | null;
  emailConsent: boolean | null;
}

export interface ParsedHistory {
  rows: HistoryRow[];
  problems: RowProblem[];
  header: boolean;
  /** Header columns that are not part of the format (ignored). */
  ignoredColumns: string[];
}

const YES_NO = /^(y|yes|true|1|n|no|false|0)$/i;
const yes = (v: string) => /^(y|yes|true|1)$/i.test(v);

/** Reads a history CSV; `timeZone` is the clinic's, for dates and wall times without an offset. */
export function parseHistoryCsv(text: string, timeZone: string): ParsedHistory {
  const csv = readTreatmentCsv(text, {
    timeZone,
    columns: TREATMENT_COLUMNS,
    required: REQUIRED,
    positional: POSITIONAL,
  });
  const rows: HistoryRow[] = [];
  const problems: RowProblem[] = [];
  const column = (f: CsvField) => csv.columns[f] ?? f;
  for (const r of csv.records) {
    if (r.outcome === 'not_completed') {
      problems.push({ line: r.line, message: `${column('status')} says the treatment did not take place` });
      continue;
    }
    if (r.outcome === 'problem') {
      problems.push({ line: r.line, message: r.message });
      continue;
    }
    const { row } = r;
    let hasEmail: boolean | null = null;
    if (row.email !== undefined) {
      const v = row.email;
      if (v === '') hasEmail = false;
      else if (YES_NO.test(v)) hasEmail = yes(v);
      else if (/^[^\s@]+@[^\s@]+$/.test(v)) hasEmail = true;
      else {
        problems.push({ line: r.line, message: `${column('email')}: expected y/n or an address` });
        continue;
      }
    }
    let phone: string | boolean | null = null;
    if (row.phone !== undefined) {
      const v = row.phone;
      if (v === '') phone = false;
      else if (YES_NO.test(v) && !/^\d{2,}$/.test(v)) phone = yes(v);
      else if (/^[+\d][\d\s().-]*$/.test(v)) phone = v;
      else {
        problems.push({ line: r.line, message: `${column('phone')}: expected y/n or a phone number` });
        continue;
      }
    }
    rows.push({
      line: row.line,
      clientId: row.clientId!,
      appointmentId: row.appointmentId!,
      serviceName: row.service,
      completedAtMs: row.completedAtMs,
      priceCents: row.priceCents,
      hasEmail,
      phone,
      smsConsent: row.smsConsent,
      emailConsent: row.emailConsent,
    });
  }
  return { rows, problems, header: csv.header, ignoredColumns: csv.ignoredColumns };
}
