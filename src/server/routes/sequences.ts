/**
 * Sequences of a clinic: list (by client, running or ended, outcome, treatment type), one
 * sequence with its live status from the workflow, and cancel (ends it with outcome `cancelled`).
 */
import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ARMS } from '../../core/holdout.js';
import { clients, sequences } from '../../db/schema.js';
import { RebookError } from '../../errors.js';
import { clinicParams, errorResponses, isoTime, v1Doc } from '../openapi.js';

const outcomes = ['running', 'booked', 'snoozed', 'churned', 'not_interested', 'cancelled'] as const;

const listQuery = z.strictObject({
  clientId: z.string().min(1).max(200).optional().describe("the booking platform's client id"),
  status: z.enum(['running', 'ended']).optional(),
  outcome: z.enum(outcomes).optional(),
  treatmentType: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** The holdout arm recorded at enrolment (proof of lift); sequences from before holdouts are treated. */
export const armField = z
  .enum(ARMS)
  .describe('holdout arm assigned at enrolment: `holdout` receives care touches only (no marketing, no staff call)');

export const sequenceView = z
  .object({
    id: z.string().describe('sequence id (URL-encode it in paths: it contains "/")'),
    clientId: z.string(),
    treatmentType: z.string(),
    anchorAppointmentId: z.string().nullable(),
    anchorAt: isoTime.nullable(),
    stage: z.string().nullable().describe('the last stage reached (`enrolled` before the first)'),
    nextStage: z
      .string()
      .nullable()
      .describe('the stage due at `nextActionAt` (`window_close`: only the rebooking window closing is left)'),
    nextActionAt: isoTime.nullable(),
    outcome: z.string(),
    outcomeStage: z.string().nullable(),
    running: z.boolean(),
    arm: armField,
  })
  .meta({ id: 'Sequence' });

const liveView = z.object({
  stage: z.string().describe('the last stage reached'),
  nextStage: z.string().nullable().describe('the stage due at `nextActionAt`'),
  nextActionAt: isoTime.nullable(),
  outcome: z.string(),
  outcomeStage: z.string().nullable(),
  history: z.array(z.object({ at: isoTime, stage: z.string(), event: z.string(), detail: z.string().nullable() })),
});

const sequenceParams = clinicParams.extend({ sequenceId: z.string().min(1).max(400) });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

type Row = { s: typeof sequences.$inferSelect; clientExternalId: string };
const view = ({ s, clientExternalId }: Row): z.infer<typeof sequenceView> => ({
  id: s.workflowId,
  clientId: clientExternalId,
  treatmentType: s.treatmentType,
  anchorAppointmentId: s.anchorAppointmentId,
  anchorAt: iso(s.anchorAt),
  stage: s.stage,
  nextStage: s.nextStage,
  nextActionAt: iso(s.nextActionAt),
  outcome: s.outcome,
  outcomeStage: s.outcomeStage,
  running: s.running,
  arm: s.arm ?? 'treated',
});

export const registerSequenceRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps;

  async function sequenceOf(clinicId: string, id: string): Promise<Row> {
    const [row] = await db
      .select({ s: sequences, clientExternalId: clients.externalId })
      .from(sequences)
      .innerJoin(clients, eq(clients.id, sequences.clientId))
      .where(and(eq(sequences.workflowId, id), eq(sequences.clinicId, clinicId)));
    if (!row) throw new RebookError('not_found', 'unknown sequence', { field: 'sequenceId' });
    return row;
  }

  app.get('/v1/clinics/:clinicId/sequences', {
    config: { role: 'staff' },
    schema: {
      ...v1Doc('sequences', 'List sequences', 'staff'),
      params: clinicParams,
      querystring: listQuery,
      response: { 200: z.object({ sequences: z.array(sequenceView) }), ...errorResponses },
    },
    handler: async (req) => {
      const clinic = app.clinicFor(req);
      const q = req.query;
      const where: SQL[] = [eq(sequences.clinicId, clinic.id)];
      if (q.clientId) where.push(eq(clients.externalId, q.clientId));
      if (q.status) where.push(eq(sequences.running, q.status === 'running'));
      if (q.outcome) where.push(eq(sequences.outcome, q.outcome));
      if (q.treatmentType) where.push(eq(sequences.treatmentType, q.treatmentType));
      const rows = await db
        .select({ s: sequences, clientExternalId: clients.externalId })
        .from(sequences)
        .innerJoin(clients, eq(clients.id, sequences.clientId))
        .where(and(...where))
        .orderBy(desc(sequences.updatedAt), desc(sequences.workflowId))
        .limit(q.limit);
      return { sequences: rows.map(view) };
    },
  });

  app.get('/v1/clinics/:clinicId/sequences/:sequenceId', {
    config: { role: 'staff' },
    schema: {
      ...v1Doc(
        'sequences',
        'One sequence with its live status (asked of the workflow; `live` is null when Temporal cannot answer)',
        'staff',
      ),
      params: sequenceParams,
      response: {
        200: z.object({
          sequence: sequenceView,
          live: liveView.nullable(),
          liveState: z.enum(['ok', 'not_found', 'unavailable']),
        }),
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const clinic = app.clinicFor(req);
      const row = await sequenceOf(clinic.id, req.params.sequenceId);
      const lookup = app.deps.sequenceStatus
        ? await app.deps.sequenceStatus(row.s.workflowId)
        : ({ state: 'unavailable' } as const);
      const live =
        lookup.state === 'ok'
          ? {
              stage: lookup.status.stage,
              nextStage: lookup.status.nextStage ?? null,
              nextActionAt: lookup.status.nextActionAt ?? null,
              outcome: lookup.status.outcome,
              outcomeStage: lookup.status.outcomeStage ?? null,
              history: lookup.status.history.map((h) => ({
                at: h.at,
                stage: h.stage,
                event: h.event,
                detail: h.detail ?? null,
              })),
            }
          : null;
      return { sequence: view(row), live, liveState: lookup.state };
    },
  });

  app.post('/v1/clinics/:clinicId/sequences/:sequenceId/cancel', {
    config: { role: 'admin' },
    schema: {
      ...v1Doc('sequences', 'Cancel a running sequence: no further stage is sent (outcome `cancelled`)', 'admin'),
      params: sequenceParams,
      response: {
        202: z.object({ id: z.string(), cancelled: z.literal(true) }),
        409: errorResponses.default.describe('the sequence is not running'),
        ...errorResponses,
      },
    },
    handler: async (req, reply) => {
      const clinic = app.clinicFor(req);
      const row = await sequenceOf(clinic.id, req.params.sequenceId);
      if (!row.s.running) throw new RebookError('conflict', 'sequence is not running');
      const signals = app.deps.signals;
      if (!signals) throw new RebookError('temporal_unavailable', 'cannot reach the sequences');
      if (!(await signals.end(row.s.workflowId, { outcome: 'cancelled' })))
        throw new RebookError('conflict', 'sequence is not running');
      req.log.info({ sequenceId: row.s.workflowId, keyId: req.principal?.keyId }, 'sequence cancelled through the API');
      return reply.status(202).send({ id: row.s.workflowId, cancelled: true as const });
    },
  });
};
