/**
 * The admin API as seen from a CLI command: JSON in and out with a bearer key; an error answer
 * becomes one line with its status, code, message and failing paths.
 */
import type { ApiTarget } from './dev-discovery.js';

interface ErrorBody {
  error?: { code: string; message: string; field?: string; issues?: { path: string; message: string }[] };
}

export class RemoteApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteApiError';
  }
}

export async function callRemoteApi<T>(
  target: Pick<ApiTarget, 'url' | 'key'>,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new RemoteApiError(0, undefined, `cannot reach ${target.url}${cause ? ` (${cause})` : ''}`);
  }
  const parsed = (await res.json().catch(() => ({}))) as T & ErrorBody;
  if (!res.ok) {
    const e = parsed.error;
    const issues = e?.issues?.length ? ` (${e.issues.map((i) => `${i.path}: ${i.message}`).join('; ')})` : '';
    throw new RemoteApiError(
      res.status,
      e?.code,
      `${target.url} answered ${res.status}${e ? ` ${e.code}: ${e.message}${issues}` : ''}`,
    );
  }
  return parsed;
}
