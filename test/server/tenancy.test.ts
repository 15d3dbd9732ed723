/**
 * Tenant isolation on the admin API: every /v1 route (taken from the OpenAPI document, so a new
 * route cannot be missed) is called with the keys of two agencies, a clinic-scoped key, a staff
 * key and a clinic key from config. Another tenant's clinic, agency or resource answers exactly
 * like one that does not exist (404), nothing of it is read or changed, and staff keys get 403 on
 * admin routes (clinic-scoped keys, too, on agency routes). Positive controls show the same
 * requests succeed for the owner.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createConfigStore } from '../../src/config/store.js';
import { normalizeServiceName } from '../../src/core/classify.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import {
  apiKeys,
  clients,
  inboxEvents,
  incentives,
  messages,
  sequenceRuns,
  sequences,
  serviceMappings,
  staffTasks,
  unmappedServices,
} from '../../src/db/schema.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { createApiKey, type Role, revokeApiKey } from '../../src/server/api-keys.js';
import { buildApp } from '../../src/server/app.js';
import type { SequenceSignals } from '../../src/temporal/sequence-signals.js';

const SOLO_KEY = 'solo-clinic-config-key-0123456789';
const CLINICS = ['north-one', 'north-two', 'south-one', 'solo'] as const;
type ClinicId = (typeof CLINICS)[number];
/** The agency an `{agencyId}` path takes for a clinic: its own (solo has none: no such agency). */
const AGENCY_OF: Record<ClinicId, string> = {
  'north-one': 'north',
  'north-two': 'north',
  'south-one': 'south',
  solo: 'solo',
};
/** Sequence runs per clinic, all different, so a roll-up shows which clinics it summed. */
const RUNS: Record<ClinicId, number> = { 'north-one': 1, 'north-two': 2, 'south-one': 4, solo: 8 };

let dir: string;
let database: Database;
let app: FastifyInstance;
const signalled: string[] = [];

/** What each clinic holds, by id, for filling in paths. */
const seeded = {} as Record<
  ClinicId,
  { clientId: string; sequenceId: string; taskId: string; code: string; serviceKey: string; keyId: string }
>;
const keys = {} as Record<
  'northAdmin' | 'southAdmin' | 'northTwoAdmin' | 'northOneStaff' | 'northStaff' | 'revoked',
  string
>;

/**
 * Every /v1 route and the lowest role it takes, with a valid request body where it has one (so a
 * missing tenant check would show as a success, not as a 400). A /v1 route missing here fails
 * the first test.
 */
