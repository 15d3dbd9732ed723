/**
 * The simulator's input: a treatment history exported from a booking platform, as CSV.
 *
 *   client_id, appointment_id, service_name, completed_at, price, email, phone, sms_consent, email_consent
 *
 * The first four columns are required, the rest optional. With a header row (a first row with a
 * `client_id` cell) columns may come in any order, unknown ones are ignored and listed, and every
 * row has the header's number of fields; without one they are read in the order above and the
 * optional trailing columns may be left off. Fields follow RFC 4180 (quotes, doubled quotes, CRLF). A row
 * that cannot be read is reported with its line number and skipped; the others are kept.
 *
 *   completed_at   2026-03-02T15:30:00Z or with an offset (exact instant); 2026-03-02T10:30 or
 *                  "2026-03-02 10:30" (clinic local time); 2026-03-02 or 3/2/2026 (local noon).
 *   price          dollars: 350, 350.00, $1,200 (quoted); empty = unknown.
 *   email          y/n, or the address itself (only its presence is used).
 *   phone          y/n, or the number (validated like production: an invalid number gets no SMS).
 *   sms_consent, email_consent   y/n/yes/no/true/false/1/0; empty = the clinic's assumed consent.
 *
 * A contact column missing from the file means "unknown" (the simulator assumes the client has
 * one); an empty cell in a column that is there means the client has none. Problems name the
 * line and the column, never the value (a history is client data).
 */
import { addDays, fromLocal } from '../core/zoned-time.js';

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
const REQUIRED: HistoryColumn[] = ['client_id', 'appointment_id', 'service_name', 'completed_at'];

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

export interface RowProblem {
  line: number;
  message: string;
}

export interface ParsedHistory {
  rows: HistoryRow[];
  problems: RowProblem[];
  header: boolean;
  /** Header columns that are not part of the format (ignored). */
  ignoredColumns: string[];
}

/** The file cannot be read at all (e.g. a header without a required column). */
export class HistoryFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistoryFormatError';
  }
}

/** Splits CSV text into records, each with the line it starts on. Quoted fields may span lines. */
export function* csvRecords(text: string): Generator<{ line: number; fields: string[] }> {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let atFieldStart = true;
    for (;;) {
      if (i >= n) {
        fields.push(field);
        break;
      }
      const c = text[i]!;
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            i++;
          }
        } else {
          if (c === '\n') line++;
          field += c;
          i++;
        }
        continue;
      }
      if (c === '"' && atFieldStart) {
        quoted = true;
        atFieldStart = false;
        i++;
      } else if (c === ',') {
        fields.push(field);
        field = '';
        atFieldStart = true;
        i++;
      } else if (c === '\n' || c === '\r') {
        fields.push(field);
        i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        break;
      } else {
        field += c;
        atFieldStart = false;
        i++;
      }
    }
    // Blank lines (and a trailing newline) are not records.
    if (fields.length === 1 && fields[0]!.trim() === '') continue;
    yield { line: startLine, fields };
  }
}

const YES = new Set(['y', 'yes', 'true', '1']);
const NO = new Set(['n', 'no', 'false', '0']);

function yesNo(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (YES.has(s)) return true;
  if (NO.has(s)) return false;
  return undefined;
}

/** Dollars to cents: "350", "350.5", "$1,200.00". */
export function parsePrice(v: string): number | undefined {
  const s = v
    .trim()
    .replace(/^\$/, '')
    .replace(/,(?=\d{3}(\D|$))/g, '');
  if (!/^\d+(\.\d{1,2})?$/.test(s)) return undefined;
  return Math.round(Number(s) * 100);
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const ISO_LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?$/;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?: (\d{1,2}):(\d{2}))?$/;

function validDate(y: number, m: number, d: number): boolean {
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1) return false;
  const back = addDays({ year: y, month: m, day: d }, 0);
  return back.month === m && back.day === d;
}

/**
 * An instant from the formats above; dates and wall times without an offset are read on the
 * clinic's clock (a date alone is taken as local noon: a treatment during opening hours).
 */
