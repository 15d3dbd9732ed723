/** POST /v1/clinics/:clinicId/events — the canonical ingestion path (connectors use it too). */
import type { FastifyInstance } from 'fastify';
import { canonicalEventSchema, eventArraySchema, eventEnvelopeSchema, type CanonicalEvent } from '../../ingest/events.js';
import { parseOr400 } from '../validate.js';

/** Request header naming where a batch comes from (only `import` is recognised). */
export const IMPORT_SOURCE_HEADER = 'x-rebook-source';

export async function registerEventRoutes(app: FastifyInstance): Promise<void> {
  app.post('/v1/clinics/:clinicId/events', async (req, reply) => {
    const clinic = app.clinicFor(req);
    const events = parseBatch(req.body);
    // `rebook import` marks its batches: consent flags from an export are recorded as source `import`.
    const source = req.headers[IMPORT_SOURCE_HEADER] === 'import' ? 'import' : 'api';
    const results = await app.deps.ingest.accept(clinic.id, events, source);
    return reply.status(202).send({ results });
  });
}

/**
 * A body is one event, an array of events, or `{ events: [...] }`. Each shape is parsed with
 * its own schema so error paths point at the failing field, not at "no union member matched".
 */
function parseBatch(body: unknown): CanonicalEvent[] {
  if (Array.isArray(body)) return parseOr400(eventArraySchema, body, 'body');
  if (body !== null && typeof body === 'object' && 'events' in body) return parseOr400(eventEnvelopeSchema, body, 'body').events;
  return [parseOr400(canonicalEventSchema, body, 'body')];
}
