/**
 * Two-step sign-in through the real app (fastify inject, PGlite with the real migrations, codes
 * computed with the RFC algorithm from the key the page shows): enrolment, the code step between
 * password and session, wrong and replayed codes counted toward the lockout, the step spent once,
 * a reset link still asking for the code, turning it off, and an agency that requires it.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { createLink, linkPath } from '../../src/console/accounts/links.js';
import { totpCode } from '../../src/console/accounts/totp.js';
import { createUser, LOCKOUT_AFTER, setPassword } from '../../src/console/accounts/users.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { auditLog, consoleUsers } from '../../src/db/schema.js';
import type { Ingest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { buildApp } from '../../src/server/app.js';
import { newEncryptionKeySpec } from '../../src/temporal/codec.js';

let database: Database;
let app: FastifyInstance;
let configDir: string;
let clock = Date.parse('2026-06-01T12:00:00Z');
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const PASSWORD = 'a good long password';
const ids: Record<string, string> = {};

beforeAll(async () => {
  // The repository's config plus an agency that requires two-step sign-in.
  configDir = mkdtempSync(join(tmpdir(), 'rebook-totp-'));
  cpSync('config/catalog.yaml', join(configDir, 'catalog.yaml'));
  cpSync('config/clinics', join(configDir, 'clinics'), { recursive: true });
  mkdirSync(join(configDir, 'agencies'));
  writeFileSync(join(configDir, 'agencies', 'strict.yaml'), 'name: Strict Group\nconsole:\n  requireTotp: true\n');
  database = await openDatabase({ pgliteMemory: true });
  const config = createConfigStore(configDir);
  app = await buildApp({
    db: database.db,
    config,
    ingest: {} as Ingest,
    log: createLogger({ level: 'silent' }),
    secrets: { REBOOK_SECRETS_KEY: newEncryptionKeySpec('t1') },
    now: () => clock,
  });
  for (const [key, u] of Object.entries({
    desk: { email: 'desk@example.com', name: 'Desk', role: 'front_desk' as const, clinicIds: ['demo-clinic'] },
    strict: {
      email: 'boss@strict.example',
      name: 'Boss',
      role: 'agency_admin' as const,
      agencyId: 'strict',
      clinicIds: [],
    },
  })) {
    const user = await createUser(database.db, config.current(), u);
    await setPassword(database.db, user.id, PASSWORD);
    ids[key] = user.id;
  }
}, 60_000);
afterAll(async () => {
  await app?.close();
  await database?.close();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

const cookieOf = (r: { headers: Record<string, unknown> }, name: string) =>
  new RegExp(`${name}=([^;]*)`).exec(String(r.headers['set-cookie']))?.[1] || undefined;
const csrfOf = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)![1]!;

async function signIn(email: string, password = PASSWORD) {
  const page = await app.inject({ url: '/app/login' });
  return app.inject({
    method: 'POST',
    url: '/app/login',
    headers: { ...form, cookie: `rebook_login=${cookieOf(page, 'rebook_login')}` },
    payload: new URLSearchParams({ _csrf: csrfOf(page.body), email, password }).toString(),
  });
}

/** The code form for a step cookie, then a POST of `code` (with the form's token unless told otherwise). */
async function sendCode(step: string, code: string, opts: { csrf?: string } = {}) {
  const page = await app.inject({ url: '/app/login/code', headers: { cookie: `rebook_step=${step}` } });
  expect(page.statusCode).toBe(200);
  return app.inject({
    method: 'POST',
    url: '/app/login/code',
    headers: { ...form, cookie: `rebook_step=${step}; rebook_login=${cookieOf(page, 'rebook_login')}` },
    payload: new URLSearchParams({ _csrf: opts.csrf ?? csrfOf(page.body), code }).toString(),
  });
}

const get = (url: string, session: string, headers: Record<string, string> = {}) =>
  app.inject({ url, headers: { cookie: `rebook_session=${session}`, ...headers } });
const post = (url: string, session: string, fields: Record<string, string>) =>
  app.inject({
    method: 'POST',
    url,
    headers: { ...form, cookie: `rebook_session=${session}` },
    payload: new URLSearchParams(fields).toString(),
  });

