/**
 * Expected stage instants, computed independently of src/core (plain Intl arithmetic), so the
 * workflow tests check the planner instead of repeating it.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(
  ms: number,
  timeZone: string,
): { y: number; m: number; d: number; h: number; min: number; s: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  return { y: p.year!, m: p.month!, d: p.day!, h: p.hour!, min: p.minute!, s: p.second! };
}

/**
 * The instant at which clocks in `timeZone` read `hh:mm` on the local calendar day that is
 * `days` after the local day of `anchorMs`.
 */
export function localTimeOnDay(anchorMs: number, days: number, hhmm: string, timeZone: string): number {
  const a = wallClock(anchorMs, timeZone);
  const [hh, mm] = hhmm.split(':').map(Number) as [number, number];
  // The target wall time read as if it were UTC; Date.UTC normalises day overflow across months.
  const wall = Date.UTC(a.y, a.m - 1, a.d + days, hh, mm);
  let guess = wall;
  // Two rounds settle the zone offset on either side of a daylight-saving change.
  for (let i = 0; i < 2; i++) {
    const w = wallClock(guess, timeZone);
    const offset = Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s) - guess;
    guess = wall - offset;
  }
  return guess;
}

/** Clinic-local 10:00 (the demo clinic's send time, America/New_York) on treatment day + `days`. */
export function demoDue(anchorMs: number, days: number): number {
  return localTimeOnDay(anchorMs, days, '10:00', 'America/New_York');
}

/** Clinic-local 23:59 on treatment day + `days`: when a rebooking window closes. */
export function demoDayEnd(anchorMs: number, days: number): number {
  return localTimeOnDay(anchorMs, days, '23:59', 'America/New_York');
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Day of the week (0 = Sunday) of an instant on the clocks of `timeZone`. */
export function localWeekday(ms: number, timeZone: string): number {
  return WEEKDAYS.indexOf(new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short' }).format(new Date(ms)));
}

/** The first instant after `fromMs` at which clocks in `timeZone` read `hhmm` on the given weekday. */
export function nextLocalWeekdayAt(fromMs: number, weekday: number, hhmm: string, timeZone: string): number {
  for (let d = 0; d <= 7; d++) {
    const at = localTimeOnDay(fromMs, d, hhmm, timeZone);
    if (at > fromMs && localWeekday(at, timeZone) === weekday) return at;
  }
  throw new Error('unreachable: a weekday recurs within 8 days');
}

/**
 * A treatment slot for workflow tests: the next Tuesday, 15:00 in the demo clinic. From a Tuesday
 * every Botox stage day used in the tests (80, 85, 90, 95, 100, 120, 130, 150) falls Monday to
 * Saturday, inside the default send window, so stages go out exactly at 10:00 of their day
 * whatever the date the suite runs on.
 */
export function demoTreatmentSlot(fromMs: number): number {
  return nextLocalWeekdayAt(fromMs, 2, '15:00', 'America/New_York');
}

/** Advances a test engine to the next treatment slot and returns that instant. */
export async function treatmentSlot(e: { now(): number; sleepUntil(ms: number): Promise<void> }): Promise<number> {
  const at = demoTreatmentSlot(e.now());
  await e.sleepUntil(at);
  return at;
}
