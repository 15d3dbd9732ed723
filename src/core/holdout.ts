/**
 * The holdout (issue 13): a configurable share of newly enrolled clients gets no marketing touch
 * and no staff escalation, so the clinic can compare their rebook rate with the treated clients'
 * and see what the program itself caused. Care touches (clinical check-ins) still go out: holding
 * back aftercare to measure marketing would harm the client.
 *
 * Assignment is a keyed hash of clinic and client (HMAC-SHA256 computed by the caller, which has
 * the secret and node:crypto): the same client lands in the same arm in every sequence, after a
 * restart, a continue-as-new or a config reload. A draw is a number in [0, 1); a client is held
 * out when it is below the share, so raising the share from 10% to 20% keeps every client held out
 * at 10% held out (the arms nest).
 */

import type { MessageCategory } from './message-category.js';

export const ARMS = ['treated', 'holdout'] as const;
export type Arm = (typeof ARMS)[number];

/** Whether a stage is part of the marketing program or clinical care (care goes to everyone). */
export type StageCategory = MessageCategory;

/** The message an HMAC is taken of: one client of one clinic (never a name or a phone). */
export function holdoutMessage(clinicId: string, clientId: string): string {
  return `rebook-holdout|${clinicId}|${clientId}`;
}

/** A uniform draw in [0, 1) from the first 48 bits of a digest (exact in a double). */
export function drawFromDigest(digest: Uint8Array): number {
  if (digest.length < 6) throw new Error('digest too short for a holdout draw');
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 256 + digest[i]!;
  return v / 2 ** 48;
}

/** The arm of a draw under a holdout share (0 ≤ share < 1). */
export function armForDraw(draw: number, share: number): Arm {
  return draw < share ? 'holdout' : 'treated';
}

/**
 * The one rule of what a held-out client receives: care stages only. A stage without a category
 * counts as marketing (every stage was marketing before categories existed). Staff escalations
 * are marketing too: a front-desk call is the program's strongest touch.
 */
export function holdoutSuppresses(arm: Arm | null | undefined, category: StageCategory = 'marketing'): boolean {
  return arm === 'holdout' && category !== 'care';
}
