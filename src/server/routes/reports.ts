/** GET /v1/clinics/:clinicId/reports/rebooking — the clinic's rebooking report (src/reports). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { clinicRebookingReport } from '../../reports/query.js';
import { parseOr400 } from '../validate.js';

const reportQuery = z.strictObject({
  from: z.string().trim().min(10).max(40).optional(),
  to: z.string().trim().min(10).max(40).optional(),
  treatmentType: z.string().trim().min(1).max(100).optional(),
});

export async function registerReportRoutes(app: FastifyInstance): Promise<void> {
  app.get('/v1/clinics/:clinicId/reports/rebooking', async (req) => {
    const clinic = app.clinicFor(req);
    const q = parseOr400(reportQuery, req.query, 'query');
    return clinicRebookingReport(app.deps.db, app.deps.config.current(), clinic, q, app.deps.now ? app.deps.now() : Date.now());
  });
}