async function userRow(id: string) {
  const [row] = await database.db.select().from(consoleUsers).where(eq(consoleUsers.id, id));
  return row!;
}
async function auditActions(userId: string) {
  return (await database.db.select().from(auditLog).where(eq(auditLog.userId, userId))).map((r) => r.action);
}
/** The key the enrolment page shows, spaces removed. */
const keyOf = (body: string) => /id="totp-key">([A-Z2-7 ]+)</.exec(body)![1]!.replace(/ /g, '');
/** The next 30-second step: each accepted code spends its step. */
const nextStep = () => {
  clock += 30_000;
};

let secret = '';
/** A code that is none of the three the window accepts now. */
const wrongCode = () => {
  const valid = new Set([-30_000, 0, 30_000].map((d) => totpCode(secret, clock + d)));
  return ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c))!;
};

describe('a user who turns two-step sign-in on', () => {
  it('sees a key and a setup link, stored sealed, and confirms it with a current code', async () => {
    const first = await signIn('desk@example.com');
    expect(first.headers.location).toBe('/app/calls');
    const session = cookieOf(first, 'rebook_session')!;
    const page = await get('/app/account/totp', session);
    expect(page.statusCode).toBe(200);
    secret = keyOf(page.body);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(page.body).toContain(`otpauth://totp/Rebook:desk%40example.com?secret=${secret}`);
    // A reload shows the same key (the app already holds it); the row holds it sealed only.
    expect(keyOf((await get('/app/account/totp', session)).body)).toBe(secret);
    const stored = (await userRow(ids.desk!)).totpPendingSecret!;
    expect(stored).toMatch(/^sealed:v1:t1:/);
    expect(stored).not.toContain(secret);

    const csrf = csrfOf(page.body);
    const code = totpCode(secret, clock);
    expect((await post('/app/account/totp/enable', session, { code })).statusCode).toBe(403);
    expect((await post('/app/account/totp/enable', session, { _csrf: csrf, code: wrongCode() })).statusCode).toBe(400);
    const on = await post('/app/account/totp/enable', session, { _csrf: csrf, code });
    expect(on.statusCode).toBe(303);
    expect(on.headers.location).toBe('/app/account/totp?done=on');
    const row = await userRow(ids.desk!);
    expect(row.totpSecret).toMatch(/^sealed:v1:t1:/);
    expect(row.totpPendingSecret).toBeNull();
    expect(await auditActions(ids.desk!)).toContain('totp.enrol');
  });

  it('then signs in with password and code: wrong codes refused and counted, the step spent once, a code works once', async () => {
    nextStep();
    const password = await signIn('desk@example.com');
    expect(password.statusCode).toBe(303);
    expect(password.headers.location).toBe('/app/login/code');
    expect(cookieOf(password, 'rebook_session')).toBeUndefined();
    const step = cookieOf(password, 'rebook_step')!;
    expect(String(password.headers['set-cookie'])).toMatch(/rebook_step=[^;]+;.*HttpOnly.*SameSite=Strict/);

    const wrong = await sendCode(step, wrongCode());
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('That code is not right');
    expect(cookieOf(wrong, 'rebook_session')).toBeUndefined();
    expect((await userRow(ids.desk!)).failedLogins).toBe(1);
    expect((await sendCode(step, totpCode(secret, clock), { csrf: 'forged' })).statusCode).toBe(403);

    const code = totpCode(secret, clock);
    const ok = await sendCode(step, code);
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/app/calls');
    const session = cookieOf(ok, 'rebook_session')!;
    expect((await get('/app/calls', session)).statusCode).toBe(200);
    expect((await userRow(ids.desk!)).failedLogins).toBe(0);

    // The step cookie is spent: it opens nothing a second time.
    const again = await app.inject({ url: '/app/login/code', headers: { cookie: `rebook_step=${step}` } });
    expect(again.headers.location).toBe('/app/login?expired=1');

    // The same code after a fresh password, in the same 30 seconds: refused and counted.
    const replayStep = cookieOf(await signIn('desk@example.com'), 'rebook_step')!;
    const replay = await sendCode(replayStep, code);
    expect(replay.statusCode).toBe(401);
    expect(cookieOf(replay, 'rebook_session')).toBeUndefined();
    expect((await userRow(ids.desk!)).failedLogins).toBe(1);
    expect(await auditActions(ids.desk!)).toContain('sign_in.code_failed');
  });

  it('locks the account after repeated wrong codes, even with the right password in between', async () => {
    // One wrong code is already counted; a right password does not clear the count.
    for (let i = 1; i < LOCKOUT_AFTER - 1; i++) {
      const step = cookieOf(await signIn('desk@example.com'), 'rebook_step')!;
      expect((await sendCode(step, wrongCode())).statusCode).toBe(401);
    }
    const step = cookieOf(await signIn('desk@example.com'), 'rebook_step')!;
    const locking = await sendCode(step, wrongCode());
    expect(locking.statusCode).toBe(401);
    expect(locking.body).toContain('locked');
    const locked = await signIn('desk@example.com');
    expect(locked.statusCode).toBe(401);
    expect(locked.body).toContain('locked');
    clock += 16 * 60_000;
  });

  it('still asks for the code after a password reset link', async () => {
    const token = await createLink(database.db, ids.desk!, 'reset', new Date(clock));
    const page = await app.inject({ url: linkPath(token) });
    const used = await app.inject({
      method: 'POST',
      url: linkPath(token),
      headers: { ...form, cookie: `rebook_login=${cookieOf(page, 'rebook_login')}` },
      payload: new URLSearchParams({ _csrf: csrfOf(page.body), password: PASSWORD, confirm: PASSWORD }).toString(),
    });
    expect(used.statusCode).toBe(303);
    expect(used.headers.location).toBe('/app/login/code');
    expect(cookieOf(used, 'rebook_session')).toBeUndefined();
  });

  it('turns it off with a current code, after which the password alone signs in', async () => {
    nextStep();
    const step = cookieOf(await signIn('desk@example.com'), 'rebook_step')!;
    const session = cookieOf(await sendCode(step, totpCode(secret, clock)), 'rebook_session')!;
    const page = await get('/app/account/totp', session);
    expect(page.body).toContain('It is on');
    const csrf = csrfOf(page.body);
    // The code just used to sign in is spent.
    expect(
      (await post('/app/account/totp/disable', session, { _csrf: csrf, code: totpCode(secret, clock) })).statusCode,
    ).toBe(400);
    nextStep();
    const off = await post('/app/account/totp/disable', session, { _csrf: csrf, code: totpCode(secret, clock) });
    expect(off.headers.location).toBe('/app/account/totp?done=off');
    expect((await userRow(ids.desk!)).totpSecret).toBeNull();
    expect(await auditActions(ids.desk!)).toContain('totp.disable');
    expect((await signIn('desk@example.com')).headers.location).toBe('/app/calls');
  });
});

