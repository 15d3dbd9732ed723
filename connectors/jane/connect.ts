/**
 * `rebook connect jane --clinic X --redirect-uri URI [--scope S]`
 * A clinic's first OAuth authorization (authorization code + PKCE S256): prints the
 * authorization URL for the clinic's Jane admin, reads back the code — or the whole address Jane
 * redirected to, whose `state` is checked — exchanges it, and keeps the refresh token sealed in
 * the database (connectors/sealed-state.ts), where the connector picks it up and rotates it.
 * Tokens are never printed.
 * https://developers.janeapp.com/authentication  ·  RFC 7636
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { openCommandDatabase } from '../../src/cli/database.js';
import { clinicOrThrow, loadConfig } from '../../src/config/load.js';
import type { Env } from '../../src/env.js';
import type { Logger } from '../../src/log.js';
import { ApiCallCounter, createVendorHttp } from '../http.js';
import { sealSecret, writeSealedState } from '../sealed-state.js';
import { credential, requireCredential } from '../shared.js';
import { JANE_REFRESH_STATE_KEY } from './index.js';
import { authorizationUrl, createPkcePair, exchangeCode } from './oauth.js';

export const CONNECT_JANE_USAGE =
  'usage: rebook connect jane --clinic <id> --redirect-uri <the redirect URI registered for the partner app> [--scope S]\n';

/** The code from what the admin pasted: the code itself, or the redirect address carrying it (state checked). */
export function codeFromAnswer(answer: string, state: string): { code: string } | { error: string } {
  const text = answer.trim();
  if (!/^https?:\/\//i.test(text)) return text ? { code: text } : { error: 'no code given' };
  const params = new URL(text).searchParams;
  if (params.get('error')) return { error: `Jane answered ${params.get('error')}` };
  if (params.get('state') !== state) return { error: 'the address does not carry this session’s state: start again' };
  const code = params.get('code');
  return code ? { code } : { error: 'the address carries no code' };
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
  const fail = (message: string, code = 1) => (io.err.write(`rebook connect jane: ${message}\n`), code);
  let values;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: { clinic: { type: 'string' }, 'redirect-uri': { type: 'string' }, scope: { type: 'string' } },
    }).values;
  } catch (e) {
    return fail(`${(e as Error).message}\n${CONNECT_JANE_USAGE}`, 2);
  }
  if (!values.clinic || !values['redirect-uri']) return fail(CONNECT_JANE_USAGE, 2);
  const clinic = clinicOrThrow(loadConfig(env.REBOOK_CONFIG_DIR), values.clinic);
  const apiBaseUrl = clinic.connector?.apiBaseUrl;
  if (clinic.platform !== 'jane' || !apiBaseUrl)
    return fail(`clinic ${clinic.id} is not a Jane clinic with connector.apiBaseUrl`, 2);
  const clientId = requireCredential(clinic, 'clientId', env.secrets);
  const clientSecret = credential(clinic, 'clientSecret', env.secrets);
  // Before sending anyone through the browser (a code is good once): the refresh token must be
  // sealable and the database writable.
  sealSecret('probe', 'probe', env.secrets);
  const opened = await openCommandDatabase(env, 'write');
  if (!opened.database) return fail(opened.why);
  const db = opened.database.db;
  try {
    const pkce = createPkcePair();
    const state = randomBytes(16).toString('base64url');
    const redirectUri = values['redirect-uri'];
    io.out.write(
      `Open this address as ${clinic.id}'s Jane administrator and allow access:\n\n  ${authorizationUrl({ apiBaseUrl, clientId, redirectUri, state, pkce, ...(values.scope ? { scope: values.scope } : {}) })}\n\n`,
    );
    io.out.write('Then paste the code, or the whole address Jane sent you to: ');
    const got = codeFromAnswer((await firstLine(io.input)) ?? '', state);
    if ('error' in got) return fail(got.error);

    const http = createVendorHttp({
      platform: 'jane',
      clinicId: clinic.id,
      baseURL: apiBaseUrl,
      counter: new ApiCallCounter(),
      log: env.log,
      retry: { attempts: 2, baseDelayMs: 500, maxDelayMs: 2_000 },
    });
    const tokens = await exchangeCode(http, {
      apiBaseUrl,
      clientId,
      ...(clientSecret ? { clientSecret } : {}),
      code: got.code,
      redirectUri,
      verifier: pkce.verifier,
    });
    if (!tokens.refresh_token)
      return fail('Jane granted no refresh token (is offline access enabled for the partner app?)');
    await writeSealedState(db, clinic.id, 'jane', JANE_REFRESH_STATE_KEY, tokens.refresh_token, env.secrets);
    io.out.write(
      `\nconnected: ${clinic.id} (refresh token sealed in the database, ${opened.where}; the connector renews and rotates it from here)\n`,
    );
    return 0;
  } finally {
    await opened.close();
  }
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
