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
 * A window's opening and closing instants per zone and local day (null: closed that day), memoized
 * per window object. Why: decideStage asks nextOpening for every stage of every client; recomputing
 * the clamp and two zoned instants each time cost the simulator ~9 s of CPU on 300,000 treatments.
 * Bounded, so a long-lived worker's memo cannot grow without end; a window is read once (config objects are never mutated).
 */
interface WindowDays {
  clamped: SendWindow;
  never: boolean;
  days: Map<string, Map<number, readonly [number, number] | null>>;
}
const windowDays = new WeakMap<SendWindow, WindowDays>();
const MAX_DAYS_PER_ZONE = 100_000;

function daysOf(window: SendWindow): WindowDays {
  let w = windowDays.get(window);
  if (!w) {
    const clamped = clampWindow(window);
    w = {
      clamped,
      never: clamped.days.length === 0 || minutes(clamped.start) >= minutes(clamped.end),
      days: new Map(),
    };
    windowDays.set(window, w);
  }
  return w;
}

function openClose(w: WindowDays, date: { year: number; month: number; day: number }, timeZone: string) {
  let zone = w.days.get(timeZone);
  if (!zone) {
    zone = new Map();
    w.days.set(timeZone, zone);
  }
  const key = Date.UTC(date.year, date.month - 1, date.day);
  let oc = zone.get(key);
  if (oc === undefined) {
    oc = w.clamped.days.includes(weekdayOf(date))
      ? [
          fromLocal({ ...date, ...parseClock(w.clamped.start) }, timeZone),
          fromLocal({ ...date, ...parseClock(w.clamped.end) }, timeZone),
        ]
      : null;
    if (zone.size >= MAX_DAYS_PER_ZONE) zone.clear();
    zone.set(key, oc);
  }
  return oc;
}

/**
 * `instantMs` itself when it is inside the window, else the instant the window next opens.
 * Infinity when the window never opens (no days, or start ≥ end).
 */
export function nextOpening(instantMs: number, window: SendWindow, timeZone: string): number {
  const w = daysOf(window);
  if (w.never) return Number.POSITIVE_INFINITY;
  const today = localDate(instantMs, timeZone);
  for (let d = 0; d <= 7; d++) {
    const oc = openClose(w, addDays(today, d), timeZone);
    if (oc && instantMs < oc[1]) return Math.max(instantMs, oc[0]);
  }
  return Number.POSITIVE_INFINITY;
}

/** The local wall clock of an instant, for messages and tests ("Mon 10:00"). */
export function describeLocal(instantMs: number, timeZone: string): string {
  const l = toLocal(instantMs, timeZone);
  return `${WEEKDAY_NAMES[l.weekday]} ${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}`;
}
