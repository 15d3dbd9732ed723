/** The holdout arm of a newly enrolled client: the keyed hash of src/core/holdout.ts, computed here (node:crypto). */
import { createHmac } from 'node:crypto';
import { holdoutShareFor } from '../config/lift.js';
import type { ClinicConfig } from '../config/schema.js';
import { type Arm, armForDraw, drawFromDigest, holdoutMessage } from '../core/holdout.js';
import { RebookError } from '../errors.js';

/** Env var of the install's holdout key; the unsubscribe secret (required on every process) when unset. */
export const HOLDOUT_SECRET_ENV = 'REBOOK_HOLDOUT_SECRET';

/** The client's draw in [0, 1): HMAC-SHA256 keyed with the install secret, so nobody can pick the arm. */
export function holdoutDraw(secret: string, clinicId: string, clientId: string): number {
  return drawFromDigest(createHmac('sha256', secret).update(holdoutMessage(clinicId, clientId)).digest());
}

/** The arm of a client enrolling in a sequence of `treatmentType` at `clinic`. */
export function assignArm(
  secret: string | undefined,
  clinic: Pick<ClinicConfig, 'id' | 'lift'>,
  treatmentType: string,
  clientId: string,
): Arm {
  const share = holdoutShareFor(clinic, treatmentType);
  if (share <= 0) return 'treated';
  if (!secret)
    throw new RebookError(
      'config_invalid',
      `a holdout is configured but ${HOLDOUT_SECRET_ENV} (or REBOOK_UNSUBSCRIBE_SECRET) is not set`,
      { field: 'lift.holdout' },
    );
  return armForDraw(holdoutDraw(secret, clinic.id, clientId), share);
}
