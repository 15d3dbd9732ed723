/**
 * Which offer a client's incentive stage makes, and why (issue 14 §3). The one place the rule is
 * decided, pure, for deliver, preview and the simulator to share once client facts (memberships,
 * packages) reach them:
 *   1. credits left for this treatment (a package) → "use your credit": no discount at all;
 *   2. a membership that already discounts this treatment → no stacked discount (the member price
 *      is the offer);
 *   3. a loyalty tier the client reaches (visits or spend over the last 12 months, the clinic's
 *      tiers in order, best first) → that tier's offer, e.g. a complimentary add-on;
 *   4. otherwise the price tier (core/incentives.ts `offerFor`), a first-timer included.
 * The 20 % ceiling holds everywhere: a tier's offer is capped like any other.
 */

import type { IncentiveTier } from './incentives.js';
import { describeOffer, MAX_PERCENT_OFF, type Offer, offerFor } from './incentives.js';

/** What the booking platform (or the events API) says about the client's plans, for this treatment. */
export interface ClientPlanFacts {
  /** Credits left on packages that cover this treatment. */
  creditsLeft?: number;
  /** Discount the client's active membership gives on this treatment, in percent (0 or absent: none). */
  memberDiscountPercent?: number;
  /** The membership's name, for the wording and the reason. */
  membershipName?: string;
}

/** A client's membership or package as stored from `client.membership` events. */
export interface ClientPlan {
  name: string;
  status: 'active' | 'paused' | 'cancelled' | 'expired';
  endsAtMs?: number | null;
  /** Per treatment type (null: every treatment). */
  benefits: { treatmentType: string | null; percentOff?: number; creditsLeft?: number }[];
}

/**
 * What a client's plans give on one treatment type now: credits summed over active plans, the best
 * member discount (and that plan's name). A paused, cancelled, expired or ended plan gives nothing:
 * its credits cannot be booked against and its price does not apply.
 */
export function planFactsFor(plans: ClientPlan[], treatmentType: string, nowMs: number): ClientPlanFacts {
  let creditsLeft = 0;
  let best: { percent: number; name: string } | undefined;
  for (const p of plans) {
    if (p.status !== 'active' || (p.endsAtMs != null && p.endsAtMs <= nowMs)) continue;
    for (const b of p.benefits) {
      if (b.treatmentType !== null && b.treatmentType !== treatmentType) continue;
      creditsLeft += b.creditsLeft ?? 0;
      if (b.percentOff && (!best || b.percentOff > best.percent)) best = { percent: b.percentOff, name: p.name };
    }
  }
  return {
    ...(creditsLeft > 0 ? { creditsLeft } : {}),
    ...(best ? { memberDiscountPercent: best.percent, membershipName: best.name } : {}),
  };
}

/** The client's history at the clinic over the last 12 months (completed visits, money spent). */
export interface ClientHistory {
  visits12m: number;
  spend12mCents: number;
}

/** A clinic's loyalty tier: reached with at least `minVisits` visits or `minSpendCents` spent in 12 months. */
export interface LoyaltyTier {
  name: string;
  minVisits?: number;
  minSpendCents?: number;
  offer: Offer;
}

/** Why a client got the offer they got: recorded on the ledger row, shown in preview and the console. */
export type OfferReason = 'package_credit' | 'member_discount' | 'loyalty_tier' | 'price_tier' | 'unknown_price';

/** How each reason reads for staff (preview, console): no client data, only the rule that applied. */
export const OFFER_REASON_TEXT: Record<OfferReason, string> = {
  package_credit: 'credits left on a package: "use your credit", no discount',
  member_discount: 'a membership already discounts this treatment: no stacked discount',
  loyalty_tier: "the clinic's loyalty tier (visits or spend over 12 months)",
  price_tier: "the treatment price's tier",
  unknown_price: 'the offer for an unknown price',
};

export type OfferDecision =
  | { kind: 'use_credit'; reason: 'package_credit'; creditsLeft: number; description: string }
  | { kind: 'member_price'; reason: 'member_discount'; memberDiscountPercent: number; description: string }
  | {
      kind: 'offer';
      reason: 'loyalty_tier' | 'price_tier' | 'unknown_price';
      offer: Offer;
      tier?: string;
      description: string;
    };

export function reachedTier(tiers: LoyaltyTier[], h: ClientHistory | undefined): LoyaltyTier | undefined {
  if (!h) return undefined;
  return tiers.find(
    (t) =>
      (t.minVisits !== undefined && h.visits12m >= t.minVisits) ||
      (t.minSpendCents !== undefined && h.spend12mCents >= t.minSpendCents),
  );
}

/** A tier's offer under the ceiling: a percentage above 20 is cut to 20, an amount to 20 % of the price. */
function capped(offer: Offer, priceCents: number | null | undefined): Offer {
  if (offer.kind === 'percent_off') return { kind: 'percent_off', percent: Math.min(offer.percent, MAX_PERCENT_OFF) };
  if (offer.kind === 'amount_off')
    return priceCents == null
      ? offer
      : {
          kind: 'amount_off',
          amountCents: Math.min(offer.amountCents, Math.floor((priceCents * MAX_PERCENT_OFF) / 100)),
        };
  return offer;
}

export function decideOffer(input: {
  priceCents: number | null | undefined;
  priceTiers?: IncentiveTier[];
  unknownPrice?: Offer;
  loyaltyTiers?: LoyaltyTier[];
  facts?: ClientPlanFacts;
  history?: ClientHistory;
}): OfferDecision {
  const f = input.facts;
  if (f?.creditsLeft && f.creditsLeft > 0)
    return {
      kind: 'use_credit',
      reason: 'package_credit',
      creditsLeft: f.creditsLeft,
      description: f.creditsLeft === 1 ? 'your credit is waiting' : `your ${f.creditsLeft} credits are waiting`,
    };
  if (f?.memberDiscountPercent && f.memberDiscountPercent > 0)
    return {
      kind: 'member_price',
      reason: 'member_discount',
      memberDiscountPercent: f.memberDiscountPercent,
      description: f.membershipName ? `your ${f.membershipName} member price` : 'your member price',
    };
  const tier = reachedTier(input.loyaltyTiers ?? [], input.history);
  if (tier) {
    const offer = capped(tier.offer, input.priceCents);
    return { kind: 'offer', reason: 'loyalty_tier', tier: tier.name, offer, description: describeOffer(offer) };
  }
  const offer = offerFor(input.priceCents ?? null, input.priceTiers, input.unknownPrice);
  return {
    kind: 'offer',
    reason: input.priceCents == null ? 'unknown_price' : 'price_tier',
    offer,
    description: describeOffer(offer),
  };
}
