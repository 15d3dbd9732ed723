/**
 * Properties of a whole simulation over a synthetic year with the whole lifecycle (the product
 * catalog: care touches, reactivation and win-back, series; default no-show and cancel rates),
 * every client traced: the production rules hold for every client (no message outside the send
 * window, no cap ever exceeded, no marketing while a booking is watched, care only for held-out
 * clients), and the counts add up.
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
let heldOut: SimulationResult & { trace: TraceEvent[] };
let care: Set<string>;

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
  const options = {
    months: 12,
    seed: 5,
    rates: DEFAULT_BOOKING_RATES,
    leadDays: 14,
    traceClients: new Set(parsed.rows.map((r) => r.clientId)),
  };
  result = simulate(parsed.rows, clinic, options) as typeof result;
  heldOut = simulate(parsed.rows, clinic, { ...options, holdoutShare: () => 0.3 }) as typeof result;
  care = new Set(
    [...clinic.types.values()]
      .flatMap((t) => [...t.stages, ...(t.series?.stages ?? [])])
      .filter((st) => st.purpose === 'care')
      .map((st) => st.key),
  );
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
    expect(s.messages.care).toBeGreaterThan(100);
    expect(s.lifecycle).toMatchObject({
      cancelled: expect.any(Number),
      noShows: expect.any(Number),
    });
    for (const k of [
      'cancelled',
      'noShows',
      'rebookedAfterCancel',
      'recovered',
      'recoveryTouches',
      'reactivated',
    ] as const)
      expect(s.lifecycle[k], k).toBeGreaterThan(0);
    expect(s.staffTasks.appointmentChange).toBeGreaterThan(0);
    expect(s.sequences.seriesSessions).toBeGreaterThan(0);
    expect(s.sequences.maintenance).toBeGreaterThan(0);
    expect(result.byStage.find((r) => r.stage === 'reactivation')?.reached).toBeGreaterThan(0);
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
      // Care touches are exempt from the caps (the clinic does not count them) and not counted.
      const sent = es
        .filter((e) => e.kind === 'sent' && !care.has(e.stage!))
        .map((e) => ({ at: Date.parse(e.at), channel: e.channel! }));
      for (const p of capViolations(clinic.capRules, sent)) problems.push(`${clientId}: ${p}`);
    }
    expect(problems).toEqual([]);
  });

  it('sends no marketing touch and creates no task while a booking is watched', () => {
    const problems: string[] = [];
    for (const [clientId, es] of byClient(result.trace)) {
      const watched = new Map<string, number>();
      for (const e of es) {
        const at = Date.parse(e.at);
        if (e.kind === 'booked') watched.set(e.treatmentType, at);
        else if (['resumed', 'attended', 'enrolled', 'restarted', 'booked_in_history'].includes(e.kind))
          watched.delete(e.treatmentType);
        else if (
          (e.kind === 'staff_task' || (e.kind === 'sent' && !care.has(e.stage!))) &&
          watched.has(e.treatmentType)
        )
          problems.push(`${clientId}: ${e.kind} ${e.stage} at ${e.at} while a booking is watched`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('accounts for every booking: attended, cancelled, missed, overtaken by the history or open at the end', () => {
    const l = result.summary.lifecycle;
    expect(l.booked).toBe(l.attended + l.cancelled + l.noShows + l.overtakenByHistory + l.openAtEnd);
    expect(result.summary.rebookings.simulated).toBe(l.booked);
    expect(result.summary.sequences.bookedSimulated).toBeGreaterThanOrEqual(l.attended);
    const arms = result.summary.arms;
    expect(arms.map((a) => a.arm)).toEqual(['treated', 'holdout']);
    expect(arms[0]!.visits + arms[1]!.visits).toBe(
      result.summary.sequences.bookedSimulated + result.summary.sequences.bookedInHistory,
    );
    expect(arms[1]!.enrolled).toBe(0);
  });

  it('gives held-out clients care touches and nothing else, and books them at the baseline only', () => {
    const held = new Set(
      heldOut.trace.filter((e) => e.kind === 'enrolled' && e.detail?.includes('held out')).map((e) => e.clientId),
    );
    expect(held.size).toBeGreaterThan(50);
    const toHeld = heldOut.trace.filter((e) => held.has(e.clientId));
    expect(toHeld.filter((e) => (e.kind === 'sent' && !care.has(e.stage!)) || e.kind === 'staff_task')).toEqual([]);
    expect(toHeld.filter((e) => e.kind === 'sent').length).toBeGreaterThan(50);
    // A held-out client's bookings come from the baseline or a rebooking after a cancellation, none after a touch.
    expect(
      toHeld.filter((e) => e.kind === 'booked' && e.stage !== 'before_first_touch' && e.detail !== 'rebooked'),
    ).toEqual([]);
    const [treated, holdout] = heldOut.summary.arms;
    expect(holdout!.enrolled).toBeGreaterThan(0.2 * (treated!.enrolled + holdout!.enrolled));
    expect(heldOut.summary.suppressed.holdout).toBeGreaterThan(0);
    expect(heldOut.summary.lifecycle.bookedWithoutProgram).toBeGreaterThan(0);
  });

  it('ends every sequence exactly once', () => {
    const q = result.summary.sequences;
    expect(q.enrolled).toBe(q.restarted + q.bookedSimulated + q.bookedInHistory + q.churned + q.runningAtEnd);
    const ends = result.trace.filter((e) =>
      ['restarted', 'attended', 'booked_in_history', 'churned', 'running_at_end'].includes(e.kind),
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
        | 'enrolled'
        | 'care'
        | 'attended'
        | 'cancelled'
        | 'noShows',
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
    expect(sum('care')).toBe(s.messages.care);
    expect(sum('attended')).toBe(s.lifecycle.attended);
    expect(sum('cancelled')).toBe(s.lifecycle.cancelled);
    expect(sum('noShows')).toBe(s.lifecycle.noShows);
    // Care touches are no conversion stage: the stage table counts marketing touches and staff tasks.
    expect(result.byStage.reduce((a, r) => a + r.reached, 0)).toBe(
      s.messages.total - s.messages.care + s.staffTasks.total,
    );
    // Rebookings after a cancellation are attributed to the stage the first booking followed.
    expect(result.byStage.reduce((a, r) => a + r.rebookings, 0)).toBe(
      s.rebookings.simulated - s.lifecycle.rebookedAfterCancel - s.lifecycle.bookedWithoutProgram,
    );
    expect(result.byType.reduce((a, r) => a + r.messages, 0)).toBe(s.messages.total);
    expect(result.trace.filter((e) => e.kind === 'sent').length).toBe(s.messages.total);
    expect(
      result.trace.filter((e) => e.kind === 'booked' && e.stage !== 'before_first_touch').length,
    ).toBeGreaterThanOrEqual(s.rebookings.simulated);
    expect(Object.values(s.offers.byOffer).reduce((a, b) => a + b, 0)).toBe(s.offers.issued);
  });
});
