/**
 * The preview's timeline against expectations computed independently (plain Intl arithmetic in
 * test/helpers/clinic-time.ts): stage instants, send-window deferral in the client's zone,
 * consent and fallback, caps deferral and suppression, incentive tiers and expiry, rendering.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { DEFAULT_SEND_WINDOW } from '../../src/core/send-window.js';
import { RebookError } from '../../src/errors.js';
import { type PreviewClinic, previewClinic } from '../../src/preview/clinic.js';
import { type PreviewInput, previewTimeline, SAMPLE_INCENTIVE_CODE } from '../../src/preview/timeline.js';
import { demoDayEnd, demoDue, localTimeOnDay, localWeekday } from '../helpers/clinic-time.js';

const DAY = 86_400_000;
const NY = 'America/New_York';
const config = loadConfig('config');
const demo = (over: Partial<PreviewClinic> = {}): PreviewClinic => ({
  ...previewClinic(config, 'demo-clinic'),
  ...over,
});
/** Sunday 2026-03-01, 12:00 in New York. */
const T0 = Date.parse('2026-03-01T17:00:00Z');
const reachable: PreviewInput['client'] = {
  firstName: 'Dana',
  email: 'dana@example.com',
  phone: '+12125550123',
  consent: { sms: true, email: true },
};
const input = (over: Partial<PreviewInput> = {}): PreviewInput => ({
  service: { name: 'Botox 20u' },
  completedAtMs: T0,
  client: reachable,
  ...over,
});
const iso = (ms: number) => new Date(ms).toISOString();
/** The rebooking stages, without the care touches that come first (issue 11; checked in the first test). */
const rebooking = (r: ReturnType<typeof previewTimeline>) => r.stages.filter((s) => s.purpose !== 'care');
const brief = (r: ReturnType<typeof previewTimeline>) =>
  r.stages.map((s) => [s.key, s.outcome, s.channel ?? null, s.at?.at ?? null, s.reason ?? null]);

