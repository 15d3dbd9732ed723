import { describe, expect, it } from 'vitest';
import { addMonths, namedDay, snoozeDayInRange, snoozeUntil } from '../../src/core/snooze-date.js';

const NY = { timeZone: 'America/New_York', sendTime: '10:00' };
/** Tuesday 10 March 2026, 11:00 in New York (EDT since 8 March). */
const REPLY = Date.parse('2026-03-10T15:00:00Z');
const day = (s: string) => {
  const [year, month, d] = s.split('-').map(Number) as [number, number, number];
  return { year, month, day: d };
};

describe('namedDay: the calendar day a "not now" reply names', () => {
  const today = day('2026-03-10');
  const table: [string, string | null][] = [
    ['remind me in 2 weeks', '2026-03-24'],
    ['In two weeks please', '2026-03-24'],
    ['maybe in a couple of weeks', '2026-03-24'],
    ['in a few weeks', '2026-03-31'],
    ['3 weeks from now', '2026-03-31'],
    ['in 10 days', '2026-03-20'],
    ['give me a month', '2026-04-10'],
    ['in a couple months', '2026-05-10'],
    ['in 6 months', '2026-09-10'],
    ['remind me next month', '2026-04-10'],
    ['Next week!', '2026-03-17'],
    ['in a fortnight', '2026-03-24'],
    ['after the summer', '2026-09-01'],
    ['after summer', '2026-09-01'],
    ['after the holidays', '2027-01-06'],
    ['in the summer', '2026-06-01'],
    ['this fall', '2026-09-01'],
    ['in January', '2027-01-01'],
    ['not until May', '2026-05-01'],
    ['in march', '2027-03-01'], // this month: a year on (out of range, caught by the range check)
    ['after April', '2026-05-01'],
    ['mid April', '2026-04-15'],
    ['end of June', '2026-06-20'],
    ['April 22nd', '2026-04-22'],
    ['the 3rd of May', '2026-05-03'],
    ['sept', null],
    ['not now', null],
    ['maybe later', null],
    ['busy right now', null],
  ];
  for (const [text, expected] of table)
    it(`"${text}" → ${expected ?? 'no date'}`, () => {
      expect(namedDay(text, today)).toEqual(expected ? day(expected) : null);
    });

  it('counts from the reply date across a year end and short months', () => {
    expect(namedDay('next month', day('2026-01-31'))).toEqual(day('2026-02-28'));
    expect(namedDay('in January', day('2026-11-20'))).toEqual(day('2027-01-01'));
    expect(namedDay('after the summer', day('2026-10-02'))).toEqual(day('2027-09-01'));
    expect(addMonths(day('2026-08-31'), 6)).toEqual(day('2027-02-28'));
  });
});

describe('snoozeDayInRange: between one week and six months', () => {
  const today = day('2026-03-10');
  it.each([
    ['2026-03-16', false],
    ['2026-03-17', true],
    ['2026-09-10', true],
    ['2026-09-11', false],
  ])('%s → %s', (d, ok) => expect(snoozeDayInRange(day(d), today)).toBe(ok));
});

describe('snoozeUntil: the instant of the touch, at the clinic send time', () => {
  it('is the named day at the send time in the clinic zone', () => {
    expect(snoozeUntil('remind me in 2 weeks', REPLY, NY)).toBe('2026-03-24T14:00:00.000Z');
    // Across the end of daylight saving time: still 10:00 local.
    expect(snoozeUntil('in January', Date.parse('2026-10-15T15:00:00Z'), NY)).toBe('2027-01-01T15:00:00.000Z');
  });
  it('reads the reply date in the clinic zone, not UTC', () => {
    // 02:00 UTC on 11 March is still 10 March in Los Angeles.
    const late = Date.parse('2026-03-11T02:00:00Z');
    expect(snoozeUntil('next week', late, { timeZone: 'America/Los_Angeles', sendTime: '09:30' })).toBe(
      '2026-03-17T16:30:00.000Z',
    );
    expect(snoozeUntil('next week', late, { timeZone: 'Europe/London', sendTime: '09:30' })).toBe(
      '2026-03-18T09:30:00.000Z',
    );
  });
  it('has no date outside one week to six months, or when none is named', () => {
    expect(snoozeUntil('in 3 days', REPLY, NY)).toBeUndefined();
    expect(snoozeUntil('in 7 months', REPLY, NY)).toBeUndefined();
    expect(snoozeUntil('next year', REPLY, NY)).toBeUndefined();
    expect(snoozeUntil('in march', REPLY, NY)).toBeUndefined();
    expect(snoozeUntil('not now thanks', REPLY, NY)).toBeUndefined();
  });
});
