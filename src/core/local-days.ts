/**
 * Calendar dates of many instants in one zone. Reports place thousands of rows on the clinic's
 * calendar, and one zoned conversion costs tens of microseconds (Intl formatToParts): here each
 * local midnight of a span is found once, and an instant's date is then a binary search.
 */
import { addDays, fromLocal, localDate } from './zoned-time.js';

export type CalendarDate = Readonly<{ year: number; month: number; day: number }>;

/** About ten years of days; a longer period is not indexed. */
export const MAX_INDEXED_DAYS = 3_700;

const sameDay = (a: CalendarDate, b: CalendarDate) => a.year === b.year && a.month === b.month && a.day === b.day;

/**
 * `dateOf(ms)` equals `localDate(ms, timeZone)` for every instant. Instants outside
 * [fromMs, toMs], and days whose first instant could not be confirmed, take the slow path.
 */
export function localDayIndex(fromMs: number, toMs: number, timeZone: string): (ms: number) => CalendarDate {
  // A period is any two dates a caller sends (`from=0791-01-09`): past ten years, building the
  // index would cost more than the slow path over the few runs such a period actually holds.
  if (!(toMs - fromMs <= MAX_INDEXED_DAYS * 86_400_000)) return (ms) => localDate(ms, timeZone);
  // The index depends only on the two dates: a page asks for the same ones on every view (its
  // `to` is now), and building a quarter's index is hundreds of zoned conversions.
  const from = localDate(fromMs, timeZone);
  const to = localDate(toMs, timeZone);
  const key = `${timeZone}|${from.year}-${from.month}-${from.day}|${to.year}-${to.month}-${to.day}`;
  let index = built.get(key);
  if (!index) {
    index = buildIndex(from, to, timeZone);
    if (built.size >= BUILT_KEPT) built.delete(built.keys().next().value as string);
    built.set(key, index);
  }
  return index;
}

/** Indexes kept (the oldest built is dropped first). */
const BUILT_KEPT = 64;
const built = new Map<string, (ms: number) => CalendarDate>();

function buildIndex(from: CalendarDate, to: CalendarDate, timeZone: string): (ms: number) => CalendarDate {
  const starts: number[] = [];
  const dates: CalendarDate[] = [];
  const confirmed: boolean[] = [];
  const last = addDays(to, 1);
  for (let d: CalendarDate = from; ; d = addDays(d, 1)) {
    const start = fromLocal({ ...d, hour: 0, minute: 0 }, timeZone);
    starts.push(start);
    dates.push(Object.freeze(d));
    // The day's first instant: on the day itself, and the instant before it on another day.
    confirmed.push(sameDay(localDate(start, timeZone), d) && !sameDay(localDate(start - 1, timeZone), d));
    if (sameDay(d, last)) break;
  }
  return (ms) => {
    if (!(ms >= starts[0]! && ms < starts[starts.length - 1]!)) return localDate(ms, timeZone);
    let lo = 0;
    let hi = starts.length - 1;
    // Invariant: starts[lo] <= ms < starts[hi].
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= ms) lo = mid;
      else hi = mid;
    }
    return confirmed[lo] && confirmed[hi] ? dates[lo]! : localDate(ms, timeZone);
  };
}
