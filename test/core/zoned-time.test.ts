import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  DAY_MS,
  fromLocal,
  isValidTimeZone,
  localDate,
  parseClock,
  toLocal,
  zoneOffsetMs,
} from '../../src/core/zoned-time.js';
import { oracleInstantsReading, oracleOffsetMinutes, oracleWall } from './wall-clock-oracle.js';

const at = (iso: string) => Date.parse(iso);
const wall = (s: string) => {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/.exec(s);
  if (!m) throw new Error(`bad wall literal ${s}`);
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]) };
};

// 2026 transitions, worked out by hand from each zone's rules:
// New York: 2nd Sunday of March (03-08) 02:00 EST -> 03:00 EDT; 1st Sunday of November (11-01) 02:00 EDT -> 01:00 EST.
// London: last Sunday of March (03-29) 01:00 GMT -> 02:00 BST; last Sunday of October (10-25) 02:00 BST -> 01:00 GMT.
// Sydney: 1st Sunday of April (04-05) 03:00 AEDT -> 02:00 AEST; 1st Sunday of October (10-04) 02:00 AEST -> 03:00 AEDT.
// Chatham: 1st Sunday of April (04-05) 03:45 +13:45 -> 02:45 +12:45; last Sunday of September (09-27) 02:45 -> 03:45.
// Kolkata: +05:30 all year.

describe('toLocal', () => {
  it.each([
    // zone, instant, expected wall, weekday (0 = Sunday)
    ['America/New_York', '2026-03-08T06:59:00Z', '2026-03-08 01:59', 0],
    ['America/New_York', '2026-03-08T07:00:00Z', '2026-03-08 03:00', 0],
    ['America/New_York', '2026-11-01T05:30:00Z', '2026-11-01 01:30', 0],
    ['America/New_York', '2026-11-01T06:30:00Z', '2026-11-01 01:30', 0],
    ['America/New_York', '2026-01-16T04:30:00Z', '2026-01-15 23:30', 4],
    ['Europe/London', '2026-03-29T00:59:00Z', '2026-03-29 00:59', 0],
    ['Europe/London', '2026-03-29T01:00:00Z', '2026-03-29 02:00', 0],
    ['Europe/London', '2026-10-25T00:30:00Z', '2026-10-25 01:30', 0],
    ['Europe/London', '2026-10-25T01:30:00Z', '2026-10-25 01:30', 0],
    ['Australia/Sydney', '2026-04-04T15:30:00Z', '2026-04-05 02:30', 0],
    ['Australia/Sydney', '2026-04-04T16:30:00Z', '2026-04-05 02:30', 0],
    ['Australia/Sydney', '2026-10-03T15:59:00Z', '2026-10-04 01:59', 0],
    ['Australia/Sydney', '2026-10-03T16:00:00Z', '2026-10-04 03:00', 0],
    ['Australia/Sydney', '2026-07-01T00:00:00Z', '2026-07-01 10:00', 3],
    ['Asia/Kolkata', '2026-03-10T20:00:00Z', '2026-03-11 01:30', 3],
    ['Asia/Kolkata', '2026-06-15T04:30:00Z', '2026-06-15 10:00', 1],
    ['Pacific/Chatham', '2026-01-09T20:15:00Z', '2026-01-10 10:00', 6],
    ['Pacific/Chatham', '2026-09-26T13:59:00Z', '2026-09-27 02:44', 0],
    ['Pacific/Chatham', '2026-09-26T14:00:00Z', '2026-09-27 03:45', 0],
    ['Pacific/Chatham', '2026-07-01T00:00:00Z', '2026-07-01 12:45', 3],
    ['UTC', '2028-02-29T23:59:59Z', '2028-02-29 23:59', 2],
  ] as const)('%s %s reads %s', (tz, iso, expected, weekday) => {
    const l = toLocal(at(iso), tz);
    expect({ year: l.year, month: l.month, day: l.day, hour: l.hour, minute: l.minute }).toEqual(wall(expected));
    expect(l.weekday).toBe(weekday);
  });

  it('reports seconds and ignores milliseconds', () => {
    const l = toLocal(at('2026-05-05T12:34:56.789Z'), 'Asia/Kolkata');
    expect([l.hour, l.minute, l.second]).toEqual([18, 4, 56]);
  });
});

