/**
 * Front-desk work: claim and resolve staff tasks (src/staff/tasks.ts, shared with the console:
 * resolving signals the client's sequences), and look up / redeem incentive codes at the point of sale.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { normalizeCode } from '../../core/incentives.js';
import { incentives } from '../../db/schema.js';
import { RebookError } from '../../errors.js';
import { claimTask, resolveTask } from '../../staff/tasks.js';
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

  const taskDeps = { db, now, ...(app.deps.signals ? { signals: app.deps.signals } : {}) };

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
      const t = await claimTask(taskDeps, clinic.id, req.params.taskId, body.by);
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
      const r = await resolveTask(taskDeps, clinic.id, req.params.taskId, {
        outcome: body.outcome,
        ...(body.by ? { by: body.by } : {}),
      });
      const t = r.task;
      const n = r.sequencesSignalled;
      req.log.info({ taskId: t.id, outcome: body.outcome, sequencesSignalled: n }, 'staff task resolved');
      return { id: t.id, status: 'resolved' as const, outcome: t.outcome, sequencesSignalled: n };
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
