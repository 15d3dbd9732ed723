/**
 * What the preview needs to know about a clinic: the simulator's view (types, classification,
 * caps, send window, fallback, incentive tiers — built through the same config helpers the
 * activities use) plus what a message shows (name, links, address, discreet wording, templates).
 */
import { clinicOrThrow, type LoadedConfig } from '../config/load.js';
import { emailHidesTreatment, loyaltyTiersFor } from '../config/messaging.js';
import type { ClinicConfig } from '../config/schema.js';
import { stageVariantsFor } from '../config/variants.js';
import type { LoyaltyTier } from '../core/offers.js';
import type { StageVariant } from '../core/variants.js';
import { type SimulationClinic, simulationClinic } from '../simulator/clinic.js';

export interface PreviewClinic extends SimulationClinic {
  name: string;
  bookingUrl: string;
  address: string;
  discreet: boolean;
  /** Emails name no treatment (SendGrid signs no BAA) unless the clinic accepts it. */
  emailHidesTreatment: boolean;
  /** Stage purpose → channel → template (an email may name a SendGrid dynamic template instead of a body). */
  templates: ClinicConfig['templates'];
  /** Stage variants by stage key or purpose (issue 13 §2). */
  variants: Record<string, StageVariant[]>;
  /** Base of the one-click unsubscribe link in emails. */
  publicBaseUrl?: string;
  /** Care touches count toward (and are held by) the caps only when the clinic says so. */
  capsIncludeCare: boolean;
  /** The clinic's loyalty tiers, best first (core/offers.ts). */
  loyaltyTiers: LoyaltyTier[];
}

export function previewClinic(config: LoadedConfig, clinicId: string): PreviewClinic {
  const clinic = clinicOrThrow(config, clinicId);
  return {
    ...simulationClinic(config, clinicId),
    name: clinic.name,
    bookingUrl: clinic.bookingUrl,
    address: clinic.address,
    discreet: clinic.discreet,
    emailHidesTreatment: emailHidesTreatment(clinic),
    templates: clinic.templates,
    capsIncludeCare: clinic.capsIncludeCare,
    loyaltyTiers: loyaltyTiersFor(clinic),
    variants: stageVariantsFor(clinic),
    ...(clinic.publicBaseUrl ? { publicBaseUrl: clinic.publicBaseUrl } : {}),
  };
}
