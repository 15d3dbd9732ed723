/**
 * The treatment CSV: the one file format `rebook import` and `rebook simulate` read (docs/csv-format.md).
 * A row is one completed treatment; columns are found by header (TREATMENT_COLUMNS, or a booking
 * platform's preset in connectors/csv/presets.ts), and every cell is checked by one zod schema.
 * A row that cannot be read is reported with its line and the column at fault, never the value:
 * a treatment history is client data.
 */
import { z } from 'zod';
import { addDays, fromLocal } from '../core/zoned-time.js';
import { type CsvRecord, readCsvRecords } from './records.js';

/** What a column can mean. `--map field=Header` names fields this way. */
export const CSV_FIELDS = [
  'appointmentId',
  'clientId',
  'editableClientId',
  'firstName',
  'lastName',
  'fullName',
  'email',
  'phone',
  'service',
  'serviceId',
  'date',
  'time',
  'completedAt',
  'status',
  'price',
  'smsConsent',
  'emailConsent',
] as const;
export type CsvField = (typeof CSV_FIELDS)[number];
/** The headers tried for each field, in order (compared case-, space-, `_`- and `-`-insensitively). */
export type ColumnPreset = Partial<Record<CsvField, string[]>>;

/**
 * The documented columns (first name of each list) and the older names still read: `service`
 * (import's generic format before 2026-06), `service_name` is what the simulator always read.
 */
export const TREATMENT_COLUMNS = {
  clientId: ['client_id'],
  appointmentId: ['appointment_id'],
  service: ['service_name', 'service'],
  serviceId: ['service_id'],
  completedAt: ['completed_at'],
  date: ['date'],
  time: ['time'],
  status: ['status'],
  firstName: ['first_name'],
  lastName: ['last_name'],
  fullName: ['full_name', 'name'],
  email: ['email'],
  phone: ['phone'],
  smsConsent: ['sms_consent'],
  emailConsent: ['email_consent'],
  price: ['price'],
} satisfies ColumnPreset;

/** Status words that mean "the treatment happened", across platforms' exports (lower-cased). */
export const COMPLETED_STATUSES = new Set([
  'completed',
  'complete',
  'arrived',
  'checked out',
  'checked-out',
  'service completed',
  'service complete',
  'show',
  'attended',
  'paid',
  // Boulevard's checked-out state and Zenoti's closed appointment (both: the visit was checked out).
  'final',
  'closed',
]);

/** The file cannot be read at all: no header with the needed columns, a column named twice. */
export class CsvFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvFormatError';
  }
}

const YES = new Set(['y', 'yes', 'true', '1', 'opted in', 'opted-in', 'subscribed']);
const NO = new Set(['n', 'no', 'false', '0', 'opted out', 'opted-out', 'unsubscribed']);

/** y/yes/true/1 (and the opt-in words of platform exports) → true; their opposites → false. */
export function parseYesNo(v: string): boolean | undefined {
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

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const DATE = /^(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})\/(\d{1,2})\/(\d{4}|\d{2}))(?:(?:T|\s+)(.+))?$/;
const CLOCK = /^(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d{1,9})?)?(?:\s*([ap])\.?m\.?)?$/i;

function validDate(y: number, m: number, d: number): boolean {
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1) return false;
  const back = addDays({ year: y, month: m, day: d }, 0);
  return back.month === m && back.day === d;
}

/** Hour and minute of "14:30", "9:30 AM", "09:30:00"; undefined when it is not a time of day. */
function clock(v: string): { hour: number; minute: number } | undefined {
  const c = CLOCK.exec(v.trim());
  if (!c) return undefined;
  const [h, minute] = [Number(c[1]), Number(c[2])];
  if (minute > 59 || (c[3] ? h < 1 || h > 12 : h > 23)) return undefined;
  return { hour: c[3] ? (h % 12) + (c[3].toLowerCase() === 'p' ? 12 : 0) : h, minute };
}

/**
 * An instant from a date (and a time, inline or from its own column). An offset or Z makes it
 * exact; otherwise it is read on the clinic's clock, and a date alone is local noon (a treatment
 * during opening hours). Dates: 2026-03-02, 3/2/2026, 3/2/26 (US order); times: 14:30, 2:30 PM.
 */