describe('previewTimeline', () => {
  it('Botox with both channels: email day 80, SMS day 90, email day 95, staff day 100 at clinic-local 10:00, rendered', () => {
    const r = previewTimeline(demo(), input({ priceCents: 45_000 }));
    expect(r).toMatchObject({
      treatmentType: 'neuromodulator',
      label: 'Botox',
      classification: { service: 'Botox 20u', by: 'synonym', synonym: 'botox' },
      intervalDays: 90,
      sendTimeZone: NY,
    });
    expect(brief(r)).toEqual([
      // Care touches first: a day-1 check-in by SMS, the day-12 results email (no offer in either).
      ['care_checkin', 'sent', 'sms', iso(demoDue(T0, 1)), null],
      ['care_results', 'sent', 'email', iso(demoDue(T0, 12)), null],
      ['reminder', 'sent', 'email', iso(demoDue(T0, 80)), null],
      ['incentive', 'sent', 'sms', iso(demoDue(T0, 90)), null],
      ['results_checkin', 'sent', 'email', iso(demoDue(T0, 95)), null],
      ['staff_escalation', 'staff_task', null, iso(demoDue(T0, 100)), 'no_response'],
      // No answer: the reactivation touch on the window's last day, then the two win-backs (issue 11 §3).
      ['reactivation', 'sent', 'sms', iso(demoDue(T0, 120)), null],
      ['winback_1', 'sent', 'email', iso(demoDue(T0, 180)), null],
      ['winback_2', 'sent', 'sms', iso(demoDue(T0, 210)), null],
    ]);
    expect(r.stages.every((s) => s.holds.length === 0)).toBe(true);
    expect(rebooking(r)[0]!.due.local).toBe('2026-05-20 Wed 10:00');
    expect(rebooking(r)[0]!.content).toMatchObject({ subject: 'Dana, your Botox window is opening' });
    expect(rebooking(r)[0]!.content!.body).toContain('123 Main Street');
    expect(rebooking(r)[0]!.content!.body).toMatch(/Unsubscribe: http:\/\/127\.0\.0\.1:3000\/unsubscribe\/x{64}/);
    // $450 → 15 % off, expiring at the end of day 120 (interval + 30), not at the send date.
    expect(r.incentive).toMatchObject({
      offer: { kind: 'percent_off', percent: 15 },
      description: '15% off',
      percentOfPrice: 15,
      code: SAMPLE_INCENTIVE_CODE,
      expiresAt: { at: iso(demoDayEnd(T0, 120)) },
    });
    const sms = rebooking(r)[1]!.content!;
    expect(sms.subject).toBeUndefined();
    expect(sms.body).toBe(
      `Glow Aesthetics (demo): Hi Dana, time for your next visit? 15% off with code ${SAMPLE_INCENTIVE_CODE}, valid until Jun 29. https://book.example.com/glow-aesthetics Reply STOP to opt out.`,
    );
    expect(sms.sms).toEqual({ encoding: 'GSM-7', units: sms.body.length, segments: 2 });
    expect(r.windowEndsAt.at).toBe(iso(demoDayEnd(T0, 120)));
    // In place of those, after a "not now" reply without a date: its own touch on day 120.
    expect(r.reactivation).toMatchObject({
      key: 'snooze_reactivation',
      day: 120,
      outcome: 'sent',
      channel: 'sms',
      at: { at: iso(demoDue(T0, 120)) },
    });
    expect(r.reactivation.content!.body).toContain('https://book.example.com/glow-aesthetics');
    // Each win-back carries an offer of its own, lasting 30 days from its day.
    const winback = r.stages.find((s) => s.key === 'winback_1')!;
    expect(winback).toMatchObject({ purpose: 'winback', category: 'marketing' });
    expect(winback.content!.body).toContain('valid until Sep 27');
  });

  it('a treatment type given directly needs no service name', () => {
    const r = previewTimeline(demo(), input({ service: undefined, treatmentType: 'lip_filler' }));
    expect(r.classification).toBeUndefined();
    expect(r.stages.map((s) => [s.key, s.at?.at])).toEqual([
      ['care_swelling', iso(demoDue(T0, 1))],
      ['care_results', iso(demoDue(T0, 14))],
      ['reminder', iso(demoDue(T0, 160))],
      ['incentive', iso(demoDue(T0, 175))],
      ['results_checkin', iso(demoDue(T0, 180))],
      ['staff_escalation', iso(demoDue(T0, 190))],
      ['reactivation', iso(demoDue(T0, 210))],
      ['winback_1', iso(demoDue(T0, 270))],
      ['winback_2', iso(demoDue(T0, 300))],
    ]);
  });

  it('holds a stage due on a Sunday until Monday 10:00 under the default Mon–Sat window', () => {
    // Thursday 2026-03-05: day 80 is Sunday 2026-05-24.
    const t0 = Date.parse('2026-03-05T17:00:00Z');
    expect(localWeekday(demoDue(t0, 80), NY)).toBe(0);
    const r = previewTimeline(demo({ sendWindow: DEFAULT_SEND_WINDOW }), input({ completedAtMs: t0 }));
    const monday = demoDue(t0, 81);
    expect(rebooking(r)[0]).toMatchObject({
      outcome: 'sent',
      due: { at: iso(demoDue(t0, 80)) },
      at: { at: iso(monday), local: '2026-05-25 Mon 10:00' },
      holds: [{ reason: 'send_window', from: iso(demoDue(t0, 80)), until: iso(monday) }],
      caps: 'allowed',
    });
  });

  it("applies the send window in the client's own time zone", () => {
    const r = previewTimeline(demo(), input({ client: { ...reachable, timeZone: 'America/Los_Angeles' } }));
    // 10:00 in New York is 07:00 in Los Angeles: held until 10:00 there.
    const opening = localTimeOnDay(T0, 80, '10:00', 'America/Los_Angeles');
    expect(r.sendTimeZone).toBe('America/Los_Angeles');
    expect(rebooking(r)[0]).toMatchObject({
      outcome: 'sent',
      at: { at: iso(opening), local: '2026-05-20 Wed 10:00' },
      holds: [{ reason: 'send_window', until: iso(opening) }],
    });
  });

  it('without SMS consent the incentive falls back to email; without an email template no fallback', () => {
    const client = { ...reachable, consent: { sms: false, email: true } };
    const r = previewTimeline(demo(), input({ client }));
    expect(r.channels).toEqual({ email: { usable: true }, sms: { usable: false, reason: 'no_consent' } });
    expect(rebooking(r)[1]).toMatchObject({
      key: 'incentive',
      outcome: 'sent',
      channel: 'email',
      fallback: true,
      content: { subject: 'Dana, a thank-you for your next visit' },
    });
    expect(rebooking(r)[1]!.content!.body).toContain(`10% off with code ${SAMPLE_INCENTIVE_CODE}, valid until Jun 29`);
    // Three emails in 15 days: the default 2 emails / 30 days cap holds the check-in past day 100.
    expect(rebooking(r)[2]).toMatchObject({
      key: 'results_checkin',
      outcome: 'suppressed',
      reason: 'capped',
      caps: 'suppressed',
    });
    expect(r.reactivation).toMatchObject({ channel: 'email', fallback: true });

    const clinic = demo();
    const noEmailIncentive = demo({
      templates: { ...clinic.templates, incentive: { sms: clinic.templates.incentive!.sms! } },
    });
    expect(rebooking(previewTimeline(noEmailIncentive, input({ client })))[1]).toMatchObject({
      outcome: 'suppressed',
      reason: 'sms_no_consent',
    });
    // Fallback switched off by the clinic: same.
    expect(
      rebooking(previewTimeline(demo({ fallback: { sms: 'none', email: 'sms' } }), input({ client })))[1],
    ).toMatchObject({ outcome: 'suppressed', reason: 'sms_no_consent' });
  });

  it('a client with no usable channel goes to staff at the first stage; the rest is skipped', () => {
    const r = previewTimeline(
      demo(),
      input({ client: { email: null, phone: '+1 555', consent: { sms: true, email: true } } }),
    );
    expect(r.channels).toEqual({
      email: { usable: false, reason: 'no_address' },
      sms: { usable: false, reason: 'invalid_number' },
    });
    expect(brief(r)).toEqual([
      // A care touch nobody can receive is suppressed but hands no one to staff.
      ['care_checkin', 'suppressed', null, null, 'no_usable_channel'],
      ['care_results', 'suppressed', null, null, 'no_usable_channel'],
      ['reminder', 'suppressed', null, null, 'no_usable_channel'],
      ['incentive', 'skipped', null, null, 'client already handed to staff'],
      ['results_checkin', 'skipped', null, null, 'client already handed to staff'],
      ['staff_escalation', 'staff_task', null, iso(demoDue(T0, 80)), 'no_usable_channel'],
      // As the workflow does, the touches after the window are still tried (consent may have come since).
      ['reactivation', 'suppressed', null, null, 'no_usable_channel'],
      ['winback_1', 'suppressed', null, null, 'no_usable_channel'],
      ['winback_2', 'suppressed', null, null, 'no_usable_channel'],
    ]);
  });

  it('caps: a stage the rules allow before the next one is deferred (and delays nothing else); past it, suppressed', () => {
    // At most one message per 12 days: day 80 sent; day 90 allowed from day 92 (before day 95):
    // deferred; day 95 allowed from day 104 (past the staff stage on day 100): suppressed.
    const rules = [{ max: 1, windowMs: 12 * DAY }];
    const r = previewTimeline(demo({ capRules: rules }), input());
    expect(brief(r)).toEqual([
      // Care touches are exempt from the caps and not counted by them (days 1 and 12 are 11 days apart).
      ['care_checkin', 'sent', 'sms', iso(demoDue(T0, 1)), null],
      ['care_results', 'sent', 'email', iso(demoDue(T0, 12)), null],
      ['reminder', 'sent', 'email', iso(demoDue(T0, 80)), null],
      ['incentive', 'sent', 'sms', iso(demoDue(T0, 92)), null],
      ['results_checkin', 'suppressed', 'email', null, 'capped'],
      ['staff_escalation', 'staff_task', null, iso(demoDue(T0, 100)), 'no_response'],
      // 40, 60 and 30 days apart: nothing after the window is held by a 12-day cap.
      ['reactivation', 'sent', 'sms', iso(demoDue(T0, 120)), null],
      ['winback_1', 'sent', 'email', iso(demoDue(T0, 180)), null],
      ['winback_2', 'sent', 'sms', iso(demoDue(T0, 210)), null],
    ]);
    expect(rebooking(r)[1]).toMatchObject({
      caps: 'deferred',
      holds: [
        {
          reason: 'capped',
          from: iso(demoDue(T0, 90)),
          until: iso(demoDue(T0, 92)),
          rule: 'at most 1 automated message(s) per 12d',
        },
      ],
    });
    expect(rebooking(r)[2]).toMatchObject({
      caps: 'suppressed',
      holds: [{ reason: 'capped', until: iso(demoDue(T0, 104)) }],
    });
  });

  it('incentive size follows the price tiers, never above 20 % of the price', () => {
    const offer = (priceCents: number | null) => previewTimeline(demo(), input({ priceCents })).incentive;
    expect(offer(20_000)).toMatchObject({ description: '$25 off', percentOfPrice: 12.5 });
    expect(offer(10_000)).toMatchObject({ description: '$20 off', percentOfPrice: 20 });
    expect(offer(100_000)).toMatchObject({ description: '10% off' });
    expect(offer(200_000)).toMatchObject({ description: 'a complimentary skincare product', percentOfPrice: 0 });
    expect(offer(null)).toMatchObject({ description: '10% off' });
  });

  it.each([
    ['first-timer', undefined, { kind: 'offer', reason: 'price_tier', description: '15% off' }, /15% off with code X/],
    [
      'credits left',
      { facts: { creditsLeft: 1 }, history: { visits12m: 9, spend12mCents: 0 } },
      { kind: 'use_credit', reason: 'package_credit', description: 'your credit is waiting', percentOfPrice: 0 },
      /next visit\? your credit is waiting, valid until/,
    ],
    [
      'a plan that discounts the treatment',
      { facts: { memberDiscountPercent: 10, membershipName: 'Glow Club' } },
      { kind: 'member_price', reason: 'member_discount', description: 'your Glow Club member price' },
      /next visit\? your Glow Club member price, valid until/,
    ],
    [
      'VIP by visits',
      { history: { visits12m: 6, spend12mCents: 0 } },
      { kind: 'offer', reason: 'loyalty_tier', tier: 'VIP', description: 'a complimentary add-on' },
      /a complimentary add-on with code X/,
    ],
    [
      'a tier above the ceiling',
      { history: { visits12m: 3, spend12mCents: 0 } },
      { kind: 'offer', reason: 'loyalty_tier', tier: 'Regular', description: '$90 off', percentOfPrice: 20 },
      /\$90 off with code X/,
    ],
  ] as const)('the offer and why: %s', (_name, offerFacts, incentive, text) => {
    const loyaltyTiers = [
      { name: 'VIP', minVisits: 6, offer: { kind: 'gift', label: 'a complimentary add-on' } } as const,
      { name: 'Regular', minVisits: 3, offer: { kind: 'amount_off', amountCents: 50_000 } } as const,
    ];
    const r = previewTimeline(
      demo({ loyaltyTiers: [...loyaltyTiers] }),
      input({ priceCents: 45_000, ...(offerFacts ? { offerFacts } : {}) }),
    );
    expect(r.incentive).toMatchObject(incentive);
    expect(r.incentive.why.length).toBeGreaterThan(10);
    expect(r.incentive.code === undefined).toBe(incentive.kind !== 'offer');
    expect(r.stages.find((s) => s.key === 'incentive')!.content!.body).toMatch(text);
  });

  it('a discreet clinic keeps the treatment name out of SMS but not out of email', () => {
    const clinic = demo();
    const templates = {
      ...clinic.templates,
      incentive: {
        ...clinic.templates.incentive,
        sms: { body: '{{clinicName}}: your {{treatmentLabel}} offer: {{incentive}}. {{bookingUrl}}' },
      },
    };
    const r = previewTimeline(demo({ discreet: true, templates }), input());
    expect(rebooking(r)[1]!.content!.body).toBe(
      `Glow Aesthetics (demo): your treatment offer: 10% off with code ${SAMPLE_INCENTIVE_CODE}. https://book.example.com/glow-aesthetics`,
    );
    expect(rebooking(r)[0]!.content!.subject).toContain('Botox');
  });

  it('an email stage of a clinic without publicBaseUrl is a configuration error, not a silent skip', () => {
    const r = previewTimeline(demo({ publicBaseUrl: undefined }), input());
    expect(rebooking(r)[0]).toMatchObject({
      outcome: 'config_error',
      reason: 'email needs publicBaseUrl for its one-click unsubscribe link',
    });
    expect(rebooking(r)[1]).toMatchObject({ outcome: 'sent', channel: 'sms' });
  });

  it('refuses an unknown service or type with a coded error', () => {
    expect(() => previewTimeline(demo(), input({ service: { name: 'Consultation' } }))).toThrow(
      expect.objectContaining({ code: 'unclassified_service' }),
    );
    expect(() => previewTimeline(demo(), input({ service: undefined, treatmentType: 'nope' }))).toThrow(RebookError);
    expect(() => previewTimeline(demo(), input({ service: undefined }))).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
  });
});

