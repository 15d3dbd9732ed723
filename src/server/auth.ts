/**
 * API-key authentication for the /v1 routes. Keys are configured per clinic by env-var
 * reference; comparison hashes both sides so it is constant time whatever the lengths.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ClinicConfig } from '../config/schema.js';
import { RebookError } from '../errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** Throws `unauthorized` unless the request carries one of the clinic's keys. */
export function authorizeClinic(req: FastifyRequest, clinic: ClinicConfig, env: NodeJS.ProcessEnv): void {
  const token = bearerToken(req);
  if (!token) throw new RebookError('unauthorized', 'missing bearer API key', { field: 'authorization' });
  const presented = digest(token);
  let ok = false;
  for (const key of clinic.apiKeys) {
    const value = env[key.env];
    // A key whose variable is unset authorizes nothing (never an empty-string match).
    if (value && timingSafeEqual(presented, digest(value))) ok = true;
  }
  if (!ok) throw new RebookError('unauthorized', 'invalid API key', { field: 'authorization' });
}
