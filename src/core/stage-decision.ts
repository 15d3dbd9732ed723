/**
 * The one decision of what happens to a due stage: sent now, deferred (until when), suppressed
 * (why) or handed to staff (why). Delivery, the preview, the simulator and the workflow all ask
 * this module, so the rules below exist once and the differential test can hold them to it.
 *
 * Rules, in the order they apply:
 *   1. a staff stage escalates (`no_response` after a marketing touch, else `no_touch_delivered`);
 *   2. a held-out client gets care touches only (`holdout`);
 *   3. a send-time variant waits for its clock on the stage's day, while the stage is still worth sending;
 *   4. the channel: the stage's own when usable, else the other one when the clinic falls back and
 *      has a template for it; with neither usable a marketing stage goes to staff
 *      (`no_usable_channel`), a care touch is suppressed (it never hands a client to staff);
 *   5. the send window in the client's zone (a closed window defers, never suppresses);
 *   6. the frequency caps (care exempt unless the clinic counts it): deferred to the next opening
 *      after the cap allows, suppressed (`capped`) when that is past the stage's expiry.
 * Pure: instants are epoch milliseconds, the caller gathers the facts (ledger, flags, config).
 */
import { type CapRule, checkCaps, type SendRecord } from './caps.js';
import { type Arm, holdoutSuppresses } from './holdout.js';
import {
  type ChannelBlock,
  type ChannelFacts,
  capsApply,
  channelBlock,
  type MessageCategory,
  messageCategory,
} from './message-category.js';
import { stageChannel } from './message-content.js';
import { nextOpening, type SendWindow } from './send-window.js';
import type { Channel, StageDefinition } from './types.js';
import { type StageVariant, variantChannel, variantSendAt } from './variants.js';

/** Why a channel cannot carry a stage: the category's block, or a number that fails validation. */
export type Unusable = ChannelBlock | 'invalid_number';

/** Why a staff task is created. */
export type EscalationReason = 'no_response' | 'no_touch_delivered' | 'no_usable_channel' | 'appointment_change';

/** Why a stage waits: the send window, a cap, or a send-time variant's clock (not a hold). */
export type DeferReason = 'send_window' | 'capped' | 'variant_send_time';

export type StageDecision =
  | { kind: 'send'; at: number; channel: Channel; fallback: boolean }
  | { kind: 'defer'; until: number; reason: DeferReason; channel?: Channel; rule?: CapRule }
  /** A capped stage says which rule held it and when that rule would have let it out (`allowedAt`). */
  | { kind: 'suppress'; reason: string; channel?: Channel; rule?: CapRule; allowedAt?: number }
  | { kind: 'escalate'; reason: EscalationReason };

/** What the decision needs of the clinic (a subset of the simulator's and the preview's clinic). */
export interface DecisionClinic {
  /** The clinic's zone: plans and send-time variants are timed in it. */
  timeZone: string;
  sendWindow: SendWindow;
  capRules: CapRule[];
  fallback: { sms: 'email' | 'none'; email: 'sms' | 'none' };
  capsIncludeCare: boolean;
}

/** One channel's facts; `validNumber: false` for a phone that fails validation (SMS only). */
export type ChannelState = ChannelFacts & { validNumber?: boolean };

export interface StageDecisionInput {
  /** The due instant as ISO text (`dueAt`) or epoch ms (`dueAtMs`: the simulator's hot loop, no Date/ISO round trip). */
  stage: Pick<StageDefinition, 'channel' | 'purpose'> &
    ({ dueAt: string; dueAtMs?: undefined } | { dueAtMs: number; dueAt?: undefined });
  nowMs: number;
  /** From this instant on the stage is not worth sending (the next stage's due instant, or the window's end). */
  expiresAtMs: number;
  clinic: DecisionClinic;
  /** The zone the send window is applied in: the client's when known, else the clinic's. */
  sendTimeZone: string;
  channels: Record<Channel, ChannelState>;
  /** Whether the clinic has a template for this stage on a channel (a fallback needs one). */
  hasTemplate: (channel: Channel) => boolean;
  arm?: Arm | null;
  variant?: StageVariant | null;
  /** A channel a previous attempt of this stage was on (a provider retry): kept while usable. */
  retryChannel?: Channel;
  /**
   * The client's earlier sends the caps count (category already filtered by the caller). Left out,
   * the caps are not checked: delivery checks them again under the client's row lock.
   */
  sends?: SendRecord[];
  /** Staff stages: whether a marketing touch of this cycle went out (care touches do not count). */
  marketingTouchDelivered?: boolean;
}

/** Why each channel cannot carry a message of `category`, or null where it can. */
export function unusableChannels(
  category: MessageCategory,
  channels: Record<Channel, ChannelState>,
): Record<Channel, Unusable | null> {
  const sms: Unusable | null =
    channelBlock(category, channels.sms) ?? (channels.sms.validNumber === false ? 'invalid_number' : null);
  return { sms, email: channelBlock(category, channels.email) };
}

