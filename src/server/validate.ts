/** zod at the HTTP boundary: one coded 400 listing every failing path. */
import type { z } from 'zod';
import { RebookError } from '../errors.js';

export function parseOr400<S extends z.ZodType>(
  schema: S,
  data: unknown,
  where: 'body' | 'query' | 'params',
): z.infer<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    path: [where, ...i.path.map((p) => String(p))].join('.'),
    message: i.message,
  }));
  throw new RebookError('validation_failed', `invalid request ${where}`, { issues });
}

/** Where fastify validated: its names, ours (`query`, as parseOr400 says). */
const PART: Record<string, string> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' };

/**
 * A route schema's validation failure (fastify-type-provider-zod) as our coded 400, with one
 * issue per failing path; unknown keys are named in the path, as the config loader does.
 */
export function validationError(err: {
  validation: { instancePath: string; keyword: string; message?: string; params?: Record<string, unknown> }[];
  validationContext?: string;
}): RebookError {
  const part = PART[err.validationContext ?? 'body'] ?? 'body';
  const issues = err.validation.flatMap((v) => {
    const path = [part, ...v.instancePath.split('/').filter(Boolean)];
    const keys =
      v.keyword === 'unrecognized_keys' && Array.isArray(v.params?.keys)
        ? (v.params.keys as unknown[]).map(String)
        : undefined;
    if (keys) return keys.map((k) => ({ path: [...path, k].join('.'), message: `unknown key "${k}"` }));
    return [{ path: path.join('.'), message: v.message ?? 'invalid' }];
  });
  return new RebookError('validation_failed', `invalid request ${part}`, { issues });
}

/**
 * Paths of strings holding U+0000: PostgreSQL text cannot store it, so such input is refused at
 * the boundary (400) instead of failing in the driver (500).
 */
export function nulCharacterPaths(value: unknown, path: string, out: string[] = [], depth = 0): string[] {
  if (out.length >= 20 || depth > 32) return out;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push(path);
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) nulCharacterPaths(v, `${path}.${i}`, out, depth + 1);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) out.push(`${path}.${k.replaceAll('\u0000', '\\0')}`);
      nulCharacterPaths(v, `${path}.${k}`, out, depth + 1);
    }
  }
  return out;
}
