/**
 * Front-desk work: claim and resolve staff tasks (resolving signals the client's sequences),
 * and look up / redeem incentive codes at the point of sale.
 */
import type { FastifyInstance } from 'fastify';
import { and, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { normalizeCode } from '../../core/incentives.js';
import { incentives, sequences, staffTasks } from '../../db/schema.js';
import { RebookError } from '../../errors.js';
import { parseOr400 } from '../validate.js';

const claimBody = z.strictObject({ by: z.string().trim().min(1).max(100) });
const resolveBody = z.strictObject({ outcome: z.enum(['booked', 'not_interested', 'call_back']), by: z.string().trim().min(1).max(100).optional() });
const redeemBody = z.strictObject({ ref: z.string().trim().min(1).max(200).optional() });

export async function registerStaffWorkRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.deps;
  const now = () => new Date(app.deps.now ? app.deps.now() : Date.now());

  async function taskOf(clinicId: string, taskId: string) {
    if (!/^[0-9a-f-]{36}$/i.test(taskId)) throw new RebookError('not_found', 'unknown task', { field: 'taskId' });
    const [t] = await db.select().from(staffTasks).where(and(eq(staffTasks.id, taskId), eq(staffTasks.clinicId, clinicId)));
    if (!t) throw new RebookError('not_found', 'unknown task', { field: 'taskId' });
    return t;
  }

  app.post('/v1/clinics/:clinicId/tasks/:taskId/claim', async (req) => {
    const clinic = app.clinicFor(req);
    const body = parseOr400(claimBody, req.body, 'body');
    const t = await taskOf(clinic.id, (req.params as { taskId: string }).taskId);
    if (t.status === 'resolved') throw new RebookError('conflict', 'task already resolved');
    if (t.status === 'claimed' && t.claimedBy !== body.by) throw new RebookError('conflict', 'task claimed by someone else');
    await db.update(staffTasks).set({ status: 'claimed', claimedBy: body.by, claimedAt: now() }).where(eq(staffTasks.id, t.id));
    return { id: t.id, status: 'claimed', claimedBy: body.by };
  });

  app.post('/v1/clinics/:clinicId/tasks/:taskId/resolve', async (req) => {
    const clinic = app.clinicFor(req);
    const body = parseOr400(resolveBody, req.body, 'body');
    const t = await taskOf(clinic.id, (req.params as { taskId: string }).taskId);
    if (t.status === 'resolved') {
      if (t.outcome === body.outcome) return { id: t.id, status: 'resolved', outcome: t.outcome, sequencesSignalled: 0 };
      throw new RebookError('conflict', 'task already resolved with another outcome');
    }
    const updated = await db
      .update(staffTasks)
      .set({ status: 'resolved', outcome: body.outcome, resolvedAt: now(), ...(body.by ? { claimedBy: t.claimedBy ?? body.by } : {}) })
      .where(and(eq(staffTasks.id, t.id), eq(staffTasks.status, t.status)))
      .returning({ id: staffTasks.id });
    if (updated.length === 0) throw new RebookError('conflict', 'task changed concurrently; retry');
    // The outcome reaches every running sequence of the client: one booking ends them all.
    const running = await db.select({ workflowId: sequences.workflowId }).from(sequences).where(and(eq(sequences.clientId, t.clientId), eq(sequences.running, true)));
    const signals = app.deps.signals;
    if (!signals) throw new RebookError('temporal_unavailable', 'cannot reach the sequences');
    let n = 0;
    for (const s of running) {
      const ok =
        body.outcome === 'booked'
          ? await signals.booked(s.workflowId, { appointmentId: `staff-task:${t.id}`, startAt: now().toISOString() })
          : body.outcome === 'not_interested'
            ? await signals.end(s.workflowId, { outcome: 'not_interested' })
            : await signals.snooze(s.workflowId, { reason: 'staff_call_back' });
      if (ok) n++;
    }
    req.log.info({ taskId: t.id, outcome: body.outcome, sequencesSignalled: n }, 'staff task resolved');
    return { id: t.id, status: 'resolved', outcome: body.outcome, sequencesSignalled: n };
  });

  async function incentiveOf(clinicId: string, code: string) {
    const [i] = await db.select().from(incentives).where(and(eq(incentives.clinicId, clinicId), eq(incentives.code, normalizeCode(code))));
    if (!i) throw new RebookError('not_found', 'unknown incentive code', { field: 'code' });
    return i;
  }
  const view = (i: typeof incentives.$inferSelect) => ({ code: i.code, offer: i.offer, description: i.description, expiresAt: i.expiresAt.toISOString(), redeemedAt: i.redeemedAt?.toISOString() ?? null, status: i.redeemedAt ? 'redeemed' : i.expiresAt.getTime() < now().getTime() ? 'expired' : 'valid' });

  app.get('/v1/clinics/:clinicId/incentives/:code', async (req) => {
    const clinic = app.clinicFor(req);
    return view(await incentiveOf(clinic.id, (req.params as { code: string }).code));
  });

  app.post('/v1/clinics/:clinicId/incentives/:code/redeem', async (req) => {
    const clinic = app.clinicFor(req);
    const body = parseOr400(redeemBody, req.body ?? {}, 'body');
    const i = await incentiveOf(clinic.id, (req.params as { code: string }).code);
    if (i.redeemedAt) throw new RebookError('incentive_redeemed', `code already redeemed on ${i.redeemedAt.toISOString().slice(0, 10)}`, { field: 'code' });
    if (i.expiresAt.getTime() < now().getTime()) throw new RebookError('incentive_expired', `code expired on ${i.expiresAt.toISOString().slice(0, 10)}`, { field: 'code' });
    // Single use even under concurrent redemptions: only the update that finds it unredeemed wins.
    const [row] = await db.update(incentives).set({ redeemedAt: now(), redeemedRef: body.ref ?? null }).where(and(eq(incentives.id, i.id), isNull(incentives.redeemedAt))).returning();
    if (!row) throw new RebookError('incentive_redeemed', 'code already redeemed', { field: 'code' });
    return view(row);
  });
}
