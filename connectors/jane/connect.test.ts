/**
 * Sealed connector secrets (Jane's refresh token at rest): sealed values do not open with another
 * key, on another row, or tampered; key rotation keeps old values readable. The authorization
 * command that stores the first one is tested in test/cli/connect-jane.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { newEncryptionKeySpec } from '../../src/temporal/codec.js';
import { SECRETS } from '../../test/helpers/connector-stack.js';
import { openSecret, SECRETS_KEY_ENV, sealSecret } from '../sealed-state.js';

const secrets = { ...SECRETS, [SECRETS_KEY_ENV]: newEncryptionKeySpec('s1') } as NodeJS.ProcessEnv;

describe('sealed connector secrets', () => {
  const aad = 'jane-clinic/jane/oauth.refresh_token';
  it('round-trips, uses a fresh IV each time, and falls back to the payload keys through a derived subkey', () => {
    const a = sealSecret('refresh-xyz', aad, secrets);
    const b = sealSecret('refresh-xyz', aad, secrets);
    expect(a).not.toBe(b);
    expect(openSecret(a, aad, secrets)).toBe('refresh-xyz');
    const payloadOnly = { REBOOK_ENCRYPTION_KEYS: newEncryptionKeySpec('p1') } as NodeJS.ProcessEnv;
    const c = sealSecret('refresh-xyz', aad, payloadOnly);
    expect(c).toMatch(/^sealed:v1:p1:/);
    expect(openSecret(c, aad, payloadOnly)).toBe('refresh-xyz');
  });

  it('does not open on another row, with another key, or tampered; rotation keeps old values readable', () => {
    const sealed = sealSecret('refresh-xyz', aad, secrets);
    expect(() => openSecret(sealed, 'other-clinic/jane/oauth.refresh_token', secrets)).toThrow(/does not open/);
    const otherKey = { [SECRETS_KEY_ENV]: newEncryptionKeySpec('s1') } as NodeJS.ProcessEnv;
    expect(() => openSecret(sealed, aad, otherKey)).toThrow(/does not open/);
    // A character well inside the base64 (the last ones may be padding bits the decoder ignores).
    const at = sealed.length - 10;
    const flipped = sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
    expect(() => openSecret(flipped, aad, secrets)).toThrow(/does not open/);
    // A new key first, the old one kept: old values open, new ones are sealed with the new key.
    const rotated = {
      [SECRETS_KEY_ENV]: `${newEncryptionKeySpec('s2')},${secrets[SECRETS_KEY_ENV]}`,
    } as NodeJS.ProcessEnv;
    expect(openSecret(sealed, aad, rotated)).toBe('refresh-xyz');
    expect(sealSecret('refresh-xyz', aad, rotated)).toMatch(/^sealed:v1:s2:/);
    expect(() =>
      openSecret(sealed, aad, { [SECRETS_KEY_ENV]: newEncryptionKeySpec('s3') } as NodeJS.ProcessEnv),
    ).toThrow(/key "s1", which is not configured/);
  });

  it('a value stored before sealing existed is read as is', () => {
    expect(openSecret('legacy-plain-refresh', aad, secrets)).toBe('legacy-plain-refresh');
  });
});
