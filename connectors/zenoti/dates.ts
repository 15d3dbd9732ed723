/** Zenoti's date parameters: the center's calendar date (YYYY-MM-DD) of an instant. */
import { toLocal } from '../../src/core/zoned-time.js';

export function siteLocalDate(ms: number, timeZone: string): string {
  const l = toLocal(ms, timeZone);
  return `${String(l.year).padStart(4, '0')}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
}
