/**
 * The treatment CSV both `rebook import` and `rebook simulate` read: records and the lines they
 * start on, and every problem reported at its line, naming the column (src/csv/).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCsvRecords, readWithCsvParse, scanRegularCsv } from '../../src/csv/records.js';
import {
  CSV_FIELDS,
  CsvFormatError,
  readTreatmentCsv,
  TREATMENT_COLUMNS,
  treatmentRowSchema,
} from '../../src/csv/treatments.js';

const NY = 'America/New_York';
const lines = (text: string) => readCsvRecords(text).records.map((r) => r.line);

describe('readCsvRecords', () => {
  it('reads quoted fields, doubled quotes, CRLF, blank lines, and reports the line each record starts on', () => {
    const text = '\ufeffa,"b, with comma",c\r\n\r\n"multi\nline",x\n"say ""hi""",,\n';
    expect(readCsvRecords(text).records).toEqual([
      { line: 1, fields: ['a', 'b, with comma', 'c'] },
      { line: 3, fields: ['multi\nline', 'x'] },
      { line: 5, fields: ['say "hi"', '', ''] },
    ]);
  });

  it.each([
    ['LF', 'h\na\nb\nc', [1, 2, 3, 4]],
    ['CRLF', 'h\r\na\r\nb\r\nc\r\n', [1, 2, 3, 4]],
    ['a BOM', '\ufeffh\na\n', [1, 2]],
    ['blank and whitespace-only lines', 'h\n\n  \na\n,\nb', [1, 4, 6]],
    ['a quoted LF', 'h\n"x\ny",1\nb', [1, 2, 4]],
    ['a quoted CRLF (csv-parse alone counts it twice)', 'h\r\n"x\r\ny\r\nz",1\r\nb\r\n', [1, 2, 5]],
    ['a lone CR line end', 'h\ra\rb', [1, 2, 3]],
    ['a stray quote inside a field', 'h\n5" needle,1\nb', [1, 2, 3]],
  ])('line numbers with %s', (_, text, expected) => {
    expect(lines(text)).toEqual(expected);
    expect(readCsvRecords(text).problems).toEqual([]);
  });

  it('reports an unclosed quote at the line it opens on and keeps the records before it', () => {
    expect(readCsvRecords('h\na\n\n"b,1\nc,2\n')).toEqual({
      records: [
        { line: 1, fields: ['h'] },
        { line: 2, fields: ['a'] },
      ],
      problems: [{ line: 4, message: 'a quoted field opens on this line and is never closed' }],
    });
  });
});

describe('readTreatmentCsv', () => {
  const read = (text: string) => readTreatmentCsv(text, { timeZone: NY, columns: TREATMENT_COLUMNS });
  const header = 'appointment_id,Service,Date,Time,Status,price,sms_consent';

  it('matches headers whatever their case, spacing, `_` or `-`, and reads date and time columns together', () => {
    const csv = read(`APPOINTMENT-ID,service name,date,time\na1,Botox,3/2/2026,9:30 AM\n`);
    expect(csv.columns).toEqual({
      appointmentId: 'APPOINTMENT-ID',
      service: 'service name',
      date: 'date',
      time: 'time',
    });
    expect(csv.records).toMatchObject([
      {
        line: 2,
        outcome: 'row',
        row: { appointmentId: 'a1', service: 'Botox', completedAtMs: Date.parse('2026-03-02T14:30:00Z') },
      },
    ]);
  });

  it.each([
    [2, 'a1,Botox,2026-03-02,10:30,Completed,$1,200.00,y', 'expected 7 fields, found 8'],
    [3, 'a2,Botox,2026-02-30,,Completed,,', 'Date is not a date (expected ISO 8601, YYYY-MM-DD or M/D/YYYY)'],
    [4, 'a3,Botox,2026-03-02,25:00,Completed,,', 'Time is not a time (expected 14:30 or 2:30 PM)'],
    [5, 'a4,,2026-03-02,,Completed,,', 'Service is empty'],
    [6, 'a5,Botox,,,Completed,,', 'Date is empty'],
    [7, 'a6,Botox,2026-03-02,,Completed,12.345,', 'price is not an amount in dollars'],
    [8, 'a7,Botox,2026-03-02,,Completed,,perhaps', 'sms_consent: expected y/n'],
  ])('line %d: %s → %s', (line, row, message) => {
    const rows = [
      'a1,Botox,2026-03-02,10:30,Completed,"$1,200.00",y',
      'a2,Botox,2026-02-30,,Completed,,',
      'a3,Botox,2026-03-02,25:00,Completed,,',
      'a4,,2026-03-02,,Completed,,',
      'a5,Botox,,,Completed,,',
      'a6,Botox,2026-03-02,,Completed,12.345,',
      'a7,Botox,2026-03-02,,Completed,,perhaps',
    ];
    // Line 2 is the one row that reads: it is swapped for the broken version under test.
    rows[line - 2] = row;
    const csv = read([header, ...rows].join('\r\n'));
    const problems = csv.records.filter((r) => r.outcome === 'problem');
    expect(problems.find((p) => p.line === line)).toMatchObject({ message });
    expect(problems.map((p) => p.line)).toEqual(line === 2 ? [2, 3, 4, 5, 6, 7, 8] : [3, 4, 5, 6, 7, 8]);
  });

  it('skips rows whose status says the treatment did not take place, before judging their cells', () => {
    const csv = read(`${header}\na1,Botox,someday,,Cancelled,,\na2,Botox,2026-03-02,,checked out,,\n`);
    expect(csv.records.map((r) => [r.line, r.outcome])).toEqual([
      [2, 'not_completed'],
      [3, 'row'],
    ]);
  });

  it('refuses a header without a service or a date column, or with a column twice', () => {
    expect(() => read('appointment_id,date\na1,2026-03-02\n')).toThrow(CsvFormatError);
    expect(() => read('appointment_id,date\na1,2026-03-02\n')).toThrow(/service_name or service/);
    expect(() => read('service\nBotox\n')).toThrow(/completed_at or date/);
    expect(() => read('service,date,Date\nBotox,2026-03-02,2026-03-02\n')).toThrow(/column date appears twice/);
  });
});

describe('the fast CSV scan agrees with csv-parse', () => {
  // Texts over a small alphabet hit every edge: quotes in all positions, empty fields, blank lines, a final comma.
  const csvText = fc
    .array(fc.constantFrom('a', 'b', ' ', ',', '\n', '"', '""', '"x"', ',"y,z"', '"p\nq"'), { maxLength: 40 })
    .map((parts) => parts.join(''));

  it('on every file it reads itself, and leaves every other file to csv-parse', () => {
    let scanned = 0;
    fc.assert(
      fc.property(csvText, (text) => {
        const fast = scanRegularCsv(text);
        if (fast) {
          scanned++;
          expect(fast).toEqual(readWithCsvParse(text).records);
        }
        expect(readCsvRecords(text)).toEqual(readWithCsvParse(text));
      }),
      { numRuns: 3000, seed: 11 },
    );
    // The property says something only if the fast scan takes a good share of the texts.
    expect(scanned).toBeGreaterThan(300);
  });

  it('reads a regular quoted file itself', () => {
    const text = 'h1,h2\n"a, b",1\n"say ""hi""",2\n"multi\nline",3\n';
    expect(scanRegularCsv(text)).toEqual(readWithCsvParse(text).records);
    expect(scanRegularCsv(text)).toHaveLength(4);
  });
});

describe('the row check without zod agrees with the row schema', () => {
  // readTreatmentCsv reads a row that passes without zod (src/csv/treatments.ts: readRowFast) and
  // falls back to treatmentRowSchema for the rest: every row must come out as the schema reads it.
  const header = [
    'client_id',
    'appointment_id',
    'service_name',
    'completed_at',
    'price',
    'email',
    'phone',
    'sms_consent',
    'email_consent',
    'first_name',
    'service_id',
    'time',
  ];
  const cellValues = [
    ['c1', '', ' c2 '],
    ['a1', ''],
    ['Botox', '', ' Lip filler '],
    ['2026-03-02T10:00:00Z', '2026-03-02', '3/2/26', 'bad', '', '2026-02-30'],
    ['', '350', '$1200.50', 'x'],
    ['', 'y', 'a@b.c'],
    ['', 'n', '+1 555 0100'],
    ['', 'y', 'Opted In', 'maybe'],
    ['', 'no', 'x'],
    ['', 'Ann'],
    ['', 's1'],
    ['', '14:30', '25:00'],
  ];
  const field = {
    clientId: 0,
    appointmentId: 1,
    service: 2,
    completedAt: 3,
    price: 4,
    email: 5,
    phone: 6,
    smsConsent: 7,
    emailConsent: 8,
    firstName: 9,
    serviceId: 10,
    time: 11,
  } as const;

  it.each([[[] as const], [['clientId', 'appointmentId'] as const], [['clientId', 'firstName', 'serviceId'] as const]])(
    'with required %j',
    (required) => {
      const rows = Array.from({ length: 3000 }, (_, i) =>
        cellValues.map((vs, c) => vs[Math.floor(i / (c + 1)) % vs.length]!),
      );
      const text = `${header.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
      const read = readTreatmentCsv(text, { timeZone: NY, columns: TREATMENT_COLUMNS, required });
      const schema = treatmentRowSchema({ timeZone: NY, required });
      let passed = 0;
      read.records.forEach((rec, i) => {
        const r = rows[i]!.map((v) => v.trim());
        const cells: Record<string, unknown> = {
          when: { date: r[field.completedAt], time: r[field.time] },
        };
        for (const f of CSV_FIELDS)
          if (f !== 'date' && f !== 'time' && f !== 'completedAt')
            cells[f] = f in field ? r[field[f as keyof typeof field]] : undefined;
        const parsed = schema.safeParse(cells);
        expect(rec.outcome).toBe(parsed.success ? 'row' : 'problem');
        if (parsed.success && rec.outcome === 'row') {
          passed++;
          const { when, price, ...rest } = parsed.data;
          const expected = { line: i + 2, ...rest, completedAtMs: when, priceCents: price };
          expect(rec.row).toStrictEqual(expected);
          expect(Object.keys(rec.row)).toEqual(Object.keys(expected));
        }
      });
      expect(passed).toBeGreaterThan(0);
    },
  );
});