export function parseDateTime(date: string, time: string | undefined, timeZone: string): number | undefined {
  const s = date.trim();
  if (ISO_INSTANT.test(s)) {
    const ms = Date.parse(s.replace(' ', 'T'));
    if (Number.isNaN(ms)) return undefined;
    const y = new Date(ms).getUTCFullYear();
    return y >= 1900 && y <= 2200 ? ms : undefined;
  }
  const m = DATE.exec(s);
  if (!m) return undefined;
  const [year, month, day] = m[1]
    ? [Number(m[1]), Number(m[2]), Number(m[3])]
    : [m[6]!.length === 2 ? 2000 + Number(m[6]) : Number(m[6]), Number(m[4]), Number(m[5])];
  if (!validDate(year, month, day)) return undefined;
  const clockText = time?.trim() || m[7];
  const at = clockText ? clock(clockText) : { hour: 12, minute: 0 };
  if (!at) return undefined;
  return fromLocal({ year, month, day, ...at }, timeZone);
}

/** parseDateTime for one cell holding the date and maybe the time (`completed_at`). */
export function parseCompletedAt(v: string, timeZone: string): number | undefined {
  return parseDateTime(v, undefined, timeZone);
}

/** One row's cells by field; undefined: the file has no such column. `{col}` in messages is the column's header. */
type Cells = Partial<Record<Exclude<CsvField, 'date' | 'time' | 'completedAt'>, string>> & {
  when: { date?: string; time?: string };
};

const DATE_EXPECTED = '(expected ISO 8601, YYYY-MM-DD or M/D/YYYY)';

/** The row schema both commands read with; `required` fields must have a column and a value. */
export function treatmentRowSchema(o: { timeZone: string; required: readonly CsvField[] }) {
  const empty = '{col} is empty';
  const text = (f: CsvField) =>
    o.required.includes(f)
      ? z.string({ error: empty }).min(1, empty)
      : z
          .string()
          .optional()
          .transform((v) => v || undefined);
  const flag = z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return null;
      const yn = parseYesNo(v);
      if (yn === undefined) ctx.addIssue({ code: 'custom', message: '{col}: expected y/n' });
      return yn ?? null;
    });
  return z.object({
    clientId: text('clientId'),
    editableClientId: text('editableClientId'),
    appointmentId: text('appointmentId'),
    service: z.string({ error: empty }).min(1, empty),
    serviceId: text('serviceId'),
    when: z.object({ date: z.string().optional(), time: z.string().optional() }).transform((v, ctx) => {
      if (!v.date) {
        ctx.addIssue({ code: 'custom', message: empty });
        return z.NEVER;
      }
      const ms = parseDateTime(v.date, v.time, o.timeZone);
      if (ms !== undefined) return ms;
      const timeAtFault = v.time && parseDateTime(v.date, undefined, o.timeZone) !== undefined;
      if (timeAtFault)
        ctx.addIssue({ code: 'custom', path: ['time'], message: '{col} is not a time (expected 14:30 or 2:30 PM)' });
      else ctx.addIssue({ code: 'custom', message: `{col} is not a date ${DATE_EXPECTED}` });
      return z.NEVER;
    }),
    price: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (!v) return null;
        const cents = parsePrice(v);
        if (cents === undefined) ctx.addIssue({ code: 'custom', message: '{col} is not an amount in dollars' });
        return cents ?? null;
      }),
    firstName: text('firstName'),
    lastName: text('lastName'),
    fullName: text('fullName'),
    // As written ('' = the column is there and empty): what an address must look like differs
    // between import (a real address) and simulate (y/n will do).
    email: z.string().optional(),
    phone: z.string().optional(),
    smsConsent: flag,
    emailConsent: flag,
  });
}

/** One completed treatment, as read from the file. */
export type TreatmentRow = Omit<z.output<ReturnType<typeof treatmentRowSchema>>, 'when' | 'price'> & {
  /** 1-based line the record starts on. */
  line: number;
  completedAtMs: number;
  priceCents: number | null;
};

/** What became of each record, in file order. */
export type TreatmentRecord =
  | { line: number; outcome: 'row'; row: TreatmentRow }
  | { line: number; outcome: 'not_completed'; service?: string }
  | { line: number; outcome: 'problem'; message: string; service?: string };

export interface TreatmentCsv {
  /** false: a headerless file read in `positional` order. */
  header: boolean;
  /** The header each field was found under (a positional file: its first name in the preset). */
  columns: Partial<Record<CsvField, string>>;
  /** Header cells that no field uses (ignored). */
  ignoredColumns: string[];
  records: TreatmentRecord[];
}

