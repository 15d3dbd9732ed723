/**
 * Jane partner OAuth 2.0: authorization code with PKCE (S256) once per clinic, then refresh
 * tokens. The access token lives in memory; a rotated refresh token is kept in connector_state so
 * a restart does not fall back to a spent one.
 * https://developers.janeapp.com/authentication  ·  RFC 7636 (PKCE)
 */
import { createHash, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { VendorHttp } from '../http.js';
import { JANE_AUTHORIZE_PATH, JANE_TOKEN_PATH } from './constants.js';
import { tokenResponse } from './schemas.js';

export interface PkcePair {
  verifier: string;
  challenge: string;
  method: 'S256';
}

/** RFC 7636 §4.1–4.2: a 43-char base64url verifier and its SHA-256 challenge. */
export function createPkcePair(verifier = randomBytes(32).toString('base64url')): PkcePair {
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url'), method: 'S256' };
}

/** The clinic's origin (https://{clinic}.janeapp.com) from its API base URL. */
export function janeOrigin(apiBaseUrl: string): string {
  return new URL(apiBaseUrl).origin;
}

export function authorizationUrl(o: {
  apiBaseUrl: string;
  clientId: string;
  redirectUri: string;
  state: string;
  pkce: PkcePair;
  scope?: string;
}): string {
  const u = new URL(JANE_AUTHORIZE_PATH, janeOrigin(o.apiBaseUrl));
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: o.clientId,
    redirect_uri: o.redirectUri,
    state: o.state,
    code_challenge: o.pkce.challenge,
    code_challenge_method: o.pkce.method,
    ...(o.scope ? { scope: o.scope } : {}),
  }).toString();
  return u.toString();
}

export type TokenSet = z.infer<typeof tokenResponse>;

/** Exchanges the authorization code (with the PKCE verifier) for tokens. */
export function exchangeCode(
  http: VendorHttp,
  o: {
    apiBaseUrl: string;
    clientId: string;
    clientSecret?: string;
    code: string;
    redirectUri: string;
    verifier: string;
  },
): Promise<TokenSet> {
  return http.request(
    {
      method: 'POST',
      url: new URL(JANE_TOKEN_PATH, janeOrigin(o.apiBaseUrl)).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      data: new URLSearchParams({
        grant_type: 'authorization_code',
        code: o.code,
        redirect_uri: o.redirectUri,
        client_id: o.clientId,
        code_verifier: o.verifier,
        ...(o.clientSecret ? { client_secret: o.clientSecret } : {}),
      }).toString(),
    },
    tokenResponse,
  );
}

export function refreshTokens(
  http: VendorHttp,
  o: { apiBaseUrl: string; clientId: string; clientSecret?: string; refreshToken: string },
): Promise<TokenSet> {
  return http.request(
    {
      method: 'POST',
      url: new URL(JANE_TOKEN_PATH, janeOrigin(o.apiBaseUrl)).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      data: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: o.refreshToken,
        client_id: o.clientId,
        ...(o.clientSecret ? { client_secret: o.clientSecret } : {}),
      }).toString(),
    },
    tokenResponse,
  );
}
