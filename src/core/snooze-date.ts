/**
 * The date a "not now" reply names: "remind me next month", "in 2 weeks", "after the summer",
 * "in January". Pure and table-tested: the inbound handler reads the reply's date with the
 * clinic's time zone and the instant the reply arrived, and the snooze signal carries it to the
 * workflow, whose reactivation touch then goes out on that day at the clinic's send time.
 *
 * Only dates between one week and six months after the reply count: "tomorrow" is too soon to
 * be a snooze (staff see the reply), and "next year" said in February is too far to plan a touch
 * for. Outside that range, or when the reply names no date, the snooze keeps its old meaning:
 * one reactivation touch at interval + 30 days.
 */
import { addDays, fromLocal, localDate, parseClock } from './zoned-time.js';

export type CalendarDay = { year: number; month: number; day: number };

/** The range a named date must fall in (calendar days and months after the reply's local date). */
export const SNOOZE_MIN_DAYS = 7;
export const SNOOZE_MAX_MONTHS = 6;

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const MONTH_SHORT = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_RE = `(${MONTHS.join('|')}|${MONTH_SHORT.join('|')}|sept)`;

const NUMBERS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  twelve: 12,
  few: 3,
  'a few': 3,
  couple: 2,
  'a couple': 2,
  'a couple of': 2,
  'couple of': 2,
};
const NUMBER_RE =
  '(\\d{1,3}|a couple of|a couple|couple of|a few|few|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve)';

/**
 * First month (1-12) after a season or holiday, in the northern hemisphere where the clinics are:
 * "after the summer" is September, "after the holidays" early January.
 */
