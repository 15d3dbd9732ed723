import { describe, expect, it } from 'vitest';
import { HistoryFormatError, parseCompletedAt, parseHistoryCsv, parsePrice } from '../../src/simulator/history-csv.js';

const NY = 'America/New_York';

describe('field formats', () => {
  it.each([
    ['2026-03-02T15:30:00Z', '2026-03-02T15:30:00.000Z'],
    ['2026-03-02T10:30:00-05:00', '2026-03-02T15:30:00.000Z'],
    ['2026-03-02T10:30', '2026-03-02T15:30:00.000Z'], // clinic local (EST)
    ['2026-07-02 10:30', '2026-07-02T14:30:00.000Z'], // clinic local (EDT)
    ['2026-03-02', '2026-03-02T17:00:00.000Z'], // a date alone: local noon
    ['3/2/2026', '2026-03-02T17:00:00.000Z'],
    ['12/31/2025 09:05', '2025-12-31T14:05:00.000Z'],
  ])('completed_at %s → %s', (input, iso) => {
    expect(new Date(parseCompletedAt(input, NY)!).toISOString()).toBe(iso);
  });

  it.each(['2026-02-30', '2026-13-01', 'yesterday', '02/30/2026', '2026-03-02T25:00', '1850-01-01', ''])(
    'completed_at %j is refused',
    (input) => {
      expect(parseCompletedAt(input, NY)).toBeUndefined();
    },
  );

  it.each([
    ['350', 35_000],
    ['350.5', 35_050],
    ['$1,200.00', 120_000],
    ['0', 0],
  ])('price %s → %d cents', (input, cents) => {
    expect(parsePrice(input)).toBe(cents);
  });

  it.each(['abc', '-5', '1.234', '12,00'])('price %j is refused', (input) => {
    expect(parsePrice(input)).toBeUndefined();
  });
});

describe('parseHistoryCsv', () => {
  it('maps a header in any order, ignores and lists unknown columns, reads contacts and consent', () => {
    const text = [
      'completed_at,Service Name,client_id,appointment_id,notes,email,phone,sms_consent',
      '2026-01-15,Botox,c1,a1,vip,dana@example.com,+12125550123,yes',
      '2026-01-16,Botox,c2,a2,,,n,',
    ].join('\n');
    const parsed = parseHistoryCsv(text, NY);
    expect(parsed.problems).toEqual([]);
    expect(parsed.header).toBe(true);
    expect(parsed.ignoredColumns).toEqual(['notes']);
    expect(
      parsed.rows.map((r) => [
        r.line,
        r.clientId,
        r.serviceName,
        r.hasEmail,
        r.phone,
        r.smsConsent,
        r.emailConsent,
        r.priceCents,
      ]),
    ).toEqual([
      [2, 'c1', 'Botox', true, '+12125550123', true, null, null],
      [3, 'c2', 'Botox', false, false, null, null, null],
    ]);
  });

  it('reads a file without a header in the documented column order, optional columns left off', () => {
    const parsed = parseHistoryCsv('c1,a1,Botox,2026-01-15\nc2,a2,Dysport,2026-01-16,450,y,y,n,y\n', NY);
    expect(parsed.header).toBe(false);
    expect(parsed.problems).toEqual([]);
    expect(
      parsed.rows.map((r) => [r.clientId, r.priceCents, r.hasEmail, r.phone, r.smsConsent, r.emailConsent]),
    ).toEqual([
      ['c1', null, null, null, null, null],
      ['c2', 45_000, true, true, false, true],
    ]);
  });

  it('reports every malformed row with its line number and keeps the others', () => {
    const text = [
      'client_id,appointment_id,service_name,completed_at,price,email,phone,sms_consent,email_consent',
      'c1,a1,Botox,2026-01-15,400,y,+12125550123,y,y', // 2 ok
      'c2,a2,Botox,someday,400,y,,,', // 3 bad date
      'c3,a3,Botox,2026-01-15,cheap,y,,,', // 4 bad price
      ',a4,Botox,2026-01-15,,y,,,', // 5 no client
      'c5,a5,Botox,2026-01-15', // 6 too few fields
      'c6,a6,Botox,2026-01-15,,maybe,,,', // 7 bad email
      'c7,a7,Botox,2026-01-15,,y,call me,,', // 8 bad phone
      'c8,a8,Botox,2026-01-15,,y,,perhaps,', // 9 bad consent
      '"c9,a9,Botox,2026-01-15,,y,,,', // 10: unterminated quote swallows the rest
    ].join('\n');
    const parsed = parseHistoryCsv(text, NY);
    expect(parsed.rows.map((r) => r.clientId)).toEqual(['c1']);
    expect(parsed.problems).toEqual([
      { line: 3, message: 'completed_at is not a date (expected ISO 8601, YYYY-MM-DD or M/D/YYYY)' },
      { line: 4, message: 'price is not an amount in dollars' },
      { line: 5, message: 'client_id is empty' },
      { line: 6, message: 'expected 9 fields, found 4' },
      { line: 7, message: 'email: expected y/n or an address' },
      { line: 8, message: 'phone: expected y/n or a phone number' },
      { line: 9, message: 'sms_consent: expected y/n' },
      { line: 10, message: 'a quoted field opens on this line and is never closed' },
    ]);
  });

  it('refuses a header without a required column', () => {
    expect(() => parseHistoryCsv('client_id,service_name,completed_at\nc1,Botox,2026-01-15\n', NY)).toThrow(
      HistoryFormatError,
    );
    expect(() => parseHistoryCsv('client_id,service_name,completed_at\n', NY)).toThrow(/appointment_id/);
  });
});
