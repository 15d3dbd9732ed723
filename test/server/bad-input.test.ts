/**
 * Bad input at the HTTP boundary: bodies and queries validated by the route schemas (400 with
 * every failing path), unknown routes 404, oversized bodies 413, NUL characters 400, rate limits
 * per client IP on the public routes (429 with Retry-After), and the API's own documentation.
 */
import { Client } from '@temporalio/client';
import { eq, inArray } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { clientPlans } from '../../src/db/schema.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { buildApp, DEFAULT_RATE_LIMITS } from '../../src/server/app.js';

const KEY = 'bad-input-test-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
let database: Database;
let app: FastifyInstance;

beforeAll(async () => {
  database = await openDatabase({ pgliteMemory: true });
  const config = createConfigStore('config');
  const log = createLogger({ level: 'silent' });
  app = await buildApp({
    db: database.db,
    config,
    ingest: createIngest({ db: database.db, config, temporal: new Client(), taskQueue: 'unused', log }),
    log,
    secrets: {
      REBOOK_API_KEY: KEY,
      REBOOK_UNSUBSCRIBE_SECRET: 'bad-input-unsubscribe-secret-0123456789',
    } as NodeJS.ProcessEnv,
    rateLimits: { webhooksPerMinute: 3, unsubscribePerMinute: 2 },
  });
});

afterAll(async () => {
  await app?.close();
  await database?.close();
});

const paths = (res: { json(): unknown }) =>
  ((res.json() as { error: { issues?: { path: string }[] } }).error.issues ?? []).map((i) => i.path).sort();

describe('validation: 400 with every failing path', () => {
  it('bodies: wrong types and unknown keys, each named', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: '/v1/clinics/demo-clinic/service-mappings',
      headers: auth,
      payload: { serviceKey: 42, colour: 'red' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
    expect(paths(res)).toEqual(['body.colour', 'body.serviceKey', 'body.treatmentType']);
  });

  it('queries and path parameters', async () => {
    const q = await app.inject({
      method: 'GET',
      url: '/v1/clinics/demo-clinic/sequences?limit=abc&status=paused&extra=1',
      headers: auth,
    });
    expect(q.statusCode).toBe(400);
    expect(paths(q)).toEqual(['query.extra', 'query.limit', 'query.status']);
    const long = await app.inject({
      method: 'GET',
      url: `/v1/clinics/demo-clinic/clients/${'x'.repeat(300)}`,
      headers: auth,
    });
    expect(long.statusCode).toBe(400);
    expect(paths(long)).toEqual(['params.clientId']);
    // Beyond what the router takes, and malformed escapes: still our error shape.
    for (const url of [`/v1/clinics/demo-clinic/clients/${'x'.repeat(600)}`, '/v1/clinics/%ZZ/clients/x']) {
      const res = await app.inject({ method: 'GET', url, headers: auth });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'validation_failed', field: 'url' });
    }
  });

  it('preview bodies and report queries: the failing field named, unknown keys too', async () => {
    const preview = await app.inject({
      method: 'POST',
      url: '/v1/clinics/demo-clinic/preview',
      headers: auth,
      payload: {
        treatmentType: 'neuromodulator',
        date: '2026-03-01',
        price: 'cheap',
        colour: 'red',
        client: { consent: { sms: 'yes', email: true } },
      },
    });
    expect(preview.statusCode).toBe(400);
    expect(preview.json().error.code).toBe('validation_failed');
    expect(paths(preview)).toEqual(['body.client.consent.sms', 'body.colour', 'body.price']);
    const report = await app.inject({
      method: 'GET',
      url: '/v1/clinics/demo-clinic/reports/rebooking?from=2026&treatmentType=&extra=1',
      headers: auth,
    });
    expect(report.statusCode).toBe(400);
    expect(report.json().error.code).toBe('validation_failed');
    expect(paths(report)).toEqual(['query.extra', 'query.from', 'query.treatmentType']);
    const lift = await app.inject({
      method: 'GET',
      url: '/v1/clinics/demo-clinic/reports/lift?from=2026&treatmentType=&extra=1',
      headers: auth,
    });
    expect(lift.statusCode).toBe(400);
    expect(paths(lift)).toEqual(['query.extra', 'query.from', 'query.treatmentType']);
    // Past the schema, the period's own check names its field the same way.
    const period = await app.inject({
      method: 'GET',
      url: '/v1/clinics/demo-clinic/reports/rebooking?from=2026-02-30',
      headers: auth,
    });
    expect(period.statusCode).toBe(400);
    expect(paths(period)).toEqual(['query.from']);
  });

  it('events keep their field-level paths (parsed by shape, not as a union)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/clinics/demo-clinic/events',
      headers: auth,
      payload: { type: 'treatment.completed', client: { id: 'c' } },
    });
    expect(res.statusCode).toBe(400);
    expect(paths(res)).toEqual(
      expect.arrayContaining(['body.client.firstName', 'body.appointmentId', 'body.completedAt']),
    );
  });

  it('malformed JSON and a wrong media type', async () => {
    const bad = await app.inject({
      method: 'PUT',
      url: '/v1/clinics/demo-clinic/service-mappings',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"serviceKey":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_json');
    for (const type of ['text/plain', 'application/xml']) {
      const media = await app.inject({
        method: 'PUT',
        url: '/v1/clinics/demo-clinic/service-mappings',
        headers: { ...auth, 'content-type': type },
        payload: 'hello',
      });
      expect(media.statusCode, type).toBe(415);
      expect(media.json().error.code).toBe('unsupported_media_type');
    }
  });

  it('NUL characters, which PostgreSQL text cannot hold, are refused before any query', async () => {
    const inQuery = await app.inject({
      method: 'GET',
      url: '/v1/clinics/demo-clinic/sequences?clientId=a%00b',
      headers: auth,
    });
    expect(inQuery.statusCode).toBe(400);
    expect(paths(inQuery)).toEqual(['query.clientId']);
    const inBody = await app.inject({
      method: 'POST',
      url: '/v1/clinics/demo-clinic/tasks/00000000-0000-0000-0000-000000000000/claim',
      headers: auth,
      payload: { by: 'desk\u0000' },
    });
    expect(inBody.statusCode).toBe(400);
    expect(paths(inBody)).toEqual(['body.by']);
  });
});