let bossKey = '';

describe('an agency that requires two-step sign-in', () => {
  it('sends its user to enrolment and opens nothing else until they enrol; then it cannot be turned off', async () => {
    const first = await signIn('boss@strict.example');
    expect(first.headers.location).toBe('/app/account/totp');
    const session = cookieOf(first, 'rebook_session')!;
    for (const url of ['/app/calls', '/app/users', '/app/audit'])
      expect((await get(url, session)).headers.location).toBe('/app/account/totp');
    const partial = await get('/app/calls/list', session, { 'hx-request': 'true' });
    expect(partial.headers['hx-redirect']).toBe('/app/account/totp');
    const page = await get('/app/account/totp', session);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Your agency requires two-step sign-in');
    const csrf = csrfOf(page.body);
    // Another state-changing page is refused too, before its handler runs.
    expect((await post('/app/clinic', session, { _csrf: csrf, clinicId: '' })).headers.location).toBe(
      '/app/account/totp',
    );

    const key = keyOf(page.body);
    bossKey = key;
    nextStep();
    const on = await post('/app/account/totp/enable', session, { _csrf: csrf, code: totpCode(key, clock) });
    expect(on.headers.location).toBe('/app/account/totp?done=on');
    expect((await get('/app/users', session)).statusCode).toBe(200);
    nextStep();
    const off = await post('/app/account/totp/disable', session, { _csrf: csrf, code: totpCode(key, clock) });
    expect(off.statusCode).toBe(409);
    expect((await userRow(ids.strict!)).totpSecret).not.toBeNull();
  });

  it('lets its admin turn off a colleague’s lost second factor, and nobody else’s', async () => {
    const config = createConfigStore(configDir);
    const colleague = await createUser(database.db, config.current(), {
      email: 'colleague@strict.example',
      name: 'Colleague',
      role: 'agency_admin',
      agencyId: 'strict',
      clinicIds: [],
    });
    await database.db
      .update(consoleUsers)
      .set({ totpSecret: 'sealed:v1:t1:lost-phone', totpLastStep: 1 })
      .where(eq(consoleUsers.id, colleague.id));
    nextStep();
    const step = cookieOf(await signIn('boss@strict.example'), 'rebook_step')!;
    const session = cookieOf(await sendCode(step, totpCode(bossKey, clock)), 'rebook_session')!;
    const users = await get('/app/users', session);
    expect(users.body).toContain(`/app/users/${colleague.id}/totp-reset`);
    const csrf = csrfOf(users.body);
    expect((await post(`/app/users/${ids.desk}/totp-reset`, session, { _csrf: csrf })).statusCode).toBe(404);
    expect((await post(`/app/users/${colleague.id}/totp-reset`, session, {})).statusCode).toBe(403);
    const reset = await post(`/app/users/${colleague.id}/totp-reset`, session, { _csrf: csrf });
    expect(reset.headers.location).toBe('/app/users?done=totp-reset');
    expect((await userRow(colleague.id)).totpSecret).toBeNull();
    expect(await auditActions(ids.strict!)).toContain('user.totp_reset');
  });

  it('lets the user sign out before enrolling', async () => {
    await database.db
      .update(consoleUsers)
      .set({ totpSecret: null, totpLastStep: null })
      .where(eq(consoleUsers.id, ids.strict!));
    const session = cookieOf(await signIn('boss@strict.example'), 'rebook_session')!;
    const csrf = csrfOf((await get('/app/account/totp', session)).body);
    const out = await post('/app/logout', session, { _csrf: csrf });
    expect(out.headers.location).toBe('/app/login');
  });
});