describe('previewTimeline: care touches (issue 11)', () => {
  it('a clinic that counts care in its caps: the day-12 results email waits for the cap, and counts', () => {
    const r = previewTimeline(demo({ capRules: [{ max: 1, windowMs: 12 * DAY }], capsIncludeCare: true }), input());
    expect(brief(r).slice(0, 3)).toEqual([
      ['care_checkin', 'sent', 'sms', iso(demoDue(T0, 1)), null],
      // Allowed 12 days after the day-1 SMS: 11:00 on day 13, since DST began in between.
      ['care_results', 'sent', 'email', iso(demoDue(T0, 1) + 12 * DAY), null],
      ['reminder', 'sent', 'email', iso(demoDue(T0, 80)), null],
    ]);
    expect(r.stages[1]).toMatchObject({ category: 'care', caps: 'deferred' });
  });

  it('needs no marketing consent and carries no offer; without consent the first marketing stage goes to staff', () => {
    const r = previewTimeline(demo(), input({ client: { ...reachable, consent: { sms: false, email: false } } }));
    expect(brief(r)).toEqual([
      ['care_checkin', 'sent', 'sms', iso(demoDue(T0, 1)), null],
      ['care_results', 'sent', 'email', iso(demoDue(T0, 12)), null],
      ['reminder', 'suppressed', null, null, 'no_usable_channel'],
      ['incentive', 'skipped', null, null, 'client already handed to staff'],
      ['results_checkin', 'skipped', null, null, 'client already handed to staff'],
      ['staff_escalation', 'staff_task', null, iso(demoDue(T0, 80)), 'no_usable_channel'],
      // As the workflow does, the touches after the window are still tried (consent may have come since).
      ['reactivation', 'suppressed', null, null, 'no_usable_channel'],
      ['winback_1', 'suppressed', null, null, 'no_usable_channel'],
      ['winback_2', 'suppressed', null, null, 'no_usable_channel'],
    ]);
    for (const care of r.stages.slice(0, 2)) {
      expect(care.category).toBe('care');
      expect(care.content!.body).not.toContain(SAMPLE_INCENTIVE_CODE);
      expect(care.content!.body).not.toMatch(/% off/);
    }
  });
});