describe('unknown routes and oversized bodies', () => {
  it('404 for an unknown route, with or without /v1 and a key', async () => {
    for (const [url, headers] of [
      ['/nope', {}],
      ['/v1/clinics/demo-clinic/nope', auth],
      ['/v1/nothing', {}],
    ] as const) {
      const res = await app.inject({ method: 'GET', url, headers });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
  });

  it('413 for a body over 1 MB on a JSON route and on a webhook', async () => {
    const big = JSON.stringify({ serviceKey: 'name:x', treatmentType: null, pad: 'x'.repeat(1_100_000) });
    const v1 = await app.inject({
      method: 'PUT',
      url: '/v1/clinics/demo-clinic/service-mappings',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: big,
    });
    expect(v1.statusCode).toBe(413);
    expect(v1.json().error.code).toBe('payload_too_large');
    const hook = await app.inject({
      method: 'POST',
      url: '/webhooks/vagaro/demo-clinic',
      headers: { 'content-type': 'application/json' },
      payload: big,
    });
    expect(hook.statusCode).toBe(413);
  });
});

describe('rate limits per client IP on the public routes', () => {
  it('unsubscribe: past the limit → 429 with Retry-After; another address is not affected', async () => {
    const hit = (ip: string) => app.inject({ method: 'GET', url: '/unsubscribe/not-a-token', remoteAddress: ip });
    expect((await hit('203.0.113.7')).statusCode).toBe(404);
    expect((await hit('203.0.113.7')).statusCode).toBe(404);
    const limited = await hit('203.0.113.7');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await hit('203.0.113.8')).statusCode).toBe(404);
  });

  it('webhooks: their own limit', async () => {
    const hit = () =>
      app.inject({
        method: 'POST',
        url: '/webhooks/vagaro/demo-clinic',
        remoteAddress: '198.51.100.1',
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
    for (let i = 0; i < 3; i++) expect((await hit()).statusCode).not.toBe(429);
    expect((await hit()).statusCode).toBe(429);
  });

  it('the /v1 API is not rate limited by address (keys are its control)', async () => {
    for (let i = 0; i < 10; i++)
      expect(
        (await app.inject({ method: 'GET', url: '/v1/clinics', headers: auth, remoteAddress: '192.0.2.1' })).statusCode,
      ).toBe(200);
  });

  it('defaults leave room for the webhook benchmarks and a person clicking a link', () => {
    expect(DEFAULT_RATE_LIMITS.webhooksPerMinute).toBeGreaterThanOrEqual(1000);
    expect(DEFAULT_RATE_LIMITS.unsubscribePerMinute).toBeGreaterThanOrEqual(10);
  });
});

describe('documentation', () => {
  it('/openapi.json documents every /v1 route with bearer security and the error schema; webhooks stay out', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.Error).toBeDefined();
    const ops = Object.entries(
      doc.paths as Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>,
    ).filter(([p]) => p.startsWith('/v1/'));
    expect(ops.length).toBeGreaterThan(10);
    for (const [p, methods] of ops) {
      for (const [m, op] of Object.entries(methods)) {
        expect(op.security, `${m} ${p}`).toEqual([{ bearerAuth: [] }]);
        expect(Object.keys(op.responses), `${m} ${p}`).toEqual(expect.arrayContaining(['401', '403', '404']));
      }
    }
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/webhooks') || p.startsWith('/unsubscribe'))).toBe(false);
  });

  it('preview and reports document their request and answer schemas', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const preview = doc.paths['/v1/clinics/{clinicId}/preview'].post;
    expect(Object.keys(preview.requestBody.content['application/json'].schema.properties)).toEqual(
      expect.arrayContaining(['treatmentType', 'service', 'completedAt', 'date', 'client', 'price']),
    );
    expect(preview.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Preview',
    });
    expect(doc.components.schemas.Preview.required).toEqual(
      expect.arrayContaining(['stages', 'reactivation', 'incentive']),
    );
    for (const [path, schema] of [
      ['/v1/clinics/{clinicId}/reports/rebooking', 'RebookingReport'],
      ['/v1/agencies/{agencyId}/reports/rebooking', 'AgencyRebookingReport'],
      ['/v1/clinics/{clinicId}/reports/lift', 'LiftReport'],
    ] as const) {
      const op = doc.paths[path].get;
      expect(
        op.parameters
          .filter((p: { in: string }) => p.in === 'query')
          .map((p: { name: string }) => p.name)
          .sort(),
        path,
      ).toEqual(['from', 'to', 'treatmentType']);
      expect(op.responses['200'].content['application/json'].schema, path).toEqual({
        $ref: `#/components/schemas/${schema}`,
      });
    }
  });

  it('/docs serves Swagger UI from this server (no CDN)', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/html/);
    const urls = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) expect(u, u).not.toMatch(/^(https?:)?\/\//);
    const script = urls.find((u) => /swagger-ui-bundle\.js$/.test(u));
    expect(script).toBeDefined();
    const asset = await app.inject({ method: 'GET', url: new URL(script!, 'http://local/docs/').pathname });
    expect(asset.statusCode).toBe(200);
    expect(asset.body.length).toBeGreaterThan(100_000);
  });
});

