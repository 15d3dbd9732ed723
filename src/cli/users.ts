/**
 * `rebook users`: console accounts for production (the console's Users page does the same
 * while the server runs). A new user, or a reset, gets a one-time link printed here; no password
 * ever passes through the command line.
 *   rebook users create --email E --name N --role agency_admin|clinic_manager|front_desk [--agency A] [--clinics a,b]
 *   rebook users list [--all]
 *   rebook users revoke EMAIL
 *   rebook users reset-link EMAIL
 *   rebook users totp-off EMAIL
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { createLink, type LinkPurpose, linkPath } from '../console/accounts/links.js';
import { removeTotp } from '../console/accounts/two-step.js';
import { createUser, findUserByEmail, listUsers, revokeUser } from '../console/accounts/users.js';
import { audit } from '../console/audit.js';
import type { Database } from '../db/client.js';
import { type ConsoleRole, consoleRoles } from '../db/schema.js';
import type { Env } from '../env.js';
import { RebookError } from '../errors.js';
import { textTable } from '../text/table.js';
import { argumentError, type CommandContext } from './command.js';
import { openCommandDatabase } from './database.js';

export const USERS_USAGE = `usage:
  rebook users create --email E --name N --role agency_admin|clinic_manager|front_desk [--agency A] [--clinics a,b] [--url BASE]
  rebook users list [--all]                 (--all: revoked users too)
  rebook users revoke EMAIL                 (ends every session of theirs at once)
  rebook users reset-link EMAIL [--url BASE]
  rebook users totp-off EMAIL               (a lost authenticator: they sign in with the password alone)

create and reset-link print a one-time link (invitation: 7 days; reset: 1 hour) where the person
chooses a password. --url is where the console is served (default http://HOST:PORT).
`;

export const usage = USERS_USAGE;

export function run(argv: string[], { env }: CommandContext): Promise<number> {
  return usersCommand(argv, env);
}

const EMAIL_SUBCOMMANDS = ['revoke', 'reset-link', 'totp-off'];
const takesEmail = (sub: string | undefined) => EMAIL_SUBCOMMANDS.includes(sub ?? '');

function fail(message: string, code = 2): number {
  process.stderr.write(`rebook users: ${message}\n`);
  return code;
}

/** Creates a user and returns their one-time link (used by `rebook dev` for the first admin too). */
export async function createUserWithLink(
  database: Database,
  configDir: string,
  u: { email: string; name: string; role: ConsoleRole; agencyId?: string; clinicIds: string[] },
  baseUrl: string,
  purpose: LinkPurpose = 'invite',
): Promise<string> {
  const user = await createUser(database.db, loadConfig(configDir), u);
  return `${baseUrl}${linkPath(await createLink(database.db, user.id, purpose, new Date()))}`;
}

export async function usersCommand(
  argv: string[],
  env: Pick<Env, 'REBOOK_CONFIG_DIR' | 'REBOOK_DATA_DIR' | 'DATABASE_URL' | 'HOST' | 'PORT'>,
): Promise<number> {
  const [sub, ...rest] = argv;
  const parsed = (() => {
    try {
      return parseArgs({
        // An option before the subcommand is parsed too, so a mistyped one is named as such.
        args: sub?.startsWith('-') ? argv : rest,
        strict: true,
        allowPositionals: takesEmail(sub),
        options: {
          email: { type: 'string' },
          name: { type: 'string' },
          role: { type: 'string' },
          agency: { type: 'string' },
          clinics: { type: 'string' },
          url: { type: 'string' },
          all: { type: 'boolean', default: false },
        },
      });
    } catch (err) {
      return err as Error;
    }
  })();
  if (parsed instanceof Error) return fail(argumentError('users', parsed));
  const { values, positionals } = parsed;
  if (!['create', 'list', ...EMAIL_SUBCOMMANDS].includes(sub ?? ''))
    return fail(
      `${sub === undefined || sub.startsWith('-') ? 'create, list, revoke, reset-link or totp-off first' : `no subcommand '${sub}'`}. See 'rebook users --help'.`,
    );
  if (takesEmail(sub) && positionals.length !== 1) return fail(`${sub} takes one email address\n${USERS_USAGE}`);
  if (sub === 'create' && (!values.email || !values.name || !values.role))
    return fail(`create needs --email, --name and --role\n${USERS_USAGE}`);
  if (values.role && !consoleRoles.includes(values.role as ConsoleRole))
    return fail(`--role must be one of ${consoleRoles.join(', ')}`);
  const base = (values.url ?? `http://${env.HOST}:${env.PORT}`).replace(/\/$/, '');

  const opened = await openCommandDatabase(env, sub === 'list' ? 'read' : 'write');
  if (!opened.database) return fail(opened.why, 1);
  const { database } = opened;
  try {
    if (sub === 'create') {
      const link = await createUserWithLink(
        database,
        env.REBOOK_CONFIG_DIR,
        {
          email: values.email!,
          name: values.name!,
          role: values.role as ConsoleRole,
          ...(values.agency ? { agencyId: values.agency } : {}),
          clinicIds: (values.clinics ?? '')
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean),
        },
        base,
      );
      process.stdout.write(`${link}\n`);
      process.stderr.write('created the user: the link above works once, for 7 days. Send it to them privately.\n');
      return 0;
    }
    if (sub === 'list') {
      const users = await listUsers(database.db, { includeRevoked: values.all });
      const day = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : '-');
      const rows = [
        ['id', 'email', 'role', 'agency', 'clinics', 'password', 'two-step', 'created', 'revoked'],
        ...users.map((u) => [
          u.id,
          u.email,
          u.role,
          u.agencyId ?? '-',
          u.clinicIds.join(',') || '-',
          u.passwordHash ? 'set' : 'not yet',
          u.totpSecret ? 'on' : '-',
          day(u.createdAt),
          day(u.revokedAt),
        ]),
      ];
      process.stdout.write(`${textTable(rows, ['l', 'l', 'l', 'l', 'l', 'l', 'l', 'l', 'l']).join('\n')}\n`);
      return 0;
    }
    const user = await findUserByEmail(database.db, positionals[0]!);
    if (!user || user.revokedAt) return fail(`no live user "${positionals[0]}"`, 1);
    if (sub === 'revoke') {
      await revokeUser(database.db, user.id, new Date());
      process.stdout.write(`revoked ${user.email}\n`);
      return 0;
    }
    if (sub === 'totp-off') {
      await removeTotp(database.db, user.id);
      // The operator is not a console user: the entry names the action and its target only.
      await audit(database.db, {
        userId: null,
        role: 'operator',
        action: 'user.totp_reset',
        target: user.id,
        at: new Date(),
      });
      process.stdout.write(`two-step sign-in turned off for ${user.email}\n`);
      return 0;
    }
    const token = await createLink(database.db, user.id, 'reset', new Date());
    process.stdout.write(`${base}${linkPath(token)}\n`);
    process.stderr.write('the link above works once, for one hour.\n');
    return 0;
  } catch (err) {
    if (err instanceof RebookError) return fail(err.message, 1);
    if (err instanceof ConfigError)
      return fail(`the configuration does not load (run \`rebook config validate\`):\n${err.message}`, 1);
    throw err;
  } finally {
    await opened.close();
  }
}
