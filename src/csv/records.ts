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
  const normalized = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  const fast = scanRegularCsv(normalized.charCodeAt(0) === 0xfeff ? normalized.slice(1) : normalized);
  if (fast) return { records: fast, problems: [] };
  return readWithCsvParse(normalized);
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;

/**
 * The same records as csv-parse for a regular file (LF line ends, no BOM): unquoted fields, and
 * quoted ones that close right before a comma or a line end. Anything irregular (a quote inside
 * an unquoted field, text after a closing quote, a quote never closed) returns null and the file
 * is read by csv-parse, whose relaxed rules and problem reports stay the reference. Why: csv-parse
 * took ~2 s of CPU (and most of the garbage) on a 300,000-row history; this loop takes a tenth.
 */
export function scanRegularCsv(text: string): CsvRecord[] | null {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let blank = true;
    for (;;) {
      let field: string;
      if (text.charCodeAt(i) === QUOTE) {
        let from = i + 1;
        field = '';
        for (;;) {
          const q = text.indexOf('"', from);
          if (q < 0) return null;
          field += text.slice(from, q);
          if (text.charCodeAt(q + 1) === QUOTE) {
            field += '"';
            from = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        for (let k = field.indexOf('\n'); k >= 0; k = field.indexOf('\n', k + 1)) line++;
        const c = i < n ? text.charCodeAt(i) : LF;
        if (c !== COMMA && c !== LF) return null;
      } else {
        let j = i;
        for (; j < n; j++) {
          const c = text.charCodeAt(j);
          if (c === COMMA || c === LF) break;
          if (c === QUOTE) return null;
        }
        field = text.slice(i, j);
        i = j;
      }
      fields.push(field);
      if (blank && field.trim() !== '') blank = false;
      if (i >= n || text.charCodeAt(i) === LF) {
        i++;
        line++;
        break;
      }
      i++; // the comma
      if (i >= n) {
        // "a," at the very end: a last empty field, as csv-parse reads it.
        fields.push('');
        line++;
        break;
      }
    }
    if (!blank) records.push({ line: start, fields });
  }
  return records;
}

/** csv-parse's reading of a file with LF line ends: the reference for every irregular file. */
export function readWithCsvParse(text: string): { records: CsvRecord[]; problems: RowProblem[] } {
  const records: CsvRecord[] = [];
  const problems: RowProblem[] = [];
  let unclosedQuote = false;
  // Line ends are LF already (readCsvRecords): csv-parse counts a CRLF inside a quoted field as two lines, and
  // with one record delimiter every line is part of exactly one record (blank lines are records
  // of one empty field here), so each record starts on the line after the previous one ends.
  const parsed = parse(text, {
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
