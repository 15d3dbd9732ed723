/**
 * The simulator's lifecycle arithmetic against hand calculations (issue 13 §4) and its flags.
 * Clinic: the simulator fixture (Botox stages on days 80/90/95/100, no reactivation touches,
 * default caps), clients reachable on both channels, treatments in January and February 2026 so
 * that every sequence finishes inside the 12 months simulated.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RebookError } from '../../src/errors.js';
import { parseLifecycleRates, parseVariantRates } from '../../src/simulator/booking-rates.js';
import type { SimulationClinic } from '../../src/simulator/clinic.js';
import { liftPlan } from '../../src/simulator/lift-plan.js';
import { csv, fixtureClinic, ratesOf, run } from './helpers.js';

const FULL = ['y', '+12125550123', 'y', 'y'];
let clinic: SimulationClinic;

beforeAll(() => {
  // The fixture clinic plus a recovery template on both channels (a clinic without one cannot send it).
  const base = fixtureClinic();
  clinic = { ...base, templateChannels: { ...base.templateChannels, recovery: ['sms', 'email'] } };
});

/** `n` Botox clients at $400, one a day-slot from 2026-01-05 on (Monday to Saturday, 59 days). */
function botoxClients(n: number): string {
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const day = new Date(Date.UTC(2026, 0, 5 + (i % 59)));
    if (day.getUTCDay() === 0) day.setUTCDate(day.getUTCDate() + 1);
    rows.push([`c${i}`, `a${i}`, 'Botox', day.toISOString().slice(0, 10), '400', ...FULL]);
  }
  return csv(rows);
}

