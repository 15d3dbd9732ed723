/**
 * The simulator on small histories worked out by hand. Clinic: New York, stages due at 10:00
 * local, send window Monday–Saturday 10:00–19:00, default caps (2 SMS and 2 emails per 30 days,
 * 1 message a day, 3 per 24 h). 2026-01-15 is a Thursday; Botox day 80 is Sunday 2026-04-05,
 * day 90 Wednesday 04-15, day 95 Monday 04-20, day 100 Saturday 04-25; 10:00 EDT = 14:00Z.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { effectiveRules } from '../../src/core/caps.js';
import type { SimulationClinic } from '../../src/simulator/clinic.js';
import { simulate, type TraceEvent } from '../../src/simulator/engine.js';
import { csv, events, fixtureClinic, ratesOf, run, sends } from './helpers.js';

const D = 86_400_000;
const FULL = ['y', '+12125550123', 'y', 'y']; // email, phone, sms_consent, email_consent
let clinic: SimulationClinic;

beforeAll(() => {
  clinic = fixtureClinic();
});

describe('one Botox client, no booking', () => {
  it('sends email, SMS, email and creates a staff task at days 80/90/95/100, the Sunday reminder held to Monday', () => {
    const r = run(csv([['c1', 'a1', 'Botox 20u', '2026-01-15', '400', ...FULL]]), clinic);
    expect(sends(r.trace)).toEqual([
      ['reminder', 'email', '2026-04-06T14:00:00.000Z'],
      ['incentive', 'sms', '2026-04-15T14:00:00.000Z'],
      ['results_checkin', 'email', '2026-04-20T14:00:00.000Z'],
    ]);
    expect(events(r.trace, 'deferred_send_window').map((e) => [e.stage, e.at, e.detail])).toEqual([
      ['reminder', '2026-04-05T14:00:00.000Z', '2026-04-06T14:00:00.000Z'],
    ]);
    expect(events(r.trace, 'staff_task').map((e) => [e.stage, e.at, e.detail])).toEqual([
      ['staff_escalation', '2026-04-25T14:00:00.000Z', 'no_response'],
    ]);
    // Churned when the rebooking window closes: end of day 120 (2026-05-15 23:59 EDT).
    expect(events(r.trace, 'churned').map((e) => e.at)).toEqual(['2026-05-16T03:59:00.000Z']);

    const s = r.summary;
    expect(s.messages).toEqual({ email: 2, sms: 1, total: 3, viaFallback: 0, care: 0 });
    expect(s.staffTasks).toEqual({
      total: 1,
      noResponse: 1,
      noTouchDelivered: 0,
      noUsableChannel: 0,
      appointmentChange: 0,
    });
    expect(s.deferred).toEqual({ sendWindow: 1, caps: 0 });
    expect(s.suppressed).toEqual({ caps: 0, noChannel: 0, noTemplate: 0, holdout: 0 });
    // $400 falls in the $300–600 tier: 15 % off.
    expect(s.offers).toEqual({ issued: 1, byOffer: { '15% off': 1 } });
    expect(s.sequences).toMatchObject({
      enrolled: 1,
      churned: 1,
      bookedSimulated: 0,
      bookedInHistory: 0,
      runningAtEnd: 0,
    });
    expect(s.rebookings).toEqual({ simulated: 0, expected: 0, revenueCents: 0, withoutPrice: 0 });
  });

  it('puts each event in its local Monday-to-Sunday week', () => {
    const r = run(csv([['c1', 'a1', 'Botox 20u', '2026-01-15', '400', ...FULL]]), clinic);
    expect(r.from).toBe('2026-01-15');
    expect(r.to).toBe('2027-01-15');
    expect(r.weekly[0]!.weekStart).toBe('2026-01-12');
    expect(
      r.weekly.every((w, i) => i === 0 || Date.parse(w.weekStart) - Date.parse(r.weekly[i - 1]!.weekStart) === 7 * D),
    ).toBe(true);
    const nonZero = r.weekly.filter((w) => w.email + w.sms + w.staffTasks + w.deferredBySendWindow + w.enrolled > 0);
    expect(
      nonZero.map((w) => [w.weekStart, w.email, w.sms, w.staffTasks, w.deferredBySendWindow, w.offers, w.enrolled]),
    ).toEqual([
      ['2026-01-12', 0, 0, 0, 0, 0, 1],
      ['2026-03-30', 0, 0, 0, 1, 0, 0], // Sunday 04-05 belongs to the week of Monday 03-30
      ['2026-04-06', 1, 0, 0, 0, 0, 0],
      ['2026-04-13', 0, 1, 0, 0, 1, 0],
      ['2026-04-20', 1, 0, 1, 0, 0, 0],
    ]);
  });

  it('counts only what falls inside --from/--months', () => {
    const r = run(csv([['c1', 'a1', 'Botox 20u', '2026-01-15', '400', ...FULL]]), clinic, {
      from: '2026-04-13',
      months: 1,
    });
    expect(r.summary.messages).toEqual({ email: 1, sms: 1, total: 2, viaFallback: 0, care: 0 });
    expect(r.summary.staffTasks.total).toBe(1);
    expect(r.summary.sequences.enrolled).toBe(0); // enrolled before the period
    expect(r.summary.sequences.churned).toBe(0); // churns on 05-16, after it
  });
});

describe('bookings', () => {
  it('a client who books after stage 1 (rate 1.0) gets one message and nothing after', () => {
    const r = run(csv([['c1', 'a1', 'Botox', '2026-01-15', '400', ...FULL]]), clinic, {
      rates: ratesOf(clinic, 'reminder=1'),
    });
    expect(sends(r.trace)).toEqual([['reminder', 'email', '2026-04-06T14:00:00.000Z']]);
    expect(events(r.trace, 'booked').map((e) => [e.stage, e.at])).toEqual([['reminder', '2026-04-06T14:00:00.000Z']]);
    expect(r.summary.staffTasks.total).toBe(0);
    expect(r.summary.sequences.bookedSimulated).toBe(1);
    expect(r.summary.rebookings).toEqual({ simulated: 1, expected: 1, revenueCents: 40_000, withoutPrice: 0 });
    expect(r.byStage.find((x) => x.stage === 'reminder')).toMatchObject({
      reached: 1,
      rebookings: 1,
      expectedRebookings: 1,
      rate: 1,
    });
    expect(r.byStage.find((x) => x.stage === 'incentive')).toMatchObject({ reached: 0, rebookings: 0 });
  });

  it('a booking ends every running sequence of the client', () => {
    const r = run(
      csv([
        ['c1', 'a1', 'Botox', '2026-01-15T10:00', '400', ...FULL],
        ['c1', 'a2', 'Lip filler', '2026-01-15T11:00', '700', ...FULL],
      ]),
      clinic,
      { rates: ratesOf(clinic, 'reminder=1') },
    );
    expect(sends(r.trace)).toEqual([['reminder', 'email', '2026-04-06T14:00:00.000Z']]);
    expect(events(r.trace, 'booked').map((e) => [e.treatmentType, e.stage])).toEqual([
      ['neuromodulator', 'reminder'],
      ['lip_filler', 'before_first_touch'],
    ]);
    expect(r.summary.rebookings.simulated).toBe(1); // one booking, not one per sequence
    expect(r.summary.sequences.bookedSimulated).toBe(2);
  });

  it('converts at the stage rate: expected = Σ rate over the clients reached, draws close to it', () => {
    const rows = Array.from({ length: 2000 }, (_, i) => [`c${i}`, `a${i}`, 'Botox', '2026-01-15', '400', ...FULL]);
    const r = run(csv(rows), clinic, { rates: ratesOf(clinic, 'reminder=0.5'), traceClients: new Set() });
    const reminder = r.byStage.find((x) => x.stage === 'reminder')!;
    const incentive = r.byStage.find((x) => x.stage === 'incentive')!;
    expect(reminder.reached).toBe(2000);
    expect(reminder.expectedRebookings).toBe(1000);
    expect(Math.abs(reminder.rebookings - 1000)).toBeLessThan(90); // 4 σ of Binomial(2000, 0.5)
    // Those who booked get nothing more.
    expect(incentive.reached).toBe(2000 - reminder.rebookings);
    expect(r.summary.staffTasks.total).toBe(2000 - reminder.rebookings);
  });

  it('a later treatment in the history is a booking made lead days before it', () => {
    const history = csv([
      ['c1', 'a1', 'Botox', '2026-01-15', '400', ...FULL],
      ['c1', 'a2', 'Botox', '2026-04-20', '400', ...FULL],
    ]);
    // Booked 14 days ahead (04-06 16:00Z): the reminder held to Monday 10:00 went out first.
    const r14 = run(history, clinic);
    const first = r14.trace.filter((e) => Date.parse(e.at) < Date.parse('2026-04-20T00:00:00Z'));
    expect(sends(first)).toEqual([['reminder', 'email', '2026-04-06T14:00:00.000Z']]);
    expect(events(r14.trace, 'booked_in_history').map((e) => [e.at, e.stage])).toEqual([
      ['2026-04-06T16:00:00.000Z', 'reminder'],
    ]);
    expect(r14.summary.sequences).toMatchObject({ enrolled: 2, bookedInHistory: 1, bookedInHistoryAfterATouch: 1 });
    // The second treatment starts its own sequence: day 80 is 2026-07-09.
    expect(sends(r14.trace)[1]).toEqual(['reminder', 'email', '2026-07-09T14:00:00.000Z']);

    // Booked 30 days ahead (03-21): nothing was sent for the first treatment.
    const r30 = run(history, clinic, { leadDays: 30 });
    expect(events(r30.trace, 'booked_in_history').map((e) => [e.at, e.stage])).toEqual([
      ['2026-03-21T16:00:00.000Z', 'before_first_touch'],
    ]);
    expect(sends(r30.trace)[0]).toEqual(['reminder', 'email', '2026-07-09T14:00:00.000Z']);
  });

  it('an appointment for another treatment on a later day is a booking too (any upcoming appointment, as in production)', () => {
    const r = run(
      csv([
        ['c1', 'a1', 'Botox', '2026-01-15', '400', ...FULL],
        ['c1', 'a2', 'Lip filler', '2026-01-16', '700', ...FULL],
      ]),
      clinic,
    );
    // Booked 01-02, before the Botox treatment: the Botox sequence ends as soon as it starts.
    expect(events(r.trace, 'booked_in_history').map((e) => [e.treatmentType, e.at, e.stage])).toEqual([
      ['neuromodulator', '2026-01-15T17:00:00.000Z', 'before_first_touch'],
    ]);
    expect(sends(r.trace).map((x) => x[0])).toEqual(['reminder', 'incentive', 'results_checkin']);
    expect(sends(r.trace)[0]![2]).toBe('2026-06-25T14:00:00.000Z'); // lip filler day 160 from 01-16
  });
});

describe('parallel sequences and caps across them', () => {
  it('Botox and lip filler on the same day run as two independent sequences', () => {
    const r = run(
      csv([
        ['c1', 'a1', 'Botox', '2026-01-15T10:00', '400', ...FULL],
        ['c1', 'a2', 'Juvederm lips', '2026-01-15T11:00', '700', ...FULL],
      ]),
      clinic,
    );
    expect(sends(r.trace)).toEqual([
      ['reminder', 'email', '2026-04-06T14:00:00.000Z'],
      ['incentive', 'sms', '2026-04-15T14:00:00.000Z'],
      ['results_checkin', 'email', '2026-04-20T14:00:00.000Z'],
      ['reminder', 'email', '2026-06-24T14:00:00.000Z'],
      ['incentive', 'sms', '2026-07-09T14:00:00.000Z'],
      ['results_checkin', 'email', '2026-07-14T14:00:00.000Z'],
    ]);
    expect(events(r.trace, 'staff_task').map((e) => [e.treatmentType, e.at])).toEqual([
      ['neuromodulator', '2026-04-25T14:00:00.000Z'],
      ['lip_filler', '2026-07-24T14:00:00.000Z'],
    ]);
    expect(r.summary.sequences).toMatchObject({ enrolled: 2, churned: 2, bookedInHistory: 0 });
    expect(r.byType.filter((t) => t.enrolled > 0).map((t) => [t.treatmentType, t.messages, t.staffTasks])).toEqual([
      ['neuromodulator', 3, 1],
      ['lip_filler', 3, 1],
    ]);
    // $700 is in the $600–1,500 tier: 10 % off.
    expect(r.summary.offers.byOffer).toEqual({ '15% off': 1, '10% off': 1 });
  });

  it('HydraFacial + peel on one day (Monday 2026-03-02): one message a day and two emails a month hold some back', () => {
    const r = run(
      csv([
        ['c1', 'a1', 'HydraFacial', '2026-03-02', '250', ...FULL],
        ['c1', 'a2', 'Chemical peel', '2026-03-02', '250', ...FULL],
      ]),
      clinic,
    );
    expect(sends(r.trace).map(([stage, channel, at]) => [stage, channel, at.slice(0, 10)])).toEqual([
      ['reminder', 'email', '2026-03-26'], // hydra day 24
      ['incentive', 'sms', '2026-03-30'], // hydra day 28
      ['reminder', 'email', '2026-03-31'], // peel day 28, held a day by 1/24 h
      ['incentive', 'sms', '2026-04-03'], // peel day 32
    ]);
    expect(events(r.trace, 'deferred_caps').map((e) => [e.treatmentType, e.stage, e.detail])).toEqual([
      ['chemical_peel', 'reminder', '2026-03-31T14:00:00.000Z'],
    ]);
    // Third email within 30 days: allowed from 04-25 only, after each sequence's staff stage.
    expect(events(r.trace, 'suppressed_caps').map((e) => [e.treatmentType, e.stage, e.at.slice(0, 10)])).toEqual([
      ['hydrafacial', 'results_checkin', '2026-04-01'],
      ['chemical_peel', 'results_checkin', '2026-04-06'],
    ]);
    expect(r.summary.deferred).toEqual({ sendWindow: 0, caps: 1 });
    expect(r.summary.suppressed.caps).toBe(2);
    expect(r.summary.staffTasks.total).toBe(2);
    // $250 is under $300: $25 off (within 20 % of the price).
    expect(r.summary.offers).toEqual({ issued: 2, byOffer: { '$25 off': 2 } });
  });

  it('a tighter cap defers a stage to the first instant the rule allows, inside the send window', () => {
    const tight: SimulationClinic = { ...clinic, capRules: effectiveRules([{ max: 1, windowMs: 7 * D }]) };
    const r = run(csv([['c1', 'a1', 'Botox', '2026-01-15', '400', ...FULL]]), tight);
    // Day 95 (04-20) is 5 days after the SMS: held to 04-22 10:00, before the staff stage on 04-25.
    expect(sends(r.trace)[2]).toEqual(['results_checkin', 'email', '2026-04-22T14:00:00.000Z']);
    expect(r.summary.deferred.caps).toBe(1);
    expect(r.summary.suppressed.caps).toBe(0);
  });
});

describe('channels and consent', () => {
  it('email only: the SMS stage goes by email and the third email in 30 days is suppressed', () => {
    const r = run(csv([['c1', 'a1', 'Botox', '2026-01-15', '400', 'y', '', '', 'y']]), clinic);
    expect(sends(r.trace)).toEqual([
      ['reminder', 'email', '2026-04-06T14:00:00.000Z'],
      ['incentive', 'email', '2026-04-15T14:00:00.000Z'],
    ]);
    expect(r.summary.messages).toEqual({ email: 2, sms: 0, total: 2, viaFallback: 1, care: 0 });
    expect(r.summary.suppressed.caps).toBe(1);
    expect(r.summary.offers.issued).toBe(1);
  });

  it('an invalid phone number gets no SMS (validated as in production)', () => {
    const r = run(csv([['c1', 'a1', 'Botox', '2026-01-15', '400', 'y', '+1 555 123', 'y', 'y']]), clinic);
    expect(r.summary.input.invalidPhones).toBe(1);
    expect(r.summary.messages.sms).toBe(0);
    expect(r.summary.messages.viaFallback).toBe(1);
  });

  it('without consent on either channel the client goes straight to staff at the first stage', () => {
    const r = run(csv([['c1', 'a1', 'Botox', '2026-01-15', '', 'n', '', '', '']]), clinic);
    expect(sends(r.trace)).toEqual([]);
    // Due Sunday: a staff task is not held by the client send window.
    expect(events(r.trace, 'staff_task').map((e) => [e.stage, e.at, e.detail])).toEqual([
      ['staff_escalation', '2026-04-05T14:00:00.000Z', 'no_usable_channel'],
    ]);
    expect(r.summary.staffTasks).toEqual({
      total: 1,
      noResponse: 0,
      noTouchDelivered: 0,
      noUsableChannel: 1,
      appointmentChange: 0,
    });
    expect(r.summary.sequences.noUsableChannel).toBe(1);
    expect(r.summary.input.clientsWithoutChannel).toBe(1);
  });

  it('the clinic may refuse the fallback: then the stage is suppressed', () => {
    const strict: SimulationClinic = { ...clinic, fallback: { sms: 'none', email: 'sms' } };
    const r = run(csv([['c1', 'a1', 'Botox', '2026-01-15', '400', 'y', '', '', 'y']]), strict);
    expect(sends(r.trace).map((x) => x[0])).toEqual(['reminder', 'results_checkin']);
    expect(r.summary.suppressed.noChannel).toBe(1);
    expect(r.summary.offers.issued).toBe(0);
  });

  it('falls back only to a channel the clinic has a template for (as delivery does)', () => {
    // No email template for the incentive: an email-only client gets no incentive stage.
    const smsOnlyOffer: SimulationClinic = {
      ...clinic,
      templateChannels: { ...clinic.templateChannels, incentive: ['sms'] },
    };
    const r = run(csv([['c1', 'a1', 'Botox', '2026-01-15', '400', 'y', '', '', 'y']]), smsOnlyOffer);
    expect(sends(r.trace).map((x) => x[0])).toEqual(['reminder', 'results_checkin']);
    expect(events(r.trace, 'suppressed_no_channel').map((e) => e.stage)).toEqual(['incentive']);
  });

  it('counts a stage whose own channel has no template as not sent (production refuses it)', () => {
    const noReminder: SimulationClinic = { ...clinic, templateChannels: { ...clinic.templateChannels, reminder: [] } };
    const r = run(csv([['c1', 'a1', 'Botox', '2026-01-15', '400', ...FULL]]), noReminder);
    expect(sends(r.trace).map((x) => x[0])).toEqual(['incentive', 'results_checkin']);
    expect(r.summary.suppressed.noTemplate).toBe(1);
  });

  it('names the staff task "no touch delivered" when every client stage was held back', () => {
    const nothingOut: SimulationClinic = { ...clinic, templateChannels: {} };
    const r = run(csv([['c1', 'a1', 'Botox', '2026-01-15', '400', ...FULL]]), nothingOut);
    expect(sends(r.trace)).toEqual([]);
    expect(events(r.trace, 'staff_task').map((e) => e.detail)).toEqual(['no_touch_delivered']);
    expect(r.summary.staffTasks).toMatchObject({ total: 1, noResponse: 0, noTouchDelivered: 1 });
  });

  it("uses the clinic's assumed consent when the history does not say", () => {
    const history = csv([['c1', 'a1', 'Botox', '2026-01-15', '400', 'y', '+12125550123', '', '']]);
    expect(run(history, clinic).summary.messages.sms).toBe(0); // default: no SMS consent assumed
    expect(run(history, { ...clinic, assumedConsent: { sms: true, email: true } }).summary.messages.sms).toBe(1);
  });
});

describe('history oddities', () => {
  it('reports unclassified services with their row counts and does not enroll them', () => {
    const r = run(
      csv([
        ['c1', 'a1', 'Botox', '2026-01-15', '400', ...FULL],
        ['c1', 'a2', 'Consultation', '2026-01-15', '', ...FULL],
        ['c2', 'a3', 'Consultation', '2026-01-20', '', ...FULL],
        ['c3', 'a4', 'Vitamin drip', '2026-01-21', '150', ...FULL],
      ]),
      clinic,
    );
    expect(r.summary.input.unclassifiedRows).toBe(3);
    expect(r.unclassifiedServices).toEqual([
      { service: 'Consultation', rows: 2 },
      { service: 'Vitamin drip', rows: 1 },
    ]);
    expect(r.summary.sequences.enrolled).toBe(1);
    expect(r.summary.messages.total).toBe(3);
  });

  it('a repeated appointment is a duplicate; a later treatment of the same type the same day restarts the sequence', () => {
    const r = run(
      csv([
        ['c1', 'a1', 'Botox', '2026-01-15T10:00', '400', ...FULL],
        ['c1', 'a1', 'Botox', '2026-01-15T10:00', '400', ...FULL],
        ['c1', 'a2', 'Botox touch-up', '2026-01-15T15:00', '100', ...FULL],
      ]),
      clinic,
    );
    expect(r.summary.input.duplicateRows).toBe(1);
    expect(r.summary.sequences).toMatchObject({ enrolled: 2, restarted: 1, churned: 1 });
    expect(sends(r.trace)).toHaveLength(3);
    // The latest appointment's price sets the offer: $100 → $20 (the $25 tier capped at 20 %).
    expect(r.summary.offers.byOffer).toEqual({ '$20 off': 1 });
  });
});

describe('an empty history', () => {
  it('needs a start date; with one it reports empty weeks', () => {
    expect(() => simulate([], clinic, { months: 12, seed: 1, rates: ratesOf(clinic), leadDays: 14 })).toThrow(
      /no readable rows/,
    );
    const r = simulate([], clinic, { from: '2026-03-04', months: 2, seed: 1, rates: ratesOf(clinic), leadDays: 14 });
    expect(r.weekly.map((w) => w.weekStart)).toEqual([
      '2026-03-02',
      '2026-03-09',
      '2026-03-16',
      '2026-03-23',
      '2026-03-30',
      '2026-04-06',
      '2026-04-13',
      '2026-04-20',
      '2026-04-27',
    ]);
    expect(r.summary.messages.total).toBe(0);
  });
});

describe('determinism', () => {
  const history = csv(
    Array.from({ length: 300 }, (_, i) => [
      `c${i}`,
      `a${i}`,
      i % 3 ? 'Botox' : 'HydraFacial',
      `2026-0${1 + (i % 6)}-${String(1 + (i % 27)).padStart(2, '0')}`,
      '400',
      ...FULL,
    ]),
  );

  it('the same seed gives the same result; another seed other draws', () => {
    const rates = ratesOf(clinic, 'reminder=0.22,incentive=0.35,checkin=0.12,escalation=0.3');
    const a = run(history, clinic, { rates, seed: 7 });
    const b = run(history, clinic, { rates, seed: 7 });
    const c = run(history, clinic, { rates, seed: 8 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(c.trace).not.toEqual(a.trace);
  });

  it("a client's draws do not depend on the other clients in the file", () => {
    const rates = ratesOf(clinic, 'reminder=0.5,incentive=0.5');
    const alone = run(csv([['solo', 'x', 'Botox', '2026-02-02', '400', ...FULL]]), clinic, { rates, seed: 3 });
    const crowd = run(`${history}solo,x,Botox,2026-02-02,400,y,+12125550123,y,y\n`, clinic, { rates, seed: 3 });
    // Everything but the line number the enrollment came from.
    const strip = (es: TraceEvent[]) => es.map((e) => (e.kind === 'enrolled' ? { ...e, detail: undefined } : e));
    expect(strip(crowd.trace.filter((e) => e.clientId === 'solo'))).toEqual(strip(alone.trace));
    expect(alone.trace.filter((e) => e.kind === 'sent').length).toBeGreaterThan(0);
  });
});
