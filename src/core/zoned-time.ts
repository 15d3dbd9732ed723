/**
 * Wall-clock arithmetic in an IANA time zone, with no dependency beyond Intl so it can run
 * inside Temporal workflow code (deterministic: it only reads the instants it is given).
 */

export interface LocalDateTime {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall-clock reading of an instant as Intl gives it (the reference the cached path must equal). */
export function toLocalIntl(instantMs: number, timeZone: string): LocalDateTime & { second: number; weekday: number } {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instantMs))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? 'Sun'] ?? 0,
  };
}

function offsetFromIntl(instantMs: number, timeZone: string): number {
  const l = toLocalIntl(instantMs, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/**
 * Offsets per zone and UTC quarter hour. Why: formatToParts costs microseconds and planning, send
 * windows and the simulator ask it millions of times (300,000 treatments: ~5 s of CPU). Offsets
 * change at most once in a quarter hour, so one that reads the same at the first and the last
 * second of a quarter hour holds for all of it; one that does not is asked of Intl every time.
 * A plain memo of a pure function (workflow code stays deterministic); bounded for long-lived workers.
 */
const QUARTER_HOUR_MS = 900_000;
const MAX_CACHED_QUARTERS = 500_000;
const offsets = new Map<string, Map<number, number>>();

function cachedOffsetMs(instantMs: number, timeZone: string): number {
  let zone = offsets.get(timeZone);
  if (!zone) {
    zone = new Map();
    offsets.set(timeZone, zone);
  }
  const q = Math.floor(instantMs / QUARTER_HOUR_MS);
  let off = zone.get(q);
  if (off === undefined) {
    const first = offsetFromIntl(q * QUARTER_HOUR_MS, timeZone);
    const last = offsetFromIntl((q + 1) * QUARTER_HOUR_MS - 1000, timeZone);
    off = first === last ? first : Number.NaN;
    if (zone.size >= MAX_CACHED_QUARTERS) zone.clear();
    zone.set(q, off);
  }
  return Number.isNaN(off) ? offsetFromIntl(instantMs, timeZone) : off;
}

/** The wall-clock reading of an instant in a zone, plus its weekday (0 = Sunday). */
export function toLocal(instantMs: number, timeZone: string): LocalDateTime & { second: number; weekday: number } {
  const d = new Date(Math.floor(instantMs / 1000) * 1000 + cachedOffsetMs(instantMs, timeZone));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

/** Offset (ms) of the zone from UTC at the given instant. */
export function zoneOffsetMs(instantMs: number, timeZone: string): number {
  return cachedOffsetMs(instantMs, timeZone);
}

/**
 * The instant at which the zone's clocks read `local`. In a spring-forward gap the wall time
 * does not exist and the instant after the gap is returned (02:30 → 03:30); in a fall-back
 * overlap the earlier of the two instants is returned.
 */
export function fromLocal(local: LocalDateTime, timeZone: string): number {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  // Two candidate offsets: the one before and the one after any transition near this wall time.
  const offBefore = zoneOffsetMs(wall - 36 * 3600_000, timeZone);
  const offAfter = zoneOffsetMs(wall + 36 * 3600_000, timeZone);
  const candidates = [wall - offBefore, wall - offAfter].filter((t) => {
    const l = toLocal(t, timeZone);
    return (
      l.year === local.year &&
      l.month === local.month &&
      l.day === local.day &&
      l.hour === local.hour &&
      l.minute === local.minute
    );
  });
  if (candidates.length > 0) return Math.min(...candidates);
  // Gap: the wall time is skipped; shift by the size of the gap.
  return wall - offBefore;
}

/** Calendar date (in the zone) of an instant, as a UTC-midnight day number for day arithmetic. */
export function localDate(instantMs: number, timeZone: string): { year: number; month: number; day: number } {
  const l = toLocal(instantMs, timeZone);
  return { year: l.year, month: l.month, day: l.day };
}

/** Adds whole calendar days to a date (no time zone involved: calendar arithmetic only). */
export function addDays(
  date: { year: number; month: number; day: number },
  days: number,
): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Parses "HH:MM" (24h). */
export function parseClock(hhmm: string): { hour: number; minute: number } {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new RangeError(`invalid clock time "${hhmm}", expected HH:MM`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** True when the string names a time zone Intl knows. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const DAY_MS = 86_400_000;
