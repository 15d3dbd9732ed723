/**
 * Connector secrets kept in the database (Jane's rotating OAuth refresh token) are sealed with
 * AES-256-GCM, so a database dump, a backup or a read replica does not hand out API access to a
 * clinic's patient records. The key is REBOOK_SECRETS_KEY (`keyId:base64(32 bytes)[,…]`, the first
 * seals) or, when unset, the Temporal payload keys in REBOOK_ENCRYPTION_KEYS — never used as is:
 * a subkey is derived with HKDF and a purpose label. A sealed value names its key id (rotation:
 * put a new key first, keep the old one until every value was rewritten) and is bound to its
 * clinic, platform and name, so it cannot be moved to another row. No key, no storing: a secret
 * is never written in the clear.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Db } from '../src/db/client.js';
import { readState, writeState } from '../src/db/connector-store.js';
import { RebookError } from '../src/errors.js';
import { type EncryptionKey, parseEncryptionKeys } from '../src/temporal/codec.js';

export const SECRETS_KEY_ENV = 'REBOOK_SECRETS_KEY';
/** The payload keys' default variable (temporal.yaml `encryption.keysEnv`). */
export const PAYLOAD_KEYS_ENV = 'REBOOK_ENCRYPTION_KEYS';
const PREFIX = 'sealed:v1:';
const PURPOSE = 'rebook connector secrets v1';

function sealingKeys(secrets: NodeJS.ProcessEnv): EncryptionKey[] {
  const spec = secrets[SECRETS_KEY_ENV] || secrets[PAYLOAD_KEYS_ENV];
  if (!spec)
    throw new RebookError(
      'config_invalid',
      `${SECRETS_KEY_ENV} (or ${PAYLOAD_KEYS_ENV}) must be set to keep connector secrets in the database`,
    );
  return parseEncryptionKeys(spec).map((k) => ({
    id: k.id,
    key: Buffer.from(hkdfSync('sha256', k.key, Buffer.alloc(0), PURPOSE, 32)),
  }));
}

/** Seals `plain` for the row named by `aad` (clinic/platform/key). */
export function sealSecret(plain: string, aad: string, secrets: NodeJS.ProcessEnv): string {
  const [current] = sealingKeys(secrets);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', current!.key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `${PREFIX}${current!.id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
}

/**
 * The plain value of a sealed one. A value without the sealed prefix was written before sealing
 * existed: it is returned as is (and sealed the next time it is written).
 */
export function openSecret(stored: string, aad: string, secrets: NodeJS.ProcessEnv): string {
  if (!stored.startsWith(PREFIX)) return stored;
  const rest = stored.slice(PREFIX.length);
  const i = rest.indexOf(':');
  const keyId = rest.slice(0, i);
  const key = sealingKeys(secrets).find((k) => k.id === keyId);
  if (!key)
    throw new RebookError(
      'config_invalid',
      `connector secret sealed with key "${keyId}", which is not configured (${SECRETS_KEY_ENV})`,
    );
  const raw = Buffer.from(rest.slice(i + 1), 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new RebookError(
      'config_invalid',
      'connector secret does not open with the configured key (tampered, or sealed for another row)',
    );
  }
}

const aadOf = (clinicId: string, platform: string, key: string) => `${clinicId}/${platform}/${key}`;

export async function readSealedState(
  db: Db,
  clinicId: string,
  platform: string,
  key: string,
  secrets: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const stored = await readState(db, clinicId, platform, key);
  return stored === undefined ? undefined : openSecret(stored, aadOf(clinicId, platform, key), secrets);
}

export async function writeSealedState(
  db: Db,
  clinicId: string,
  platform: string,
  key: string,
  value: string,
  secrets: NodeJS.ProcessEnv,
): Promise<void> {
  await writeState(db, clinicId, platform, key, sealSecret(value, aadOf(clinicId, platform, key), secrets));
}
