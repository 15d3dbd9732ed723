/**
 * The API-key routes through the real HTTP app (app.inject) over PGlite: who may create, list and
 * revoke which keys, coded 400s naming the field, the raw key shown once, a revoked key refused.
 * Against a running `rebook dev`: test/e2e/keys-while-dev-runs.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { createApiKey } from '../../src/server/api-keys.js';
import { buildApp } from '../../src/server/app.js';

const CONFIG_KEY = 'solo-config-key-0123456789abcdef';
let dir: string;
let database: Database;
let app: FastifyInstance;
const keys: Record<string, string> = {};

const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, key: string, payload?: unknown) => {
  const res = await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${key}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
    ...(payload ? { payload: JSON.stringify(payload) } : {}),
  });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-key-routes-'));
  mkdirSync(join(dir, 'clinics'));
  mkdirSync(join(dir, 'agencies'));
  writeFileSync(join(dir, 'catalog.yaml'), readFileSync('config/catalog.yaml', 'utf8'));
  writeFileSync(join(dir, 'agencies', 'north.yaml'), 'name: North\n');
  writeFileSync(join(dir, 'agencies', 'south.yaml'), 'name: South\n');
  const clinic = (id: string, extra = '') =>
    `id: ${id}\nname: ${id}\ntimeZone: UTC\nbookingUrl: https://b.example.com/${id}\naddress: 1 St\n${extra}`;
  writeFileSync(join(dir, 'clinics', 'n1.yaml'), clinic('n1', 'agency: north\n'));
  writeFileSync(join(dir, 'clinics', 's1.yaml'), clinic('s1', 'agency: south\n'));
  writeFileSync(join(dir, 'clinics', 'solo.yaml'), clinic('solo', 'apiKeys:\n  - { name: a, env: SOLO_KEY }\n'));
  database = await openDatabase({ pgliteMemory: true });
  const config = createConfigStore(dir);
  const log = createLogger({ level: 'silent' });
  app = await buildApp({
    db: database.db,
    config,
    ingest: createIngest({ db: database.db, config, temporal: new Client(), taskQueue: 'unused', log }),
    log,
    secrets: { SOLO_KEY: CONFIG_KEY },
  });
  const make = async (name: string, scope: Parameters<typeof createApiKey>[2]) => {
    keys[name] = (await createApiKey(database.db, config.current(), scope)).key;
  };
  await make('northAdmin', { agencyId: 'north', role: 'admin' });
  await make('northStaff', { agencyId: 'north', role: 'staff' });
  await make('n1Admin', { agencyId: 'north', clinicId: 'n1', role: 'admin' });
  await make('southAdmin', { agencyId: 'south', role: 'admin' });
  await make('soloAdmin', { clinicId: 'solo', role: 'admin' });
});

afterAll(async () => {
  await app?.close();
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('creating', () => {
  it('an agency admin creates agency and clinic keys; the key is in the answer once, not cached', async () => {
    const agencyWide = await call('POST', '/v1/agencies/north/api-keys', keys.northAdmin!, { label: 'ops' });
    expect(agencyWide.status).toBe(201);
    expect(agencyWide.headers['cache-control']).toBe('no-store');
    expect(agencyWide.body.key).toMatch(/^rbk_[0-9a-f]{12}_/);
    expect(agencyWide.body.apiKey).toMatchObject({
      agencyId: 'north',
      clinicId: null,
      role: 'admin',
      label: 'ops',
      revokedAt: null,
    });
    const clinicKey = await call('POST', '/v1/clinics/n1/api-keys', keys.northAdmin!, { role: 'staff' });
    expect(clinicKey).toMatchObject({
      status: 201,
      body: { apiKey: { agencyId: 'north', clinicId: 'n1', role: 'staff' } },
    });
    const listed = await call('GET', '/v1/api-keys?clinicId=n1', keys.northAdmin!);
    expect(JSON.stringify(listed.body)).not.toContain(clinicKey.body.key.split('_').slice(2).join('_'));
  });

  it('the config key creates keys of its clinic only', async () => {
    const made = await call('POST', '/v1/clinics/solo/api-keys', CONFIG_KEY, {});
    expect(made).toMatchObject({ status: 201, body: { apiKey: { agencyId: null, clinicId: 'solo', role: 'admin' } } });
    expect((await call('POST', '/v1/clinics/n1/api-keys', CONFIG_KEY, {})).status).toBe(404);
    expect((await call('POST', '/v1/agencies/north/api-keys', CONFIG_KEY, {})).status).toBe(404);
  });

  it.each([
    ['a staff key', 'northStaff', '/v1/agencies/north/api-keys', 403],
    ['a clinic-scoped admin key', 'n1Admin', '/v1/clinics/n1/api-keys', 403],
    ['a clinic-scoped admin key (its agency)', 'n1Admin', '/v1/agencies/north/api-keys', 403],
    ['a clinic key without agency', 'soloAdmin', '/v1/clinics/solo/api-keys', 403],
    ['another agency', 'southAdmin', '/v1/agencies/north/api-keys', 404],
    ['another agency’s clinic', 'southAdmin', '/v1/clinics/n1/api-keys', 404],
  ])('%s may not: %s → %i', async (_what, who, url, status) => {
    expect((await call('POST', url, keys[who]!, {})).status).toBe(status);
  });

  it('answers coded 400s naming the field', async () => {
    const role = await call('POST', '/v1/agencies/north/api-keys', keys.northAdmin!, { role: 'owner' });
    expect(role).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(role.body.error.issues).toEqual([expect.objectContaining({ path: 'body.role' })]);
    const extra = await call('POST', '/v1/agencies/north/api-keys', keys.northAdmin!, { clinicId: 'n1' });
    expect(extra.body.error.issues).toEqual([expect.objectContaining({ path: 'body.clinicId' })]);
    const wrong = await call('POST', '/v1/clinics/n1/api-keys', keys.northAdmin!, { agencyId: 'south' });
    expect(wrong).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', field: 'agencyId', issues: [{ path: 'body.agencyId' }] } },
    });
    const badId = await call('DELETE', '/v1/api-keys/not-an-id', keys.northAdmin!);
    expect(badId.body.error.issues).toEqual([expect.objectContaining({ path: 'params.keyId' })]);
    const badFlag = await call('GET', '/v1/api-keys?includeRevoked=yes', keys.northAdmin!);
    expect(badFlag.body.error.issues).toEqual([expect.objectContaining({ path: 'query.includeRevoked' })]);
  });
});

describe('listing and revoking', () => {
  it('each manager lists only the keys it manages', async () => {
    const north = await call('GET', '/v1/api-keys', keys.northAdmin!);
    expect(north.status).toBe(200);
    expect(new Set(north.body.apiKeys.map((k: { agencyId: string }) => k.agencyId))).toEqual(new Set(['north']));
    const solo = await call('GET', '/v1/api-keys', CONFIG_KEY);
    expect(solo.body.apiKeys.length).toBeGreaterThan(0);
    expect(solo.body.apiKeys.every((k: { clinicId: string }) => k.clinicId === 'solo')).toBe(true);
    expect((await call('GET', '/v1/api-keys', keys.n1Admin!)).status).toBe(403);
    expect((await call('GET', '/v1/api-keys', keys.northStaff!)).status).toBe(403);
  });

  it('a revoked key answers 401; revoking again is a conflict; other tenants’ keys are unknown', async () => {
    const made = await call('POST', '/v1/clinics/n1/api-keys', keys.northAdmin!, { label: 'to revoke' });
    const { key, apiKey } = made.body;
    expect((await call('GET', '/v1/clinics/n1/messages', key)).status).toBe(200);
    expect((await call('DELETE', `/v1/api-keys/${apiKey.id}`, keys.southAdmin!)).status).toBe(404);
    expect((await call('DELETE', `/v1/api-keys/${apiKey.id}`, CONFIG_KEY)).status).toBe(404);
    const revoked = await call('DELETE', `/v1/api-keys/${apiKey.id}`, keys.northAdmin!);
    expect(revoked).toMatchObject({ status: 200, body: { apiKey: { id: apiKey.id } } });
    expect(revoked.body.apiKey.revokedAt).toEqual(expect.any(String));
    expect(await call('GET', '/v1/clinics/n1/messages', key)).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthorized' } },
    });
    expect((await call('DELETE', `/v1/api-keys/${apiKey.id}`, keys.northAdmin!)).status).toBe(409);
    const all = await call('GET', '/v1/api-keys?includeRevoked=true&clinicId=n1', keys.northAdmin!);
    expect(all.body.apiKeys.map((k: { id: string }) => k.id)).toContain(apiKey.id);
    const live = await call('GET', '/v1/api-keys?clinicId=n1', keys.northAdmin!);
    expect(live.body.apiKeys.map((k: { id: string }) => k.id)).not.toContain(apiKey.id);
  });

  it('the routes are in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/agencies/{agencyId}/api-keys',
        '/v1/clinics/{clinicId}/api-keys',
        '/v1/api-keys',
        '/v1/api-keys/{keyId}',
      ]),
    );
    expect(doc.paths['/v1/clinics/{clinicId}/api-keys'].post.responses['201']).toBeDefined();
  });
});
