/**
 * Properties of a whole simulation over a synthetic year, every client traced: the production
 * rules hold for every client (no message outside the send window, no cap ever exceeded, nothing
 * sent after a booking), and the counts add up.
 */

import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { CapRule } from '../../src/core/caps.js';
import { isWithinWindow } from '../../src/core/send-window.js';
import { DEFAULT_BOOKING_RATES } from '../../src/simulator/booking-rates.js';
import { type SimulationClinic, simulationClinic } from '../../src/simulator/clinic.js';
import { type SimulationResult, simulate, type TraceEvent } from '../../src/simulator/engine.js';
import { parseHistoryCsv } from '../../src/simulator/history-csv.js';
import { generateHistory, historyToCsv } from '../../src/simulator/synthetic.js';

const REAL_CONFIG = fileURLToPath(new URL('../../config', import.meta.url));
let clinic: SimulationClinic;
let result: SimulationResult & { trace: TraceEvent[] };

beforeAll(() => {
  // The product's catalog with a clinic on the default Monday–Saturday window.
  const demo = simulationClinic(loadConfig(REAL_CONFIG), 'demo-clinic');
  clinic = { ...demo, sendWindow: { days: [1, 2, 3, 4, 5, 6], start: '10:00', end: '19:00' } };
  const rows = generateHistory({
    clients: 400,
    treatments: 2400,
    start: '2026-01-05',
    seed: 11,
    timeZone: clinic.timeZone,
  });
  const parsed = parseHistoryCsv(historyToCsv(rows), clinic.timeZone);
  expect(parsed.problems).toEqual([]);
  result = simulate(parsed.rows, clinic, {
    months: 12,
    seed: 5,
    rates: DEFAULT_BOOKING_RATES,
    leadDays: 14,
    traceClients: new Set(parsed.rows.map((r) => r.clientId)),
  }) as typeof result;
});

function byClient(trace: TraceEvent[]): Map<string, TraceEvent[]> {
  const out = new Map<string, TraceEvent[]>();
  for (const e of trace) {
    let list = out.get(e.clientId);
    if (!list) {
      list = [];
      out.set(e.clientId, list);
    }
    list.push(e);
  }
  return out;
}

/** Independent oracle: every rolling window ending at a send holds at most `max` sends. */
function capViolations(rules: CapRule[], sends: { at: number; channel: string }[]): string[] {
  const out: string[] = [];
  for (const rule of rules) {
    for (const end of sends) {
      const n = sends.filter(
        (s) => (!rule.channel || s.channel === rule.channel) && s.at > end.at - rule.windowMs && s.at <= end.at,
      ).length;
      if (n > rule.max)
        out.push(`${rule.max}/${rule.windowMs}/${rule.channel ?? '*'} at ${new Date(end.at).toISOString()}: ${n}`);
    }
  }
  return out;
}

describe('a synthetic year (400 clients, 2,400 treatments)', () => {
  it('exercises what it checks: messages on both channels, deferrals, suppressions, bookings of both kinds', () => {
    const s = result.summary;
    expect(s.messages.email).toBeGreaterThan(100);
    expect(s.messages.sms).toBeGreaterThan(50);
    expect(s.deferred.sendWindow).toBeGreaterThan(0);
    expect(s.suppressed.caps).toBeGreaterThan(0);
    expect(s.rebookings.simulated).toBeGreaterThan(0);
    expect(s.sequences.bookedInHistory).toBeGreaterThan(0);
    expect(s.staffTasks.total).toBeGreaterThan(0);
    expect(s.input.unclassifiedRows).toBeGreaterThan(0);
  });

  it('sends every client message inside the send window', () => {
    const outside = result.trace.filter(
      (e) => e.kind === 'sent' && !isWithinWindow(Date.parse(e.at), clinic.sendWindow, clinic.timeZone),
    );
    expect(outside).toEqual([]);
  });

  it('never exceeds a cap rule for any client, across all their sequences', () => {
    const problems: string[] = [];
    for (const [clientId, es] of byClient(result.trace)) {
      const sent = es.filter((e) => e.kind === 'sent').map((e) => ({ at: Date.parse(e.at), channel: e.channel! }));
      for (const p of capViolations(clinic.capRules, sent)) problems.push(`${clientId}: ${p}`);
    }
    expect(problems).toEqual([]);
  });

  it('sends nothing to a client between a booking and their next treatment', () => {
    const problems: string[] = [];
    for (const [clientId, es] of byClient(result.trace)) {
      let bookedAt: number | undefined;
      for (const e of es) {
        const at = Date.parse(e.at);
        if (e.kind === 'booked') bookedAt ??= at;
        else if (e.kind === 'enrolled' && bookedAt !== undefined && at > bookedAt) bookedAt = undefined;
        else if ((e.kind === 'sent' || e.kind === 'staff_task') && bookedAt !== undefined && at > bookedAt)
          problems.push(`${clientId}: ${e.kind} ${e.stage} at ${e.at} after a booking`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('ends every sequence exactly once', () => {
    const q = result.summary.sequences;
    expect(q.enrolled).toBe(q.restarted + q.bookedSimulated + q.bookedInHistory + q.churned + q.runningAtEnd);
    const ends = result.trace.filter((e) =>
      ['restarted', 'booked', 'booked_in_history', 'churned', 'running_at_end'].includes(e.kind),
    ).length;
    expect(ends).toBe(q.enrolled);
  });

  it('adds up: weekly series, stages, types and the trace agree with the totals', () => {
    const s = result.summary;
    const sum = (
      k:
        | 'email'
        | 'sms'
        | 'staffTasks'
        | 'offers'
        | 'deferredBySendWindow'
        | 'deferredByCaps'
        | 'suppressedByCaps'
        | 'rebookings'
        | 'enrolled',
    ) => result.weekly.reduce((a, w) => a + w[k], 0);
    expect(sum('email')).toBe(s.messages.email);
    expect(sum('sms')).toBe(s.messages.sms);
    expect(sum('staffTasks')).toBe(s.staffTasks.total);
    expect(sum('offers')).toBe(s.offers.issued);
    expect(sum('deferredBySendWindow')).toBe(s.deferred.sendWindow);
    expect(sum('deferredByCaps')).toBe(s.deferred.caps);
    expect(sum('suppressedByCaps')).toBe(s.suppressed.caps);
    expect(sum('rebookings')).toBe(s.rebookings.simulated);
    expect(sum('enrolled')).toBe(s.sequences.enrolled);
    expect(result.byStage.reduce((a, r) => a + r.reached, 0)).toBe(s.messages.total + s.staffTasks.total);
    expect(result.byStage.reduce((a, r) => a + r.rebookings, 0)).toBe(s.rebookings.simulated);
    expect(result.byType.reduce((a, r) => a + r.messages, 0)).toBe(s.messages.total);
    expect(result.trace.filter((e) => e.kind === 'sent').length).toBe(s.messages.total);
    expect(
      result.trace.filter((e) => e.kind === 'booked' && e.stage !== 'before_first_touch').length,
    ).toBeGreaterThanOrEqual(s.rebookings.simulated);
    expect(Object.values(s.offers.byOffer).reduce((a, b) => a + b, 0)).toBe(s.offers.issued);
  });
});
