/**
 * What the simulator needs to know about a clinic, taken from the loaded configuration through
 * the same helpers the activities use (caps, send window, incentive tiers, classification).
 */

import { holdoutShareFor } from '../config/lift.js';
import { classificationRulesFor, clinicOrThrow, type LoadedConfig, treatmentTypesFor } from '../config/load.js';
import { capRulesFor, incentiveTiersFor, sendWindowFor } from '../config/messaging.js';
import { stageVariantsFor } from '../config/variants.js';
import type { CapRule } from '../core/caps.js';
import type { ClassificationRules } from '../core/classify.js';
import type { IncentiveTier, Offer } from '../core/incentives.js';
import type { SendWindow } from '../core/send-window.js';
import type { Channel, TreatmentTypeDefinition } from '../core/types.js';
import type { StageVariant } from '../core/variants.js';

/** The clinic as the simulation engine sees it (plain data: tests build it by hand too). */
export interface SimulationClinic {
  id: string;
  timeZone: string;
  sendTime: string;
  types: Map<string, TreatmentTypeDefinition>;
  classification: ClassificationRules;
  /** Effective rules, the state-law rule included. */
  capRules: CapRule[];
  sendWindow: SendWindow;
  /** Where a stage goes when its own channel cannot be used. */
  fallback: { sms: 'email' | 'none'; email: 'sms' | 'none' };
  /** Template key (stage key or purpose) → client channels the clinic has a template for (a fallback needs one). */
  templateChannels: Record<string, Channel[]>;
  /** Consent assumed when the history does not say. */
  assumedConsent: { sms: boolean; email: boolean };
  /** Region for phone numbers written without a country code. */
  defaultCountry: string;
  incentives: { tiers: IncentiveTier[]; unknown: Offer };
  /** Care touches count toward (and are held by) the caps only when the clinic says so. */
  capsIncludeCare: boolean;
  /** Stage variants by stage key or purpose (issue 13 §2). */
  variants: Record<string, StageVariant[]>;
  /** The clinic's holdout share per treatment type (issue 13 §1; `--holdout` replaces it). */
  holdoutShare: (treatmentType: string) => number;
}

export function simulationClinic(config: LoadedConfig, clinicId: string): SimulationClinic {
  const clinic = clinicOrThrow(config, clinicId);
  return {
    id: clinic.id,
    timeZone: clinic.timeZone,
    sendTime: clinic.sendTime,
    types: treatmentTypesFor(config, clinic),
    classification: classificationRulesFor(config, clinic),
    capRules: capRulesFor(clinic),
    sendWindow: sendWindowFor(clinic),
    fallback: clinic.fallback,
    templateChannels: Object.fromEntries(
      Object.entries(clinic.templates).map(([purpose, byChannel]) => [
        purpose,
        (['email', 'sms'] as const).filter((c) => !!byChannel[c]),
      ]),
    ),
    assumedConsent: clinic.connector?.assumedConsent ?? { sms: false, email: true },
    defaultCountry: clinic.defaultCountry,
    incentives: incentiveTiersFor(clinic),
    capsIncludeCare: clinic.capsIncludeCare,
    variants: stageVariantsFor(clinic),
    holdoutShare: (t) => holdoutShareFor(clinic, t),
  };
}
