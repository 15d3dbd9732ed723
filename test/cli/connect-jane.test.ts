/**
 * Jane's first authorization and the refresh token at rest: `rebook connect jane` prints the PKCE
 * authorization URL, takes back the redirect address, exchanges the code (nock checks the
 * verifier against the printed challenge), and stores the refresh token sealed; the connector then
 * refreshes with it and seals the rotated one. Nothing is stored without a key.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiCallCounter } from '../../connectors/http.js';
import { codeFromAnswer } from '../../connectors/jane/connect.js';
import { JANE_REFRESH_STATE_KEY, janeClient } from '../../connectors/jane/index.js';
import { readSealedState, SECRETS_KEY_ENV } from '../../connectors/sealed-state.js';
import { createConnectorRuntime } from '../../connectors/shared.js';
import { connectJaneCommand } from '../../src/cli/connect-jane.js';
import { createConfigStore } from '../../src/config/store.js';
import { openDatabase } from '../../src/db/client.js';
import { readState } from '../../src/db/connector-store.js';
import { embeddedDir } from '../../src/db/embedded-lock.js';
import { createLogger } from '../../src/log.js';
import { newEncryptionKeySpec } from '../../src/temporal/codec.js';
import { connectorConfigDir, SECRETS } from '../helpers/connector-stack.js';
import { sink } from '../helpers/sink.js';

const ORIGIN = 'https://kits-skin.janeapp.test';
const REDIRECT = 'https://rebook.example.com/oauth/jane/callback';
const log = createLogger({ level: 'silent' });
const secrets = { ...SECRETS, [SECRETS_KEY_ENV]: newEncryptionKeySpec('s1') } as NodeJS.ProcessEnv;
let configDir: string;
let dataDir: string;

beforeAll(() => {
  nock.disableNetConnect();
  configDir = connectorConfigDir();
  dataDir = mkdtempSync(join(tmpdir(), 'rebook-jane-connect-'));
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(() => {
  rmSync(configDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
  nock.enableNetConnect();
});

describe('rebook connect jane', () => {
  it('PKCE authorization → code exchange → refresh token sealed at rest → the connector refreshes with it and seals the rotated one', async () => {
    const env = { REBOOK_CONFIG_DIR: configDir, REBOOK_DATA_DIR: dataDir, secrets, log };
    const input = new PassThrough();
    const out = sink();
    let challenge = '';
    let verifierSent = '';
    nock(ORIGIN)
      .post('/oauth/token', (b) => {
        verifierSent = b.code_verifier;
        return (
          b.grant_type === 'authorization_code' &&
          b.code === 'auth-code-123' &&
          b.redirect_uri === REDIRECT &&
          b.client_id === SECRETS.JANE_CLIENT_ID
        );
      })
      .reply(200, {
        access_token: 'jane-access-A',
        refresh_token: 'jane-refresh-FIRST',
        expires_in: 7200,
        token_type: 'Bearer',
      });

    const errOut = sink();
    const running = connectJaneCommand(['--clinic', 'jane-clinic', '--redirect-uri', REDIRECT], env, {
      input,
      out: out.stream,
      err: errOut.stream,
    });
    // The admin opens the printed address and comes back from Jane's redirect.
    const url = await new Promise<URL>((resolve) => {
      const poll = setInterval(() => {
        const m = /(https:\/\/\S+\/oauth\/authorize\S+)/.exec(out.text());
        if (m) {
          clearInterval(poll);
          resolve(new URL(m[1]!));
        }
      }, 10);
    });
    expect(url.origin).toBe(ORIGIN);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT);
    challenge = url.searchParams.get('code_challenge')!;
    input.write(`${REDIRECT}?code=auth-code-123&state=${url.searchParams.get('state')}\n`);
    expect(await running).toBe(0);
    expect(errOut.text()).toBe('');
    // The verifier sent with the code is the one behind the printed challenge (RFC 7636 S256).
    expect(createHash('sha256').update(verifierSent).digest('base64url')).toBe(challenge);
    expect(out.text()).toMatch(/connected: jane-clinic/);
    expect(out.text()).not.toMatch(/jane-refresh-FIRST|jane-access-A/);

    const database = await openDatabase({ pgliteDir: embeddedDir(dataDir) });
    try {
      const stored = (await readState(database.db, 'jane-clinic', 'jane', JANE_REFRESH_STATE_KEY))!;
      expect(stored).toMatch(/^sealed:v1:s1:/);
      expect(stored).not.toContain('jane-refresh-FIRST');
      expect(await readSealedState(database.db, 'jane-clinic', 'jane', JANE_REFRESH_STATE_KEY, secrets)).toBe(
        'jane-refresh-FIRST',
      );

      // The connector refreshes with the stored token (not the configured one) and seals the rotation.
      nock(ORIGIN)
        .post('/oauth/token', (b) => b.grant_type === 'refresh_token' && b.refresh_token === 'jane-refresh-FIRST')
        .reply(200, { access_token: 'jane-access-B', refresh_token: 'jane-refresh-SECOND', expires_in: 7200 });
      nock(ORIGIN)
        .get('/api/2026-01-01/patients/P-1')
        .matchHeader('authorization', 'Bearer jane-access-B')
        .reply(200, { id: 'P-1', first_name: 'Mira' });
      const clinic = createConfigStore(configDir).current().clinics.get('jane-clinic')!;
      const runtime = createConnectorRuntime({
        secrets,
        log,
        counter: new ApiCallCounter(),
        sleep: async () => undefined,
      });
      expect(await janeClient({ db: database.db, clinic, runtime }).patient('P-1')).toMatchObject({ id: 'P-1' });
      const rotated = (await readState(database.db, 'jane-clinic', 'jane', JANE_REFRESH_STATE_KEY))!;
      expect(rotated).not.toContain('jane-refresh-SECOND');
      expect(await readSealedState(database.db, 'jane-clinic', 'jane', JANE_REFRESH_STATE_KEY, secrets)).toBe(
        'jane-refresh-SECOND',
      );
    } finally {
      await database.close();
    }
  });

  it('refuses a redirect address from another session, an error answer, and a missing key (before the browser step)', async () => {
    expect(codeFromAnswer(`${REDIRECT}?code=c&state=other`, 'mine')).toEqual({ error: expect.stringMatching(/state/) });
    expect(codeFromAnswer(`${REDIRECT}?error=access_denied&state=mine`, 'mine')).toEqual({
      error: 'Jane answered access_denied',
    });
    expect(codeFromAnswer('  plain-code \n', 'mine')).toEqual({ code: 'plain-code' });
    const noKey = { ...SECRETS } as NodeJS.ProcessEnv;
    delete noKey.REBOOK_ENCRYPTION_KEYS;
    delete noKey[SECRETS_KEY_ENV];
    const out = sink();
    await expect(
      connectJaneCommand(
        ['--clinic', 'jane-clinic', '--redirect-uri', REDIRECT],
        { REBOOK_CONFIG_DIR: configDir, REBOOK_DATA_DIR: dataDir, secrets: noKey, log },
        { input: new PassThrough(), out: out.stream, err: sink().stream },
      ),
    ).rejects.toMatchObject({ code: 'config_invalid' });
    expect(out.text()).toBe('');
  });
});
