/**
 * An independent way to read wall clocks, for checking src/core/zoned-time against something
 * other than itself: the zone offset comes from Intl's `longOffset` name ("GMT+12:45") and the
 * wall time is plain UTC arithmetic on instant + offset, where the implementation reads
 * formatToParts fields instead.
 */

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of the zone from UTC at the instant, in minutes. */
export function oracleOffsetMinutes(instantMs: number, timeZone: string): number {
  let f = offsetFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    offsetFormatters.set(timeZone, f);
  }
  const name = f.formatToParts(new Date(instantMs)).find((p) => p.type === 'timeZoneName')?.value;
  if (name === undefined) throw new Error(`no offset name for ${timeZone}`);
  if (name === 'GMT') return 0;
  const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  if (!m) throw new Error(`unexpected offset name "${name}"`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

export interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/** The wall-clock reading (to the minute) of an instant in the zone. */
export function oracleWall(instantMs: number, timeZone: string): Wall {
  const d = new Date(instantMs + oracleOffsetMinutes(instantMs, timeZone) * 60_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
  };
}

export function sameWall(a: Wall, b: Wall): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute;
}

/**
 * Every instant (to the minute) at which the zone's clocks read `wall`, found by brute force over
 * all offsets in 15-minute steps from -12:00 to +14:00 (every offset in use since 1980 is a
 * multiple of 15 minutes). Empty in a spring-forward gap, two instants in a fall-back overlap.
 */
export function oracleInstantsReading(wall: Wall, timeZone: string): number[] {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  const out: number[] = [];
  for (let off = -12 * 60; off <= 14 * 60; off += 15) {
    const t = asUtc - off * 60_000;
    if (sameWall(oracleWall(t, timeZone), wall)) out.push(t);
  }
  return out.sort((a, b) => a - b);
}
