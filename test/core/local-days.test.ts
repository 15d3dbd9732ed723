import { describe, expect, it } from 'vitest';
import { localDayIndex } from '../../src/core/local-days.js';
import { localDate } from '../../src/core/zoned-time.js';

const DAY = 86_400_000;

describe('localDayIndex', () => {
  // Spans holding DST changes: at 02:00 (New York, London), at midnight (Santiago, Havana), by
  // 30 minutes (Lord Howe), and a zone at +05:45 (Kathmandu).
  it.each([
    ['America/New_York', '2026-02-20T00:00:00Z', 300],
    ['Europe/London', '2026-03-01T00:00:00Z', 250],
    ['America/Santiago', '2026-03-15T00:00:00Z', 220],
    ['America/Havana', '2026-02-15T00:00:00Z', 300],
    ['Australia/Lord_Howe', '2026-03-20T00:00:00Z', 220],
    ['Asia/Kathmandu', '2026-01-01T00:00:00Z', 40],
  ])('gives localDate for every instant of a span in %s', (timeZone, from, days) => {
    const fromMs = Date.parse(from);
    const toMs = fromMs + days * DAY;
    const dateOf = localDayIndex(fromMs, toMs, timeZone);
    // Every 7 minutes (not a divisor of an hour) plus the minutes either side of each local midnight.
    for (let ms = fromMs - DAY; ms < toMs + DAY; ms += 7 * 60_000) expect(dateOf(ms)).toEqual(localDate(ms, timeZone));
    for (let ms = fromMs; ms < toMs; ms += DAY)
      for (const edge of [-60_001, -1, 0, 1, 60_000]) {
        const at = ms - (ms % 3_600_000) + edge;
        expect(dateOf(at)).toEqual(localDate(at, timeZone));
      }
  });
});

it('a period of centuries is not indexed (a caller may send any two dates) and still answers every instant', () => {
  const from = Date.parse('0791-01-09T00:00:00Z');
  const to = Date.parse('2026-12-05T00:00:00Z');
  const dateOf = localDayIndex(from, to, 'America/New_York');
  const probe = Date.parse('2026-03-08T07:30:00Z');
  expect(dateOf(probe)).toEqual(localDate(probe, 'America/New_York'));
});
