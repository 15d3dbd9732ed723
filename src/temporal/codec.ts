/**
 * Payload encryption for Temporal (HIPAA): every payload leaves the process as AES-256-GCM
 * ciphertext, so workflow inputs, signals, activity results and histories at rest in the
 * cluster carry no readable client data. The key id travels in the payload metadata so keys
 * can be rotated: the first key encrypts, every configured key decrypts.
 * Pattern: https://docs.temporal.io/production-deployment/data-encryption
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

// CommonJS package: the default import is its exports object under ESM.
const { temporal } = proto;

const ENCODING = 'binary/encrypted';
const METADATA_ENCODING_KEY = 'encoding';
const METADATA_KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** Parses `id:base64[,id:base64…]` (the format of the env var named in temporal.yaml). */
export function parseEncryptionKeys(spec: string): EncryptionKey[] {
  const keys = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const i = entry.indexOf(':');
      if (i <= 0) throw new Error('encryption keys must be written as keyId:base64key');
      const key = Buffer.from(entry.slice(i + 1), 'base64');
      if (key.length !== 32) throw new Error(`encryption key "${entry.slice(0, i)}" must be 32 bytes (AES-256)`);
      return { id: entry.slice(0, i), key };
    });
  if (keys.length === 0) throw new Error('no encryption key given');
  return keys;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: EncryptionKey;

  constructor(keys: EncryptionKey[]) {
    if (keys.length === 0) throw new Error('AesGcmPayloadCodec needs at least one key');
    this.current = keys[0]!;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCODING),
          [METADATA_KEY_ID]: Buffer.from(this.current.id),
        },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (Buffer.from(p.metadata?.[METADATA_ENCODING_KEY] ?? []).toString() !== ENCODING) return p;
      const keyId = Buffer.from(p.metadata?.[METADATA_KEY_ID] ?? []).toString();
      const key = this.byId.get(keyId);
      // The key id is ours, not client data, so it may appear in the error.
      if (!key) throw new Error(`no decryption key configured for key id "${keyId}"`);
      const data = Buffer.from(p.data ?? []);
      const iv = data.subarray(0, IV_BYTES);
      const tag = data.subarray(data.length - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

export function newEncryptionKeySpec(id = `k${Date.now().toString(36)}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
