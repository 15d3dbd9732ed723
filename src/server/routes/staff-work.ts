/**
 * Front-desk work: claim and resolve staff tasks (resolving signals the client's sequences),
 * and look up / redeem incentive codes at the point of sale.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { normalizeCode } from '../../core/incentives.js';
import { incentives, sequences, staffTasks } from '../../db/schema.js';
import { RebookError } from '../../errors.js';
import { clinicParams, errorResponses, isoTime, v1Doc } from '../openapi.js';

const claimBody = z.strictObject({ by: z.string().trim().min(1).max(100) });
const resolveBody = z.strictObject({
  outcome: z.enum(['booked', 'not_interested', 'call_back']),
  by: z.string().trim().min(1).max(100).optional(),
});
const redeemBody = z.strictObject({ ref: z.string().trim().min(1).max(200).optional() });

const taskParams = clinicParams.extend({ taskId: z.string().min(1).max(100) });
const codeParams = clinicParams.extend({
  code: z.string().min(1).max(100).describe('the code as printed; case, spaces and dashes do not matter'),
});
const incentiveView = z
  .object({
    code: z.string(),
    offer: z.unknown(),
    description: z.string(),
    expiresAt: isoTime,
    redeemedAt: isoTime.nullable(),
    status: z.enum(['valid', 'redeemed', 'expired']),
  })
  .meta({ id: 'Incentive' });
const conflict = {
  409: errorResponses.default.describe('conflicting state (already resolved, claimed by someone else, redeemed)'),
};

export const registerStaffWorkRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps;
  const now = () => new Date(app.deps.now ? app.deps.now() : Date.now());

  async function taskOf(clinicId: string, taskId: string) {
    if (!/^[0-9a-f-]{36}$/i.test(taskId)) throw new RebookError('not_found', 'unknown task', { field: 'taskId' });
    const [t] = await db
      .select()
      .from(staffTasks)
      .where(and(eq(staffTasks.id, taskId), eq(staffTasks.clinicId, clinicId)));
    if (!t) throw new RebookError('not_found', 'unknown task', { field: 'taskId' });
    return t;
  }

  app.post(
    '/v1/clinics/:clinicId/tasks/:taskId/claim',
    {
      config: { role: 'staff' },
      schema: {
        ...v1Doc('tasks', 'Claim a staff task', 'staff'),
        params: taskParams,
        body: claimBody,
        response: {
          200: z.object({ id: z.string(), status: z.literal('claimed'), claimedBy: z.string() }),
          ...conflict,
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const clinic = app.clinicFor(req);
      const body = req.body;
      const t = await taskOf(clinic.id, req.params.taskId);
      if (t.status === 'resolved') throw new RebookError('conflict', 'task already resolved');
      if (t.status === 'claimed' && t.claimedBy !== body.by)
        throw new RebookError('conflict', 'task claimed by someone else');
      await db
        .update(staffTasks)
        .set({ status: 'claimed', claimedBy: body.by, claimedAt: now() })
        .where(eq(staffTasks.id, t.id));
      return { id: t.id, status: 'claimed' as const, claimedBy: body.by };
    },
  );

  app.post(
    '/v1/clinics/:clinicId/tasks/:taskId/resolve',
    {
      config: { role: 'staff' },
      schema: {
        ...v1Doc(
          'tasks',
          'Resolve a staff task; the outcome reaches every running sequence of the client (booked ends them)',
          'staff',
        ),
        params: taskParams,
        body: resolveBody,
        response: {
          200: z.object({
            id: z.string(),
            status: z.literal('resolved'),
            outcome: z.string().nullable(),
            sequencesSignalled: z.number().int(),
          }),
          ...conflict,
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const clinic = app.clinicFor(req);
      const body = req.body;
      const t = await taskOf(clinic.id, req.params.taskId);
      if (t.status === 'resolved') {
        if (t.outcome === body.outcome)
          return { id: t.id, status: 'resolved' as const, outcome: t.outcome, sequencesSignalled: 0 };
        throw new RebookError('conflict', 'task already resolved with another outcome');
      }
      const updated = await db
        .update(staffTasks)
        .set({
          status: 'resolved',
          outcome: body.outcome,
          resolvedAt: now(),
          ...(body.by ? { claimedBy: t.claimedBy ?? body.by } : {}),
        })
        .where(and(eq(staffTasks.id, t.id), eq(staffTasks.status, t.status)))
        .returning({ id: staffTasks.id });
      if (updated.length === 0) throw new RebookError('conflict', 'task changed concurrently; retry');
      // The outcome reaches every running sequence of the client: one booking ends them all.
      const running = await db
        .select({ workflowId: sequences.workflowId })
        .from(sequences)
        .where(and(eq(sequences.clientId, t.clientId), eq(sequences.running, true)));
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
      return { id: t.id, status: 'resolved' as const, outcome: body.outcome, sequencesSignalled: n };
    },
  );

  async function incentiveOf(clinicId: string, code: string) {
    const [i] = await db
      .select()
      .from(incentives)
      .where(and(eq(incentives.clinicId, clinicId), eq(incentives.code, normalizeCode(code))));
    if (!i) throw new RebookError('not_found', 'unknown incentive code', { field: 'code' });
    return i;
  }
  const view = (i: typeof incentives.$inferSelect): z.infer<typeof incentiveView> => ({
    code: i.code,
    offer: i.offer,
    description: i.description,
    expiresAt: i.expiresAt.toISOString(),
    redeemedAt: i.redeemedAt?.toISOString() ?? null,
    status: i.redeemedAt ? 'redeemed' : i.expiresAt.getTime() < now().getTime() ? 'expired' : 'valid',
  });

  app.get(
    '/v1/clinics/:clinicId/incentives/:code',
    {
      config: { role: 'staff' },
      schema: {
        ...v1Doc('incentives', 'Look up an incentive code', 'staff'),
        params: codeParams,
        response: { 200: incentiveView, ...errorResponses },
      },
    },
    async (req) => {
      const clinic = app.clinicFor(req);
      return view(await incentiveOf(clinic.id, req.params.code));
    },
  );

  app.post(
    '/v1/clinics/:clinicId/incentives/:code/redeem',
    {
      config: { role: 'staff' },
      schema: {
        ...v1Doc('incentives', 'Redeem an incentive code (single use)', 'staff'),
        params: codeParams,
        body: redeemBody.optional(),
        response: {
          200: incentiveView,
          409: errorResponses.default.describe('already redeemed'),
          410: errorResponses.default.describe('expired'),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const clinic = app.clinicFor(req);
      const body = req.body ?? {};
      const i = await incentiveOf(clinic.id, req.params.code);
      if (i.redeemedAt)
        throw new RebookError(
          'incentive_redeemed',
          `code already redeemed on ${i.redeemedAt.toISOString().slice(0, 10)}`,
          { field: 'code' },
        );
      if (i.expiresAt.getTime() < now().getTime())
        throw new RebookError('incentive_expired', `code expired on ${i.expiresAt.toISOString().slice(0, 10)}`, {
          field: 'code',
        });
      // Single use even under concurrent redemptions: only the update that finds it unredeemed wins.
      const [row] = await db
        .update(incentives)
        .set({ redeemedAt: now(), redeemedRef: body.ref ?? null })
        .where(and(eq(incentives.id, i.id), isNull(incentives.redeemedAt)))
        .returning();
      if (!row) throw new RebookError('incentive_redeemed', 'code already redeemed', { field: 'code' });
      return view(row);
    },
  );
};
