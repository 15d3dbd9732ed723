/**
 * Console accounts through the real app (fastify inject, PGlite with the real migrations):
 * security headers, sign-in with lockout, the absolute session limit, one-time links that work
 * once, CSRF on the sign-in form, role-gated pages, and the audit log refusing rewrites.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { createLink, linkPath } from '../../src/console/accounts/links.js';
import { createUser, LOCKOUT_AFTER, setPassword } from '../../src/console/accounts/users.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import type { Ingest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { buildApp } from '../../src/server/app.js';

let database: Database;
let app: FastifyInstance;
let clock = Date.parse('2026-06-01T12:00:00Z');
const form = { 'content-type': 'application/x-www-form-urlencoded' };

beforeAll(async () => {
  database = await openDatabase({ pgliteMemory: true });
  const config = createConfigStore('config');
  app = await buildApp({
    db: database.db,
    config,
    ingest: {} as Ingest,
    log: createLogger({ level: 'silent' }),
    secrets: {},
    now: () => clock,
  });
  const desk = await createUser(database.db, config.current(), {
    email: 'desk@example.com',
    name: 'Desk',
    role: 'front_desk',
    clinicIds: ['demo-clinic'],
  });
  await setPassword(database.db, desk.id, 'a good long password');
}, 60_000);
afterAll(async () => {
  await app?.close();
  await database?.close();
});

async function loginForm() {
  const r = await app.inject({ url: '/app/login' });
  const cookie = /rebook_login=([^;]+)/.exec(String(r.headers['set-cookie']))![1]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(r.body)![1]!;
  return { cookie, csrf, headers: r.headers };
}

async function signIn(email: string, password: string, csrfOverride?: string) {
  const f = await loginForm();
  return app.inject({
    method: 'POST',
    url: '/app/login',
    headers: { ...form, cookie: `rebook_login=${f.cookie}` },
    payload: new URLSearchParams({ _csrf: csrfOverride ?? f.csrf, email, password }).toString(),
  });
}
const sessionCookie = (r: { headers: Record<string, unknown> }) =>
  /rebook_session=([^;]+)/.exec(String(r.headers['set-cookie']))?.[1];

it('answers every page with a strict CSP, no referrer, no framing and no-store', async () => {
  const { headers } = await loginForm();
  expect(headers['content-security-policy']).toContain("script-src 'self'");
  expect(headers['content-security-policy']).toContain("style-src 'self'");
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['content-security-policy']).not.toContain('unsafe-inline');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['cache-control']).toBe('no-store');
  expect(String(headers['set-cookie'])).toMatch(/HttpOnly/);
});

it('refuses a sign-in without the form token, and locks the account after repeated wrong passwords', async () => {
  expect((await signIn('desk@example.com', 'a good long password', 'forged')).statusCode).toBe(403);
  for (let i = 0; i < LOCKOUT_AFTER; i++) expect((await signIn('desk@example.com', 'wrong')).statusCode).toBe(401);
  const locked = await signIn('desk@example.com', 'a good long password');
  expect(locked.statusCode).toBe(401);
  expect(locked.body).toContain('locked');
  clock += 16 * 60_000;
  const ok = await signIn('desk@example.com', 'a good long password');
  expect(ok.statusCode).toBe(303);
  expect(sessionCookie(ok)).toBeDefined();
});

it('ends a session at its absolute limit even when it is used all the time, and gives a new id per sign-in', async () => {
  const first = sessionCookie(await signIn('desk@example.com', 'a good long password'))!;
  const second = sessionCookie(await signIn('desk@example.com', 'a good long password'))!;
  expect(second).not.toBe(first);
  // A request every 14 minutes keeps the idle limit (15) from ever ending it; 12 hours do.
  const started = clock;
  while (clock + 14 * 60_000 < started + 12 * 3_600_000) {
    clock += 14 * 60_000;
    const r = await app.inject({ url: '/app/calls', headers: { cookie: `rebook_session=${second}` } });
    expect(r.statusCode).toBe(200);
  }
  clock += 14 * 60_000;
  const r = await app.inject({ url: '/app/calls', headers: { cookie: `rebook_session=${second}` } });
  expect(r.statusCode).toBe(303);
  expect(r.headers.location).toBe('/app/login?expired=1');
});

it('lets a one-time link set a password once; front desk gets 404 for admin pages', async () => {
  const config = createConfigStore('config');
  const invited = await createUser(database.db, config.current(), {
    email: 'new@example.com',
    name: 'New Person',
    role: 'front_desk',
    clinicIds: ['demo-clinic'],
  });
  const token = await createLink(database.db, invited.id, 'invite', new Date(clock));
  const page = await app.inject({ url: linkPath(token) });
  expect(page.statusCode).toBe(200);
  const cookie = /rebook_login=([^;]+)/.exec(String(page.headers['set-cookie']))![1]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  const post = () =>
    app.inject({
      method: 'POST',
      url: linkPath(token),
      headers: { ...form, cookie: `rebook_login=${cookie}` },
      payload: new URLSearchParams({
        _csrf: csrf,
        password: 'another long password',
        confirm: 'another long password',
      }).toString(),
    });
  const used = await post();
  expect(used.statusCode).toBe(303);
  expect((await post()).statusCode).toBe(404);
  expect((await app.inject({ url: linkPath(token) })).statusCode).toBe(410);
  const s = sessionCookie(used)!;
  expect((await app.inject({ url: '/app/audit', headers: { cookie: `rebook_session=${s}` } })).statusCode).toBe(404);
  expect((await app.inject({ url: '/app/users', headers: { cookie: `rebook_session=${s}` } })).statusCode).toBe(404);
});

it('keeps the audit log append-only', async () => {
  await expect(database.db.execute(sql`update audit_log set action = 'x'`)).rejects.toThrow();
  await expect(database.db.execute(sql`delete from audit_log`)).rejects.toThrow();
  const n = await database.db.execute(sql`select count(*)::int as n from audit_log`);
  expect(((n as any).rows ?? n)[0].n).toBeGreaterThan(0);
});