/** The staff task's reason at the staff stage: touches went out (`no_response`) or none did. */
export function staffEscalationReason(marketingTouchDelivered: boolean): EscalationReason {
  return marketingTouchDelivered ? 'no_response' : 'no_touch_delivered';
}

/**
 * Whether a booking (or a "not now" reply, or a watched appointment) stops this stage: marketing
 * stops, a care touch goes out whatever the booking (only a newer treatment or an end stop it).
 * The same fact says whether the booking platform is re-checked right before the send.
 */
export function bookingStopsStage(stage: Pick<StageDefinition, 'purpose'>): boolean {
  return messageCategory(stage) === 'marketing';
}

/**
 * Whether a stage that found no usable channel hands the client to staff: a marketing stage does,
 * unless the staff stage is long past (the win-back phase: the touches left are suppressed too).
 */
export function noChannelEscalates(stage: Pick<StageDefinition, 'purpose'>, winbackPhase: boolean): boolean {
  return bookingStopsStage(stage) && !winbackPhase;
}

/** A cancelled booking not replaced within this long puts the client back into follow-up (plans without the clinic's setting). */
export const CANCEL_REBOOK_GRACE_MS = 2 * 86_400_000;
/** A booked start this long past with neither completion nor cancellation is checked as a no-show. */
export const NO_SHOW_INFER_AFTER_MS = 86_400_000;
/** How long a sequence waits for a booking after the snooze's reactivation touch before calling it churned. */
export const REACTIVATION_GRACE_MS = 30 * 86_400_000;

/** When a lapsed booking puts the client back into follow-up: a no-show at once, a cancellation after the grace to rebook. */
export function followUpResumesAt(
  lapse: { kind: 'cancelled' | 'no_show'; atMs: number },
  cancelRebookGraceMs: number = CANCEL_REBOOK_GRACE_MS,
): number {
  return lapse.atMs + (lapse.kind === 'cancelled' ? cancelRebookGraceMs : 0);
}

/** When a watched booking the platform said nothing more about is checked (completed, cancelled or missed). */
export function visitCheckAt(startAtMs: number): number {
  return startAtMs + NO_SHOW_INFER_AFTER_MS;
}

/** The decision for `input.stage` at `input.nowMs` (see the rules at the top of this file). */
export function decideStage(input: StageDecisionInput): StageDecision {
  const { stage, nowMs, clinic } = input;
  const category = messageCategory(stage);
  if (holdoutSuppresses(input.arm, category)) return { kind: 'suppress', reason: 'holdout' };
  if (stage.channel === 'staff')
    return { kind: 'escalate', reason: staffEscalationReason(!!input.marketingTouchDelivered) };

  const variant = input.variant ?? null;
  const dueMs = stage.dueAtMs ?? Date.parse(stage.dueAt!);
  const sendAt = variantSendAt(dueMs, variant, clinic.timeZone);
  if (sendAt > nowMs && sendAt < input.expiresAtMs)
    return { kind: 'defer', until: sendAt, reason: 'variant_send_time' };

  const unusable = unusableChannels(category, input.channels);
  const preferred = variantChannel(stage.channel, variant);
  const channel =
    input.retryChannel && !unusable[input.retryChannel]
      ? input.retryChannel
      : stageChannel(preferred, unusable, clinic.fallback, input.hasTemplate);
  if (!channel) {
    if (unusable.sms && unusable.email)
      return category === 'marketing'
        ? { kind: 'escalate', reason: 'no_usable_channel' }
        : { kind: 'suppress', reason: 'no_usable_channel' };
    return { kind: 'suppress', reason: `${preferred}_${unusable[preferred]}` };
  }

  const opening = nextOpening(nowMs, clinic.sendWindow, input.sendTimeZone);
  if (!Number.isFinite(opening)) return { kind: 'suppress', reason: 'send_window_never_opens', channel };
  if (opening > nowMs) return { kind: 'defer', until: opening, reason: 'send_window', channel };

  if (input.sends && capsApply(category, clinic.capsIncludeCare)) {
    const caps = checkCaps(clinic.capRules, input.sends, channel, nowMs);
    if (!caps.allowed) {
      const at = nextOpening(caps.allowedAt, clinic.sendWindow, input.sendTimeZone);
      return at < input.expiresAtMs
        ? { kind: 'defer', until: at, reason: 'capped', channel, rule: caps.rule }
        : { kind: 'suppress', reason: 'capped', channel, rule: caps.rule, allowedAt: at };
    }
  }
  return { kind: 'send', at: nowMs, channel, fallback: channel !== preferred };
}
