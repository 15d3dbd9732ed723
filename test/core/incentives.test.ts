import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INCENTIVE_TIERS,
  describeOffer,
  type IncentiveTier,
  incentiveCode,
  MAX_PERCENT_OFF,
  normalizeCode,
  offerFor,
  percentOfPrice,
} from '../../src/core/incentives.js';

describe('offerFor with the DOMAIN.md tiers', () => {
  it.each([
    [14_900, '$25 off'], // $149 HydraFacial: 25/149 = 16.8 %, under the cap
    [29_999, '$25 off'],
    [10_000, '$20 off'], // $100 peel: $25 would be 25 %; capped at 20 % of the price
    [30_000, '15% off'],
    [59_999, '15% off'],
    [60_000, '10% off'],
    [149_999, '10% off'],
    [150_000, 'a complimentary skincare product'],
    [420_000, 'a complimentary skincare product'],
    [null, '10% off'], // price unknown
  ])('%s cents → %s', (price, text) => {
    expect(describeOffer(offerFor(price, DEFAULT_INCENTIVE_TIERS))).toBe(text);
  });

  it('never gives more than 20 % off, whatever a clinic configures', () => {
    const greedy: IncentiveTier[] = [
      { belowCents: 50_000, offer: { kind: 'amount_off', amountCents: 40_000 } },
      { offer: { kind: 'percent_off', percent: 50 } },
    ];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (price) => {
        expect(percentOfPrice(offerFor(price, greedy), price)).toBeLessThanOrEqual(MAX_PERCENT_OFF);
        expect(percentOfPrice(offerFor(price), price)).toBeLessThanOrEqual(MAX_PERCENT_OFF);
      }),
    );
    expect(offerFor(null, greedy, { kind: 'percent_off', percent: 35 })).toEqual({ kind: 'percent_off', percent: 20 });
  });

  it('describes cents when an amount is not whole dollars', () => {
    expect(describeOffer({ kind: 'amount_off', amountCents: 2_250 })).toBe('$22.50 off');
  });
});

describe('incentive codes', () => {
  it('are 16 Crockford base32 characters in four groups, from 80 random bits', () => {
    expect(incentiveCode(new Uint8Array(10))).toBe('0000-0000-0000-0000');
    expect(incentiveCode(new Uint8Array(10).fill(255))).toBe('ZZZZ-ZZZZ-ZZZZ-ZZZZ');
    expect(incentiveCode(Uint8Array.from([0x08, 0x86, 0x42, 0x98, 0xe8, 0x4a, 0x96, 0xc6, 0xb9, 0xf0]))).toBe(
      '1234-5678-9ABC-DEFG',
    );
    expect(() => incentiveCode(new Uint8Array(9))).toThrow(/random bytes/);
  });

  it('distinct random inputs give distinct codes, and never I, L, O or U', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        (a, b) => {
          const ca = incentiveCode(a);
          expect(ca).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
          if (Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0) expect(ca).not.toBe(incentiveCode(b));
        },
      ),
    );
  });

  it('normalizes what staff type', () => {
    expect(normalizeCode('k7m2 q9xp 2d4t 8hva')).toBe('K7M2-Q9XP-2D4T-8HVA');
    expect(normalizeCode('O1IL-0000-0000-0000')).toBe('0111-0000-0000-0000');
    expect(normalizeCode('short')).toBe('SH0RT');
  });
});
