/**
 * What the simulator needs to know about a clinic, taken from the loaded configuration through
 * the same helpers the activities use (caps, send window, incentive tiers, classification).
 */
import { classificationRulesFor, clinicOrThrow, type LoadedConfig, treatmentTypesFor } from '../config/load.js';
import { capRulesFor, incentiveTiersFor, sendWindowFor } from '../config/messaging.js';
import type { CapRule } from '../core/caps.js';
import type { ClassificationRules } from '../core/classify.js';
import type { IncentiveTier, Offer } from '../core/incentives.js';
import type { SendWindow } from '../core/send-window.js';
import type { Channel, TreatmentTypeDefinition } from '../core/types.js';

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
  /** Stage purpose → client channels the clinic has a template for (a fallback needs one). */
  templateChannels: Record<string, Channel[]>;
  /** Consent assumed when the history does not say. */
  assumedConsent: { sms: boolean; email: boolean };
  /** Region for phone numbers written without a country code. */
  defaultCountry: string;
  incentives: { tiers: IncentiveTier[]; unknown: Offer };
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
  };
}