const ROUTES: Record<string, { role: Role; ok: number; body?: (c: ClinicId) => unknown }> = {
  'GET /v1/clinics': { role: 'staff', ok: 200 },
  'GET /v1/clinics/{clinicId}': { role: 'admin', ok: 200 },
  'POST /v1/clinics/{clinicId}/events': {
    role: 'admin',
    ok: 202,
    body: (c) => ({ type: 'appointment.cancelled', clientId: `${c}-client`, appointmentId: `${c}-appt-9` }),
  },
  'GET /v1/clinics/{clinicId}/clients/{clientId}': { role: 'staff', ok: 200 },
  'GET /v1/clinics/{clinicId}/sequences': { role: 'staff', ok: 200 },
  'GET /v1/clinics/{clinicId}/sequences/{sequenceId}': { role: 'staff', ok: 200 },
  'POST /v1/clinics/{clinicId}/sequences/{sequenceId}/cancel': { role: 'admin', ok: 202 },
  'GET /v1/clinics/{clinicId}/messages': { role: 'staff', ok: 200 },
  'GET /v1/clinics/{clinicId}/tasks': { role: 'staff', ok: 200 },
  'POST /v1/clinics/{clinicId}/tasks/{taskId}/claim': { role: 'staff', ok: 200, body: () => ({ by: 'front-desk' }) },
  'POST /v1/clinics/{clinicId}/tasks/{taskId}/resolve': {
    role: 'staff',
    ok: 200,
    body: () => ({ outcome: 'not_interested' }),
  },
  'GET /v1/clinics/{clinicId}/incentives/{code}': { role: 'staff', ok: 200 },
  'POST /v1/clinics/{clinicId}/incentives/{code}/redeem': { role: 'staff', ok: 200, body: () => ({ ref: 'pos-1' }) },
  'GET /v1/clinics/{clinicId}/unmapped-services': { role: 'staff', ok: 200 },
  'GET /v1/clinics/{clinicId}/service-mappings': { role: 'staff', ok: 200 },
  'PUT /v1/clinics/{clinicId}/service-mappings': {
    role: 'admin',
    ok: 200,
    body: (c) => ({ serviceKey: seeded[c].serviceKey, treatmentType: 'neuromodulator' }),
  },
  'POST /v1/clinics/{clinicId}/preview': {
    role: 'admin',
    ok: 200,
    body: () => ({ treatmentType: 'neuromodulator', date: '2026-03-03' }),
  },
  'GET /v1/clinics/{clinicId}/reports/rebooking': { role: 'admin', ok: 200 },
  'GET /v1/clinics/{clinicId}/reports/lift': { role: 'admin', ok: 200 },
  'GET /v1/agencies/{agencyId}/reports/rebooking': { role: 'admin', ok: 200 },
  'POST /v1/clinics/{clinicId}/api-keys': { role: 'admin', ok: 201, body: () => ({ role: 'staff' }) },
  'POST /v1/agencies/{agencyId}/api-keys': { role: 'admin', ok: 201, body: () => ({ role: 'staff' }) },
  'GET /v1/api-keys': { role: 'admin', ok: 200 },
  'DELETE /v1/api-keys/{keyId}': { role: 'admin', ok: 200 },
};

const routeKeys = Object.keys(ROUTES);
const clinicRoutes = routeKeys.filter((r) => r.includes('{clinicId}'));
const agencyRoutes = routeKeys.filter((r) => r.includes('{agencyId}'));
/** Routes on one tenant: a clinic, or an agency (filled in with the clinic's agency). */
const tenantRoutes = [...clinicRoutes, ...agencyRoutes];

