/**
 * The API's contract: zod schemas on every /v1 route (validated by fastify-type-provider-zod,
 * responses checked against theirs), turned into an OpenAPI document at /openapi.json and
 * browsable at /docs (Swagger UI; its assets are served from node_modules, no CDN).
 * https://github.com/turkerdev/fastify-type-provider-zod#how-to-use-together-with-fastifyswagger
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type ErrorCode, errorCodes } from '../errors.js';
import type { Role } from './api-keys.js';

/** Every error answer: `{ error: { code, message, field?, issues? } }`. */
export const errorResponse = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      field: z.string().optional(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

/** Clinic ids are slugs; anything else cannot name a clinic (and answers 404 like an unknown one). */
export const clinicParams = z.object({
  clinicId: z.string().min(1).max(100).describe('clinic id (its config file name)'),
});

/** Agency ids are their config file names (slugs); another agency's answers 404 like an unknown one. */
export const agencyParams = z.object({
  agencyId: z.string().min(1).max(100).describe('agency id (its config file name under agencies/)'),
});

export const isoTime = z.string().describe('ISO 8601 instant');

/**
 * Documentation fields shared by the /v1 routes: tag, summary, bearer security and the error
 * answer for every status the route does not document itself.
 */
export function v1Doc(tag: string, summary: string, role: Role) {
  return {
    tags: [tag],
    summary,
    description:
      role === 'admin'
        ? 'Needs an admin key (agency admin, clinic admin, or a clinic key from the config).'
        : 'Any key that sees the clinic (admin or staff).',
    security: [{ bearerAuth: [] }],
  };
}

export const errorResponses = {
  400: errorResponse.describe('invalid request (every failing path in `issues`)'),
  401: errorResponse.describe('missing or invalid API key'),
  403: errorResponse.describe('the key cannot do this (staff key on an admin route)'),
  404: errorResponse.describe('unknown here, or another tenant’s'),
  default: errorResponse.describe('other errors (409, 413, 415, 429, 5xx)'),
};

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Rebook API',
        version: '1',
        description:
          'Post-treatment rebooking for medical spas. Every /v1 route takes `Authorization: Bearer <key>`; a key sees its agency’s clinics (agency key) or one clinic (clinic key), another tenant’s resources answer 404. Errors are `{ "error": { "code", "message", "field"?, "issues"? } }`.',
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'API key from `rebook keys create` (or a clinic key named in its config)',
          },
        },
      },
    },
    // Only the JSON API is documented: vendor webhooks and unsubscribe pages are not ours to specify.
    transform: (doc) => {
      const url = doc.url;
      if (!url.startsWith('/v1/') && url !== '/healthz' && url !== '/readyz')
        return { schema: { ...doc.schema, hide: true }, url };
      // A /v1 route without a schema of its own still documents its key and access errors.
      if (url.startsWith('/v1/') && !doc.schema?.security) {
        const { default: _, ...access } = errorResponses;
        return jsonSchemaTransform({
          ...doc,
          schema: {
            security: [{ bearerAuth: [] }],
            ...doc.schema,
            response: { ...access, ...(doc.schema?.response as object | undefined) },
          },
        });
      }
      return jsonSchemaTransform(doc);
    },
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
