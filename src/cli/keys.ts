/**
 * `rebook keys`: admin API keys. A key is printed once, at creation; only its hash is stored.
 *   rebook keys create --agency A [--clinic C] [--role admin|staff] [--label TEXT]
 *   rebook keys create --clinic C …          (a clinic without agency)
 *   rebook keys list [--agency A] [--clinic C] [--all]
 *   rebook keys revoke KEY_ID
 * On the database (DATABASE_URL or the embedded one), or through a running server's API: the
 * `rebook dev` of this checkout when it holds the embedded database, or --url/--key.
 */
import { parseArgs } from 'node:util';
import { ConfigError, type LoadedConfig, loadConfig } from '../config/load.js';
import type { Env } from '../env.js';
import { RebookError } from '../errors.js';
import { createApiKey, listApiKeys, type Role, revokeApiKey, roles } from '../server/api-keys.js';
import { argumentError, type CommandContext } from './command.js';
import { openCommandDatabase } from './database.js';
import { chooseApiTarget } from './dev-discovery.js';
import { keysThroughApi } from './keys-remote.js';
import { renderKeysTable } from './keys-table.js';

export const KEYS_USAGE = `usage:
  rebook keys create --agency A [--clinic C] [--role admin|staff] [--label TEXT]
  rebook keys create --clinic C [--role admin|staff]     (a clinic without agency)
  rebook keys list [--agency A] [--clinic C] [--all]     (--all: revoked keys too)
  rebook keys revoke KEY_ID
  --url URL, --key KEY   through a running server's API (default $REBOOK_URL, $REBOOK_API_KEY)

While \`rebook dev\` runs on the embedded database, keys go through its API with its key (found
in the data directory). Through the API, an agency admin key manages its agency's keys; a clinic
key from the config, the keys of its clinics.

An agency key sees every clinic of the agency; a clinic key one clinic. admin (default) can do
everything in its scope; staff reads sequences, messages and clients and works tasks and
incentives. The key is shown once: store it in your secret manager.
`;

export const usage = KEYS_USAGE;

export function run(argv: string[], { env }: CommandContext): Promise<number> {
  return keysCommand(argv, env);
}

function fail(message: string, code = 2): number {
  process.stderr.write(`rebook keys: ${message}\n`);
  return code;
}

const parseKeysArgs = (args: string[], allowPositionals: boolean) =>
  parseArgs({
    args,
    strict: true,
    allowPositionals,
    options: {
      agency: { type: 'string' },
      clinic: { type: 'string' },
      role: { type: 'string' },
      label: { type: 'string' },
      all: { type: 'boolean', default: false },
      config: { type: 'string' },
      url: { type: 'string' },
      key: { type: 'string' },
    },
  });

export async function keysCommand(
  argv: string[],
  env: Pick<Env, 'REBOOK_CONFIG_DIR' | 'REBOOK_DATA_DIR' | 'DATABASE_URL'> &
    Partial<Pick<Env, 'REBOOK_URL' | 'REBOOK_API_KEY'>>,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub?.startsWith('-')) {
    try {
      parseKeysArgs([sub], false);
    } catch (err) {
      return fail(argumentError('keys', err));
    }
  }
  let parsed: ReturnType<typeof parseKeysArgs>;
  try {
    parsed = parseKeysArgs(rest, sub === 'revoke');
  } catch (err) {
    return fail(argumentError('keys', err));
  }
  const { values, positionals } = parsed;
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke')
    return fail(
      `${sub === undefined || sub.startsWith('-') ? 'create, list or revoke first' : `no subcommand '${sub}'`}. See 'rebook keys --help'.`,
    );
  const role = (values.role ?? 'admin') as Role;
  if (!roles.includes(role)) return fail(`--role must be admin or staff\n${KEYS_USAGE}`);
  if (sub === 'revoke' && positionals.length !== 1) return fail(`revoke takes one key id\n${KEYS_USAGE}`);

  const remote = chooseApiTarget(values, env);
  if ('error' in remote) return fail(remote.error, 1);
  if ('target' in remote)
    return keysThroughApi(
      {
        sub,
        agency: values.agency,
        clinic: values.clinic,
        role,
        label: values.label,
        all: values.all,
        id: positionals[0],
      },
      remote.target,
    );

  const opened = await openCommandDatabase(env, sub === 'list' ? 'read' : 'write');
  if (!opened.database) return fail(opened.why, 1);
  const { database } = opened;
  try {
    if (sub === 'create') {
      let config: LoadedConfig;
      try {
        config = loadConfig(values.config ?? env.REBOOK_CONFIG_DIR);
      } catch (err) {
        if (err instanceof ConfigError)
          return fail(`the configuration does not load (run \`rebook config validate\`):\n${err.message}`, 1);
        throw err;
      }
      const { key, record } = await createApiKey(database.db, config, {
        role,
        ...(values.agency ? { agencyId: values.agency } : {}),
        ...(values.clinic ? { clinicId: values.clinic } : {}),
        ...(values.label ? { label: values.label } : {}),
      });
      const scope = record.clinicId
        ? `clinic ${record.clinicId}${record.agencyId ? ` (agency ${record.agencyId})` : ''}`
        : `agency ${record.agencyId}`;
      process.stdout.write(`${key}\n`);
      process.stderr.write(
        `created key ${record.id}: ${record.role} of ${scope}. It is shown only now; store it safely.\n`,
      );
      return 0;
    }
    if (sub === 'list') {
      const keys = await listApiKeys(database.db, {
        ...(values.agency ? { agencyId: values.agency } : {}),
        ...(values.clinic ? { clinicId: values.clinic } : {}),
        includeRevoked: values.all,
      });
      process.stdout.write(renderKeysTable(keys));
      return 0;
    }
    const id = positionals[0]!;
    if (!(await revokeApiKey(database.db, id))) return fail(`no live key "${id}"`, 1);
    process.stdout.write(`revoked ${id}\n`);
    return 0;
  } catch (err) {
    if (err instanceof RebookError) return fail(err.message, 1);
    throw err;
  } finally {
    await opened.close();
  }
}
