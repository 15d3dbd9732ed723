/**
 * Message categories: a care touch (a clinical check-in, post-care tips, a results message) is
 * not marketing. It goes out even when the client has already booked, never carries an offer,
 * needs a usable channel and no opt-out rather than marketing consent, and does not count toward
 * the clinic's frequency caps unless its rules say so. Decided here only; the workflow, delivery,
 * preview, the simulator and config validation all ask these functions.
 */
import type { StageDefinition } from './types.js';

export type MessageCategory = 'care' | 'marketing';
export const MESSAGE_CATEGORIES = ['care', 'marketing'] as const;

/** The category of a stage: its purpose says it (`care`), everything else is marketing. */
export function messageCategory(stage: Pick<StageDefinition, 'purpose'>): MessageCategory {
  return stage.purpose === 'care' ? 'care' : 'marketing';
}

/** True for care touches (exported for holdout groups, reports and the preview). */
export function isCareTouch(stage: Pick<StageDefinition, 'purpose'>): boolean {
  return messageCategory(stage) === 'care';
}

/** What we know of one channel of one client, before deciding whether a message may use it. */
export interface ChannelFacts {
  hasAddress: boolean;
  /** Marketing consent from the platform (or the clinic's assumed consent). */
  consented: boolean;
  optedOut: boolean;
  undeliverable: boolean;
}

export type ChannelBlock = 'no_address' | 'no_consent' | 'opted_out' | 'undeliverable';

/**
 * Why a channel cannot carry a message of `category`, or null when it can. A care touch skips
 * only the marketing-consent check: STOP (opt-out) and undeliverable addresses apply to it too.
 */
export function channelBlock(category: MessageCategory, f: ChannelFacts): ChannelBlock | null {
  if (!f.hasAddress) return 'no_address';
  if (category === 'marketing' && !f.consented) return 'no_consent';
  if (f.optedOut) return 'opted_out';
  if (f.undeliverable) return 'undeliverable';
  return null;
}

/**
 * Whether a message of `category` is checked against the clinic's caps, and which earlier sends
 * count: care is exempt (and not counted) unless the clinic's `capsIncludeCare` says so.
 */
export function capsApply(category: MessageCategory, capsIncludeCare: boolean): boolean {
  return category === 'marketing' || capsIncludeCare;
}

/** The earlier sends a cap check counts: marketing only, unless care counts too. */
export function countedCategories(capsIncludeCare: boolean): MessageCategory[] {
  return capsIncludeCare ? ['care', 'marketing'] : ['marketing'];
}

/** Template tokens a care template must not use: a care touch never carries an offer. */
export const OFFER_TOKENS = ['incentive', 'expiresOn'] as const;

/**
 * Template lookup order for a stage: its own key first (per-family care wording, cancel vs
 * no-show recovery wording, the snooze touch), then its purpose (every clinic's existing templates).
 */
export function templateKeys(stage: Pick<StageDefinition, 'key' | 'purpose'>): string[] {
  const keys = stage.key === stage.purpose ? [stage.key] : [stage.key, stage.purpose];
  // A clinic written before win-back touches existed has a reactivation template (the snooze
  // touch needed one): its win-back touches use that wording rather than failing to send.
  return stage.purpose === 'winback' ? [...keys, 'reactivation'] : keys;
}

/** The template of `stage` on `channel` from a clinic's templates (by key, then purpose). */
export function stageTemplate<T>(
  templates: Record<string, Partial<Record<string, T>> | undefined>,
  stage: Pick<StageDefinition, 'key' | 'purpose'>,
  channel: string,
): T | undefined {
  for (const k of templateKeys(stage)) {
    const t = templates[k]?.[channel];
    if (t) return t;
  }
  return undefined;
}