export function parseCompletedAt(v: string, timeZone: string): number | undefined {
  const s = v.trim();
  if (ISO_INSTANT.test(s)) {
    const ms = Date.parse(s);
    if (Number.isNaN(ms)) return undefined;
    const y = new Date(ms).getUTCFullYear();
    return y >= 1900 && y <= 2200 ? ms : undefined;
  }
  let y: number,
    mo: number,
    d: number,
    h = 12,
    mi = 0;
  const iso = ISO_LOCAL.exec(s);
  const us = iso ? null : US_DATE.exec(s);
  if (iso) {
    [y, mo, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    if (iso[4] !== undefined) [h, mi] = [Number(iso[4]), Number(iso[5])];
  } else if (us) {
    [mo, d, y] = [Number(us[1]), Number(us[2]), Number(us[3])];
    if (us[4] !== undefined) [h, mi] = [Number(us[4]), Number(us[5])];
  } else return undefined;
  if (!validDate(y, mo, d) || h > 23 || mi > 59) return undefined;
  return fromLocal({ year: y, month: mo, day: d, hour: h, minute: mi }, timeZone);
}

/** Reads a history CSV; `timeZone` is the clinic's, for dates and wall times without an offset. */
export function parseHistoryCsv(text: string, timeZone: string): ParsedHistory {
  const rows: HistoryRow[] = [];
  const problems: RowProblem[] = [];
  let columns: (HistoryColumn | null)[] | undefined;
  let header = false;
  const ignoredColumns: string[] = [];

  for (const { line, fields } of csvRecords(text)) {
    if (!columns) {
      const names = fields.map((f) =>
        f
          .trim()
          .toLowerCase()
          .replace(/[\s-]+/g, '_'),
      );
      if (names.includes('client_id')) {
        header = true;
        columns = names.map((name) =>
          (HISTORY_COLUMNS as readonly string[]).includes(name) ? (name as HistoryColumn) : null,
        );
        names.forEach((name, i) => {
          if (!columns![i]) ignoredColumns.push(name || `(column ${i + 1})`);
        });
        const missing = REQUIRED.filter((c) => !columns!.includes(c));
        if (missing.length)
          throw new HistoryFormatError(`line ${line}: the header lacks the required column(s) ${missing.join(', ')}`);
        const dup = columns.find((c, i) => c && columns!.indexOf(c) !== i);
        if (dup) throw new HistoryFormatError(`line ${line}: column ${dup} appears twice in the header`);
        continue;
      }
      columns = [...HISTORY_COLUMNS];
    }
    const row = readRow(line, fields, columns, header, timeZone);
    if ('message' in row) problems.push(row);
    else rows.push(row);
  }
  return { rows, problems, header, ignoredColumns };
}

function readRow(
  line: number,
  fields: string[],
  columns: (HistoryColumn | null)[],
  header: boolean,
  timeZone: string,
): HistoryRow | RowProblem {
  const fail = (message: string): RowProblem => ({ line, message });
  const headerless = !header;
  if (
    headerless ? fields.length < REQUIRED.length || fields.length > columns.length : fields.length !== columns.length
  ) {
    return fail(
      `expected ${headerless ? `${REQUIRED.length} to ${columns.length}` : columns.length} fields, found ${fields.length}`,
    );
  }
  const cell: Partial<Record<HistoryColumn, string>> = {};
  columns.forEach((c, i) => {
    if (c && i < fields.length) cell[c] = fields[i]!.trim();
  });
  const present = (c: HistoryColumn) => cell[c] !== undefined;

  for (const c of REQUIRED) if (!cell[c]) return fail(`${c} is empty`);
  const completedAtMs = parseCompletedAt(cell.completed_at!, timeZone);
  if (completedAtMs === undefined)
    return fail('completed_at is not a date (expected ISO 8601, YYYY-MM-DD or M/D/YYYY)');

  let priceCents: number | null = null;
  if (cell.price) {
    const p = parsePrice(cell.price);
    if (p === undefined) return fail('price is not an amount in dollars');
    priceCents = p;
  }

  let hasEmail: boolean | null = null;
  if (present('email')) {
    const v = cell.email!;
    const yn = yesNo(v);
    if (v === '') hasEmail = false;
    else if (yn !== undefined) hasEmail = yn;
    else if (/^[^\s@]+@[^\s@]+$/.test(v)) hasEmail = true;
    else return fail('email: expected y/n or an address');
  }

  let phone: string | boolean | null = null;
  if (present('phone')) {
    const v = cell.phone!;
    const yn = yesNo(v);
    if (v === '') phone = false;
    else if (yn !== undefined && !/^\d{2,}$/.test(v)) phone = yn;
    else if (/^[+\d][\d\s().-]*$/.test(v)) phone = v;
    else return fail('phone: expected y/n or a phone number');
  }

  const consent = (c: 'sms_consent' | 'email_consent'): boolean | null | RowProblem => {
    const v = cell[c];
    if (v === undefined || v === '') return null;
    const yn = yesNo(v);
    return yn === undefined ? fail(`${c}: expected y/n`) : yn;
  };
  const smsConsent = consent('sms_consent');
  if (smsConsent !== null && typeof smsConsent === 'object') return smsConsent;
  const emailConsent = consent('email_consent');
  if (emailConsent !== null && typeof emailConsent === 'object') return emailConsent;

  return {
    line,
    clientId: cell.client_id!,
    appointmentId: cell.appointment_id!,
    serviceName: cell.service_name!,
    completedAtMs,
    priceCents,
    hasEmail,
    phone,
    smsConsent,
    emailConsent,
  };
}
