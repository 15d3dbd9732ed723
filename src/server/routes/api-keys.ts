/**
 * API keys through the running server, so keys can be managed while `rebook dev` holds the
 * embedded database (and without database access in production). The same service as
 * `rebook keys` (src/server/api-keys.ts); who may manage which keys: `managesKeys` in auth.ts.
 * The raw key appears once, in the answer that creates it.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RebookError } from '../../errors.js';
import { type ApiKeyRecord, createApiKey, getApiKey, listApiKeys, revokeApiKey, roles } from '../api-keys.js';
import { managesKeys } from '../auth.js';
import { agencyParams, clinicParams, errorResponses, isoTime, v1Doc } from '../openapi.js';

const apiKeyView = z
  .object({
    id: z.string().describe('public id (the second part of the key)'),
    agencyId: z.string().nullable(),
    clinicId: z.string().nullable().describe('null: every clinic of the agency'),
    role: z.enum(roles),
    label: z.string().nullable(),
    createdAt: isoTime,
    lastUsedAt: isoTime.nullable(),
    revokedAt: isoTime.nullable(),
  })
  .meta({ id: 'ApiKey' });

const createdKey = z
  .object({
    key: z.string().describe('the key itself: shown only in this answer (only its hash is stored)'),
    apiKey: apiKeyView,
  })
  .meta({ id: 'CreatedApiKey' });

const keyFields = {
  role: z.enum(roles).default('admin').describe('admin: everything in its scope; staff: reads and staff work'),
  label: z.string().trim().min(1).max(200).optional().describe('what the key is for (no client data)'),
};
const agencyKeyBody = z.strictObject(keyFields);
const clinicKeyBody = z.strictObject({
  ...keyFields,
  agencyId: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe("when given, must be the clinic's agency (a guard against naming the wrong clinic)"),
});
const keyParams = z.object({ keyId: z.string().regex(/^[0-9a-f]{12}$/, 'a key id is 12 hex digits') });
const listQuery = z.strictObject({
  agencyId: z.string().min(1).max(100).optional(),
  clinicId: z.string().min(1).max(100).optional(),
  includeRevoked: z.enum(['true', 'false']).default('false').describe('true: revoked keys too'),
});

const view = (k: ApiKeyRecord) => ({
  id: k.id,
  agencyId: k.agencyId,
  clinicId: k.clinicId,
  role: k.role,
  label: k.label,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

const created = (reply: FastifyReply, r: { key: string; record: ApiKeyRecord }) =>
  // The key itself is in this body: no cache may keep it.
  reply
    .status(201)
    .header('cache-control', 'no-store')
    .send({ key: r.key, apiKey: view(r.record) });

const MANAGERS = 'Needs an admin key of the whole agency, or a clinic key from the config (for keys of its clinics).';

export const registerApiKeyRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps;
  const principalWhoManages = (req: FastifyRequest) => {
    const p = app.principalOf(req);
    if (!p.configClinics && p.clinicId !== null)
      throw new RebookError(
        'forbidden',
        'keys are managed with an agency admin key or a clinic key from the config (this key is scoped to one clinic)',
      );
    return p;
  };

  app.post('/v1/agencies/:agencyId/api-keys', {
    config: { role: 'admin' },
    schema: {
      ...v1Doc('api-keys', 'Create an agency-wide key (it sees every clinic of the agency)', 'admin'),
      description: 'Needs an admin key of the whole agency.',
      params: agencyParams,
      body: agencyKeyBody,
      response: { 201: createdKey, ...errorResponses },
    },
    handler: async (req, reply) => {
      const agency = app.agencyFor(req);
      const { role, label } = req.body;
      return created(
        reply,
        await createApiKey(db, app.deps.config.current(), { agencyId: agency.id, role, ...(label ? { label } : {}) }),
      );
    },
  });

  app.post('/v1/clinics/:clinicId/api-keys', {
    config: { role: 'admin' },
    schema: {
      ...v1Doc('api-keys', 'Create a key for this one clinic', 'admin'),
      description: MANAGERS,
      params: clinicParams,
      body: clinicKeyBody,
      response: { 201: createdKey, ...errorResponses },
    },
    handler: async (req, reply) => {
      const clinic = app.clinicFor(req);
      principalWhoManages(req);
      const { role, label, agencyId } = req.body;
      if (agencyId !== undefined && agencyId !== clinic.agency)
        throw new RebookError(
          'validation_failed',
          clinic.agency
            ? `clinic "${clinic.id}" belongs to agency "${clinic.agency}"`
            : `clinic "${clinic.id}" has no agency`,
          { field: 'agencyId', issues: [{ path: 'body.agencyId', message: 'is not the clinic’s agency' }] },
        );
      return created(
        reply,
        await createApiKey(db, app.deps.config.current(), {
          clinicId: clinic.id,
          ...(clinic.agency ? { agencyId: clinic.agency } : {}),
          role,
          ...(label ? { label } : {}),
        }),
      );
    },
  });

  app.get('/v1/api-keys', {
    config: { role: 'admin' },
    schema: {
      ...v1Doc('api-keys', 'The keys this key manages (never the keys themselves)', 'admin'),
      description: MANAGERS,
      querystring: listQuery,
      response: { 200: z.object({ apiKeys: z.array(apiKeyView) }), ...errorResponses },
    },
    handler: async (req) => {
      const p = principalWhoManages(req);
      const q = req.query;
      const keys = await listApiKeys(db, {
        ...(q.agencyId ? { agencyId: q.agencyId } : {}),
        ...(q.clinicId ? { clinicId: q.clinicId } : {}),
        includeRevoked: q.includeRevoked === 'true',
      });
      return { apiKeys: keys.filter((k) => managesKeys(p, k)).map(view) };
    },
  });

  app.delete('/v1/api-keys/:keyId', {
    config: { role: 'admin' },
    schema: {
      ...v1Doc('api-keys', 'Revoke a key: it answers 401 from now on', 'admin'),
      description: `${MANAGERS} A key this key does not manage answers 404, like an unknown one.`,
      params: keyParams,
      response: { 200: z.object({ apiKey: apiKeyView }), ...errorResponses },
    },
    handler: async (req) => {
      const p = principalWhoManages(req);
      const key = await getApiKey(db, req.params.keyId);
      if (!key || !managesKeys(p, key)) throw new RebookError('not_found', 'unknown API key', { field: 'keyId' });
      if (key.revokedAt) throw new RebookError('conflict', 'this key is already revoked', { field: 'keyId' });
      await revokeApiKey(db, key.id);
      return { apiKey: view((await getApiKey(db, key.id))!) };
    },
  });
};
