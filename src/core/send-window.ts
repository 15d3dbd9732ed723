/**
 * Send windows: client-facing messages go out only on allowed weekdays between a local start
 * and end time, in the client's time zone when known, else the clinic's. Never outside
 * 08:00–20:00 local (the strictest state rules: Florida, Oklahoma, Maryland). Pure and
 * deterministic: instants in, instants out, DST handled through the zone's own offsets.
 */
import { addDays, fromLocal, localDate, parseClock, toLocal } from './zoned-time.js';

export interface SendWindow {
  /** Allowed weekdays, 0 = Sunday … 6 = Saturday. */
  days: number[];
  /** Local "HH:MM", inclusive. */
  start: string;
  /** Local "HH:MM", exclusive. */
  end: string;
}

/** Monday–Saturday 10:00–19:00. */
export const DEFAULT_SEND_WINDOW: SendWindow = { days: [1, 2, 3, 4, 5, 6], start: '10:00', end: '19:00' };
/** The outer bounds no configuration can widen. */
export const LEGAL_WINDOW = { start: '08:00', end: '20:00' } as const;

export const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const minutes = (clock: string) => {
  const c = parseClock(clock);
  return c.hour * 60 + c.minute;
};
const clockOf = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** The window narrowed to the legal bounds (configuration validation rejects wider ones too). */
export function clampWindow(w: SendWindow): SendWindow {
  const start = Math.max(minutes(w.start), minutes(LEGAL_WINDOW.start));
  const end = Math.min(minutes(w.end), minutes(LEGAL_WINDOW.end));
  return { days: w.days, start: clockOf(start), end: clockOf(end) };
}

function weekdayOf(date: { year: number; month: number; day: number }): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

export function isWithinWindow(instantMs: number, window: SendWindow, timeZone: string): boolean {
  return nextOpening(instantMs, window, timeZone) === instantMs;
}

/**
 * `instantMs` itself when it is inside the window, else the instant the window next opens.
 * Infinity when the window never opens (no days, or start ≥ end).
 */
export function nextOpening(instantMs: number, window: SendWindow, timeZone: string): number {
  const w = clampWindow(window);
  if (w.days.length === 0 || minutes(w.start) >= minutes(w.end)) return Number.POSITIVE_INFINITY;
  const today = localDate(instantMs, timeZone);
  for (let d = 0; d <= 7; d++) {
    const date = addDays(today, d);
    if (!w.days.includes(weekdayOf(date))) continue;
    const open = fromLocal({ ...date, ...parseClock(w.start) }, timeZone);
    const close = fromLocal({ ...date, ...parseClock(w.end) }, timeZone);
    if (instantMs < close) return Math.max(instantMs, open);
  }
  return Number.POSITIVE_INFINITY;
}

/** The local wall clock of an instant, for messages and tests ("Mon 10:00"). */
export function describeLocal(instantMs: number, timeZone: string): string {
  const l = toLocal(instantMs, timeZone);
  return `${WEEKDAY_NAMES[l.weekday]} ${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}`;
}
