/**
 * CSV records with the line each starts on, read by csv-parse (RFC 4180: quoted fields, doubled
 * quotes, embedded newlines, CRLF or LF, a leading BOM). The one CSV reader of `rebook import` and
 * `rebook simulate`; src/csv/treatments.ts gives the records their meaning.
 */
import { type Info, parse } from 'csv-parse/sync';

/** One record of a file: its fields as written (untrimmed) and the 1-based line it starts on. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** A record that cannot be read, by line; the message names no field value (files hold client data). */
export interface RowProblem {
  line: number;
  message: string;
}

const newlines = (s: string) => s.split('\n').length - 1;

/**
 * Every record that holds something (blank and whitespace-only lines are not records). A quote
 * that is never closed swallows the rest of the file: it is reported at the line it opens on,
 * and the records before it are kept.
 */
export function readCsvRecords(text: string): { records: CsvRecord[]; problems: RowProblem[] } {
  const records: CsvRecord[] = [];
  const problems: RowProblem[] = [];
  let unclosedQuote = false;
  // csv-parse counts a CRLF inside a quoted field as two lines; with LF only, its count is exact.
  const parsed = parse(text.replace(/\r\n?/g, '\n'), {
    bom: true,
    info: true,
    record_delimiter: '\n',
    // A stray quote inside an unquoted field (`5" needle`) is a character, as spreadsheets write it.
    relax_quotes: true,
    relax_column_count: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      if (err?.code === 'CSV_QUOTE_NOT_CLOSED') unclosedQuote = true;
      else if (err) problems.push({ line: Number(err.lines), message: 'this record cannot be read as CSV' });
    },
    // The typings do not model `info: true`, which wraps each record.
  }) as unknown as { record: string[]; info: Info }[];
  // Blank lines are records here too (no skip_empty_lines), so the record after the last one starts
  // the line after it ends.
  let lastLine = 0;
  for (const { record, info } of parsed) {
    // info.lines is the line the record ends on; its quoted fields hold the newlines before it.
    const line = info.lines - record.reduce((n, f) => n + newlines(f), 0);
    lastLine = info.lines;
    if (record.some((f) => f.trim() !== '')) records.push({ line, fields: record });
  }
  if (unclosedQuote)
    problems.push({ line: lastLine + 1, message: 'a quoted field opens on this line and is never closed' });
  return { records, problems };
}

/** Quotes a field when it needs it (for writing CSV: the synthetic history generator, reports, tests). */
export function csvField(v: string | number | null | undefined): string {
  const s = v == null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
