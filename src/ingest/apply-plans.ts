/** Applying memberships and packages (client.membership): the plan's state, benefits by treatment type. */
import { and, eq } from 'drizzle-orm';
import { classificationRulesFor, clinicOrThrow } from '../config/load.js';
import { classifyService } from '../core/classify.js';
import { clientPlans, type PlanBenefit } from '../db/schema.js';
import { type AppliedBody, type ApplyContext, fresher } from './apply-context.js';
import type { ClientMembership } from './events.js';

/**
 * A benefit naming the platform's service is classified like a completed treatment's service (a
 * staff mapping by id, else the synonyms); one that matches no treatment type cannot change any
 * offer and is dropped. Neither service nor type: the benefit covers every treatment.
 */
function benefitsOf(ctx: ApplyContext, clinicId: string, e: ClientMembership): PlanBenefit[] {
  const cfg = ctx.config.current();
  const rules = classificationRulesFor(cfg, clinicOrThrow(cfg, clinicId));
  return e.plan.benefits.flatMap((b) => {
    const cls = b.service ? classifyService(b.service, rules) : undefined;
    if (cls && !cls.matched) return [];
    const treatmentType = b.treatmentType ?? (cls?.matched ? cls.treatmentType : null);
    return [
      {
        treatmentType,
        ...(b.percentOff !== undefined ? { percentOff: b.percentOff } : {}),
        ...(b.creditsLeft !== undefined ? { creditsLeft: b.creditsLeft } : {}),
      },
    ];
  });
}

export async function applyMembership(ctx: ApplyContext, clinicId: string, e: ClientMembership): Promise<AppliedBody> {
  const at = e.occurredAt ? new Date(e.occurredAt) : undefined;
  const values = {
    kind: e.plan.kind,
    name: e.plan.name,
    status: e.plan.status,
    renewsAt: e.plan.renewsAt ? new Date(e.plan.renewsAt) : null,
    endsAt: e.plan.endsAt ? new Date(e.plan.endsAt) : null,
    benefits: benefitsOf(ctx, clinicId, e),
    sourceUpdatedAt: at ?? null,
    updatedAt: new Date(ctx.now()),
  };
  const rows = await ctx.db
    .insert(clientPlans)
    .values({ clinicId, clientExternalId: e.clientId, planId: e.plan.id, ...values })
    .onConflictDoUpdate({
      target: [clientPlans.clinicId, clientPlans.clientExternalId, clientPlans.planId],
      set: values,
      setWhere: fresher(clientPlans.sourceUpdatedAt, at),
    })
    .returning({ planId: clientPlans.planId });
  return rows.length ? { status: 'accepted', plansUpdated: 1 } : { status: 'accepted', plansUpdated: 0, stale: true };
}

/** A merged profile's plans follow it to the kept profile (a plan the kept one has already stays). */
export async function movePlans(ctx: ApplyContext, clinicId: string, kept: string, removed: string): Promise<void> {
  const keptPlans = await ctx.db
    .select({ planId: clientPlans.planId })
    .from(clientPlans)
    .where(and(eq(clientPlans.clinicId, clinicId), eq(clientPlans.clientExternalId, kept)));
  const have = new Set(keptPlans.map((p) => p.planId));
  const moving = await ctx.db
    .select({ planId: clientPlans.planId })
    .from(clientPlans)
    .where(and(eq(clientPlans.clinicId, clinicId), eq(clientPlans.clientExternalId, removed)));
  for (const p of moving.filter((m) => !have.has(m.planId)))
    await ctx.db
      .update(clientPlans)
      .set({ clientExternalId: kept })
      .where(
        and(
          eq(clientPlans.clinicId, clinicId),
          eq(clientPlans.clientExternalId, removed),
          eq(clientPlans.planId, p.planId),
        ),
      );
}
