/** Applying canonical events: each kind to its module, client ids of merged profiles rewritten first. */
import { applyBooked, applyLapsed } from './apply-appointments.js';
import { applyClientUpdate, applyMerge, canonicalClientId } from './apply-clients.js';
import type { AppliedBody, ApplyContext } from './apply-context.js';
import { applyMembership } from './apply-plans.js';
import { applyTreatment } from './apply-treatments.js';
import type { CanonicalEvent, TreatmentCompleted } from './events.js';

/** Applies one canonical event to our database and the client's sequences. */
export async function apply(
  ctx: ApplyContext,
  clinicId: string,
  event: CanonicalEvent,
  source: string,
): Promise<AppliedBody> {
  // A treatment looks up the kept profile together with its service mapping (treatmentLookups).
  if (event.type === 'treatment.completed') return applyTreatment(ctx, clinicId, event, source);
  const e = await withCanonicalClient(ctx, clinicId, event);
  const at = e.occurredAt ? { sourceUpdatedAt: new Date(e.occurredAt) } : {};
  switch (e.type) {
    case 'client.updated':
      return applyClientUpdate(ctx, clinicId, e, source);
    case 'client.merged':
      return applyMerge(ctx, clinicId, e.keptClientId, e.removedClientId);
    case 'appointment.booked':
      return applyBooked(ctx, clinicId, e);
    case 'appointment.cancelled':
      return applyLapsed(ctx, clinicId, e, at);
    case 'appointment.no_show':
      return applyLapsed(ctx, clinicId, e, at);
    case 'client.membership':
      return applyMembership(ctx, clinicId, e);
  }
}

/** Rewrites client ids of merged profiles to the kept profile's id. */
async function withCanonicalClient<E extends Exclude<CanonicalEvent, TreatmentCompleted>>(
  ctx: ApplyContext,
  clinicId: string,
  e: E,
): Promise<E> {
  switch (e.type) {
    case 'client.updated': {
      const id = await canonicalClientId(ctx, clinicId, e.client.id);
      return id === e.client.id ? e : { ...e, client: { ...e.client, id } };
    }
    case 'appointment.booked':
    case 'appointment.cancelled':
    case 'appointment.no_show':
    case 'client.membership': {
      const id = await canonicalClientId(ctx, clinicId, e.clientId);
      return id === e.clientId ? e : { ...e, clientId: id };
    }
    case 'client.merged':
      return e;
  }
}
