/**
 * Stage variants (issue 13 §2): a stage may go out in two or more versions — wording, channel,
 * send time or offer — with weights, so a clinic can learn which works. The one place the rule is
 * decided, pure, for delivery and preview to share:
 *   - which variant a client gets for a stage: a keyed hash of clinic, client and stage (the HMAC
 *     is computed by the caller, which holds the secret and node:crypto), so a retry, a restart or
 *     a reload of the same configuration gives the same variant, and nobody can pick theirs;
 *   - what the variant changes in the stage: its channel, template, send time and offer.
 * The draw is independent of the holdout's (another message is hashed), so a stage's variants
 * split the treated clients in their weights whatever the holdout share.
 */

import { drawFromDigest } from './holdout.js';
import { MAX_PERCENT_OFF, type Offer } from './incentives.js';
import { templateKeys } from './message-category.js';
import type { Channel, StageDefinition } from './types.js';
import { fromLocal, localDate, parseClock } from './zoned-time.js';

export interface VariantTemplate {
  subject?: string;
  body?: string;
  templateId?: string;
}

/** One version of a stage, as the clinic configures it (dollars already turned into an Offer). */
export interface StageVariant {
  /** Recorded on the ledger row and reported: lowercase slug. */
  name: string;
  /** Relative weight (> 0): a variant's share is its weight over the stage's total. */
  weight: number;
  /** Send on this channel instead of the stage's own. */
  channel?: Channel;
  /** Clinic-local "HH:MM" on the stage's day, at or after the clinic's send time. */
  sendTime?: string;
  /** The incentive offered instead of the price tier's (capped at 20 % like every offer). */
  offer?: Offer;
  /** Wording per channel instead of the clinic's template for the stage. */
  templates?: Partial<Record<Channel, VariantTemplate>>;
}

/** The message an HMAC is taken of: one client of one clinic at one stage (never a name or a phone). */
export function variantMessage(clinicId: string, clientId: string, stageKey: string): string {
  return `rebook-variant|${clinicId}|${clientId}|${stageKey}`;
}

/**
 * The variant of a draw in [0, 1): variants in their configured order, each taking a slice of
 * [0, 1) as wide as its share. Changing a later variant's weight moves only clients at the edges.
 */
export function chooseVariant<V extends { weight: number }>(variants: readonly V[], draw: number): V {
  if (variants.length === 0) throw new RangeError('no variants to choose from');
  const total = variants.reduce((s, v) => s + v.weight, 0);
  if (!(total > 0)) throw new RangeError('variant weights must sum to more than 0');
  let edge = 0;
  for (const v of variants) {
    edge += v.weight / total;
    if (draw < edge) return v;
  }
  return variants[variants.length - 1]!; // draw ≈ 1 after rounding of the edges
}

/** The variants configured for a stage: by its key first, then its purpose (as templates are found). */
export function stageVariants<V>(
  config: Record<string, readonly V[] | undefined> | undefined,
  stage: Pick<StageDefinition, 'key' | 'purpose'>,
): readonly V[] {
  if (!config) return [];
  for (const k of templateKeys(stage)) {
    const list = config[k];
    if (list && list.length > 0) return list;
  }
  return [];
}

/**
 * The variant a client gets at a stage, or null when the stage has fewer than two variants (a
 * single "variant" is just the stage). `hmac` returns the keyed digest of a message.
 */
export function assignVariant<V extends StageVariant>(
  config: Record<string, readonly V[] | undefined> | undefined,
  stage: Pick<StageDefinition, 'key' | 'purpose'>,
  ids: { clinicId: string; clientId: string },
  hmac: (message: string) => Uint8Array,
): V | null {
  const variants = stageVariants(config, stage);
  if (variants.length < 2) return null;
  return chooseVariant(variants, drawFromDigest(hmac(variantMessage(ids.clinicId, ids.clientId, stage.key))));
}

/** The stage's preferred channel under a variant (staff stages have no variants). */
export function variantChannel(stageChannel: Channel, variant: StageVariant | null): Channel {
  return variant?.channel ?? stageChannel;
}

/** The template for a channel: the variant's own wording when it has one, else the clinic's. */
export function variantTemplate<T extends VariantTemplate>(
  variant: StageVariant | null,
  channel: Channel,
  clinicTemplate: T | undefined,
): VariantTemplate | T | undefined {
  return variant?.templates?.[channel] ?? clinicTemplate;
}

/**
 * When a stage with a send-time variant may go out: the variant's clock on the stage's local day
 * (in the clinic's zone, as the plan was made), or the due instant when that is later. The
 * workflow calls delivery at the due instant; delivery defers to this instant.
 */
export function variantSendAt(dueAtMs: number, variant: StageVariant | null, timeZone: string): number {
  if (!variant?.sendTime) return dueAtMs;
  const at = fromLocal({ ...localDate(dueAtMs, timeZone), ...parseClock(variant.sendTime) }, timeZone);
  return Math.max(at, dueAtMs);
}

/**
 * A variant's offer under the ceiling: a percentage above 20 is cut to 20, an amount to 20 % of the
 * treatment's price when known (configuration refuses a percentage above 20 already).
 */
export function variantOffer(offer: Offer, priceCents: number | null | undefined): Offer {
  if (offer.kind === 'percent_off') return { kind: 'percent_off', percent: Math.min(offer.percent, MAX_PERCENT_OFF) };
  if (offer.kind === 'amount_off' && priceCents != null)
    return {
      kind: 'amount_off',
      amountCents: Math.min(offer.amountCents, Math.floor((priceCents * MAX_PERCENT_OFF) / 100)),
    };
  return offer;
}
