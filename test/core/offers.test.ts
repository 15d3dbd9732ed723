/** The offer each kind of client receives (issue 14 §3): one table, the 20 % ceiling everywhere. */
import { describe, expect, it } from 'vitest';
import { percentOfPrice } from '../../src/core/incentives.js';
import { decideOffer, type LoyaltyTier, planFactsFor } from '../../src/core/offers.js';

const BOTOX = 52_500; // $525: the 15 % price tier
const VIP: LoyaltyTier[] = [
  { name: 'VIP', minVisits: 6, minSpendCents: 300_000, offer: { kind: 'gift', label: 'a complimentary add-on' } },
  { name: 'Regular', minVisits: 3, offer: { kind: 'percent_off', percent: 30 } },
];

describe('decideOffer', () => {
  it.each([
    ['first-timer', {}, undefined, { kind: 'offer', reason: 'price_tier', description: '15% off' }],
    [
      'no membership, a few visits below every tier',
      {},
      { visits12m: 2, spend12mCents: 90_000 },
      { kind: 'offer', reason: 'price_tier', description: '15% off' },
    ],
    [
      'credits left on a package',
      { creditsLeft: 1 },
      { visits12m: 8, spend12mCents: 500_000 },
      { kind: 'use_credit', reason: 'package_credit', description: 'your credit is waiting' },
    ],
    [
      'two credits left',
      { creditsLeft: 2 },
      undefined,
      { kind: 'use_credit', description: 'your 2 credits are waiting' },
    ],
    [
      'a plan that discounts the treatment',
      { memberDiscountPercent: 10, membershipName: 'Glow Club' },
      { visits12m: 8, spend12mCents: 500_000 },
      { kind: 'member_price', reason: 'member_discount', description: 'your Glow Club member price' },
    ],
    [
      'VIP by visits',
      {},
      { visits12m: 6, spend12mCents: 0 },
      { kind: 'offer', reason: 'loyalty_tier', tier: 'VIP', description: 'a complimentary add-on' },
    ],
    [
      'VIP by spend',
      {},
      { visits12m: 1, spend12mCents: 300_000 },
      { kind: 'offer', reason: 'loyalty_tier', tier: 'VIP' },
    ],
    [
      'Regular: its 30 % is cut to the 20 % ceiling',
      {},
      { visits12m: 3, spend12mCents: 0 },
      { kind: 'offer', reason: 'loyalty_tier', tier: 'Regular', description: '20% off' },
    ],
    [
      'a membership without a discount on this treatment',
      { memberDiscountPercent: 0 },
      undefined,
      { kind: 'offer', reason: 'price_tier' },
    ],
  ])('%s', (_name, facts, history, expected) => {
    expect(decideOffer({ priceCents: BOTOX, loyaltyTiers: VIP, facts, ...(history ? { history } : {}) })).toMatchObject(
      expected,
    );
  });

  it('an unknown price falls back to the unknown-price offer; an amount off from a tier is capped at 20 % of the price', () => {
    expect(decideOffer({ priceCents: null })).toMatchObject({ reason: 'unknown_price', description: '10% off' });
    const d = decideOffer({
      priceCents: 10_000,
      loyaltyTiers: [{ name: 'Big', minVisits: 1, offer: { kind: 'amount_off', amountCents: 5_000 } }],
      history: { visits12m: 1, spend12mCents: 0 },
    });
    expect(d).toMatchObject({ kind: 'offer', offer: { kind: 'amount_off', amountCents: 2_000 } });
    if (d.kind === 'offer') expect(percentOfPrice(d.offer, 10_000)).toBeLessThanOrEqual(20);
  });
});

describe('planFactsFor', () => {
  const NOW = Date.parse('2026-06-01T00:00:00Z');
  it('sums credits of active plans for the treatment, takes the best member price, ignores inactive and ended plans', () => {
    const facts = planFactsFor(
      [
        { name: 'Botox x3', status: 'active', benefits: [{ treatmentType: 'botox', creditsLeft: 1 }] },
        { name: 'Old pack', status: 'expired', benefits: [{ treatmentType: 'botox', creditsLeft: 4 }] },
        {
          name: 'Ended',
          status: 'active',
          endsAtMs: NOW - 1,
          benefits: [{ treatmentType: 'botox', creditsLeft: 5 }],
        },
        { name: 'Glow Club', status: 'active', benefits: [{ treatmentType: null, percentOff: 10 }] },
        {
          name: 'Botox Club',
          status: 'active',
          benefits: [{ treatmentType: 'botox', percentOff: 15, creditsLeft: 1 }],
        },
        { name: 'Filler Club', status: 'active', benefits: [{ treatmentType: 'filler', percentOff: 20 }] },
        { name: 'Paused', status: 'paused', benefits: [{ treatmentType: null, percentOff: 25 }] },
      ],
      'botox',
      NOW,
    );
    expect(facts).toEqual({ creditsLeft: 2, memberDiscountPercent: 15, membershipName: 'Botox Club' });
    expect(planFactsFor([], 'botox', NOW)).toEqual({});
  });
});
