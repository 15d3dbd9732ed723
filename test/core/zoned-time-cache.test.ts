/**
 * toLocal and zoneOffsetMs answer from offsets cached per zone and UTC quarter hour: they must
 * give exactly what Intl gives, for any instant, including around clock changes and in zones
 * with half-hour and 45-minute offsets or historic second-level offsets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toLocal, toLocalIntl, zoneOffsetMs } from '../../src/core/zoned-time.js';

const zones = [
  'America/New_York',
  'America/Los_Angeles',
  'Europe/London',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'America/Santiago',
  'Pacific/Chatham',
  'Africa/Monrovia',
  'UTC',
];

describe('the cached wall clock', () => {
  it('equals Intl for any instant in any zone, 1900–2100', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) }),
        (zone, ms) => {
          expect(toLocal(ms, zone)).toEqual(toLocalIntl(ms, zone));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('equals Intl second by second across clock changes (a cached quarter hour never spans one)', () => {
    // New York spring forward 2026-03-08 07:00Z, fall back 2026-11-01 06:00Z; Lord Howe moves by 30 minutes.
    const around = [
      ['America/New_York', Date.UTC(2026, 2, 8, 7)],
      ['America/New_York', Date.UTC(2026, 10, 1, 6)],
      ['Australia/Lord_Howe', Date.UTC(2026, 3, 4, 15)],
      ['Africa/Monrovia', Date.UTC(1972, 0, 7, 0, 44, 30)],
    ] as const;
    for (const [zone, at] of around)
      for (let ms = at - 1_800_000; ms <= at + 1_800_000; ms += 7_000) {
        expect(toLocal(ms, zone)).toEqual(toLocalIntl(ms, zone));
        const l = toLocalIntl(ms, zone);
        const intlOffset =
          Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - Math.floor(ms / 1000) * 1000;
        expect(zoneOffsetMs(ms, zone)).toBe(intlOffset);
      }
  });
});