describe('zoneOffsetMs', () => {
  const H = 3600_000;
  it.each([
    ['America/New_York', '2026-01-15T12:00:00Z', -5 * H],
    ['America/New_York', '2026-07-15T12:00:00Z', -4 * H],
    ['America/New_York', '2026-03-08T06:59:59Z', -5 * H],
    ['America/New_York', '2026-03-08T07:00:00Z', -4 * H],
    ['Europe/London', '2026-01-15T12:00:00Z', 0],
    ['Europe/London', '2026-07-15T12:00:00Z', 1 * H],
    ['Australia/Sydney', '2026-01-15T12:00:00Z', 11 * H],
    ['Australia/Sydney', '2026-07-15T12:00:00Z', 10 * H],
    ['Asia/Kolkata', '2026-01-15T12:00:00Z', 5.5 * H],
    ['Pacific/Chatham', '2026-01-15T12:00:00Z', 13.75 * H],
    ['Pacific/Chatham', '2026-07-15T12:00:00Z', 12.75 * H],
    ['UTC', '2026-07-15T12:00:00Z', 0],
  ] as const)('%s at %s is %d ms', (tz, iso, expected) => {
    expect(zoneOffsetMs(at(iso), tz)).toBe(expected);
    // Milliseconds of the instant do not leak into the offset.
    expect(zoneOffsetMs(at(iso) + 999, tz)).toBe(expected);
  });
});

describe('fromLocal', () => {
  it.each([
    // Ordinary wall times.
    ['America/New_York', '2026-01-15 10:00', '2026-01-15T15:00:00.000Z'],
    ['America/New_York', '2026-07-04 10:00', '2026-07-04T14:00:00.000Z'],
    ['America/New_York', '2026-03-08 01:59', '2026-03-08T06:59:00.000Z'],
    ['America/New_York', '2026-03-08 03:00', '2026-03-08T07:00:00.000Z'],
    ['America/New_York', '2026-11-01 00:59', '2026-11-01T04:59:00.000Z'],
    ['America/New_York', '2026-11-01 02:00', '2026-11-01T07:00:00.000Z'],
    ['Europe/London', '2026-06-01 10:00', '2026-06-01T09:00:00.000Z'],
    ['Europe/London', '2026-12-01 10:00', '2026-12-01T10:00:00.000Z'],
    ['Australia/Sydney', '2026-01-01 00:00', '2025-12-31T13:00:00.000Z'],
    ['Australia/Sydney', '2026-07-01 10:00', '2026-07-01T00:00:00.000Z'],
    ['Asia/Kolkata', '2026-06-15 10:00', '2026-06-15T04:30:00.000Z'],
    ['Asia/Kolkata', '2026-01-01 02:00', '2025-12-31T20:30:00.000Z'],
    ['Pacific/Chatham', '2026-01-10 10:00', '2026-01-09T20:15:00.000Z'],
    ['Pacific/Chatham', '2026-07-10 10:00', '2026-07-09T21:15:00.000Z'],
    // Spring-forward gaps: the wall time does not exist; the instant after the gap is returned.
    ['America/New_York', '2026-03-08 02:00', '2026-03-08T07:00:00.000Z'], // reads 03:00 EDT
    ['America/New_York', '2026-03-08 02:30', '2026-03-08T07:30:00.000Z'], // reads 03:30 EDT
    ['America/New_York', '2026-03-08 02:59', '2026-03-08T07:59:00.000Z'], // reads 03:59 EDT
    ['Europe/London', '2026-03-29 01:30', '2026-03-29T01:30:00.000Z'], // reads 02:30 BST
    ['Australia/Sydney', '2026-10-04 02:30', '2026-10-03T16:30:00.000Z'], // reads 03:30 AEDT
    ['Pacific/Chatham', '2026-09-27 03:00', '2026-09-26T14:15:00.000Z'], // reads 04:00 +13:45
    // Fall-back overlaps: the wall time happens twice; the earlier instant is returned.
    ['America/New_York', '2026-11-01 01:00', '2026-11-01T05:00:00.000Z'], // EDT, not 06:00Z EST
    ['America/New_York', '2026-11-01 01:30', '2026-11-01T05:30:00.000Z'],
    ['America/New_York', '2026-11-01 01:59', '2026-11-01T05:59:00.000Z'],
    ['Europe/London', '2026-10-25 01:30', '2026-10-25T00:30:00.000Z'], // BST, not 01:30Z GMT
    ['Australia/Sydney', '2026-04-05 02:30', '2026-04-04T15:30:00.000Z'], // AEDT, not 16:30Z AEST
    ['Pacific/Chatham', '2026-04-05 03:00', '2026-04-04T13:15:00.000Z'], // +13:45, not 14:15Z
  ] as const)('%s %s is %s', (tz, local, iso) => {
    expect(new Date(fromLocal(wall(local), tz)).toISOString()).toBe(iso);
  });

  it('a gap time reads the wall time pushed forward by the size of the gap', () => {
    const ny = toLocal(fromLocal(wall('2026-03-08 02:30'), 'America/New_York'), 'America/New_York');
    expect([ny.day, ny.hour, ny.minute]).toEqual([8, 3, 30]);
    const chatham = toLocal(fromLocal(wall('2026-09-27 03:00'), 'Pacific/Chatham'), 'Pacific/Chatham');
    expect([chatham.day, chatham.hour, chatham.minute]).toEqual([27, 4, 0]);
  });

  it('an overlap time has two readings and fromLocal picks the first', () => {
    for (const [tz, local] of [
      ['America/New_York', '2026-11-01 01:30'],
      ['Europe/London', '2026-10-25 01:15'],
      ['Australia/Sydney', '2026-04-05 02:45'],
      ['Pacific/Chatham', '2026-04-05 03:30'],
    ] as const) {
      const both = oracleInstantsReading(wall(local), tz);
      expect(both).toHaveLength(2);
      expect(fromLocal(wall(local), tz)).toBe(both[0]);
    }
  });
});

