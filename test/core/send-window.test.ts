import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clampWindow,
  DEFAULT_SEND_WINDOW,
  describeLocal,
  isWithinWindow,
  nextOpening,
  type SendWindow,
} from '../../src/core/send-window.js';
import { toLocal } from '../../src/core/zoned-time.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('nextOpening, default window (Mon–Sat 10:00–19:00)', () => {
  it.each([
    // zone, instant, expected (UTC), local reading of the expected instant
    ['America/New_York', '2026-03-04T15:00:00.000Z', '2026-03-04T15:00:00.000Z', 'wed 10:00'], // open: unchanged
    ['America/New_York', '2026-03-04T14:59:00.000Z', '2026-03-04T15:00:00.000Z', 'wed 10:00'], // a minute early
    ['America/New_York', '2026-03-05T00:00:00.000Z', '2026-03-05T15:00:00.000Z', 'thu 10:00'], // 19:00 is closed
    ['America/New_York', '2026-03-07T23:59:00.000Z', '2026-03-07T23:59:00.000Z', 'sat 18:59'], // Saturday is open
    ['America/New_York', '2026-03-08T00:00:00.000Z', '2026-03-09T14:00:00.000Z', 'mon 10:00'], // Sat 19:00 EST → Mon 10:00 EDT (spring forward on Sunday)
    ['America/New_York', '2026-10-31T23:30:00.000Z', '2026-11-02T15:00:00.000Z', 'mon 10:00'], // Sat 19:30 EDT → Mon 10:00 EST (fall back on Sunday)
    ['America/New_York', '2026-11-01T06:30:00.000Z', '2026-11-02T15:00:00.000Z', 'mon 10:00'], // Sunday 01:30 in the repeated hour
    ['Europe/London', '2026-03-28T20:00:00.000Z', '2026-03-30T09:00:00.000Z', 'mon 10:00'], // GMT → BST
    ['Europe/London', '2026-10-24T18:30:00.000Z', '2026-10-26T10:00:00.000Z', 'mon 10:00'], // Sat 19:30 BST → Mon 10:00 GMT
    ['Australia/Sydney', '2026-04-04T08:00:00.000Z', '2026-04-06T00:00:00.000Z', 'mon 10:00'], // AEDT → AEST
    ['America/Phoenix', '2026-03-08T02:00:00.000Z', '2026-03-09T17:00:00.000Z', 'mon 10:00'], // no DST at all
    ['Asia/Kolkata', '2026-03-04T04:29:00.000Z', '2026-03-04T04:30:00.000Z', 'wed 10:00'], // half-hour offset
  ])('%s %s', (zone, instant, expected, local) => {
    const next = nextOpening(Date.parse(instant), DEFAULT_SEND_WINDOW, zone);
    expect(iso(next)).toBe(expected);
    expect(describeLocal(next, zone)).toBe(local);
  });
});

describe('configured windows', () => {
  it('are clamped to 08:00–20:00 whatever the configuration says', () => {
    expect(clampWindow({ days: [1], start: '06:00', end: '22:30' })).toEqual({
      days: [1],
      start: '08:00',
      end: '20:00',
    });
    const w: SendWindow = { days: [0, 1, 2, 3, 4, 5, 6], start: '07:00', end: '21:00' };
    // 07:30 New York → 08:00; 20:30 → next day 08:00.
    expect(iso(nextOpening(Date.parse('2026-06-10T11:30:00Z'), w, 'America/New_York'))).toBe(
      '2026-06-10T12:00:00.000Z',
    );
    expect(iso(nextOpening(Date.parse('2026-06-11T00:30:00Z'), w, 'America/New_York'))).toBe(
      '2026-06-11T12:00:00.000Z',
    );
  });

  it('a weekday-only window skips the weekend', () => {
    const w: SendWindow = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
    expect(iso(nextOpening(Date.parse('2026-06-12T21:00:00Z'), w, 'America/Chicago'))).toBe('2026-06-12T21:00:00.000Z'); // Fri 16:00 CDT is open
    expect(iso(nextOpening(Date.parse('2026-06-12T22:00:00Z'), w, 'America/Chicago'))).toBe('2026-06-15T14:00:00.000Z');
  });

  it('the client zone decides when it is known: 10:00 in New York is 07:00 in Los Angeles', () => {
    const dueNy = Date.parse('2026-06-10T14:00:00Z');
    expect(isWithinWindow(dueNy, DEFAULT_SEND_WINDOW, 'America/New_York')).toBe(true);
    expect(iso(nextOpening(dueNy, DEFAULT_SEND_WINDOW, 'America/Los_Angeles'))).toBe('2026-06-10T17:00:00.000Z');
  });

  it('a window with no days or an empty range never opens', () => {
    expect(nextOpening(0, { days: [], start: '10:00', end: '19:00' }, 'UTC')).toBe(Number.POSITIVE_INFINITY);
    expect(nextOpening(0, { days: [1], start: '19:00', end: '10:00' }, 'UTC')).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('properties (against a minute-by-minute reading of the local clock)', () => {
  const zones = [
    'America/New_York',
    'America/Los_Angeles',
    'Europe/London',
    'Australia/Sydney',
    'America/Santiago',
    'Asia/Tehran',
    'Pacific/Auckland',
  ];
  const open = (ms: number, w: SendWindow, zone: string) => {
    const l = toLocal(ms, zone);
    const m = l.hour * 60 + l.minute;
    const [sh, sm] = w.start.split(':').map(Number) as [number, number];
    const [eh, em] = w.end.split(':').map(Number) as [number, number];
    return w.days.includes(l.weekday) && m >= Math.max(sh * 60 + sm, 480) && m < Math.min(eh * 60 + em, 1200);
  };
  it('the result is open, and nothing between the instant and the result is', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.UTC(2026, 0, 1) / 60_000, max: Date.UTC(2027, 11, 31) / 60_000 }).map((m) => m * 60_000),
        fc.subarray([0, 1, 2, 3, 4, 5, 6], { minLength: 1 }),
        fc.integer({ min: 6, max: 14 }),
        fc.integer({ min: 1, max: 10 }),
        (zone, instant, days, startHour, hours) => {
          const w: SendWindow = {
            days,
            start: `${String(startHour).padStart(2, '0')}:00`,
            end: `${String(Math.min(Math.max(startHour + hours, 9), 23)).padStart(2, '0')}:30`,
          };
          const next = nextOpening(instant, w, zone);
          expect(Number.isFinite(next)).toBe(true);
          expect(next).toBeGreaterThanOrEqual(instant);
          expect(open(next, w, zone)).toBe(true);
          for (let t = instant; t < next; t += 15 * 60_000) expect(open(t, w, zone)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
