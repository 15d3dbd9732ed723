/** POST /v1/clinics/:clinicId/events — the canonical ingestion path (connectors use it too). */
import type { FastifyInstance } from 'fastify';
import { eventBatchSchema } from '../../ingest/events.js';
import { parseOr400 } from '../validate.js';

export async function registerEventRoutes(app: FastifyInstance): Promise<void> {
  app.post('/v1/clinics/:clinicId/events', async (req, reply) => {
    const clinic = app.clinicFor(req);
    const events = parseOr400(eventBatchSchema, req.body, 'body');
    const results = await app.deps.ingest.accept(clinic.id, events, 'api');
    return reply.status(202).send({ results });
  });
}
