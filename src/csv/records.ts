/**
 * CSV records with the line each starts on, read by csv-parse (RFC 4180: quoted fields, doubled
 * quotes, embedded newlines, CRLF or LF, a leading BOM). The one CSV reader of `rebook import` and
 * `rebook simulate`; src/csv/treatments.ts gives the records their meaning.
 */
import { parse } from 'csv-parse/sync';

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
  // Line ends become LF first: csv-parse counts a CRLF inside a quoted field as two lines, and
  // with one record delimiter every line is part of exactly one record (blank lines are records
  // of one empty field here), so each record starts on the line after the previous one ends.
  const parsed = parse(text.replace(/\r\n?/g, '\n'), {
    bom: true,
    record_delimiter: '\n',
    // A stray quote inside an unquoted field (`5" needle`) is a character, as spreadsheets write it.
    relax_quotes: true,
    relax_column_count: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      if (err?.code === 'CSV_QUOTE_NOT_CLOSED') unclosedQuote = true;
      else if (err) problems.push({ line: Number(err.lines), message: 'this record cannot be read as CSV' });
    },
  });
  let line = 1;
  for (const fields of parsed) {
    if (fields.some((f) => f.trim() !== '')) records.push({ line, fields });
    line += 1 + fields.reduce((n, f) => n + newlines(f), 0);
  }
  if (unclosedQuote) problems.push({ line, message: 'a quoted field opens on this line and is never closed' });
  return { records, problems };
}
