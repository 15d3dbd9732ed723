import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CapRule,
  checkCaps,
  DEFAULT_CAP_RULES,
  effectiveRules,
  parseWindow,
  type SendRecord,
  STATE_LAW_RULE,
  stagesBlockedByOwnCaps,
} from '../../src/core/caps.js';
import type { Channel } from '../../src/core/types.js';

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2026, 2, 1, 15);

/** Independent oracle: does every rolling window ending at any send respect every rule? */
function violations(rules: CapRule[], sends: SendRecord[]): string[] {
  const out: string[] = [];
  for (const rule of rules) {
    for (const end of sends) {
      const n = sends.filter(
        (s) => (!rule.channel || s.channel === rule.channel) && s.at > end.at - rule.windowMs && s.at <= end.at,
      ).length;
      if (n > rule.max) out.push(`${rule.max}/${rule.windowMs}/${rule.channel ?? '*'} broken at ${end.at}: ${n}`);
    }
  }
  return out;
}

describe('default caps', () => {
  const rules = effectiveRules(DEFAULT_CAP_RULES);
  it('always include the 3-per-24h state-law rule', () => {
    expect(rules).toContainEqual(STATE_LAW_RULE);
    expect(effectiveRules([])).toEqual([STATE_LAW_RULE]);
    expect(effectiveRules([{ max: 5, windowMs: 2 * D }])).toEqual([{ max: 5, windowMs: 2 * D }, STATE_LAW_RULE]);
  });

  it.each([
    [
      'neuromodulator',
      [
        [80, 'email'],
        [90, 'sms'],
        [95, 'email'],
      ],
    ],
    [
      'lip filler',
      [
        [160, 'email'],
        [175, 'sms'],
        [180, 'email'],
      ],
    ],
    [
      'kybella',
      [
        [35, 'email'],
        [40, 'sms'],
        [42, 'email'],
      ],
    ],
    [
      'sculptra',
      [
        [340, 'email'],
        [355, 'sms'],
        [360, 'email'],
      ],
    ],
  ] as [string, [number, Channel][]][])('let the default %s sequence through intact', (_name, stages) => {
    const sent: SendRecord[] = [];
    for (const [day, channel] of stages) {
      expect(checkCaps(rules, sent, channel, T0 + day * D)).toEqual({ allowed: true });
      sent.push({ at: T0 + day * D, channel });
    }
  });

  it('defer a third email within 30 days to the instant the oldest leaves the window', () => {
    const sent: SendRecord[] = [
      { at: T0, channel: 'email' },
      { at: T0 + 10 * D, channel: 'email' },
    ];
    expect(checkCaps(rules, sent, 'email', T0 + 15 * D)).toEqual({
      allowed: false,
      allowedAt: T0 + 30 * D,
      rule: DEFAULT_CAP_RULES[1],
    });
    expect(checkCaps(rules, sent, 'sms', T0 + 15 * D)).toEqual({ allowed: true });
  });

  it('defer a second message on the same day by 24 h from the first', () => {
    const sent: SendRecord[] = [{ at: T0, channel: 'email' }];
    expect(checkCaps(rules, sent, 'sms', T0 + 2 * H)).toEqual({
      allowed: false,
      allowedAt: T0 + D,
      rule: DEFAULT_CAP_RULES[2],
    });
  });

  it('count a send stamped later than now (another sequence reserved with a later clock)', () => {
    expect(checkCaps(rules, [{ at: T0 + 1000, channel: 'sms' }], 'email', T0)).toMatchObject({
      allowed: false,
      allowedAt: T0 + 1000 + D,
    });
  });

  it('never allow a channel whose rule has max 0', () => {
    const r = checkCaps([{ max: 0, windowMs: D, channel: 'sms' }], [], 'sms', T0);
    expect(r).toMatchObject({ allowed: false, allowedAt: Number.POSITIVE_INFINITY });
  });
});

describe('parseWindow', () => {
  it.each([
    ['30d', 30 * D],
    ['24h', D],
    ['90m', 90 * 60_000],
  ])('%s', (text, ms) => expect(parseWindow(text)).toBe(ms));
  it('rejects other units', () => expect(() => parseWindow('2w')).toThrow(/invalid window/));
});

describe('stagesBlockedByOwnCaps', () => {
  it('finds the stage a literal all-channel 2-per-30-days rule always suppresses', () => {
    const stages = [
      { key: 'reminder', offsetMs: 80 * D, channel: 'email' as const, expiresMs: 90 * D },
      { key: 'incentive', offsetMs: 90 * D, channel: 'sms' as const, expiresMs: 95 * D },
      { key: 'results_checkin', offsetMs: 95 * D, channel: 'email' as const, expiresMs: 100 * D },
    ];
    expect(stagesBlockedByOwnCaps(effectiveRules([{ max: 2, windowMs: 30 * D }]), stages)).toEqual([
      { key: 'results_checkin', rule: { max: 2, windowMs: 30 * D } },
    ]);
    expect(stagesBlockedByOwnCaps(effectiveRules(DEFAULT_CAP_RULES), stages)).toEqual([]);
  });
});

const ruleArb = fc
  .record(
    {
      max: fc.integer({ min: 1, max: 4 }),
      windowMs: fc.integer({ min: 1, max: 40 }).map((n) => n * D),
      channel: fc.constantFrom<Channel | undefined>('sms', 'email', undefined),
    },
    { requiredKeys: ['max', 'windowMs'] },
  )
  .map((r) => (r.channel ? r : { max: r.max, windowMs: r.windowMs }));

describe('properties', () => {
  it('random attempts from several sequences, admitted or deferred by checkCaps, never break any rule', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { minLength: 1, maxLength: 4 }),
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 200 * 24 }).map((h) => T0 + h * H),
            channel: fc.constantFrom<Channel>('sms', 'email'),
            seq: fc.integer({ min: 0, max: 3 }),
          }),
          { maxLength: 40 },
        ),
        (configured, attempts) => {
          const rules = effectiveRules(configured);
          const sent: SendRecord[] = [];
          // A queue of attempts in time order; a deferred attempt is retried at its allowedAt.
          const queue = [...attempts].sort((a, b) => a.at - b.at);
          let guard = 0;
          while (queue.length > 0 && guard++ < 500) {
            const next = queue.shift()!;
            const d = checkCaps(rules, sent, next.channel, next.at);
            if (d.allowed) sent.push({ at: next.at, channel: next.channel });
            else {
              expect(d.allowedAt).toBeGreaterThan(next.at);
              if (Number.isFinite(d.allowedAt)) {
                queue.push({ ...next, at: d.allowedAt });
                queue.sort((a, b) => a.at - b.at);
              }
            }
          }
          expect(violations(rules, sent)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('allowedAt is allowed, and a minute earlier is not', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { minLength: 1, maxLength: 3 }),
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 60 * 24 }).map((h) => T0 + h * H),
            channel: fc.constantFrom<Channel>('sms', 'email'),
          }),
          { maxLength: 12 },
        ),
        fc.constantFrom<Channel>('sms', 'email'),
        (configured, sends, channel) => {
          const rules = effectiveRules(configured);
          const now = T0 + 60 * D;
          const d = checkCaps(rules, sends, channel, now);
          if (d.allowed || !Number.isFinite(d.allowedAt)) return;
          expect(checkCaps(rules, sends, channel, d.allowedAt)).toEqual({ allowed: true });
          if (d.allowedAt - 60_000 >= now)
            expect(checkCaps(rules, sends, channel, d.allowedAt - 60_000).allowed).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