export interface TreatmentCsvOptions {
  /** The clinic's zone, for dates and times without an offset. */
  timeZone: string;
  /** Headers tried per field: TREATMENT_COLUMNS or a platform preset (with `--map` overrides). */
  columns: ColumnPreset;
  /** Fields that must have a column and a value (service and a date always must). */
  required?: readonly CsvField[];
  /** A file whose first row names none of the columns is read in this order (else it must have a header). */
  positional?: readonly CsvField[];
  /** Appended to "the header has no … column" (e.g. how to name it with --map). */
  missingColumnHint?: string;
}

const normalise = (h: string) =>
  h
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '_');

/** Reads a treatment CSV; rows, rows skipped as not completed, and problems, each with its line. */
export function readTreatmentCsv(text: string, o: TreatmentCsvOptions): TreatmentCsv {
  const required = o.required ?? [];
  const { records: raw, problems: syntax } = readCsvRecords(text);
  const [first, ...rest] = raw;
  const fieldIndex = new Map<CsvField, number>();
  const columns: Partial<Record<CsvField, string>> = {};
  const ignoredColumns: string[] = [];
  const names = (first?.fields ?? []).map(normalise);
  const known = new Set(Object.values(o.columns).flatMap((cs) => cs.map(normalise)));
  const header = !o.positional || names.some((n) => known.has(n));
  let body: CsvRecord[];
  let fieldCount: { min: number; max: number };

  if (header) {
    const line = first?.line ?? 1;
    for (const [field, candidates] of Object.entries(o.columns) as [CsvField, string[]][]) {
      const i = candidates.map((c) => names.indexOf(normalise(c))).find((x) => x >= 0);
      if (i === undefined) continue;
      if (names.indexOf(names[i]!, i + 1) >= 0)
        throw new CsvFormatError(`line ${line}: column ${first!.fields[i]!.trim()} appears twice in the header`);
      fieldIndex.set(field, i);
      columns[field] = first!.fields[i]!.trim();
    }
    const used = new Set(fieldIndex.values());
    names.forEach((n, i) => {
      if (!used.has(i)) ignoredColumns.push(n || `(column ${i + 1})`);
    });
    const missing = [...new Set<CsvField>(['service', ...required])].filter((f) => !fieldIndex.has(f));
    if (!fieldIndex.has('completedAt') && !fieldIndex.has('date')) missing.push('completedAt');
    if (missing.length) {
      const wanted = missing.map((f) => {
        const c =
          (f === 'completedAt' ? [...(o.columns.completedAt ?? []), ...(o.columns.date ?? [])] : o.columns[f]) ?? [];
        return c.length ? c.join(' or ') : f;
      });
      throw new CsvFormatError(
        `line ${line}: the header lacks the required column(s) ${wanted.join('; ')}${o.missingColumnHint ? ` (${o.missingColumnHint})` : ''}`,
      );
    }
    body = rest;
    fieldCount = { min: names.length, max: names.length };
  } else {
    const positional = o.positional!;
    positional.forEach((f, i) => {
      fieldIndex.set(f, i);
      columns[f] = o.columns[f]?.[0] ?? f;
    });
    const lastRequired = Math.max(
      ...[...required, 'service' as const, 'completedAt' as const].map((f) => positional.indexOf(f)),
    );
    body = raw;
    fieldCount = { min: lastRequired + 1, max: positional.length };
  }

  const schema = treatmentRowSchema({ timeZone: o.timeZone, required });
  const headerOf = (f: string) =>
    f === 'when' ? (columns.completedAt ?? columns.date ?? 'completed_at') : (columns[f as CsvField] ?? f);
  const at: FieldAt = {};
  for (const [f, i] of fieldIndex) at[f] = i;
  const req = requiredFlags(required);
  const records: TreatmentRecord[] = syntax.map((p) => ({ ...p, outcome: 'problem' as const }));
  for (const { line, fields } of body) {
    if (fields.length < fieldCount.min || fields.length > fieldCount.max) {
      const service = cellAt(fields, at.service) || undefined;
      const expected =
        fieldCount.min === fieldCount.max ? `${fieldCount.min}` : `${fieldCount.min} to ${fieldCount.max}`;
      records.push({
        line,
        outcome: 'problem',
        message: `expected ${expected} fields, found ${fields.length}`,
        ...(service ? { service } : {}),
      });
      continue;
    }
    const status = cellAt(fields, at.status);
    if (status && !COMPLETED_STATUSES.has(status.toLowerCase())) {
      const service = cellAt(fields, at.service) || undefined;
      records.push({ line, outcome: 'not_completed', ...(service ? { service } : {}) });
      continue;
    }
    // The common case without zod: a row that passes gets the schema's very output; one that
    // fails is read again by the schema, whose issue words the problem.
    const fast = readRowFast(line, fields, at, req, o.timeZone);
    if (fast) {
      records.push({ line, outcome: 'row', row: fast });
      continue;
    }
    const cell = (f: CsvField) => cellAt(fields, at[f]);
    const service = cell('service') || undefined;
    const withService = service ? { service } : {};
    const cells: Cells = { when: { date: cell('completedAt') ?? cell('date'), time: cell('time') } };
    for (const f of CSV_FIELDS) if (f !== 'date' && f !== 'time' && f !== 'completedAt') cells[f] = cell(f);
    const parsed = schema.safeParse(cells);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const at = issue.path[0] === 'when' && issue.path[1] === 'time' ? 'time' : String(issue.path[0]);
      records.push({ line, outcome: 'problem', message: issue.message.replace('{col}', headerOf(at)), ...withService });
      continue;
    }
    const { when, price, ...row } = parsed.data;
    records.push({ line, outcome: 'row', row: { line, ...row, completedAtMs: when, priceCents: price } });
  }
  records.sort((a, b) => a.line - b.line);
  return { header, columns, ignoredColumns, records };
}