/** `agency` overrides the clinic's own agency in `{agencyId}` paths. */
function request(
  route: string,
  clinic: ClinicId,
  key: string | undefined,
  resourcesOf: ClinicId = clinic,
  agency = AGENCY_OF[clinic] ?? 'no-such-agency',
) {
  const [method, template] = route.split(' ') as [string, string];
  const r = seeded[resourcesOf];
  const url = template
    .replace('{clinicId}', clinic)
    .replace('{agencyId}', agency)
    .replace('{clientId}', encodeURIComponent(`${resourcesOf}-client`))
    .replace('{sequenceId}', encodeURIComponent(r?.sequenceId ?? 'x'))
    .replace('{taskId}', r?.taskId ?? 'x')
    .replace('{code}', r?.code ?? 'x')
    .replace('{keyId}', r?.keyId ?? '000000000000');
  const body = ROUTES[route]!.body?.(resourcesOf);
  return app.inject({
    method: method as 'GET',
    url,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

/** Everything a cross-tenant request could have read or changed, per clinic. */
async function snapshot() {
  const db = database.db;
  const out: Record<string, unknown> = {};
  for (const c of CLINICS) {
    out[c] = {
      tasks: await db
        .select({ s: staffTasks.status, by: staffTasks.claimedBy, o: staffTasks.outcome })
        .from(staffTasks)
        .where(eq(staffTasks.clinicId, c)),
      incentives: await db.select({ r: incentives.redeemedAt }).from(incentives).where(eq(incentives.clinicId, c)),
      mappings: await db.select().from(serviceMappings).where(eq(serviceMappings.clinicId, c)),
      inbox: await db.select({ id: inboxEvents.id }).from(inboxEvents).where(eq(inboxEvents.clinicId, c)),
      sequences: await db
        .select({ r: sequences.running, o: sequences.outcome })
        .from(sequences)
        .where(eq(sequences.clinicId, c)),
      apiKeys: await db
        .select({ id: apiKeys.id, r: apiKeys.revokedAt })
        .from(apiKeys)
        .where(eq(apiKeys.clinicId, c))
        .orderBy(apiKeys.id),
    };
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-tenancy-'));
  mkdirSync(join(dir, 'clinics'));
  mkdirSync(join(dir, 'agencies'));
  writeFileSync(join(dir, 'catalog.yaml'), readFileSync('config/catalog.yaml', 'utf8'));
  // Both agencies share the demo clinic's templates and send window as their defaults.
  const demo = parse(readFileSync('config/clinics/demo-clinic.yaml', 'utf8'));
  const defaults = {
    timeZone: 'America/New_York',
    sendWindow: demo.sendWindow,
    templates: demo.templates,
    publicBaseUrl: 'http://127.0.0.1:3000',
  };
  writeFileSync(join(dir, 'agencies', 'north.yaml'), stringify({ name: 'North Group', defaults }));
  writeFileSync(join(dir, 'agencies', 'south.yaml'), stringify({ name: 'South Group', defaults }));
  const clinic = (id: string, extra: Record<string, unknown>) =>
    stringify({
      id,
      name: `Clinic ${id}`,
      bookingUrl: `https://book.example.com/${id}`,
      address: `1 ${id} Street`,
      ...extra,
    });
  writeFileSync(join(dir, 'clinics', 'north-one.yaml'), clinic('north-one', { agency: 'north' }));
  writeFileSync(join(dir, 'clinics', 'north-two.yaml'), clinic('north-two', { agency: 'north' }));
  writeFileSync(join(dir, 'clinics', 'south-one.yaml'), clinic('south-one', { agency: 'south' }));
  writeFileSync(
    join(dir, 'clinics', 'solo.yaml'),
    clinic('solo', { ...defaults, apiKeys: [{ name: 'default', env: 'SOLO_API_KEY' }] }),
  );

  const config = createConfigStore(dir);
  database = await openDatabase({ pgliteMemory: true });
  const db = database.db;
  const log = createLogger({ level: 'silent' });
  const signals: SequenceSignals = {
    snooze: async (id) => {
      signalled.push(`snooze ${id}`);
      return true;
    },
    booked: async (id) => {
      signalled.push(`booked ${id}`);
      return true;
    },
    end: async (id) => {
      signalled.push(`end ${id}`);
      return true;
    },
  };
  app = await buildApp({
    db,
    config,
    ingest: createIngest({ db, config, temporal: new Client(), taskQueue: 'unused', log }),
    log,
    secrets: { SOLO_API_KEY: SOLO_KEY } as NodeJS.ProcessEnv,
    signals,
    sequenceStatus: async () => ({
      state: 'ok',
      status: {
        clinicId: 'x',
        treatmentType: 'neuromodulator',
        stage: 'reminder',
        outcome: 'running',
        history: [{ at: '2026-03-01T15:00:00.000Z', stage: 'reminder', event: 'planned' }],
      },
    }),
  });

  for (const [i, c] of CLINICS.entries()) {
    const [client] = await db
      .insert(clients)
      .values({
        clinicId: c,
        externalId: `${c}-client`,
        firstName: 'Robin',
        lastName: c,
        email: `robin@${c}.example.com`,
        phone: '+12125550100',
        consentEmail: true,
        consentSms: true,
      })
      .returning();
    const sequenceId = `rebook/${c}/${client!.id}/neuromodulator`;
    await db.insert(sequences).values({
      workflowId: sequenceId,
      clinicId: c,
      clientId: client!.id,
      treatmentType: 'neuromodulator',
      running: true,
      stage: 'reminder',
    });
    await db.insert(messages).values({
      idempotencyKey: `${sequenceId}|1|reminder`,
      clinicId: c,
      clientId: client!.id,
      workflowId: sequenceId,
      treatmentType: 'neuromodulator',
      stage: 'reminder',
      channel: 'email',
      status: 'outbox',
      provider: 'outbox',
      dueAt: new Date('2026-03-01T15:00:00Z'),
    });
    const [task] = await db
      .insert(staffTasks)
      .values({
        idempotencyKey: `${c}-task`,
        clinicId: c,
        clientId: client!.id,
        workflowId: sequenceId,
        treatmentType: 'neuromodulator',
        reason: 'no_response',
      })
      .returning();
    const code = `${'KMPR'[i]}AAA-BBBB-CCCC-DDDD`;
    await db.insert(incentives).values({
      code,
      idempotencyKey: `${c}-incentive`,
      clinicId: c,
      clientId: client!.id,
      workflowId: sequenceId,
      runKey: '1',
      offer: { kind: 'percent_off', percent: 10 },
      description: '10% off',
      expiresAt: new Date(Date.now() + 30 * 86_400_000),
    });
    const serviceKey = `name:${normalizeServiceName(`Aqua Gold ${c}`)}`;
    await db.insert(unmappedServices).values({ clinicId: c, serviceKey, serviceName: `Aqua Gold ${c}` });
    seeded[c] = { clientId: `${c}-client`, sequenceId, taskId: task!.id, code, serviceKey, keyId: '' };
    for (let n = 0; n < RUNS[c]; n++) {
      const anchorAt = new Date('2026-03-01T15:00:00Z');
      await db.insert(sequenceRuns).values({
        workflowId: sequenceId,
        runKey: `run-${n}`,
        clinicId: c,
        clientId: client!.id,
        treatmentType: 'neuromodulator',
        anchorAt,
        startedAt: anchorAt,
      });
    }
  }
  const cfg = config.current();
  keys.northAdmin = (await createApiKey(db, cfg, { agencyId: 'north', role: 'admin' })).key;
  keys.southAdmin = (await createApiKey(db, cfg, { agencyId: 'south', role: 'admin' })).key;
  keys.northTwoAdmin = (await createApiKey(db, cfg, { agencyId: 'north', clinicId: 'north-two', role: 'admin' })).key;
  keys.northOneStaff = (await createApiKey(db, cfg, { agencyId: 'north', clinicId: 'north-one', role: 'staff' })).key;
  keys.northStaff = (await createApiKey(db, cfg, { agencyId: 'north', role: 'staff' })).key;
  const revoked = await createApiKey(db, cfg, { agencyId: 'north', role: 'admin' });
  await revokeApiKey(db, revoked.record.id);
  keys.revoked = revoked.key;
  // A staff key of each clinic, for the revocation route.
  for (const c of CLINICS) {
    const agencyId = cfg.clinics.get(c)!.agency;
    seeded[c].keyId = (
      await createApiKey(db, cfg, { clinicId: c, ...(agencyId ? { agencyId } : {}), role: 'staff' })
    ).record.id;
  }
}, 60_000);

afterAll(async () => {
  await app?.close();
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('every route', () => {
  it('the table lists exactly the /v1 routes of the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/v1/'))
      .flatMap(([p, ops]) =>
        Object.keys(ops)
          .filter((m) => m !== 'parameters')
          .map((m) => `${m.toUpperCase()} ${p}`),
      );
    expect(documented.sort()).toEqual([...routeKeys].sort());
  });

  it.each(routeKeys)('%s: 401 without a key, with an unknown key and with a revoked key', async (route) => {
    for (const key of [
      undefined,
      'rbk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'not-a-key-at-all-000000',
      keys.revoked,
    ]) {
      const res = await request(route, 'north-one', key);
      expect(res.statusCode, `${route} with ${key ? 'a bad key' : 'no key'}`).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
  });
});

describe('no cross-tenant read or write', () => {
  /** Key → clinics and agencies it must not see. */
  const cases: [string, () => string, ClinicId[], string[]][] = [
    ['agency north admin', () => keys.northAdmin, ['south-one', 'solo'], ['south']],
    ['agency south admin', () => keys.southAdmin, ['north-one', 'north-two', 'solo'], ['north']],
    ['agency north staff', () => keys.northStaff, ['south-one', 'solo'], ['south']],
    ['clinic north-two admin', () => keys.northTwoAdmin, ['north-one', 'south-one', 'solo'], ['south']],
    ['clinic north-one staff', () => keys.northOneStaff, ['north-two', 'south-one', 'solo'], ['south']],
    ['config key of the solo clinic', () => SOLO_KEY, ['north-one', 'north-two', 'south-one'], ['north', 'south']],
  ];

  it.each(cases)(
    '%s: another clinic or agency answers 404 exactly like one that does not exist, and nothing changes',
    async (_, key, foreign, foreignAgencies) => {
      const before = await snapshot();
      for (const route of tenantRoutes) {
        const onAgency = agencyRoutes.includes(route);
        const unknown = await request(route, 'no-such-clinic' as ClinicId, key(), foreign[0], 'no-such-agency');
        expect(unknown.statusCode, `${route} on an unknown tenant`).toBe(404);
        for (const [clinic, agency] of onAgency
          ? foreignAgencies.map((a) => ['north-one' as ClinicId, a] as const)
          : foreign.map((c) => [c, undefined] as const)) {
          const res = await request(route, clinic, key(), clinic, agency);
          expect(res.statusCode, `${route} on ${agency ?? clinic}`).toBe(404);
          expect(res.json()).toEqual(unknown.json());
          expect(res.body).not.toContain('Robin');
        }
      }
      expect(await snapshot()).toEqual(before);
      expect(signalled).toEqual([]);
    },
  );

  it("an agency's roll-up sums its own clinics only, each beside it", async () => {
    const report = async (key: string, agency: string) =>
      (
        await app.inject({
          method: 'GET',
          url: `/v1/agencies/${agency}/reports/rebooking?from=2026-02-01&to=2026-03-31`,
          headers: { authorization: `Bearer ${key}` },
        })
      ).json();
    const north = await report(keys.northAdmin, 'north');
    expect(north.clinics).toEqual(['north-one', 'north-two']);
    expect(north.totals.enrolled).toBe(RUNS['north-one'] + RUNS['north-two']);
    expect(
      north.byClinic.map((c: { clinicId: string; totals: { enrolled: number } }) => [c.clinicId, c.totals.enrolled]),
    ).toEqual([
      ['north-one', 1],
      ['north-two', 2],
    ]);
    // The lift column: no clinic here holds anyone out.
    expect(north.byClinic.map((c: { lift: { status: string } }) => c.lift.status)).toEqual([
      'no_holdout',
      'no_holdout',
    ]);
    const south = await report(keys.southAdmin, 'south');
    expect(south.byClinic.map((c: { clinicId: string }) => c.clinicId)).toEqual(['south-one']);
    expect(south.totals.enrolled).toBe(RUNS['south-one']);
  });

  it("a clinic's resources are not reachable through another clinic's path, even within one agency", async () => {
    const before = await snapshot();
    // north admin sees both north clinics, but north-two's task, code, client and sequence are not north-one's.
    const byId = clinicRoutes.filter((r) => /\{(clientId|sequenceId|taskId|code)\}/.test(r));
    expect(byId.length).toBeGreaterThanOrEqual(7);
    for (const route of byId) {
      const res = await request(route, 'north-one', keys.northAdmin, 'north-two');
      expect(res.statusCode, route).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    expect(await snapshot()).toEqual(before);
    expect(signalled).toEqual([]);
  });

  it('lists only the clinics a key sees', async () => {
    const list = async (key: string) =>
      ((await request('GET /v1/clinics', 'north-one', key)).json().clinics as { id: string }[]).map((c) => c.id);
    expect(await list(keys.northAdmin)).toEqual(['north-one', 'north-two']);
    expect(await list(keys.southAdmin)).toEqual(['south-one']);
    expect(await list(keys.northTwoAdmin)).toEqual(['north-two']);
    expect(await list(keys.northOneStaff)).toEqual(['north-one']);
    expect(await list(SOLO_KEY)).toEqual(['solo']);
  });

  it('unmapped services and mappings stay per clinic', async () => {
    const res = await request('GET /v1/clinics/{clinicId}/unmapped-services', 'north-one', keys.northAdmin);
    expect(res.json().services.map((s: { serviceName: string }) => s.serviceName)).toEqual(['Aqua Gold north-one']);
  });
});

describe('roles', () => {
  it.each(agencyRoutes)(
    '%s: keys scoped to one clinic of the agency, and agency staff keys, get 403 and change nothing',
    async (route) => {
      const before = await snapshot();
      for (const key of [keys.northTwoAdmin, keys.northOneStaff, keys.northStaff]) {
        const res = await request(route, 'north-one', key);
        expect(res.statusCode).toBe(403);
        expect(res.json().error.code).toBe('forbidden');
      }
      expect(await snapshot()).toEqual(before);
    },
  );

  it.each(clinicRoutes.filter((r) => ROUTES[r]!.role === 'admin'))(
    '%s: a staff key of the clinic gets 403 and changes nothing',
    async (route) => {
      const before = await snapshot();
      const res = await request(route, 'north-one', keys.northOneStaff);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('forbidden');
      expect(await snapshot()).toEqual(before);
      expect(signalled).toEqual([]);
    },
  );
});

describe('positive controls: the owner succeeds', () => {
  // Read-only routes first, then the ones that change state (claim before resolve, cancel last).
  const writes = [
    'POST /v1/clinics/{clinicId}/events',
    'POST /v1/clinics/{clinicId}/tasks/{taskId}/claim',
    'POST /v1/clinics/{clinicId}/tasks/{taskId}/resolve',
    'POST /v1/clinics/{clinicId}/incentives/{code}/redeem',
    'PUT /v1/clinics/{clinicId}/service-mappings',
    'POST /v1/clinics/{clinicId}/preview',
    'POST /v1/clinics/{clinicId}/sequences/{sequenceId}/cancel',
    'POST /v1/clinics/{clinicId}/api-keys',
    'POST /v1/agencies/{agencyId}/api-keys',
    'DELETE /v1/api-keys/{keyId}',
  ];
  const order = [...routeKeys.filter((r) => !writes.includes(r)), ...writes];
  it('orders every route', () => expect([...order].sort()).toEqual([...routeKeys].sort()));

  it.each(order.filter((r) => ROUTES[r]!.role === 'staff'))('%s with the clinic staff key', async (route) => {
    const res = await request(route, 'north-one', keys.northOneStaff);
    expect(res.statusCode, res.body).toBe(ROUTES[route]!.ok);
  });

  it.each(order)('%s with the agency admin key on the other clinic of the agency', async (route) => {
    const res = await request(route, 'north-two', keys.northAdmin);
    expect(res.statusCode, res.body).toBe(ROUTES[route]!.ok);
  });

  // A config key names clinics, never an agency (agency routes answer it 404: see above).
  it.each(order.filter((r) => !agencyRoutes.includes(r)))(
    '%s with the config key of a clinic without agency',
    async (route) => {
      const res = await request(route, 'solo', SOLO_KEY);
      expect(res.statusCode, res.body).toBe(ROUTES[route]!.ok);
    },
  );

  it('the writes of the positive controls reached their own clinic only', async () => {
    const db = database.db;
    const [task] = await db.select().from(staffTasks).where(eq(staffTasks.clinicId, 'north-two'));
    expect(task).toMatchObject({ status: 'resolved', outcome: 'not_interested' });
    const [mapping] = await db
      .select()
      .from(serviceMappings)
      .where(
        and(eq(serviceMappings.clinicId, 'north-two'), eq(serviceMappings.serviceKey, seeded['north-two'].serviceKey)),
      );
    expect(mapping?.treatmentType).toBe('neuromodulator');
    expect((await db.select().from(serviceMappings).where(eq(serviceMappings.clinicId, 'south-one'))).length).toBe(0);
    expect(signalled).toEqual(
      expect.arrayContaining([`end ${seeded['north-two'].sequenceId}`, `end ${seeded.solo.sequenceId}`]),
    );
    expect(signalled.some((s) => s.includes('south-one'))).toBe(false);
  });
});
