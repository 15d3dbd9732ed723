/** The one stage decision: each rule on its own, then properties every decision must keep. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCaps, DEFAULT_CAP_RULES, effectiveRules, type SendRecord } from '../../src/core/caps.js';
import { DEFAULT_SEND_WINDOW, isWithinWindow } from '../../src/core/send-window.js';
import {
  bookingStopsStage,
  type ChannelState,
  type DecisionClinic,
  decideStage,
  followUpResumesAt,
  noChannelEscalates,
  type StageDecisionInput,
  staffEscalationReason,
  unusableChannels,
  visitCheckAt,
} from '../../src/core/stage-decision.js';
import type { Channel, StageDefinition } from '../../src/core/types.js';

const H = 3_600_000;
const D = 24 * H;
const TZ = 'America/New_York';
// Wednesday 2026-05-20 14:00 New York (18:00Z): inside the default window (Mon–Sat 10:00–19:00).
const WED_2PM = Date.UTC(2026, 4, 20, 18);
// Saturday 2026-05-23 20:00 New York: after the window; Sunday is closed, so Monday 10:00 is next.
const SAT_8PM = Date.UTC(2026, 4, 24, 0);
const MON_10AM = Date.UTC(2026, 4, 25, 14);

const clinic: DecisionClinic = {
  timeZone: TZ,
  sendWindow: DEFAULT_SEND_WINDOW,
  capRules: effectiveRules(DEFAULT_CAP_RULES),
  fallback: { sms: 'email', email: 'sms' },
  capsIncludeCare: false,
};
const ok: ChannelState = { hasAddress: true, consented: true, optedOut: false, undeliverable: false };

function input(
  stage: Partial<StageDefinition & { dueAt: string }> = {},
  change: Partial<StageDecisionInput> = {},
  nowMs = WED_2PM,
): StageDecisionInput {
  return {
    stage: { channel: 'sms', purpose: 'incentive', dueAt: new Date(nowMs).toISOString(), ...stage },
    nowMs,
    expiresAtMs: nowMs + 5 * D,
    clinic,
    sendTimeZone: TZ,
    channels: { sms: ok, email: ok },
    hasTemplate: () => true,
    sends: [],
    ...change,
  };
}

describe('decideStage, rule by rule', () => {
  it('sends a usable stage at once, inside the window, on its own channel', () => {
    expect(decideStage(input())).toEqual({ kind: 'send', at: WED_2PM, channel: 'sms', fallback: false });
  });

  it.each([
    [true, 'no_response'],
    [false, 'no_touch_delivered'],
  ] as const)('a staff stage escalates (marketing touch delivered: %s → %s)', (delivered, reason) => {
    expect(
      decideStage(input({ channel: 'staff', purpose: 'escalation' }, { marketingTouchDelivered: delivered })),
    ).toEqual({ kind: 'escalate', reason });
    expect(staffEscalationReason(delivered)).toBe(reason);
  });

  it('a held-out client gets care touches only (no staff call either)', () => {
    expect(decideStage(input({}, { arm: 'holdout' }))).toEqual({ kind: 'suppress', reason: 'holdout' });
    expect(decideStage(input({ channel: 'staff', purpose: 'escalation' }, { arm: 'holdout' }))).toEqual({
      kind: 'suppress',
      reason: 'holdout',
    });
    expect(decideStage(input({ purpose: 'care' }, { arm: 'holdout' })).kind).toBe('send');
    expect(decideStage(input({}, { arm: 'treated' })).kind).toBe('send');
  });

  it('no marketing consent on SMS: email instead when the clinic falls back and has the template', () => {
    const channels = { sms: { ...ok, consented: false }, email: ok };
    expect(decideStage(input({}, { channels }))).toEqual({
      kind: 'send',
      at: WED_2PM,
      channel: 'email',
      fallback: true,
    });
    expect(decideStage(input({}, { channels, hasTemplate: (c) => c === 'sms' }))).toEqual({
      kind: 'suppress',
      reason: 'sms_no_consent',
    });
    expect(
      decideStage(input({}, { channels, clinic: { ...clinic, fallback: { sms: 'none', email: 'sms' } } })),
    ).toEqual({ kind: 'suppress', reason: 'sms_no_consent' });
  });

  it('a care touch needs no marketing consent, only an address and no opt-out', () => {
    const noConsent = { sms: { ...ok, consented: false }, email: { ...ok, consented: false } };
    expect(decideStage(input({ purpose: 'care' }, { channels: noConsent })).kind).toBe('send');
    expect(decideStage(input({}, { channels: noConsent }))).toEqual({ kind: 'escalate', reason: 'no_usable_channel' });
    const optedOut = { sms: { ...ok, optedOut: true }, email: { ...ok, hasAddress: false } };
    expect(decideStage(input({ purpose: 'care' }, { channels: optedOut }))).toEqual({
      kind: 'suppress',
      reason: 'no_usable_channel',
    });
  });

  it('an invalid number goes to email; with no email either, a marketing stage goes to staff', () => {
    const bad = { ...ok, validNumber: false };
    expect(decideStage(input({}, { channels: { sms: bad, email: ok } }))).toMatchObject({
      kind: 'send',
      channel: 'email',
      fallback: true,
    });
    expect(decideStage(input({}, { channels: { sms: bad, email: { ...ok, hasAddress: false } } }))).toEqual({
      kind: 'escalate',
      reason: 'no_usable_channel',
    });
    expect(unusableChannels('marketing', { sms: bad, email: ok })).toEqual({ sms: 'invalid_number', email: null });
    // Another block says more than the number's shape: no consent is reported as such.
    expect(unusableChannels('marketing', { sms: { ...bad, consented: false }, email: ok }).sms).toBe('no_consent');
  });

  it('a closed window defers to its next opening, never suppresses', () => {
    expect(decideStage(input({}, { expiresAtMs: SAT_8PM + H }, SAT_8PM))).toEqual({
      kind: 'defer',
      until: MON_10AM,
      reason: 'send_window',
      channel: 'sms',
    });
    // The client's own zone rules over the clinic's: 20:00 in New York is 17:00 in Los Angeles.
    expect(decideStage(input({}, { sendTimeZone: 'America/Los_Angeles' }, SAT_8PM)).kind).toBe('send');
  });

  it('a window with no opening suppresses', () => {
    const never = { ...clinic, sendWindow: { ...DEFAULT_SEND_WINDOW, days: [] } };
    expect(decideStage(input({}, { clinic: never }))).toEqual({
      kind: 'suppress',
      reason: 'send_window_never_opens',
      channel: 'sms',
    });
  });

  it('a cap defers to the next opening after it allows, or suppresses when that is past the stage', () => {
    const sends: SendRecord[] = [
      { at: WED_2PM - 20 * D, channel: 'sms' },
      { at: WED_2PM - 10 * D, channel: 'sms' },
    ];
    const d = decideStage(input({}, { sends, expiresAtMs: WED_2PM + 20 * D }));
    expect(d).toMatchObject({ kind: 'defer', reason: 'capped', channel: 'sms', rule: { max: 2, channel: 'sms' } });
    if (d.kind !== 'defer') throw new Error('unreachable');
    expect(d.until).toBeGreaterThanOrEqual(WED_2PM + 10 * D);
    expect(isWithinWindow(d.until, DEFAULT_SEND_WINDOW, TZ)).toBe(true);
    expect(decideStage(input({}, { sends, expiresAtMs: WED_2PM + 5 * D }))).toEqual({
      kind: 'suppress',
      reason: 'capped',
      channel: 'sms',
      rule: { max: 2, windowMs: 30 * D, channel: 'sms' },
      allowedAt: d.until,
    });
    // Without the ledger (delivery's first look, before the row lock) the caps are not checked.
    expect(decideStage(input({}, { sends: undefined })).kind).toBe('send');
  });

  it('care is exempt from the caps unless the clinic counts it', () => {
    const sends: SendRecord[] = [{ at: WED_2PM - H, channel: 'email' }];
    expect(decideStage(input({ purpose: 'care' }, { sends })).kind).toBe('send');
    expect(
      decideStage(input({ purpose: 'care' }, { sends, clinic: { ...clinic, capsIncludeCare: true } })),
    ).toMatchObject({ kind: 'defer', reason: 'capped' });
  });

  it('a send-time variant waits for its clock on the stage day while the stage is worth sending', () => {
    const due = Date.UTC(2026, 4, 20, 14); // 10:00 New York
    const variant = { name: 'late', weight: 1, sendTime: '15:00' };
    expect(decideStage(input({ dueAt: new Date(due).toISOString() }, { variant }, due))).toEqual({
      kind: 'defer',
      until: Date.UTC(2026, 4, 20, 19),
      reason: 'variant_send_time',
    });
    expect(
      decideStage(input({ dueAt: new Date(due).toISOString() }, { variant, expiresAtMs: due + H }, due)).kind,
    ).toBe('send');
    expect(decideStage(input({}, { variant: { name: 'mail', weight: 1, channel: 'email' } }))).toMatchObject({
      kind: 'send',
      channel: 'email',
      fallback: false,
    });
  });

  it('a provider retry stays on its channel while that is usable', () => {
    expect(decideStage(input({}, { retryChannel: 'email' }))).toMatchObject({ channel: 'email' });
    const channels = { sms: ok, email: { ...ok, undeliverable: true } };
    expect(decideStage(input({}, { retryChannel: 'email', channels }))).toMatchObject({ channel: 'sms' });
  });

  it('a lapsed booking resumes follow-up: a no-show at once, a cancellation after the grace to rebook', () => {
    expect(followUpResumesAt({ kind: 'no_show', atMs: WED_2PM })).toBe(WED_2PM);
    expect(followUpResumesAt({ kind: 'cancelled', atMs: WED_2PM })).toBe(WED_2PM + 2 * D);
    expect(followUpResumesAt({ kind: 'cancelled', atMs: WED_2PM }, 5 * D)).toBe(WED_2PM + 5 * D);
    expect(visitCheckAt(WED_2PM)).toBe(WED_2PM + D);
  });

  it('bookings stop marketing stages, not care touches; win-back stages hand no one to staff', () => {
    expect(bookingStopsStage({ purpose: 'care' })).toBe(false);
    for (const purpose of ['reminder', 'incentive', 'checkin', 'reactivation', 'recovery', 'winback'] as const) {
      expect(bookingStopsStage({ purpose })).toBe(true);
      expect(noChannelEscalates({ purpose }, false)).toBe(true);
      expect(noChannelEscalates({ purpose }, true)).toBe(false);
    }
    expect(noChannelEscalates({ purpose: 'care' }, false)).toBe(false);
  });
});

describe('decideStage, properties', () => {
  const channelState = fc.record({
    hasAddress: fc.boolean(),
    consented: fc.boolean(),
    optedOut: fc.boolean(),
    undeliverable: fc.boolean(),
    validNumber: fc.boolean(),
  });
  const arb = fc.record({
    now: fc.integer({ min: WED_2PM - 30 * D, max: WED_2PM + 30 * D }),
    expiresIn: fc.integer({ min: 0, max: 40 * D }),
    purpose: fc.constantFrom('reminder', 'incentive', 'care', 'winback' as const),
    channel: fc.constantFrom<Channel>('sms', 'email'),
    sms: channelState,
    email: channelState,
    sends: fc.array(
      fc.record({ ago: fc.integer({ min: 0, max: 40 * D }), channel: fc.constantFrom<Channel>('sms', 'email') }),
      { maxLength: 6 },
    ),
    capsIncludeCare: fc.boolean(),
  });

  it('a send is inside the window and allowed by the caps; a deferral is later and before expiry for caps', () => {
    fc.assert(
      fc.property(arb, (a) => {
        const sends = a.sends.map((s) => ({ at: a.now - s.ago, channel: s.channel }));
        const c = { ...clinic, capsIncludeCare: a.capsIncludeCare };
        const d = decideStage({
          stage: { channel: a.channel, purpose: a.purpose, dueAt: new Date(a.now).toISOString() },
          nowMs: a.now,
          expiresAtMs: a.now + a.expiresIn,
          clinic: c,
          sendTimeZone: TZ,
          channels: { sms: a.sms, email: a.email },
          hasTemplate: () => true,
          sends,
        });
        const capsCount = a.purpose !== 'care' || a.capsIncludeCare;
        if (d.kind === 'send') {
          expect(d.at).toBe(a.now);
          expect(isWithinWindow(a.now, DEFAULT_SEND_WINDOW, TZ)).toBe(true);
          if (capsCount) expect(checkCaps(c.capRules, sends, d.channel, a.now).allowed).toBe(true);
          const blocked = unusableChannels(a.purpose === 'care' ? 'care' : 'marketing', { sms: a.sms, email: a.email });
          expect(blocked[d.channel]).toBeNull();
        }
        if (d.kind === 'defer') {
          expect(d.until).toBeGreaterThan(a.now);
          if (d.reason === 'capped') expect(d.until).toBeLessThan(a.now + a.expiresIn);
        }
        // A care touch never hands a client to staff; a client stage escalates only for no channel.
        if (d.kind === 'escalate') {
          expect(a.purpose).not.toBe('care');
          expect(d.reason).toBe('no_usable_channel');
        }
      }),
      { numRuns: 500 },
    );
  });
});