describe('round trips', () => {
  const zones = [
    'America/New_York',
    'Europe/London',
    'Australia/Sydney',
    'Asia/Kolkata',
    'Pacific/Chatham',
    'UTC',
    'Australia/Lord_Howe',
    'America/Sao_Paulo',
  ];
  const minuteInstant = fc
    .integer({ min: Date.UTC(2000, 0, 1) / 60_000, max: Date.UTC(2100, 11, 31) / 60_000 })
    .map((m) => m * 60_000);

  it('fromLocal(toLocal(t)) is t, or the earlier twin of t in a fall-back overlap', () => {
    fc.assert(
      fc.property(minuteInstant, fc.constantFrom(...zones), (t, tz) => {
        const l = toLocal(t, tz);
        expect(l).toMatchObject(oracleWall(t, tz));
        const back = fromLocal(l, tz);
        const readings = oracleInstantsReading(l, tz);
        expect(readings).toContain(t);
        expect(back).toBe(readings[0]);
      }),
      { numRuns: 300 },
    );
  });

  it('toLocal(fromLocal(w)) is w for every wall time that exists', () => {
    const wallArb = fc.record({
      year: fc.integer({ min: 2000, max: 2100 }),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 1, max: 28 }),
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.integer({ min: 0, max: 59 }),
    });
    fc.assert(
      fc.property(wallArb, fc.constantFrom(...zones), (w, tz) => {
        const t = fromLocal(w, tz);
        const readings = oracleInstantsReading(w, tz);
        if (readings.length > 0) {
          expect(t).toBe(readings[0]);
        } else {
          // Gap: pushed forward by the gap, which is the jump in offset across it.
          const jumpMin = oracleOffsetMinutes(t, tz) - oracleOffsetMinutes(t - 12 * 3600_000, tz);
          expect(jumpMin).toBeGreaterThan(0);
          const shifted = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute + jumpMin);
          expect(oracleWall(t, tz)).toEqual(oracleWall(shifted, 'UTC'));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips exactly through every minute around each 2026 transition', () => {
    const around: [string, string][] = [
      ['America/New_York', '2026-03-08T07:00:00Z'],
      ['America/New_York', '2026-11-01T06:00:00Z'],
      ['Europe/London', '2026-03-29T01:00:00Z'],
      ['Europe/London', '2026-10-25T01:00:00Z'],
      ['Australia/Sydney', '2026-04-04T16:00:00Z'],
      ['Australia/Sydney', '2026-10-03T16:00:00Z'],
      ['Pacific/Chatham', '2026-04-04T14:00:00Z'],
      ['Pacific/Chatham', '2026-09-26T14:00:00Z'],
    ];
    for (const [tz, iso] of around) {
      for (let m = -150; m <= 150; m++) {
        const t = at(iso) + m * 60_000;
        const readings = oracleInstantsReading(oracleWall(t, tz), tz);
        expect(fromLocal(toLocal(t, tz), tz)).toBe(readings[0]);
      }
    }
  });
});

describe('localDate and addDays', () => {
  it.each([
    ['America/New_York', '2026-01-16T04:30:00Z', { year: 2026, month: 1, day: 15 }],
    ['Asia/Kolkata', '2026-03-10T20:00:00Z', { year: 2026, month: 3, day: 11 }],
    ['Australia/Sydney', '2026-12-31T13:00:00Z', { year: 2027, month: 1, day: 1 }],
    ['Pacific/Chatham', '2026-12-31T10:15:00Z', { year: 2027, month: 1, day: 1 }],
    ['Pacific/Chatham', '2026-12-31T10:14:00Z', { year: 2026, month: 12, day: 31 }],
  ] as const)('%s %s falls on %o', (tz, iso, expected) => {
    expect(localDate(at(iso), tz)).toEqual(expected);
  });

  it.each([
    [{ year: 2026, month: 1, day: 15 }, 80, { year: 2026, month: 4, day: 5 }],
    [{ year: 2026, month: 12, day: 31 }, 1, { year: 2027, month: 1, day: 1 }],
    [{ year: 2028, month: 2, day: 28 }, 1, { year: 2028, month: 2, day: 29 }],
    [{ year: 2000, month: 2, day: 28 }, 1, { year: 2000, month: 2, day: 29 }],
    [{ year: 2100, month: 2, day: 28 }, 1, { year: 2100, month: 3, day: 1 }],
    [{ year: 2026, month: 3, day: 1 }, -1, { year: 2026, month: 2, day: 28 }],
    [{ year: 2026, month: 1, day: 20 }, 365, { year: 2027, month: 1, day: 20 }],
    [{ year: 2026, month: 6, day: 10 }, 0, { year: 2026, month: 6, day: 10 }],
  ])('%o + %d days is %o', (date, days, expected) => {
    expect(addDays(date, days)).toEqual(expected);
  });

  it('DAY_MS is 24 hours', () => {
    expect(DAY_MS).toBe(24 * 60 * 60 * 1000);
  });
});

describe('parseClock', () => {
  it.each([
    ['00:00', 0, 0],
    ['09:05', 9, 5],
    ['10:00', 10, 0],
    ['19:59', 19, 59],
    ['23:59', 23, 59],
  ])('%s is %d:%d', (s, hour, minute) => {
    expect(parseClock(s)).toEqual({ hour, minute });
  });

  it.each([
    '24:00',
    '9:00',
    '09:60',
    '0900',
    '09:0',
    '09:00:00',
    ' 09:00',
    '09:00 ',
    '09:00\n',
    '',
    'ab:cd',
    '-1:00',
    '09h00',
    '２３:００',
  ])('rejects %j with a RangeError naming the input', (s) => {
    expect(() => parseClock(s)).toThrow(RangeError);
    expect(() => parseClock(s)).toThrow(`"${s}"`);
  });
});

describe('isValidTimeZone', () => {
  it.each(['America/New_York', 'Europe/London', 'Australia/Sydney', 'Asia/Kolkata', 'Pacific/Chatham', 'UTC'])(
    'accepts %s',
    (tz) => {
      expect(isValidTimeZone(tz)).toBe(true);
    },
  );
  it.each(['Mars/Olympus_Mons', 'America/NewYork', 'New York', 'GMT+25'])('rejects %s', (tz) => {
    expect(isValidTimeZone(tz)).toBe(false);
  });
});
