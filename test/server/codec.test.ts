/**
 * The codec endpoint against a real Temporal dev server started as `rebook dev` starts it (with
 * --ui-codec-endpoint): payloads of a real history, written encrypted by a client with our codec,
 * decode through HTTP to what was sent; the token is required; CORS answers the UI's origin only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { buildApp } from '../../src/server/app.js';
import { AesGcmPayloadCodec, newEncryptionKeySpec, parseEncryptionKeys } from '../../src/temporal/codec.js';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server.js';
import { loadTemporalSettings } from '../../src/temporal/settings.js';
import { temporalBinaries } from '../helpers/binaries.js';
import { freePort } from '../helpers/ports.js';

const TOKEN = 'codec-token-for-tests-0123456789abcdef';
const codec = new AesGcmPayloadCodec(parseEncryptionKeys(newEncryptionKeySpec('t1')));
const log = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'rebook-codec-'));
let database: Database;
let app: FastifyInstance;
let base: string;
let temporal: DevServer;
let client: Client;

const asJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

beforeAll(async () => {
  database = await openDatabase({ pgliteMemory: true });
  const config = createConfigStore('config');
  const ingest = createIngest({ db: database.db, config, temporal: new Client(), taskQueue: 'unused', log });
  const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  app = await buildApp({
    db: database.db,
    config,
    ingest,
    log,
    secrets: {},
    codec: { codec, token: TOKEN, origins: [`http://127.0.0.1:${uiPort}`] },
  });
  base = await app.listen({ port, host: '127.0.0.1' });
  const settings = loadTemporalSettings('temporal.yaml', {});
  temporal = await startDevServer(
    { ...settings, devServer: { ...settings.devServer, port: temporalPort, uiPort } },
    dir,
    { ...process.env, TEMPORAL_CLI_PATH: temporalBinaries().cli },
    `${base}/codec/t/${TOKEN}`,
  );
  client = new Client({
    connection: await Connection.connect({ address: temporal.address }),
    dataConverter: { payloadCodecs: [codec] },
  });
}, 120_000);

afterAll(async () => {
  await client?.connection.close();
  await temporal?.stop();
  await app?.close();
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('codec endpoint', () => {
  it('decodes the encrypted input of a real history, by bearer token and by path token', async () => {
    const input = { clinicId: 'demo-clinic', firstName: 'Ada', note: 'codec round trip' };
    const handle = await client.workflow.start('codecProbe', {
      taskQueue: 'codec-test-no-worker',
      workflowId: `codec-${Date.now()}`,
      args: [input],
    });
    const history = await client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId: handle.workflowId },
    });
    const started = history.history!.events![0]!.workflowExecutionStartedEventAttributes!;
    const stored = started.input!.payloads! as Payload[];
    // What the cluster holds is ciphertext: no trace of the name.
    expect(Buffer.from(stored[0]!.data!).toString('latin1')).not.toContain('Ada');
    expect(Buffer.from(stored[0]!.metadata!.encoding!).toString()).toBe('binary/encrypted');

    for (const [path, headers] of [
      ['/codec/decode', { authorization: `Bearer ${TOKEN}` }],
      [`/codec/t/${TOKEN}/decode`, {}],
    ] as const) {
      const res = await post(path, { payloads: stored.map(asJson) }, headers);
      expect(res.status).toBe(200);
      const { payloads } = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
      expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
      expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual(input);
    }
    await handle.terminate('test over');
  });

  it('encodes what it decodes back (the UI encodes signal input with /encode)', async () => {
    const plain = defaultPayloadConverter.toPayload({ outcome: 'booked' });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const enc = (await (await post('/codec/encode', { payloads: [asJson(plain)] }, auth)).json()) as {
      payloads: unknown[];
    };
    const res = await post('/codec/decode', enc, auth);
    expect(((await res.json()) as { payloads: unknown[] }).payloads).toEqual([asJson(plain)]);
  });

  it('answers 401 without the token or with another, 400 naming a payload that does not decrypt', async () => {
    const body = { payloads: [] };
    const none = await post('/codec/decode', body);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'unauthorized', field: 'authorization' } });
    expect((await post('/codec/decode', body, { authorization: 'Bearer not-the-token' })).status).toBe(401);
    expect((await post('/codec/t/not-the-token/decode', body)).status).toBe(401);
    // Authentication comes before validation: a bad body without a token is still 401.
    expect((await post('/codec/decode', { nope: 1 })).status).toBe(401);

    const [good] = await codec.encode([defaultPayloadConverter.toPayload('x')]);
    const tampered = asJson(good!);
    tampered.data = `${tampered.data.slice(0, -6)}AAAA==`;
    const bad = await post('/codec/decode', { payloads: [tampered] }, { authorization: `Bearer ${TOKEN}` });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'validation_failed', field: 'payloads.0' } });
  });

  it('answers the preflight of the Temporal UI origin and refuses another origin', async () => {
    const uiOrigin = temporal.uiUrl;
    const preflight = (origin: string) =>
      fetch(`${base}/codec/t/${TOKEN}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
    const allowed = await preflight(uiOrigin);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');

    const refused = await preflight('https://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    // A browser POST from a refused origin is refused even with the right token.
    const post403 = await post(`/codec/t/${TOKEN}/decode`, { payloads: [] }, { origin: 'https://evil.example' });
    expect(post403.status).toBe(403);
    // From the UI's origin, an error answer still carries CORS headers (so the UI can show it).
    const unauth = await post('/codec/decode', { payloads: [] }, { origin: uiOrigin });
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get('access-control-allow-origin')).toBe(uiOrigin);
  });

  it('the dev server started the Web UI with this endpoint configured', async () => {
    const res = await fetch(`${temporal.uiUrl}/api/v1/settings`);
    const settings = (await res.json()) as { Codec?: { Endpoint?: string } };
    expect(settings.Codec?.Endpoint).toBe(`${base}/codec/t/${TOKEN}`);
  });
});
