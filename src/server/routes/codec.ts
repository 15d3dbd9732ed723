/**
 * A codec server for the Temporal Web UI and CLI: our payloads are AES-GCM ciphertext in every
 * history (src/temporal/codec.ts), so an operator reading a workflow sees `binary/encrypted`
 * unless the UI sends them here to be decoded.
 * Protocol: POST {endpoint}/decode and {endpoint}/encode with `{"payloads":[…]}`, each payload in
 * proto3 JSON (metadata values and data base64), answered in the same shape.
 * https://docs.temporal.io/production-deployment/data-encryption#codec-server-setup
 *
 * Access. Decoded payloads are client data across every clinic of the namespace, so neither a
 * clinic nor an agency API key fits: one operator token (REBOOK_CODEC_TOKEN) opens it, either as
 * `Authorization: Bearer <token>` (the temporal CLI's `--codec-auth`) or as a path segment
 * `/codec/t/<token>` for the Web UI, which can send no header of ours (only its own OIDC access
 * token, or cookies). Requests of that form are not logged (the URL holds the secret).
 * CORS: only the configured UI origins (REBOOK_CODEC_ORIGINS) get an answer a browser will read;
 * a browser request from any other origin is refused with 403 and no CORS headers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RebookError } from '../../errors.js';
import { bearerToken } from '../auth.js';

export interface CodecOptions {
  codec: PayloadCodec;
  /** The operator token; compared in constant time. */
  token: string;
  /** Browser origins allowed to call (the Temporal UI's), e.g. `http://127.0.0.1:8233`. */
  origins: readonly string[];
}

export const CODEC_PREFIX = '/codec';
/** What a browser preflight may ask to send: the UI sends X-Namespace, and Authorization when configured. */
const ALLOWED_HEADERS = 'Content-Type, Authorization, X-Namespace';
const MAX_PAYLOADS = 1000;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const payloadJson = z.object({
  metadata: z.record(z.string(), base64).optional(),
  data: base64.optional(),
});
const body = z.strictObject({ payloads: z.array(payloadJson).max(MAX_PAYLOADS) });
type PayloadJson = z.infer<typeof payloadJson>;

const fromJson = (p: PayloadJson): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): PayloadJson => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

const digest = (s: string) => createHash('sha256').update(s).digest();

export function codecRoutes(opts: CodecOptions): FastifyPluginAsyncZod {
  const expected = digest(opts.token);
  const origins = new Set(opts.origins.map((o) => o.replace(/\/+$/, '')));
  const tokenMatches = (presented: string | undefined) =>
    presented !== undefined && timingSafeEqual(digest(presented), expected);

  /** Sets the CORS answer for an allowed origin; refuses a browser request from any other. */
  function cors(req: FastifyRequest, reply: FastifyReply): void {
    const origin = req.headers.origin;
    // No Origin: not a browser cross-origin call (the CLI, curl); the token alone decides.
    if (origin === undefined) return;
    if (!origins.has(origin))
      throw new RebookError('forbidden', 'origin not allowed to call the codec', { field: 'origin' });
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('vary', 'Origin');
  }

  return async (app) => {
    for (const [path, fromPath] of [
      [CODEC_PREFIX, false],
      [`${CODEC_PREFIX}/t/:token`, true],
    ] as const) {
      for (const op of ['decode', 'encode'] as const) {
        const url = `${path}/${op}`;
        const routeOpts = {
          // The path form carries the secret in its URL: keep it out of the request log lines.
          ...(fromPath ? { logLevel: 'warn' as const } : {}),
          schema: { hide: true },
        };
        app.options(url, routeOpts, async (req, reply) => {
          cors(req, reply);
          reply.header('access-control-allow-methods', 'POST, OPTIONS');
          reply.header('access-control-allow-headers', ALLOWED_HEADERS);
          reply.header('access-control-max-age', '600');
          return reply.status(204).send();
        });
        // Origin and token before the body is read or validated.
        const onRequest = async (req: FastifyRequest, reply: FastifyReply) => {
          cors(req, reply);
          const presented = fromPath ? (req.params as { token: string }).token : bearerToken(req);
          if (!tokenMatches(presented))
            throw new RebookError('unauthorized', presented ? 'invalid codec token' : 'missing codec token', {
              field: fromPath ? 'token' : 'authorization',
            });
        };
        app.post(url, { ...routeOpts, onRequest, schema: { hide: true, body } }, async (req, reply) => {
          const payloads = req.body.payloads.map(fromJson);
          const out: Payload[] = [];
          // One at a time so a payload that does not decrypt is named by its index.
          for (const [i, p] of payloads.entries()) {
            try {
              out.push(...(await opts.codec[op]([p])));
            } catch {
              throw new RebookError('validation_failed', `payload ${i} cannot be ${op}d with the configured keys`, {
                field: `payloads.${i}`,
              });
            }
          }
          return reply.send({ payloads: out.map(toJson) });
        });
      }
    }
  };
}
