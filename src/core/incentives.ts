/**
 * Incentives: the loyalty offer of the incentive stage. Its size follows the treatment's price
 * (a clinic's tier table, DOMAIN.md defaults), never above 20 % off; it expires with the
 * rebooking window (interval + 30 days), not with the message. Codes are random (80 bits),
 * unique per client and sequence run; the randomness is passed in so this stays pure.
 */

export type Offer =
  | { kind: 'amount_off'; amountCents: number }
  | { kind: 'percent_off'; percent: number }
  | { kind: 'gift'; label: string };

/** Applies to treatments priced below `belowCents` (the last tier may leave it out: no upper bound). */
export interface IncentiveTier {
  belowCents?: number;
  offer: Offer;
}

export const MAX_PERCENT_OFF = 20;

/** DOMAIN.md: under $300 → $25 off; $300–600 → 15 %; $600–1,500 → 10 %; over → a skincare product. */
export const DEFAULT_INCENTIVE_TIERS: IncentiveTier[] = [
  { belowCents: 30_000, offer: { kind: 'amount_off', amountCents: 2_500 } },
  { belowCents: 60_000, offer: { kind: 'percent_off', percent: 15 } },
  { belowCents: 150_000, offer: { kind: 'percent_off', percent: 10 } },
  { offer: { kind: 'gift', label: 'a complimentary skincare product' } },
];

/** When the treatment price is unknown: the smallest percentage of the defaults. */
export const UNKNOWN_PRICE_OFFER: Offer = { kind: 'percent_off', percent: 10 };

/** The offer for a treatment price, capped at 20 % of the price (an amount off included). */
export function offerFor(
  priceCents: number | null | undefined,
  tiers: IncentiveTier[] = DEFAULT_INCENTIVE_TIERS,
  unknown: Offer = UNKNOWN_PRICE_OFFER,
): Offer {
  const offer =
    priceCents == null
      ? unknown
      : (tiers.find((t) => t.belowCents === undefined || priceCents < t.belowCents)?.offer ?? unknown);
  if (offer.kind === 'percent_off') return { kind: 'percent_off', percent: Math.min(offer.percent, MAX_PERCENT_OFF) };
  if (offer.kind === 'amount_off' && priceCents != null) {
    return {
      kind: 'amount_off',
      amountCents: Math.min(offer.amountCents, Math.floor((priceCents * MAX_PERCENT_OFF) / 100)),
    };
  }
  return offer;
}

/** Percent of the price an offer gives away (gifts: 0; amounts: against the price when known). */
export function percentOfPrice(offer: Offer, priceCents: number | null | undefined): number {
  if (offer.kind === 'percent_off') return offer.percent;
  if (offer.kind === 'amount_off') return priceCents ? (offer.amountCents * 100) / priceCents : 0;
  return 0;
}

/** "15% off", "$25 off", "a complimentary skincare product". */
export function describeOffer(offer: Offer): string {
  if (offer.kind === 'percent_off') return `${offer.percent}% off`;
  if (offer.kind === 'amount_off')
    return `$${(offer.amountCents / 100).toFixed(offer.amountCents % 100 === 0 ? 0 : 2)} off`;
  return offer.label;
}

// Crockford base32: no I, L, O, U, so a code read over the phone is not misheard.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_RANDOM_BYTES = 10;

/** "K7M2-Q9XP-2D4T-8HVA": 16 characters of Crockford base32 from 10 random bytes (80 bits). */
export function incentiveCode(random: Uint8Array): string {
  if (random.length < CODE_RANDOM_BYTES) throw new RangeError(`need ${CODE_RANDOM_BYTES} random bytes`);
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const byte of random.subarray(0, CODE_RANDOM_BYTES)) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  return out.match(/.{4}/g)!.join('-');
}

/** What staff type in: any case, spaces or dashes anywhere, I/L → 1 and O → 0. */
export function normalizeCode(input: string): string {
  const raw = input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  return raw.length === 16 ? raw.match(/.{4}/g)!.join('-') : raw;
}
