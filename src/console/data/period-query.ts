/**
 * The dashboard's period picker as a query string: `range` (last 30, 90 or 365 days, or custom
 * dates) and `from`/`to` on the clinic's calendar. Parsed with zod; a problem is a coded
 * validation error naming its field, and the page falls back to the default period meanwhile.
 */
import { z } from 'zod';
import { fromLocal, localDate } from '../../core/zoned-time.js';
import { RebookError } from '../../errors.js';
import { DEFAULT_PERIOD_DAYS, type Period, parsePeriod } from '../../reports/query.js';

export const PERIOD_RANGES = ['30', '90', '365', 'custom'] as const;
export type PeriodRange = (typeof PERIOD_RANGES)[number];

const date = z.iso.date({ error: 'enter a date like 2026-05-20' });

export const periodQuery = z
  .object({
    range: z.enum(PERIOD_RANGES, { error: 'choose a period' }).default(String(DEFAULT_PERIOD_DAYS) as PeriodRange),
    from: date.optional(),
    to: date.optional(),
    clinic: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'unknown clinic')
      .optional(),
  })
  .superRefine((q, ctx) => {
    if (q.range !== 'custom') return;
    if (!q.from) ctx.addIssue({ code: 'custom', path: ['from'], message: 'enter the first day of the period' });
    if (!q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'enter the last day of the period' });
    if (q.from && q.to && q.from > q.to)
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'the last day must not be before the first' });
  });

export type PeriodQuery = z.infer<typeof periodQuery>;

export interface PeriodChoice {
  /** What the form shows back (the raw values when they were invalid). */
  values: { range: PeriodRange; from: string; to: string };
  /** The query's clinic id (checked against the viewer's clinics by the route). */
  clinic?: string;
  period: Period;
  /** Field → message; the period is the default one when there are any. */
  errors: Record<string, string>;
}

/** The last `days` days on the clinic's calendar, today included, up to now. */
export function lastDays(days: number, timeZone: string, nowMs: number): Period {
  const today = localDate(nowMs, timeZone);
  const start = new Date(Date.UTC(today.year, today.month - 1, today.day - days + 1));
  return {
    fromMs: fromLocal(
      { year: start.getUTCFullYear(), month: start.getUTCMonth() + 1, day: start.getUTCDate(), hour: 0, minute: 0 },
      timeZone,
    ),
    toMs: nowMs,
  };
}

const isoDay = (ms: number, timeZone: string) => {
  const d = localDate(ms, timeZone);
  return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
};

/** Reads the picker from a query string; never throws for a bad value (the errors say what to fix). */
export function choosePeriod(raw: Record<string, unknown>, timeZone: string, nowMs: number): PeriodChoice {
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => typeof v === 'string' && v !== ''));
  const parsed = periodQuery.safeParse(present);
  const fallback = lastDays(DEFAULT_PERIOD_DAYS, timeZone, nowMs);
  const shown = (p: Period, range: PeriodRange) => ({
    range,
    from: isoDay(p.fromMs, timeZone),
    to: isoDay(p.toMs - 1, timeZone),
  });
  if (!parsed.success) {
    const errors: Record<string, string> = {};
    for (const i of parsed.error.issues) errors[String(i.path[0] ?? 'range')] ??= i.message;
    const clinic = typeof present.clinic === 'string' ? present.clinic : undefined;
    return {
      values: {
        range: PERIOD_RANGES.includes(present.range as PeriodRange) ? (present.range as PeriodRange) : 'custom',
        from: String(present.from ?? ''),
        to: String(present.to ?? ''),
      },
      ...(clinic && !errors.clinic ? { clinic } : {}),
      period: fallback,
      errors,
    };
  }
  const q = parsed.data;
  const clinic = q.clinic ? { clinic: q.clinic } : {};
  if (q.range !== 'custom') {
    const period = lastDays(Number(q.range), timeZone, nowMs);
    return { values: shown(period, q.range), ...clinic, period, errors: {} };
  }
  try {
    // `to` is inclusive (the whole day); a period reaching past now stops at now.
    const asked = parsePeriod({ from: q.from!, to: q.to! }, timeZone, nowMs);
    const period = { fromMs: asked.fromMs, toMs: Math.max(asked.fromMs + 1, Math.min(asked.toMs, nowMs)) };
    return { values: { range: 'custom', from: q.from!, to: q.to! }, ...clinic, period, errors: {} };
  } catch (err) {
    if (!(err instanceof RebookError)) throw err;
    const field = err.details.issues?.[0]?.path.replace(/^query\./, '') ?? 'from';
    return {
      values: { range: 'custom', from: q.from!, to: q.to! },
      ...clinic,
      period: fallback,
      errors: { [field]: err.details.issues?.[0]?.message ?? err.message },
    };
  }
}
