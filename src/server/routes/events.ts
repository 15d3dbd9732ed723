/** POST /v1/clinics/:clinicId/events — the canonical ingestion path (connectors use it too). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  type CanonicalEvent,
  canonicalEventSchema,
  eventArraySchema,
  eventEnvelopeSchema,
  IMPORT_SOURCE_HEADER,
} from '../../ingest/events.js';
import { clinicParams, errorResponses, v1Doc } from '../openapi.js';
import { parseOr400 } from '../validate.js';

const eventResult = z
  .looseObject({
    index: z.number().int(),
    type: z.string(),
    status: z.enum(['accepted', 'duplicate', 'queued']),
    enrolled: z.boolean().optional(),
    sequenceId: z.string().optional(),
    treatmentType: z.string().optional(),
    reason: z
      .string()
      .optional()
      .describe(
        'unclassified_service, not_repeatable, window_passed, treatment_type_disabled, duplicate, temporal_unavailable (queued until Temporal is reachable), processing_failed (queued, retried with backoff)',
      ),
    staffEscalationOnly: z.boolean().optional(),
    sequencesSignalled: z.number().int().optional(),
    clientsUpdated: z.number().int().optional(),
    plansUpdated: z.number().int().optional(),
    stale: z.boolean().optional(),
  })
  .meta({ id: 'EventResult' });

const bodySchema = z
  .union([canonicalEventSchema, eventArraySchema, eventEnvelopeSchema])
  .describe('one canonical event, an array of them, or { events: [...] } (at most 500)');

export const registerEventRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/clinics/:clinicId/events', {
    config: { role: 'admin' },
    schema: {
      ...v1Doc(
        'events',
        'Ingest canonical events (treatment completed, appointment booked/cancelled/no-show, client updated/merged, client membership or package)',
        'admin',
      ),
      params: clinicParams,
      body: bodySchema,
      response: { 202: z.object({ results: z.array(eventResult) }), ...errorResponses },
    },
    // The body is documented as the union but parsed by shape below, so a 400 names the failing
    // field instead of "no union member matched".
    validatorCompiler: (req) =>
      req.httpPart === 'body' ? (data: unknown) => ({ value: data }) : validatorCompiler(req as never),
    handler: async (req, reply) => {
      const clinic = app.clinicFor(req);
      const events = parseBatch(req.body);
      // `rebook import` marks its batches: consent flags from an export are recorded as source `import`.
      const source = req.headers[IMPORT_SOURCE_HEADER] === 'import' ? 'import' : 'api';
      const results = await app.deps.ingest.accept(clinic.id, events, source);
      return reply.status(202).send({ results });
    },
  });
};

/**
 * A body is one event, an array of events, or `{ events: [...] }`. Each shape is parsed with
 * its own schema so error paths point at the failing field, not at "no union member matched".
 */
function parseBatch(body: unknown): CanonicalEvent[] {
  if (Array.isArray(body)) return parseOr400(eventArraySchema, body, 'body');
  if (body !== null && typeof body === 'object' && 'events' in body)
    return parseOr400(eventEnvelopeSchema, body, 'body').events;
  return [parseOr400(canonicalEventSchema, body, 'body')];
}
