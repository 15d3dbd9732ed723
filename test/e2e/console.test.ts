/**
 * The console in a real browser (Debian's chromium via playwright-core) against the real stack:
 * the time-skipping Temporal server with the real worker and activities, PGlite with the real
 * migrations, and the real HTTP app listening on a port. A Botox treatment runs to its day-100
 * staff escalation; a front-desk user signs in, finds the call on the call list, resolves it as
 * booked (the workflow closes) and answers a client's text (a ledger row). Tenancy, CSRF, session
 * expiry and the audit log are checked in the same browser. Every page is screenshotted at 1280
 * and 390 px under test-results/console/ and checked with axe-core.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { createUser, setPassword } from '../../src/console/accounts/users.js';
import { auditLog, clients, consoleSessions, consoleUsers, messages, staffTasks } from '../../src/db/schema.js';
import { createLogger } from '../../src/log.js';
import { createInbound } from '../../src/messaging/inbound.js';
import { createOutboxProvider } from '../../src/messaging/outbox/index.js';
import { statusQuery } from '../../workflows/definitions.js';
import { axeViolations, launchBrowser, screenshots } from '../helpers/browser.js';
import { treatmentSlot } from '../helpers/clinic-time.js';
import { startConsoleApp } from '../helpers/console-app.js';
import { CLINIC_ID, DAY_MS, type Engine, iso, treatment } from '../helpers/engine.js';
import { until } from '../helpers/poll.js';

const PASSWORD = 'front desk password 1';
const ADMIN_PASSWORD = 'agency admin password 1';
const log = createLogger({ level: 'silent' });

let e: Engine;
let configDir: string;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let workflowId: string;
let otherClientId: string;
const cspErrors: string[] = [];
const a11y: Record<string, string[]> = {};

async function look(name: string): Promise<void> {
  await screenshots(page, name);
  const violations = await axeViolations(page);
  a11y[name] = violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.targets.join(' ')}`);
}

async function signIn(email: string, password: string): Promise<void> {
  await page.goto(`${base}/app/login`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/app/calls**`);
}

beforeAll(async () => {
  // The repo's config plus a second clinic (another tenant for the 404 check).
  configDir = mkdtempSync(join(tmpdir(), 'rebook-console-config-'));
  cpSync('config', configDir, { recursive: true });
  const demo = readFileSync(join(configDir, 'clinics', 'demo-clinic.yaml'), 'utf8');
  writeFileSync(
    join(configDir, 'clinics', 'other-clinic.yaml'),
    demo.replace('id: demo-clinic', 'id: other-clinic').replace('Glow Aesthetics (demo)', 'Other Spa'),
  );
  const started = await startConsoleApp(configDir);
  ({ e, app, base } = started);
  const { config } = started;

  // A Botox treatment that runs, on the time-skipping server, to its day-100 staff escalation.
  const t0 = await treatmentSlot(e);
  await e.send(treatment({ clientId: 'console-1', appointmentId: 'console-appt-1', completedAt: iso(t0) }));
  workflowId = await e.workflowIdFor('console-1');
  await e.sleepUntil(t0 + 101 * DAY_MS);
  await until('the day-100 staff task', async () => (await e.tasks()).find((t) => t.workflowId === workflowId));

  const db = e.database.db;
  const desk = await createUser(db, config.current(), {
    email: 'desk@glow.example',
    name: 'Robin Desk',
    role: 'front_desk',
    clinicIds: [CLINIC_ID],
  });
  await setPassword(db, desk.id, PASSWORD);
  const admin = await createUser(db, config.current(), {
    email: 'admin@agency.example',
    name: 'Sam Admin',
    role: 'agency_admin',
    clinicIds: [CLINIC_ID, 'other-clinic'],
  });
  await setPassword(db, admin.id, ADMIN_PASSWORD);
  const [other] = await db
    .insert(clients)
    .values({
      clinicId: 'other-clinic',
      externalId: 'other-1',
      firstName: 'Jordan',
      lastName: 'Elsewhere',
      consentSms: true,
      consentEmail: true,
    })
    .returning();
  otherClientId = other!.id;

  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await e?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

it('signs in and shows the day-100 call on the call list', async () => {
  await page.goto(`${base}/app/calls`);
  expect(page.url()).toBe(`${base}/app/login`);
  await look('sign-in');
  await signIn('desk@glow.example', PASSWORD);
  const card = page.locator('.task').filter({ hasText: 'Avery Quinton' });
  await expect(card.count()).resolves.toBe(1);
  expect(await card.locator('a[href^="tel:"]').getAttribute('href')).toBe('tel:+12125550123');
  expect(await card.textContent()).toContain('No response to the sequence');
  expect(await card.textContent()).toMatch(/Reminder \(email\).*Incentive \(text\)/);
  // No client data in the title or the address.
  expect(await page.title()).toBe('Call list · Rebook');
  await look('call-list');
});

it('shows the client page with the sequence timeline', async () => {
  await page.locator('.task a.task__name').first().click();
  await page.waitForURL(/\/app\/clients\/[0-9a-f-]{36}$/);
  expect(page.url()).not.toMatch(/Avery|Quinton/);
  await expect(page.locator('h1').textContent()).resolves.toContain('Avery Quinton');
  const timeline = await page.locator('.timeline').textContent();
  expect(timeline).toContain('Reminder · Email');
  expect(timeline).toContain('Staff task: No response to the sequence');
  await look('client');
});

it('resolves the call as booked: the sequence in Temporal is booked, its marketing stopped', async () => {
  await page.goto(`${base}/app/calls`);
  await page.getByRole('button', { name: /Claim/ }).first().click();
  await page.waitForURL(`${base}/app/calls?done=claimed`);
  await page.locator('.outcome summary').first().click();
  await page.getByLabel('Booked').first().check();
  await page.getByLabel('Note (optional)').first().fill('Booked for next Tuesday');
  await page.getByRole('button', { name: 'Save outcome' }).first().click();
  await page.waitForURL(`${base}/app/calls?done=booked`);
  await expect(page.locator('.notice').textContent()).resolves.toContain('booked');
  // Issue 11: a booking is watched until it becomes a visit; one reported from a call has no
  // appointment on record, so the sequence ends booked a day later (test/messaging/e2e-messaging
  // follows it there; skipping a day here would expire this page's session).
  await until('the sequence is booked', async () => {
    const d = await e.client.workflow.getHandle(workflowId).query(statusQuery);
    return d.outcome === 'booked' && d.history.some((h) => h.event === 'booked');
  });
  const [task] = await e.database.db.select().from(staffTasks).where(eq(staffTasks.workflowId, workflowId));
  expect(task).toMatchObject({ status: 'resolved', outcome: 'booked', claimedBy: 'Robin Desk' });
  await expect(page.locator('.empty h2').textContent()).resolves.toBe('No open tasks — nice work');
  await look('call-list-empty');
});

it('answers an inbound text from the conversations page: a ledger row through the outbox', async () => {
  const clinic = createConfigStore(configDir).current().clinics.get(CLINIC_ID)!;
  const inbound = createInbound({
    db: e.database.db,
    log,
    provider: () => createOutboxProvider(log),
    now: () => new Date(e.now()),
  });
  await inbound.twilioInbound(clinic, { MessageSid: 'SM-console-1', From: '+12125550123', Body: 'Is Friday ok?' });
  await page.goto(`${base}/app/conversations`);
  const conv = page.locator('section.card').filter({ hasText: 'Is Friday ok?' });
  await conv.getByLabel('Reply by text').fill('Friday at 3 works, see you then!');
  await look('conversations');
  await conv.getByRole('button', { name: 'Send text' }).click();
  await page.waitForURL(`${base}/app/conversations?done=sent`);
  const clientId = await e.clientUuid('console-1');
  const sent = await e.database.db
    .select()
    .from(messages)
    .where(and(eq(messages.clientId, clientId), eq(messages.stage, 'staff_reply')));
  expect(sent).toMatchObject([
    { channel: 'sms', status: 'outbox', recipient: '+12125550123', body: 'Friday at 3 works, see you then!' },
  ]);
});

it('answers 404 for another clinic’s client, 403 for a POST without the CSRF token', async () => {
  const res = await page.goto(`${base}/app/clients/${otherClientId}`);
  expect(res?.status()).toBe(404);
  await expect(page.locator('h1').textContent()).resolves.toBe('Page not found');
  await look('not-found');
  const [task] = await e.database.db.select().from(staffTasks).where(eq(staffTasks.workflowId, workflowId));
  // The browser's own cookies, no token: refused before anything changes.
  const noToken = await page.request.post(`${base}/app/tasks/${task!.id}/claim`, { form: {} });
  expect(noToken.status()).toBe(403);
  const wrongToken = await page.request.post(`${base}/app/logout`, { form: { _csrf: 'not-the-token' } });
  expect(wrongToken.status()).toBe(403);
});

it('returns to sign-in when the session has been idle too long', async () => {
  const [desk] = await e.database.db.select().from(consoleUsers).where(eq(consoleUsers.email, 'desk@glow.example'));
  await e.database.db
    .update(consoleSessions)
    .set({ lastSeenAt: new Date(e.now() - 16 * 60_000) })
    .where(eq(consoleSessions.userId, desk!.id));
  await page.goto(`${base}/app/calls`);
  expect(page.url()).toBe(`${base}/app/login?expired=1`);
  await expect(page.locator('.notice').textContent()).resolves.toContain('Your session ended');
});

it('lists the views just made in the audit log (agency admin), and the admin pages pass', async () => {
  await signIn('admin@agency.example', ADMIN_PASSWORD);
  await page.goto(`${base}/app/audit?action=client.view`);
  const rows = await page.locator('tbody tr').allTextContents();
  const clientId = await e.clientUuid('console-1');
  expect(rows.some((r) => r.includes('Robin Desk') && r.includes('client.view') && r.includes(clientId))).toBe(true);
  await page.goto(`${base}/app/audit`);
  await look('audit');
  const logged = await e.database.db.select().from(auditLog);
  // Ids only: nothing of the client's in the log.
  expect(JSON.stringify(logged)).not.toMatch(/Avery|Quinton|5550123|Friday/);
  await page.goto(`${base}/app/users`);
  await look('users');
  await page.goto(`${base}/app/preview?clinicId=demo-clinic&service=Botox+20u&date=2026-03-02`);
  await expect(page.locator('#preview-title').textContent()).resolves.toContain('every');
  await look('preview');
  await page.goto(`${base}/app/clients/${otherClientId}`);
  await look('client-other-clinic');
});

it('has no serious or critical accessibility violations and no CSP violations on any page', () => {
  expect(Object.keys(a11y).length).toBeGreaterThanOrEqual(9);
  expect(a11y).toEqual(Object.fromEntries(Object.keys(a11y).map((k) => [k, []])));
  expect(cspErrors).toEqual([]);
});
