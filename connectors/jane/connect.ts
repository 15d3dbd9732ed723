/**
 * A Jane clinic's first OAuth authorization (authorization code + PKCE S256), the part that
 * talks to Jane: the authorization address for the clinic's admin, the code read back from what
 * the admin pasted (the `state` of a redirect address checked), and the exchange whose refresh
 * token is kept sealed in the database (connectors/sealed-state.ts), where the connector picks it
 * up and rotates it. Tokens are never returned to the caller. The command is src/cli/connect-jane.ts.
 * https://developers.janeapp.com/authentication  ·  RFC 7636
 */
import { randomBytes } from 'node:crypto';
import type { ClinicConfig } from '../../src/config/schema.js';
import type { Db } from '../../src/db/client.js';
import type { Logger } from '../../src/log.js';
import { ApiCallCounter, createVendorHttp } from '../http.js';
import { sealSecret, writeSealedState } from '../sealed-state.js';
import { credential, requireCredential } from '../shared.js';
import { JANE_REFRESH_STATE_KEY } from './index.js';
import { authorizationUrl, createPkcePair, exchangeCode, type PkcePair } from './oauth.js';

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

/** One authorization attempt: where to send the admin, and what the exchange needs afterwards. */
export interface JaneAuthorization {
  url: string;
  state: string;
  complete(code: string, db: Db): Promise<{ sealed: boolean }>;
}

/**
 * Starts an authorization for a Jane clinic, or answers why the clinic cannot take one. Checks
 * first that the refresh token will be sealable (a code is good once: fail before the browser step).
 */
export function startJaneAuthorization(
  clinic: ClinicConfig,
  options: { redirectUri: string; scope?: string; secrets: NodeJS.ProcessEnv; log: Logger },
): JaneAuthorization | { error: string } {
  const apiBaseUrl = clinic.connector?.apiBaseUrl;
  if (clinic.platform !== 'jane' || !apiBaseUrl)
    return { error: `clinic ${clinic.id} is not a Jane clinic with connector.apiBaseUrl` };
  const clientId = requireCredential(clinic, 'clientId', options.secrets);
  const clientSecret = credential(clinic, 'clientSecret', options.secrets);
  sealSecret('probe', 'probe', options.secrets);
  const pkce: PkcePair = createPkcePair();
  const state = randomBytes(16).toString('base64url');
  const { redirectUri } = options;
  return {
    url: authorizationUrl({
      apiBaseUrl,
      clientId,
      redirectUri,
      state,
      pkce,
      ...(options.scope ? { scope: options.scope } : {}),
    }),
    state,
    async complete(code, db) {
      const http = createVendorHttp({
        platform: 'jane',
        clinicId: clinic.id,
        baseURL: apiBaseUrl,
        counter: new ApiCallCounter(),
        log: options.log,
        retry: { attempts: 2, baseDelayMs: 500, maxDelayMs: 2_000 },
      });
      const tokens = await exchangeCode(http, {
        apiBaseUrl,
        clientId,
        ...(clientSecret ? { clientSecret } : {}),
        code,
        redirectUri,
        verifier: pkce.verifier,
      });
      if (!tokens.refresh_token) return { sealed: false };
      await writeSealedState(db, clinic.id, 'jane', JANE_REFRESH_STATE_KEY, tokens.refresh_token, options.secrets);
      return { sealed: true };
    },
  };
}
