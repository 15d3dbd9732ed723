/** POST /v1/clinics/:clinicId/preview — the timeline one treatment would produce (no side effects). */
import type { FastifyInstance } from 'fastify';
import { previewClinic } from '../../preview/clinic.js';
import { previewInput, previewRequestSchema } from '../../preview/request.js';
import { previewTimeline } from '../../preview/timeline.js';
import { parseOr400 } from '../validate.js';

export async function registerPreviewRoutes(app: FastifyInstance): Promise<void> {
  app.post('/v1/clinics/:clinicId/preview', async (req) => {
    const clinic = app.clinicFor(req);
    const body = parseOr400(previewRequestSchema, req.body, 'body');
    return previewTimeline(previewClinic(app.deps.config.current(), clinic.id), previewInput(body, clinic.timeZone));
  });
}
