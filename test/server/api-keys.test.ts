/** API keys: scope checked against the configuration, lookup by id, hash comparison, revocation. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LoadedConfig, loadConfig } from '../../src/config/load.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { apiKeys } from '../../src/db/schema.js';
import {
  createApiKey,
  findApiKey,
  generateKey,
  keyIdOf,
  listApiKeys,
  revokeApiKey,
  touchApiKey,
} from '../../src/server/api-keys.js';
import { authenticate, canSee } from '../../src/server/auth.js';

let dir: string;
let config: LoadedConfig;
let database: Database;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-api-keys-'));
  mkdirSync(join(dir, 'clinics'));
  mkdirSync(join(dir, 'agencies'));
  writeFileSync(join(dir, 'catalog.yaml'), readFileSync('config/catalog.yaml', 'utf8'));
  writeFileSync(join(dir, 'agencies', 'north.yaml'), 'name: North\n');
  writeFileSync(join(dir, 'agencies', 'south.yaml'), 'name: South\n');
  const clinic = (id: string, extra = '') =>
    `id: ${id}\nname: ${id}\ntimeZone: UTC\nbookingUrl: https://b.example.com/${id}\naddress: 1 St\n${extra}`;
  writeFileSync(join(dir, 'clinics', 'n1.yaml'), clinic('n1', 'agency: north\n'));
  writeFileSync(join(dir, 'clinics', 's1.yaml'), clinic('s1', 'agency: south\n'));
  writeFileSync(
    join(dir, 'clinics', 'solo.yaml'),
    clinic('solo', 'apiKeys:\n  - { name: a, env: SOLO_KEY }\n  - { name: b, env: UNSET_KEY }\n'),
  );
  config = loadConfig(dir);
  database = await openDatabase({ pgliteMemory: true });
});

afterAll(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('creating keys', () => {
  it.each([
    [{}, /needs an agency, a clinic, or both/],
    [{ agencyId: 'west' }, /unknown agency "west"/],
    [{ clinicId: 'nowhere' }, /unknown clinic "nowhere"/],
    [{ agencyId: 'north', clinicId: 's1' }, /clinic "s1" belongs to agency "south"/],
    [{ clinicId: 'n1' }, /clinic "n1" belongs to agency "north"/],
    [{ agencyId: 'north', clinicId: 'solo' }, /clinic "solo" has no agency/],
  ])('refuses scope %o', async (scope, message) => {
    await expect(createApiKey(database.db, config, { ...scope, role: 'admin' })).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(message),
    });
  });

  it('generates distinct high-entropy keys whose id is their public prefix', () => {
    const a = generateKey();
    const b = generateKey();
    expect(a.key).not.toBe(b.key);
    expect(keyIdOf(a.key)).toBe(a.id);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(keyIdOf('rbk_dev_abc')).toBeUndefined();
  });
});

describe('finding keys', () => {
  it('finds a live key by its exact value only; revoked keys are gone', async () => {
    const { key, record } = await createApiKey(database.db, config, { agencyId: 'north', role: 'staff' });
    expect(await findApiKey(database.db, key)).toMatchObject({
      id: record.id,
      agencyId: 'north',
      clinicId: null,
      role: 'staff',
    });
    // Same id, different secret: the hash decides.
    const tampered = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(await findApiKey(database.db, tampered)).toBeUndefined();
    expect(await findApiKey(database.db, 'Bearer-less-garbage')).toBeUndefined();
    expect(await revokeApiKey(database.db, record.id)).toBe(true);
    expect(await revokeApiKey(database.db, record.id)).toBe(false);
    expect(await findApiKey(database.db, key)).toBeUndefined();
    expect((await listApiKeys(database.db, { agencyId: 'north' })).map((k) => k.id)).not.toContain(record.id);
    expect((await listApiKeys(database.db, { agencyId: 'north', includeRevoked: true })).map((k) => k.id)).toContain(
      record.id,
    );
  });

  it('records use at most every few minutes', async () => {
    const { record } = await createApiKey(database.db, config, { clinicId: 'solo', role: 'admin' });
    const t0 = new Date('2026-05-01T10:00:00Z');
    await touchApiKey(database.db, record.id, t0);
    await touchApiKey(database.db, record.id, new Date(t0.getTime() + 60_000));
    const [row] = await database.db.select().from(apiKeys).where(eq(apiKeys.id, record.id));
    expect(row!.lastUsedAt?.toISOString()).toBe(t0.toISOString());
  });

  it('a request with a key used within the interval sends no UPDATE: the row read to authenticate says so', async () => {
    const { key, record } = await createApiKey(database.db, config, { clinicId: 'solo', role: 'admin' });
    let updates = 0;
    const counting = new Proxy(database.db, {
      get(target, prop, receiver) {
        if (prop === 'update') updates++;
        return Reflect.get(target, prop, receiver);
      },
    });
    const lastUsed = async () =>
      (await database.db.select().from(apiKeys).where(eq(apiKeys.id, record.id)))[0]!.lastUsedAt;
    const auth = () => authenticate(key, { db: counting, config, secrets: {} });

    expect((await auth())?.keyId).toBe(record.id);
    await vi.waitFor(async () => expect(await lastUsed()).not.toBeNull());
    expect(updates).toBe(1);
    await auth();
    await auth();
    expect(updates).toBe(1);
    // Past the interval the use is recorded again.
    await database.db
      .update(apiKeys)
      .set({ lastUsedAt: new Date(Date.now() - 6 * 60_000) })
      .where(eq(apiKeys.id, record.id));
    await auth();
    expect(updates).toBe(2);
    await vi.waitFor(async () => expect((await lastUsed())!.getTime()).toBeGreaterThan(Date.now() - 60_000));
  });
});

describe('who sees what', () => {
  it('agency keys see their clinics, clinic keys one, config keys the clinics that name them', async () => {
    const n = (await createApiKey(database.db, config, { agencyId: 'north', role: 'admin' })).key;
    const solo = (await createApiKey(database.db, config, { clinicId: 'solo', role: 'staff' })).key;
    const secrets = { SOLO_KEY: 'solo-config-key-0123456789', UNSET_KEY: '' } as NodeJS.ProcessEnv;
    const seen = async (token: string) => {
      const p = await authenticate(token, { db: database.db, config, secrets });
      return p ? [...config.clinics.values()].filter((c) => canSee(p, c)).map((c) => c.id) : undefined;
    };
    expect(await seen(n)).toEqual(['n1']);
    expect(await seen(solo)).toEqual(['solo']);
    expect(await seen('solo-config-key-0123456789')).toEqual(['solo']);
    // A variable that is unset or empty authorizes nothing.
    expect(await seen('')).toBeUndefined();
    expect(await seen('anything-else-0123456789')).toBeUndefined();
  });
});