describe('the per-address sign-in budget', () => {
  it('is shared by passwords and codes', async () => {
    const db = await openDatabase({ pgliteMemory: true });
    const config = createConfigStore(configDir);
    const small = await buildApp({
      db: db.db,
      config,
      ingest: {} as Ingest,
      log: createLogger({ level: 'silent' }),
      secrets: { REBOOK_SECRETS_KEY: newEncryptionKeySpec('t2') },
      now: () => clock,
      console: { loginAttemptsPerWindow: 3 },
    });
    try {
      const user = await createUser(db.db, config.current(), {
        email: 'desk@example.com',
        name: 'Desk',
        role: 'front_desk',
        clinicIds: ['demo-clinic'],
      });
      await setPassword(db.db, user.id, PASSWORD);
      // Any second factor will do: the budget is checked before the code is read.
      await db.db.update(consoleUsers).set({ totpSecret: 'sealed:v1:t2:x' }).where(eq(consoleUsers.id, user.id));
      const login = await small.inject({ url: '/app/login' });
      const first = await small.inject({
        method: 'POST',
        url: '/app/login',
        headers: { ...form, cookie: `rebook_login=${cookieOf(login, 'rebook_login')}` },
        payload: new URLSearchParams({
          _csrf: csrfOf(login.body),
          email: 'desk@example.com',
          password: PASSWORD,
        }).toString(),
      });
      // One attempt spent on the password; the empty codes are refused without being checked.
      const step = cookieOf(first, 'rebook_step')!;
      const codeForm = await small.inject({ url: '/app/login/code', headers: { cookie: `rebook_step=${step}` } });
      const send = () =>
        small.inject({
          method: 'POST',
          url: '/app/login/code',
          headers: { ...form, cookie: `rebook_step=${step}; rebook_login=${cookieOf(codeForm, 'rebook_login')}` },
          payload: new URLSearchParams({ _csrf: csrfOf(codeForm.body), code: '' }).toString(),
        });
      expect((await send()).statusCode).toBe(400);
      expect((await send()).statusCode).toBe(400);
      const over = await send();
      expect(over.statusCode).toBe(429);
      expect(over.body).toContain('Too many attempts');
    } finally {
      await small.close();
      await db.close();
    }
  });
});
