/**
 * What the offer rule (core/offers.ts `decideOffer`) needs to know about one client, read from
 * the database: their memberships and packages (client_plans, from `client.membership` events) and
 * their completed visits and spend over the last 12 months (appointments, from ingested
 * treatments). Shared by delivery and preview so both see the same facts.
 */
import { and, eq, gt, lte, sql } from 'drizzle-orm';
import { type ClientHistory, type ClientPlanFacts, planFactsFor } from '../core/offers.js';
import type { Db } from './client.js';
import { appointments, clientPlans } from './schema.js';

/** Loyalty tiers look back this far (issue 14: "visits or spend over the last 12 months"). */
export const LOYALTY_LOOKBACK_MS = 365 * 86_400_000;

export async function clientOfferFacts(
  db: Db,
  q: { clinicId: string; clientExternalId: string; treatmentType: string; nowMs: number },
): Promise<{ facts: ClientPlanFacts; history: ClientHistory }> {
  const plans = await db
    .select({
      name: clientPlans.name,
      status: clientPlans.status,
      endsAt: clientPlans.endsAt,
      benefits: clientPlans.benefits,
    })
    .from(clientPlans)
    .where(and(eq(clientPlans.clinicId, q.clinicId), eq(clientPlans.clientExternalId, q.clientExternalId)));
  const [visits] = await db
    .select({
      visits: sql<number>`count(*)::int`,
      spend: sql<number>`coalesce(sum(${appointments.priceCents}), 0)::bigint`,
    })
    .from(appointments)
    .where(
      and(
        eq(appointments.clinicId, q.clinicId),
        eq(appointments.clientExternalId, q.clientExternalId),
        eq(appointments.status, 'completed'),
        gt(appointments.startAt, new Date(q.nowMs - LOYALTY_LOOKBACK_MS)),
        lte(appointments.startAt, new Date(q.nowMs)),
      ),
    );
  return {
    facts: planFactsFor(
      plans.map((p) => ({ ...p, endsAtMs: p.endsAt?.getTime() ?? null })),
      q.treatmentType,
      q.nowMs,
    ),
    history: { visits12m: Number(visits?.visits ?? 0), spend12mCents: Number(visits?.spend ?? 0) },
  };
}
