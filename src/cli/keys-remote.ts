/**
 * `rebook keys` through a running server's admin API (src/server/routes/api-keys.ts): what a
 * running `rebook dev` needs, since it holds the embedded database. Same output as on the database.
 */
import type { ApiKeyRecord, Role } from '../server/api-keys.js';
import type { ApiTarget } from './dev-discovery.js';
import { renderKeysTable } from './keys-table.js';
import { callRemoteApi, RemoteApiError } from './remote-api.js';

interface ApiKeyView {
  id: string;
  agencyId: string | null;
  clinicId: string | null;
  role: Role;
  label: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const date = (s: string | null) => (s ? new Date(s) : null);
const record = (k: ApiKeyView): ApiKeyRecord => ({
  ...k,
  createdAt: new Date(k.createdAt),
  lastUsedAt: date(k.lastUsedAt),
  revokedAt: date(k.revokedAt),
});

export interface KeysRequest {
  sub: 'create' | 'list' | 'revoke';
  agency?: string | undefined;
  clinic?: string | undefined;
  role: Role;
  label?: string | undefined;
  all: boolean;
  id?: string | undefined;
}

/** Runs one `rebook keys` subcommand against the API; the exit code. */
export async function keysThroughApi(
  r: KeysRequest,
  target: ApiTarget,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream } = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const fail = (message: string, code: number) => {
    io.err.write(`rebook keys: ${message}\n`);
    return code;
  };
  if (target.found === 'rebook dev') io.err.write(`(through the running rebook dev at ${target.url})\n`);
  const seg = encodeURIComponent;
  try {
    if (r.sub === 'create') {
      const body = { role: r.role, ...(r.label ? { label: r.label } : {}) };
      // A key of one clinic under the clinic (any manager of it); an agency-wide key under the agency.
      const created = r.clinic
        ? await callRemoteApi<{ key: string; apiKey: ApiKeyView }>(
            target,
            'POST',
            `/v1/clinics/${seg(r.clinic)}/api-keys`,
            { ...body, ...(r.agency ? { agencyId: r.agency } : {}) },
          )
        : r.agency
          ? await callRemoteApi<{ key: string; apiKey: ApiKeyView }>(
              target,
              'POST',
              `/v1/agencies/${seg(r.agency)}/api-keys`,
              body,
            )
          : undefined;
      if (!created) return fail('a key needs --agency, --clinic, or both', 2);
      const k = created.apiKey;
      const scope = k.clinicId
        ? `clinic ${k.clinicId}${k.agencyId ? ` (agency ${k.agencyId})` : ''}`
        : `agency ${k.agencyId}`;
      io.out.write(`${created.key}\n`);
      io.err.write(`created key ${k.id}: ${k.role} of ${scope}. It is shown only now; store it safely.\n`);
      return 0;
    }
    if (r.sub === 'list') {
      const q = new URLSearchParams({
        ...(r.agency ? { agencyId: r.agency } : {}),
        ...(r.clinic ? { clinicId: r.clinic } : {}),
        ...(r.all ? { includeRevoked: 'true' } : {}),
      });
      const listed = await callRemoteApi<{ apiKeys: ApiKeyView[] }>(
        target,
        'GET',
        `/v1/api-keys${q.size ? `?${q}` : ''}`,
      );
      io.out.write(renderKeysTable(listed.apiKeys.map(record)));
      return 0;
    }
    try {
      await callRemoteApi(target, 'DELETE', `/v1/api-keys/${seg(r.id!)}`);
    } catch (err) {
      // As on the database: unknown, not ours to manage, or revoked already.
      if (err instanceof RemoteApiError && (err.status === 404 || err.status === 409))
        return fail(`no live key "${r.id}" (${err.message})`, 1);
      throw err;
    }
    io.out.write(`revoked ${r.id}\n`);
    return 0;
  } catch (err) {
    if (err instanceof RemoteApiError) return fail(err.message, 1);
    throw err;
  }
}
