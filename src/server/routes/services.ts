/**
 * Services the classification did not recognise, and the staff decisions that map them to a
 * treatment type (src/ingest/service-mappings.ts: kept in the database, consulted by ingest
 * before the configured synonyms; treatments received from then on are enrolled).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listServiceMappings, mapService, unmappedServicesOf } from '../../ingest/service-mappings.js';
import { clinicParams, errorResponses, isoTime, v1Doc } from '../openapi.js';

const DAY_MS = 86_400_000;

const unmappedView = z
  .object({
    serviceKey: z.string(),
    serviceId: z.string().nullable(),
    serviceName: z.string(),
    occurrences: z.number().int(),
    firstSeenAt: isoTime,
    lastSeenAt: isoTime,
  })
  .meta({ id: 'UnmappedService' });
const mappingView = z
  .object({ serviceKey: z.string(), treatmentType: z.string().nullable(), mappedAt: isoTime })
  .meta({ id: 'ServiceMapping' });

const mappingBody = z.strictObject({
  serviceKey: z
    .string()
    .min(4)
    .max(300)
    .describe('as listed by unmapped-services: `id:<vendor service id>` or `name:<service name>`'),
  treatmentType: z
    .string()
    .min(1)
    .max(100)
    .nullable()
    .describe('a treatment type the clinic runs, or null: not a repeatable treatment (stop reporting it)'),
});

export const registerServiceRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps;
  const now = () => (app.deps.now ? app.deps.now() : Date.now());

  app.get('/v1/clinics/:clinicId/unmapped-services', {
    config: { role: 'staff' },
    schema: {
      ...v1Doc(
        'services',
        'Services seen in treatments that no treatment type matched and staff have not mapped yet',
        'staff',
      ),
      params: clinicParams,
      querystring: z.strictObject({
        days: z.coerce.number().int().min(1).max(3650).default(30).describe('seen in the last N days'),
      }),
      response: { 200: z.object({ services: z.array(unmappedView) }), ...errorResponses },
    },
    handler: async (req) => {
      const clinic = app.clinicFor(req);
      const rows = await unmappedServicesOf(db, clinic.id, { since: new Date(now() - req.query.days * DAY_MS) });
      return {
        services: rows.map((r) => ({
          ...r,
          firstSeenAt: r.firstSeenAt.toISOString(),
          lastSeenAt: r.lastSeenAt.toISOString(),
        })),
      };
    },
  });

  app.get('/v1/clinics/:clinicId/service-mappings', {
    config: { role: 'staff' },
    schema: {
      ...v1Doc('services', 'Services mapped by staff', 'staff'),
      params: clinicParams,
      response: { 200: z.object({ mappings: z.array(mappingView) }), ...errorResponses },
    },
    handler: async (req) => {
      const clinic = app.clinicFor(req);
      const rows = await listServiceMappings(db, clinic.id);
      return {
        mappings: rows.map((m) => ({
          serviceKey: m.serviceKey,
          treatmentType: m.treatmentType,
          mappedAt: m.mappedAt.toISOString(),
        })),
      };
    },
  });

  app.put('/v1/clinics/:clinicId/service-mappings', {
    config: { role: 'admin' },
    schema: {
      ...v1Doc(
        'services',
        'Map a service to a treatment type (or to none); treatments of it received from now on are classified by this',
        'admin',
      ),
      params: clinicParams,
      body: mappingBody,
      response: { 200: mappingView, ...errorResponses },
    },
    handler: async (req) => {
      const clinic = app.clinicFor(req);
      const type = req.body.treatmentType;
      const m = await mapService(
        db,
        app.deps.config.current(),
        clinic,
        { serviceKey: req.body.serviceKey, treatmentType: type, mappedBy: req.principal?.keyId ?? null },
        new Date(now()),
      );
      req.log.info({ clinicId: clinic.id, treatmentType: type, keyId: req.principal?.keyId }, 'service mapped');
      return { serviceKey: m.serviceKey, treatmentType: m.treatmentType, mappedAt: m.mappedAt.toISOString() };
    },
  });
};