/** Column index of each field the file has. */
type FieldAt = Partial<Record<CsvField, number>>;

/** A cell trimmed; undefined when the file has no such column (or the record is short). */
function cellAt(fields: readonly string[], i: number | undefined): string | undefined {
  return i === undefined || i >= fields.length ? undefined : fields[i]!.trim();
}

/** Which of the schema's `text` fields must have a value. */
function requiredFlags(required: readonly CsvField[]) {
  return {
    clientId: required.includes('clientId'),
    editableClientId: required.includes('editableClientId'),
    appointmentId: required.includes('appointmentId'),
    serviceId: required.includes('serviceId'),
    firstName: required.includes('firstName'),
    lastName: required.includes('lastName'),
    fullName: required.includes('fullName'),
  };
}

/**
 * treatmentRowSchema's reading of a row that passes it, without zod (which took about a second of
 * CPU and much of the garbage on a 300,000-row history): the same fields, values and key order;
 * null when any cell would fail, and the schema reads the row again to word the problem.
 * test/csv/treatment-csv.test.ts holds both to the same results.
 */
function readRowFast(
  line: number,
  fields: readonly string[],
  at: FieldAt,
  req: ReturnType<typeof requiredFlags>,
  timeZone: string,
): TreatmentRow | null {
  const clientId = cellAt(fields, at.clientId);
  if (req.clientId && !clientId) return null;
  const editableClientId = cellAt(fields, at.editableClientId);
  if (req.editableClientId && !editableClientId) return null;
  const appointmentId = cellAt(fields, at.appointmentId);
  if (req.appointmentId && !appointmentId) return null;
  const service = cellAt(fields, at.service);
  if (!service) return null;
  const serviceId = cellAt(fields, at.serviceId);
  if (req.serviceId && !serviceId) return null;
  const date = cellAt(fields, at.completedAt) ?? cellAt(fields, at.date);
  if (!date) return null;
  const completedAtMs = parseDateTime(date, cellAt(fields, at.time), timeZone);
  if (completedAtMs === undefined) return null;
  const priceText = cellAt(fields, at.price);
  let priceCents: number | null = null;
  if (priceText) {
    const cents = parsePrice(priceText);
    if (cents === undefined) return null;
    priceCents = cents;
  }
  const firstName = cellAt(fields, at.firstName);
  if (req.firstName && !firstName) return null;
  const lastName = cellAt(fields, at.lastName);
  if (req.lastName && !lastName) return null;
  const fullName = cellAt(fields, at.fullName);
  if (req.fullName && !fullName) return null;
  const smsText = cellAt(fields, at.smsConsent);
  let smsConsent: boolean | null = null;
  if (smsText) {
    const yn = parseYesNo(smsText);
    if (yn === undefined) return null;
    smsConsent = yn;
  }
  const emailText = cellAt(fields, at.emailConsent);
  let emailConsent: boolean | null = null;
  if (emailText) {
    const yn = parseYesNo(emailText);
    if (yn === undefined) return null;
    emailConsent = yn;
  }
  return {
    line,
    clientId: clientId || undefined,
    editableClientId: editableClientId || undefined,
    appointmentId: appointmentId || undefined,
    service,
    serviceId: serviceId || undefined,
    firstName: firstName || undefined,
    lastName: lastName || undefined,
    fullName: fullName || undefined,
    email: cellAt(fields, at.email),
    phone: cellAt(fields, at.phone),
    smsConsent,
    emailConsent,
    completedAtMs,
    priceCents,
  };
}
