/**
 * Two-step sign-in in a real browser (Debian's chromium via playwright-core) against the real app
 * listening on a port, with PGlite and the real migrations: a user reads the key off the page,
 * "types it into an app" (the RFC algorithm here), turns two-step sign-in on, signs out, and signs
 * in with password and code. The enrolment page and the code page are screenshotted at 1280 and
 * 390 px under test-results/console/ and checked with axe-core; no CSP violation on the way.
 */
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { totpCode } from '../../src/console/accounts/totp.js';
import { createUser, setPassword } from '../../src/console/accounts/users.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import type { Ingest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { buildApp } from '../../src/server/app.js';
import { newEncryptionKeySpec } from '../../src/temporal/codec.js';
import { axeViolations, launchBrowser, screenshots } from '../helpers/browser.js';

const PASSWORD = 'front desk password 1';
let database: Database;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let page: Page;
// The app's clock, moved by hand: each accepted code spends its 30-second step.
let clock = Date.parse('2026-06-01T12:00:00Z');
const cspErrors: string[] = [];

beforeAll(async () => {
  database = await openDatabase({ pgliteMemory: true });
  const config = createConfigStore('config');
  app = await buildApp({
    db: database.db,
    config,
    ingest: {} as Ingest,
    log: createLogger({ level: 'silent' }),
    secrets: { REBOOK_SECRETS_KEY: newEncryptionKeySpec('e2e') },
    now: () => clock,
  });
  base = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
  const desk = await createUser(database.db, config.current(), {
    email: 'desk@glow.example',
    name: 'Robin Desk',
    role: 'front_desk',
    clinicIds: ['demo-clinic'],
  });
  await setPassword(database.db, desk.id, PASSWORD);
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await database?.close();
});

async function look(name: string): Promise<string[]> {
  await screenshots(page, name);
  return (await axeViolations(page)).map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.targets.join(' ')}`);
}

async function password(): Promise<void> {
  await page.goto(`${base}/app/login`);
  await page.getByLabel('Email address').fill('desk@glow.example');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

it('turns two-step sign-in on from the key on the page, then signs in with password and code', async () => {
  await password();
  await page.waitForURL(`${base}/app/calls`);
  await page.getByRole('link', { name: 'Two-step sign-in' }).click();
  await page.waitForURL(`${base}/app/account/totp`);
  const key = (await page.locator('#totp-key').textContent())!;
  expect(key).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
  expect(await look('two-step-enrol')).toEqual([]);
  await page.getByLabel('Code from your authenticator app').fill(totpCode(key.replace(/ /g, ''), clock));
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await page.waitForURL(`${base}/app/account/totp?done=on`);
  expect(await page.textContent('main')).toContain('Two-step sign-in is on');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${base}/app/login`);
  clock += 30_000;
  await password();
  await page.waitForURL(`${base}/app/login/code`);
  expect(await look('two-step-code')).toEqual([]);
  await page.getByLabel('Code from your authenticator app').fill('not a code');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.error-summary').textContent()).resolves.toContain('That code is not right');
  await page.getByLabel('Code from your authenticator app').fill(totpCode(key.replace(/ /g, ''), clock));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/app/calls`);
  expect(cspErrors).toEqual([]);
});
