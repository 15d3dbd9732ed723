/**
 * `rebook connect jane`: a clinic's first OAuth authorization, at the terminal. Prints the
 * authorization address for the clinic's Jane administrator, reads back the code (or the whole
 * address Jane redirected to) and has the Jane connector exchange it and seal the refresh token
 * (connectors/jane/connect.ts). Tokens are never printed.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { codeFromAnswer, startJaneAuthorization } from '../../connectors/jane/connect.js';
import { clinicOrThrow, loadConfig } from '../config/load.js';
import type { Env } from '../env.js';
import { createLogger, type Logger, logFormatFor } from '../log.js';
import { argumentError, type CommandContext } from './command.js';
import { openCommandDatabase } from './database.js';

export const usage = `usage: rebook connect jane --clinic ID --redirect-uri URI [--scope S]

  --clinic ID          a Jane clinic (platform: jane, with connector.apiBaseUrl)
  --redirect-uri URI   the redirect URI registered for the partner app
  --scope S            the scopes to ask for (default: Jane's default for the app)

Prints the address for the clinic's Jane administrator, then reads the code (or the address
Jane sent them to) from standard input. The refresh token is kept sealed in the database.
`;

export function run(argv: string[], { env, secrets }: CommandContext): Promise<number> {
  return connectJaneCommand(argv, {
    ...env,
    secrets,
    log: createLogger({ level: env.LOG_LEVEL, format: logFormatFor(env, process.stdout.isTTY === true) }),
  });
}

export async function connectJaneCommand(
  argv: string[],
  env: Pick<Env, 'REBOOK_CONFIG_DIR' | 'REBOOK_DATA_DIR' | 'DATABASE_URL'> & {
    secrets: NodeJS.ProcessEnv;
    log: Logger;
  },
  io: { input: NodeJS.ReadableStream; out: NodeJS.WritableStream; err: NodeJS.WritableStream } = {
    input: process.stdin,
    out: process.stdout,
    err: process.stderr,
  },
): Promise<number> {
  const fail = (message: string, code = 1) => {
    io.err.write(`rebook connect jane: ${message}\n`);
    return code;
  };
  let values: ReturnType<typeof parseConnectArgs>['values'];
  try {
    values = parseConnectArgs(argv).values;
  } catch (e) {
    return fail(argumentError('connect jane', e), 2);
  }
  if (!values.clinic || !values['redirect-uri']) return fail(`--clinic and --redirect-uri are required\n${usage}`, 2);
  const clinic = clinicOrThrow(loadConfig(env.REBOOK_CONFIG_DIR), values.clinic);
  const authorization = startJaneAuthorization(clinic, {
    redirectUri: values['redirect-uri'],
    ...(values.scope ? { scope: values.scope } : {}),
    secrets: env.secrets,
    log: env.log,
  });
  if ('error' in authorization) return fail(authorization.error, 2);
  const opened = await openCommandDatabase(env, 'write');
  if (!opened.database) return fail(opened.why);
  try {
    io.out.write(
      `Open this address as ${clinic.id}'s Jane administrator and allow access:\n\n  ${authorization.url}\n\n`,
    );
    io.out.write('Then paste the code, or the whole address Jane sent you to: ');
    const got = codeFromAnswer((await firstLine(io.input)) ?? '', authorization.state);
    if ('error' in got) return fail(got.error);
    const { sealed } = await authorization.complete(got.code, opened.database.db);
    if (!sealed) return fail('Jane granted no refresh token (is offline access enabled for the partner app?)');
    io.out.write(
      `\nconnected: ${clinic.id} (refresh token sealed in the database, ${opened.where}; the connector renews and rotates it from here)\n`,
    );
    return 0;
  } finally {
    await opened.close();
  }
}

function parseConnectArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: { clinic: { type: 'string' }, 'redirect-uri': { type: 'string' }, scope: { type: 'string' } },
  });
}

function firstLine(input: NodeJS.ReadableStream): Promise<string | undefined> {
  const rl = createInterface({ input, terminal: false });
  return new Promise((resolve) => {
    rl.once('line', (line) => {
      resolve(line);
      rl.close();
    });
    rl.once('close', () => resolve(undefined));
  });
}
