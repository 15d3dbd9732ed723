/**
 * The clinics a key sees, and one clinic's effective configuration (catalog.yaml < agency <
 * clinic, merged). Secrets never appear: the configuration only ever names env variables.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { treatmentTypesFor } from '../../config/load.js';
import { visibleClinics } from '../auth.js';
import { clinicParams, errorResponses, v1Doc } from '../openapi.js';

const clinicSummary = z
  .object({
    id: z.string(),
    name: z.string(),
    agency: z.string().nullable(),
    platform: z.string(),
    timeZone: z.string(),
  })
  .meta({ id: 'ClinicSummary' });

const treatmentTypeView = z.object({
  key: z.string(),
  label: z.string(),
  intervalDays: z.number().int(),
  stages: z.array(z.object({ key: z.string(), day: z.number().int(), channel: z.string(), purpose: z.string() })),
  synonyms: z.array(z.string()),
});

export const registerClinicRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/clinics', {
    config: { role: 'staff' },
    schema: {
      ...v1Doc('clinics', 'The clinics this key sees', 'staff'),
      response: { 200: z.object({ clinics: z.array(clinicSummary) }), ...errorResponses },
    },
    handler: async (req) => {
      const clinics = visibleClinics(app.principalOf(req), app.deps.config.current());
      return {
        clinics: clinics.map((c) => ({
          id: c.id,
          name: c.name,
          agency: c.agency ?? null,
          platform: c.platform,
          timeZone: c.timeZone,
        })),
      };
    },
  });

  app.get('/v1/clinics/:clinicId', {
    config: { role: 'admin' },
    schema: {
      ...v1Doc(
        'clinics',
        'Effective configuration of a clinic (merged; secrets appear as env-var names only)',
        'admin',
      ),
      params: clinicParams,
      response: {
        200: z.object({
          clinic: z.record(z.string(), z.unknown()).describe('the clinic settings after merging its agency defaults'),
          agency: z.object({ id: z.string(), name: z.string() }).nullable(),
          treatmentTypes: z
            .array(treatmentTypeView)
            .describe('what the clinic runs: its effective catalog, filtered by its list, with its extra synonyms'),
          sources: z
            .object({ clinic: z.string().nullable(), agency: z.string().nullable() })
            .describe('the files read'),
        }),
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const clinic = app.clinicFor(req);
      const config = app.deps.config.current();
      const agency = clinic.agency ? config.agencies.get(clinic.agency) : undefined;
      return {
        clinic: clinic as unknown as Record<string, unknown>,
        agency: agency ? { id: agency.id, name: agency.name } : null,
        treatmentTypes: [...treatmentTypesFor(config, clinic).values()].map((t) => ({
          key: t.key,
          label: t.label,
          intervalDays: t.intervalDays,
          stages: t.stages.map((s) => ({ ...s })),
          synonyms: [...t.synonyms],
        })),
        sources: { clinic: config.clinicFiles.get(clinic.id) ?? null, agency: agency?.file ?? null },
      };
    },
  });
};