const AFTER_SEASON: { re: RegExp; month: number; day: number }[] = [
  { re: /\bafter (the )?summer\b/, month: 9, day: 1 },
  { re: /\bafter (the )?(fall|autumn)\b/, month: 12, day: 1 },
  { re: /\bafter (the )?winter\b/, month: 3, day: 1 },
  { re: /\bafter (the )?spring\b/, month: 6, day: 1 },
  { re: /\bafter (the )?(holidays?|christmas|xmas|new year'?s?)\b/, month: 1, day: 6 },
  { re: /\bafter (the )?thanksgiving\b/, month: 12, day: 1 },
];
/** "In the summer", "this fall": the season's first month. */
const IN_SEASON: { re: RegExp; month: number }[] = [
  { re: /\b(in|this|next|by) (the )?spring\b/, month: 3 },
  { re: /\b(in|this|next|by) (the )?summer\b/, month: 6 },
  { re: /\b(in|this|next|by) (the )?(fall|autumn)\b/, month: 9 },
  { re: /\b(in|this|next|by) (the )?winter\b/, month: 12 },
];

function normalize(text: string): string {
  return ` ${text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/[^\p{L}\p{N}' ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()} `;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Adds calendar months, keeping the day of the month where the month has it (Jan 31 + 1 → Feb 28). */
export function addMonths(d: CalendarDay, months: number): CalendarDay {
  const index = d.year * 12 + (d.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return { year, month, day: Math.min(d.day, daysInMonth(year, month)) };
}

const ord = (d: CalendarDay) => d.year * 10_000 + d.month * 100 + d.day;

/** The next `month`/`day` strictly after `today` (this year, else next year). */
function nextOccurrence(today: CalendarDay, month: number, day: number): CalendarDay {
  const thisYear = { year: today.year, month, day: Math.min(day, daysInMonth(today.year, month)) };
  if (ord(thisYear) > ord(today)) return thisYear;
  return { year: today.year + 1, month, day: Math.min(day, daysInMonth(today.year + 1, month)) };
}

function monthIndex(name: string): number {
  const n = name === 'sept' ? 'sep' : name;
  const i = MONTHS.indexOf(n);
  return (i >= 0 ? i : MONTH_SHORT.indexOf(n)) + 1;
}

/** A month named on its own: the first of it, unless that is this month (then a year on). */
function nextMonthStart(today: CalendarDay, month: number, day = 1): CalendarDay {
  if (month === today.month) return { year: today.year + 1, month, day };
  return nextOccurrence(today, month, day);
}

/**
 * The calendar day a reply names, counted from `today` (the reply's local date), or null. No
 * range check: see `snoozeDate`.
 */
export function namedDay(text: string, today: CalendarDay): CalendarDay | null {
  const w = normalize(text);

  // "in 2 weeks", "in a couple of months", "3 weeks from now", "give me a month".
  const rel = new RegExp(
    `\\b(?:in|after|for|give (?:me|it)|wait|another|about|around|like)? ?${NUMBER_RE} ?(?:more )?(day|week|month)s?\\b`,
  ).exec(w);
  if (rel) {
    const n = /^\d+$/.test(rel[1]!) ? Number(rel[1]) : NUMBERS[rel[1]!]!;
    if (rel[2] === 'day') return addDays(today, n);
    if (rel[2] === 'week') return addDays(today, 7 * n);
    return addMonths(today, n);
  }
  if (/\bnext week\b/.test(w)) return addDays(today, 7);
  if (/\b(next|in a|in one) fortnight\b|\bin a fortnight\b/.test(w)) return addDays(today, 14);
  if (/\bnext month\b/.test(w)) return addMonths(today, 1);
  if (/\bnext year\b/.test(w)) return { year: today.year + 1, month: 1, day: 6 };

  // "after January": the month that follows it; "March 15", "15 March", "mid March", "end of March".
  const after = new RegExp(`\\b(after|past) ${MONTH_RE}\\b`).exec(w);
  if (after) {
    const m = monthIndex(after[2]!);
    return nextMonthStart(today, (m % 12) + 1);
  }
  const monthDay = new RegExp(`\\b${MONTH_RE} (\\d{1,2})(st|nd|rd|th)?\\b`).exec(w);
  if (monthDay && Number(monthDay[2]) >= 1 && Number(monthDay[2]) <= 31)
    return nextOccurrence(today, monthIndex(monthDay[1]!), Number(monthDay[2]));
  const dayMonth = new RegExp(`\\b(\\d{1,2})(st|nd|rd|th)? (of )?${MONTH_RE}\\b`).exec(w);
  if (dayMonth && Number(dayMonth[1]) >= 1 && Number(dayMonth[1]) <= 31)
    return nextOccurrence(today, monthIndex(dayMonth[4]!), Number(dayMonth[1]));
  const partOf = new RegExp(`\\b(early|mid|middle of|late|end of|the end of) ${MONTH_RE}\\b`).exec(w);
  if (partOf) {
    const m = monthIndex(partOf[2]!);
    const day = partOf[1] === 'early' ? 1 : partOf[1]!.startsWith('mid') ? 15 : 20;
    return nextMonthStart(today, m, day);
  }
  // "in January", "until March", "next April", "January": the first of that month.
  const month = new RegExp(`\\b(?:in|until|till|til|by|next|around|come) ${MONTH_RE}\\b`).exec(w);
  if (month) return nextMonthStart(today, monthIndex(month[1]!));

  for (const s of AFTER_SEASON) if (s.re.test(w)) return nextOccurrence(today, s.month, s.day);
  for (const s of IN_SEASON) if (s.re.test(w)) return nextMonthStart(today, s.month);
  return null;
}

/** Whether `day` lies between one week and six months after `today` (both inclusive). */
export function snoozeDayInRange(day: CalendarDay, today: CalendarDay): boolean {
  return ord(day) >= ord(addDays(today, SNOOZE_MIN_DAYS)) && ord(day) <= ord(addMonths(today, SNOOZE_MAX_MONTHS));
}

/**
 * The instant a dated snooze's touch is due: the day the reply names at the clinic's send time,
 * or undefined when it names none or one outside the range (the caller then snoozes as before).
 */
export function snoozeUntil(
  text: string,
  replyAtMs: number,
  opts: { timeZone: string; sendTime: string },
): string | undefined {
  const today = localDate(replyAtMs, opts.timeZone);
  const day = namedDay(text, today);
  if (!day || !snoozeDayInRange(day, today)) return undefined;
  return new Date(fromLocal({ ...day, ...parseClock(opts.sendTime) }, opts.timeZone)).toISOString();
}