describe('appointment.no_show at the events API (issue 11)', () => {
  it('is documented in the OpenAPI events body, and a malformed one is refused naming the field', async () => {
    const doc = JSON.stringify((await app.inject({ method: 'GET', url: '/openapi.json' })).json());
    expect(doc).toContain('appointment.no_show');
    const res = await app.inject({
      method: 'POST',
      url: '/v1/clinics/demo-clinic/events',
      headers: auth,
      payload: { type: 'appointment.no_show', clientId: 'c-1' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
    expect(paths(res).join(' ')).toContain('appointmentId');
  });
});

describe('client.membership at the events API (issue 14 §3)', () => {
  const membership = (plan: Record<string, unknown>, occurredAt = '2026-05-01T10:00:00Z') => ({
    type: 'client.membership',
    occurredAt,
    clientId: 'member-1',
    plan: { id: 'plan-1', kind: 'package', name: 'Botox x3', status: 'active', ...plan },
  });

  it('is documented in the OpenAPI events body; malformed plans are refused naming each field', async () => {
    const doc = JSON.stringify((await app.inject({ method: 'GET', url: '/openapi.json' })).json());
    expect(doc).toContain('client.membership');
    expect(doc).toContain('creditsLeft');
    const res = await app.inject({
      method: 'POST',
      url: '/v1/clinics/demo-clinic/events',
      headers: auth,
      payload: membership({
        kind: 'voucher',
        renewsAt: 'next month',
        benefits: [{ treatmentType: 'botox', percentOff: 120 }, { treatmentType: 'botox' }],
      }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
    expect(paths(res)).toEqual([
      'body.plan.benefits.0.percentOff',
      'body.plan.benefits.1.percentOff',
      'body.plan.kind',
      'body.plan.renewsAt',
    ]);
  });

  it('stores the plan with its benefits by treatment type; an older update is stale', async () => {
    const post = (payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/v1/clinics/demo-clinic/events', headers: auth, payload });
    const ok = await post(
      membership({
        renewsAt: '2026-06-01T00:00:00Z',
        benefits: [
          { treatmentType: 'botox', creditsLeft: 2 },
          { service: { name: 'Hydrafacial Deluxe' }, percentOff: 10 },
          { service: { name: 'Tarot reading' }, percentOff: 50 },
        ],
      }),
    );
    expect(ok.statusCode).toBe(202);
    expect(ok.json().results[0]).toMatchObject({ type: 'client.membership', status: 'accepted', plansUpdated: 1 });
    const older = await post(
      membership({ benefits: [{ treatmentType: 'botox', creditsLeft: 3 }] }, '2026-04-01T00:00:00Z'),
    );
    expect(older.json().results[0]).toMatchObject({ status: 'accepted', plansUpdated: 0, stale: true });
    const [row] = await database.db.select().from(clientPlans).where(eq(clientPlans.clientExternalId, 'member-1'));
    expect(row).toMatchObject({ kind: 'package', status: 'active', name: 'Botox x3' });
    // The service is classified like a treatment's; one matching no treatment type is dropped.
    expect(row!.benefits).toEqual([
      { treatmentType: 'botox', creditsLeft: 2 },
      { treatmentType: 'hydrafacial', percentOff: 10 },
    ]);
    expect(row!.renewsAt?.toISOString()).toBe('2026-06-01T00:00:00.000Z');
  });

  it('a merged profile’s plans follow it to the kept profile; a plan the kept one has already stays', async () => {
    const post = (payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/v1/clinics/demo-clinic/events', headers: auth, payload });
    const plan = (clientId: string, id: string, name: string) => ({
      type: 'client.membership',
      clientId,
      plan: { id, kind: 'membership', name, status: 'active', benefits: [{ percentOff: 10 }] },
    });
    await post(plan('removed-9', 'shared', 'Old copy'));
    await post(plan('removed-9', 'own', 'Glow Club'));
    await post(plan('kept-9', 'shared', 'Kept copy'));
    const merged = await post({ type: 'client.merged', keptClientId: 'kept-9', removedClientId: 'removed-9' });
    expect(merged.statusCode).toBe(202);
    const rows = await database.db
      .select({ client: clientPlans.clientExternalId, id: clientPlans.planId, name: clientPlans.name })
      .from(clientPlans)
      .where(inArray(clientPlans.clientExternalId, ['kept-9', 'removed-9']));
    expect(rows.sort((a, b) => `${a.client}${a.id}`.localeCompare(`${b.client}${b.id}`))).toEqual([
      { client: 'kept-9', id: 'own', name: 'Glow Club' },
      { client: 'kept-9', id: 'shared', name: 'Kept copy' },
      { client: 'removed-9', id: 'shared', name: 'Old copy' },
    ]);
  });
});
