import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, treatmentTypesFor } from '../../src/config/load.js';
import { capRulesFor } from '../../src/config/messaging.js';
import { planSequence } from '../../src/core/plan.js';
import {
  capSpacingMs,
  churnInstant,
  DEFAULT_REACTIVATION,
  planReactivation,
  SNOOZE_TOUCH_KEY,
  scheduleAfterSnooze,
  snoozeTouch,
  snoozeTouchAt,
} from '../../src/core/reactivation.js';

const DAY = 86_400_000;
const configDir = fileURLToPath(new URL('../../config', import.meta.url));
const cfg = loadConfig(configDir);
const clinic = cfg.clinics.get('demo-clinic')!;
const botox = treatmentTypesFor(cfg, clinic).get('neuromodulator')!;
const opts = { timeZone: 'America/New_York', sendTime: '10:00' };
// Thursday 5 March 2026, 15:00 New York (EST); day 120 is 3 July (EDT), day 180 1 September.
const plan = planSequence(botox, '2026-03-05T20:00:00Z', opts);
const spacingMs = 30 * DAY;
const re = planReactivation(plan, DEFAULT_REACTIVATION, { ...opts, spacingMs });

describe('planReactivation: the non-responder touches', () => {
  it('the catalog gives every type the default schedule, and the clinic caps give a 30-day spacing', () => {
    for (const t of treatmentTypesFor(cfg, clinic).values()) expect(t.reactivation).toEqual(DEFAULT_REACTIVATION);
    expect(capSpacingMs(capRulesFor(clinic))).toBe(30 * DAY);
    expect(capSpacingMs([])).toBe(DAY);
  });

  it('reactivation on the window last day, win-backs at window + 60 and + 90 with offers of their own', () => {
    expect(re.stages.map((s) => [s.key, s.day, s.channel, s.purpose, s.dueAt, s.offerExpiresAt])).toEqual([
      ['reactivation', 120, 'sms', 'reactivation', '2026-07-03T14:00:00.000Z', plan.windowEndsAt],
      ['winback_1', 180, 'email', 'winback', '2026-09-01T14:00:00.000Z', '2026-10-02T03:59:00.000Z'],
      ['winback_2', 210, 'sms', 'winback', '2026-10-01T14:00:00.000Z', '2026-11-01T03:59:00.000Z'],
    ]);
    // The reactivation touch is the plan's reactivation instant: the offer's last day.
    expect(re.stages[0]!.dueAt).toBe(plan.reactivationAt);
    expect(plan.windowEndsAt).toBe('2026-07-04T03:59:00.000Z');
    // Churned once the last win-back offer has expired unused.
    expect(re.churnAt).toBe('2026-11-01T03:59:00.000Z');
    expect(re.spacingMs).toBe(spacingMs);
  });

  it('an empty schedule churns at the end of the window, as before', () => {
    expect(planReactivation(plan, [], { ...opts, spacingMs }).churnAt).toBe(plan.windowEndsAt);
    expect(churnInstant([], plan.windowEndsAt)).toBe(plan.windowEndsAt);
  });
});

describe('snoozeTouchAt and scheduleAfterSnooze', () => {
  const anchor = Date.parse(plan.anchorAt);
  const day91 = anchor + 91 * DAY;
  const day105 = '2026-06-18T14:00:00.000Z';

  it('a named date in range is taken; the reactivation touch within the cap window after it is dropped', () => {
    const at = snoozeTouchAt(plan, spacingMs, day91, day105);
    expect(at).toBe(day105);
    const touch = snoozeTouch(plan, at, 'sms');
    expect(touch).toMatchObject({ key: SNOOZE_TOUCH_KEY, purpose: 'reactivation', channel: 'sms', day: 105 });
    expect(scheduleAfterSnooze(re.stages, touch, spacingMs).map((s) => s.key)).toEqual([
      SNOOZE_TOUCH_KEY,
      'winback_1',
      'winback_2',
    ]);
  });

  it('no date, or one out of range: interval + 30 days as before', () => {
    expect(snoozeTouchAt(plan, spacingMs, day91)).toBe(plan.reactivationAt);
    expect(snoozeTouchAt(plan, spacingMs, day91, new Date(day91 + 2 * DAY).toISOString())).toBe(plan.reactivationAt);
    expect(snoozeTouchAt(plan, spacingMs, day91, new Date(day91 + 200 * DAY).toISOString())).toBe(plan.reactivationAt);
    expect(snoozeTouchAt(plan, spacingMs, day91, 'not a date')).toBe(plan.reactivationAt);
  });

  it('a snooze after the window (a reply to a win-back) waits a cap window, never closer to the last touch', () => {
    const day185 = anchor + 185 * DAY;
    expect(snoozeTouchAt(plan, spacingMs, day185)).toBe(new Date(day185 + spacingMs).toISOString());
    // "In 2 weeks" five days after the day-180 win-back: pushed to a cap window after that touch.
    const winback1 = Date.parse(re.stages[1]!.dueAt);
    const at = snoozeTouchAt(plan, spacingMs, day185, new Date(day185 + 14 * DAY).toISOString(), winback1);
    expect(at).toBe(new Date(winback1 + spacingMs).toISOString());
    const left = scheduleAfterSnooze(re.stages.slice(2), snoozeTouch(plan, at, 'sms'), spacingMs);
    expect(left.map((s) => s.key)).toEqual([SNOOZE_TOUCH_KEY]);
    // Then churn after the snooze touch's grace.
    expect(churnInstant(left, plan.windowEndsAt)).toBe(new Date(Date.parse(at) + 30 * DAY).toISOString());
  });

  it('a touch named far ahead drops every scheduled touch before it', () => {
    const at = snoozeTouchAt(plan, spacingMs, day91, new Date(anchor + 182 * DAY).toISOString());
    expect(scheduleAfterSnooze(re.stages, snoozeTouch(plan, at, 'email'), spacingMs).map((s) => s.key)).toEqual([
      SNOOZE_TOUCH_KEY,
    ]);
  });
});
