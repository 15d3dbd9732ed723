/** zod at the HTTP boundary: one coded 400 listing every failing path. */
import type { z } from 'zod';
import { RebookError } from '../errors.js';

export function parseOr400<S extends z.ZodType>(schema: S, data: unknown, where: 'body' | 'query' | 'params'): z.infer<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    path: [where, ...i.path.map((p) => String(p))].join('.'),
    message: i.message,
  }));
  throw new RebookError('validation_failed', `invalid request ${where}`, { issues });
}