/** |observed − expected share| within four standard errors of a binomial share over n. */
function withinFourSigma(observed: number, p: number, n: number) {
  expect(Math.abs(observed / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
}

describe('the cumulative rebook rate stage conversions imply', () => {
  const N = 3000;
  const rates = [0.22, 0.35, 0.12, 0.3];

  it('is 1 − Π(1 − rᵢ): 1 − 0.78 · 0.65 · 0.88 · 0.70 = 68.77 %, and each stage reaches those who have not booked', () => {
    const r = run(botoxClients(N), clinic, {
      rates: ratesOf(clinic, 'reminder=0.22,incentive=0.35,checkin=0.12,escalation=0.3'),
      traceClients: new Set(),
    });
    const [reminder, incentive, checkin, staff] = ['reminder', 'incentive', 'results_checkin', 'staff_escalation'].map(
      (k) => r.byStage.find((x) => x.stage === k)!,
    );
    // Funnel, exactly: every client is reachable and no cap holds a stage back.
    expect(reminder!.reached).toBe(N);
    expect(incentive!.reached).toBe(N - reminder!.rebookings);
    expect(checkin!.reached).toBe(incentive!.reached - incentive!.rebookings);
    expect(staff!.reached).toBe(checkin!.reached - checkin!.rebookings);
    // The expectation along the simulated path is Σ reached × rate.
    const expected = [reminder, incentive, checkin, staff].reduce((a, x, i) => a + x!.reached * rates[i]!, 0);
    expect(r.summary.rebookings.expected).toBeCloseTo(expected, 1);
    // Hand calculation: 1 − 0.78 × 0.65 × 0.88 × 0.70 = 1 − 0.312312 = 0.687688.
    const implied = 1 - 0.78 * 0.65 * 0.88 * 0.7;
    expect(implied).toBeCloseTo(0.687688, 6);
    withinFourSigma(r.summary.lifecycle.booked, implied, N);
    // Every booking attended (no-show and cancel 0 in the helper), so the arm's rate is the same share.
    expect(r.summary.lifecycle.attended).toBe(r.summary.lifecycle.booked);
    const treated = r.summary.arms[0]!;
    expect(treated.visits + treated.churned).toBe(N);
    expect(treated.rebookRate).toBe(r.summary.lifecycle.attended / N);
  });

  it('a booking is not a visit: with no-show 0.2 and cancel 0.1 every booking resolves once, and each lapse gets a recovery touch', () => {
    const r = run(botoxClients(N), clinic, {
      rates: ratesOf(clinic, 'reminder=1,recovery=0'),
      lifecycle: { noShow: 0.2, cancel: 0.1, rebookAfterCancel: 0 },
      traceClients: new Set(),
    });
    const l = r.summary.lifecycle;
    expect(l.booked).toBe(N);
    expect(l.attended + l.noShows + l.cancelled).toBe(N);
    withinFourSigma(l.noShows, 0.2, N);
    withinFourSigma(l.cancelled, 0.1, N);
    // Recovery SMS after every cancellation (2 days on) and every no-show; none converts (rate 0).
    expect(l.recoveryTouches).toBe(l.noShows + l.cancelled);
    expect(r.summary.sequences.churned).toBe(l.noShows + l.cancelled);
    // Hand calculation: visits = bookings × (1 − 0.2 − 0.1) = 0.7 of the clients.
    withinFourSigma(l.attended, 0.7, N);
    expect(r.summary.rebookings.revenueCents).toBe(l.attended * 40_000);
  });

  it('half the cancellations rebooked within the grace: visits = 0.9 / (1 − 0.1 × 0.5) of the bookings', () => {
    const r = run(botoxClients(N), clinic, {
      rates: ratesOf(clinic, 'reminder=1,recovery=0'),
      lifecycle: { noShow: 0, cancel: 0.1, rebookAfterCancel: 0.5 },
      traceClients: new Set(),
    });
    const l = r.summary.lifecycle;
    // P(visit) = 0.9 + 0.1 × 0.5 × P(visit) (a rebooked appointment can be cancelled again): 0.9 / 0.95 ≈ 0.947.
    const visits = 0.9 / (1 - 0.1 * 0.5);
    withinFourSigma(l.attended, visits, N);
    expect(l.rebookedAfterCancel + l.recoveryTouches).toBe(l.cancelled);
    expect(l.booked).toBe(N + l.rebookedAfterCancel);
  });
});

describe('the monthly visits and revenue a change in retention implies', () => {
  it('1,000 Botox clients a month at $400, 35 % → 55 %: +200 visits and +$80,000 a month, by hand, in the plan and in the simulation', () => {
    // Hand calculation: 1,000 × (0.55 − 0.35) = 200 visits a month; × $400 = $80,000 a month.
    const plan = liftPlan([{ treatmentType: 'neuromodulator', enrolled: 6000 }], 6, clinic.types, {
      holdoutShare: () => 0.5,
      baselineRate: 0.35,
      priceCents: () => 40_000,
    });
    expect(plan[0]!.visitsPerMonthAtLift).toBe(200);
    expect(plan[0]!.revenueCentsPerMonthAtLift).toBe(8_000_000);

    // The simulation: half held out (they book by themselves at the 35 % baseline), the treated
    // half reached by one reminder that converts 55 %; every booking attended.
    const n = 6000;
    const rows: string[][] = [];
    for (let i = 0; i < n; i++) {
      const day = new Date(Date.UTC(2026, 0, 5 + (i % 150)));
      rows.push([`c${i}`, `a${i}`, 'Botox', day.toISOString().slice(0, 10), '400', ...FULL]);
    }
    const r = run(csv(rows), clinic, {
      rates: ratesOf(clinic, 'reminder=0.55'),
      holdoutShare: () => 0.5,
      baseline: 0.35,
      months: 12,
      traceClients: new Set(),
    });
    const [treated, held] = r.summary.arms;
    expect(treated!.enrolled + held!.enrolled).toBe(n);
    withinFourSigma(held!.enrolled, 0.5, n);
    withinFourSigma(treated!.visits, 0.55, treated!.enrolled);
    withinFourSigma(held!.visits, 0.35, held!.enrolled);
    // Per 1,000 enrolments a month: the difference of the arms' rates, in visits and dollars.
    const diff = treated!.rebookRate! - held!.rebookRate!;
    const se = Math.sqrt((0.55 * 0.45) / treated!.enrolled + (0.35 * 0.65) / held!.enrolled);
    expect(Math.abs(diff - 0.2)).toBeLessThan(4 * se);
    expect(Math.abs(1000 * diff * 400 - 80_000)).toBeLessThan(4 * se * 1000 * 400);
    expect(r.summary.lifecycle.bookedWithoutProgram).toBe(held!.visits);
    // Every marketing stage of a held-out client is held back, until it books by itself.
    expect(r.summary.suppressed.holdout).toBeGreaterThan(held!.enrolled * 2);
    expect(r.summary.suppressed.holdout).toBeLessThanOrEqual(held!.enrolled * 4);
    expect(r.byStage.find((x) => x.stage === 'reminder')!.reached).toBe(treated!.enrolled);
  });
});

describe('stage variants', () => {
  it('split the clients by weight, go out on their own channel and convert at their own rate', () => {
    const withVariants: SimulationClinic = {
      ...clinic,
      variants: {
        incentive: [
          { name: 'pct15', weight: 3 },
          { name: 'usd25', weight: 1, channel: 'email' },
        ],
      },
    };
    const N = 2000;
    const r = run(botoxClients(N), withVariants, {
      rates: ratesOf(clinic),
      variantRates: parseVariantRates('incentive.pct15=0.4', withVariants.variants),
      traceClients: new Set(),
    });
    const [pct, usd] = ['pct15', 'usd25'].map((v) => r.byVariant.find((x) => x.variant === v)!);
    expect(pct!.reached + usd!.reached).toBe(N);
    withinFourSigma(pct!.reached, 0.75, N);
    expect(pct!.share).toBe(0.75);
    expect(usd!.rate).toBe(0);
    expect(usd!.rebookings).toBe(0);
    withinFourSigma(pct!.rebookings, 0.4, pct!.reached);
    // usd25 goes by email: the SMS count is the pct15 clients' incentive alone.
    expect(r.summary.messages.sms).toBe(pct!.reached);
  });
});

describe('the rates given on the command line', () => {
  it('take shares and percentages on top of the defaults', () => {
    expect(parseLifecycleRates('')).toEqual({ noShow: 0.15, cancel: 0.1, rebookAfterCancel: 0.5 });
    expect(parseLifecycleRates('noShow=20%, rebookAfterCancel=0.4')).toEqual({
      noShow: 0.2,
      cancel: 0.1,
      rebookAfterCancel: 0.4,
    });
  });

  it.each([
    ['noShow=1.5', 'noShow: a rate is between 0 and 1'],
    ['noshow=0.1', 'unknown; the rates are noShow, cancel and rebookAfterCancel'],
    ['noShow=0.7,cancel=0.4', 'noShow + cancel is at most 1'],
    ['cancel', 'expected key=rate'],
    ['cancel=0.1,cancel=0.2', 'cancel: given twice'],
    ['cancel=ten', 'expected a rate such as 0.15 or 15%'],
  ])('refuse %s with a coded error naming the problem', (text, message) => {
    let err: unknown;
    try {
      parseLifecycleRates(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RebookError);
    expect((err as RebookError).code).toBe('validation_failed');
    expect((err as RebookError).message).toContain(message);
    expect((err as RebookError).details.field).toBe('--lifecycle-rates');
  });

  it('name the variant that does not exist', () => {
    expect(() =>
      parseVariantRates('incentive.pct20=0.3', { incentive: [{ name: 'pct15' }, { name: 'usd25' }] }),
    ).toThrow('"incentive" has no variant "pct20" (it has: pct15, usd25)');
    expect(() => parseVariantRates('reminder.a=0.3', {})).toThrow('the clinic has no variants for "reminder"');
  });
});

describe('determinism', () => {
  it('the same seed gives the same lifecycle, arms and variants; another seed other draws', () => {
    const opts = {
      rates: ratesOf(clinic, 'reminder=0.3,incentive=0.3'),
      lifecycle: { noShow: 0.15, cancel: 0.1, rebookAfterCancel: 0.5 },
      holdoutShare: () => 0.2,
    };
    const a = run(botoxClients(400), clinic, opts);
    const b = run(botoxClients(400), clinic, opts);
    const c = run(botoxClients(400), clinic, { ...opts, seed: 2 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(c.summary.lifecycle)).not.toBe(JSON.stringify(a.summary.lifecycle));
  });
});
