/**
 * The console's dashboard, agency overview and settings in a real browser against the real stack
 * (time-skipping Temporal with the real worker, PGlite with the real migrations, the real HTTP app
 * on a port). Real sequences feed the dashboard: Botox treatments run to day 101, one booked after
 * its reminder and visited on day 92 (attended: the rebooked run; the visit starts its next cycle). A manager maps an unrecognised service with one click and the next treatment of
 * it enrolls; an agency admin sees both clinics of the agency; the front desk gets 404. Pages are
 * screenshotted at 1280, 768 and 390 px under test-results/console/ and checked with axe-core.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createUser, setPassword } from '../../src/console/accounts/users.js';
import { auditLog, sequences } from '../../src/db/schema.js';
import { axeViolations, launchBrowser, screenshots } from '../helpers/browser.js';
import { treatmentSlot } from '../helpers/clinic-time.js';
import { startConsoleApp } from '../helpers/console-app.js';
import { booking, CLINIC_ID, DAY_MS, type Engine, iso, treatment } from '../helpers/engine.js';

const PASSWORD = 'dashboard password 1';

let e: Engine;
let configDir: string;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let page: Page;
const cspErrors: string[] = [];
const a11y: Record<string, string[]> = {};

async function look(name: string): Promise<void> {
  await screenshots(page, name, [390, 768, 1280]);
  const violations = await axeViolations(page);
  a11y[name] = violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.targets.join(' ')}`);
}

async function signIn(email: string): Promise<void> {
  await page.context().clearCookies();
  await page.goto(`${base}/app/login`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/app/calls**`);
}

const navLabels = () => page.locator('nav.nav a').allTextContents();

beforeAll(async () => {
  // The repo's config, a second clinic, and an agency both clinics belong to.
  configDir = mkdtempSync(join(tmpdir(), 'rebook-dashboard-config-'));
  cpSync('config', configDir, { recursive: true });
  const demo = readFileSync(join(configDir, 'clinics', 'demo-clinic.yaml'), 'utf8').replace(
    'name: Glow Aesthetics (demo)\n',
    'name: Glow Aesthetics (demo)\nagency: northside\n',
  );
  writeFileSync(join(configDir, 'clinics', 'demo-clinic.yaml'), demo);
  writeFileSync(
    join(configDir, 'clinics', 'other-clinic.yaml'),
    demo.replace('id: demo-clinic', 'id: other-clinic').replace('Glow Aesthetics (demo)', 'Other Spa'),
  );
  mkdirSync(join(configDir, 'agencies'), { recursive: true });
  writeFileSync(join(configDir, 'agencies', 'northside.yaml'), 'name: Northside Group\n');
  const started = await startConsoleApp(configDir);
  ({ e, app, base } = started);
  const { config } = started;

  // Three Botox treatments and one service no treatment type recognises.
  const t0 = await treatmentSlot(e);
  for (const id of ['dash-1', 'dash-2', 'dash-3'])
    await e.send(treatment({ clientId: id, appointmentId: `${id}-appt`, completedAt: iso(t0) }));
  const [unknown] = await e.send(
    treatment({ clientId: 'dash-4', appointmentId: 'dash-4-appt', service: 'Aqua Gold Facial', completedAt: iso(t0) }),
  );
  expect(unknown).toMatchObject({ enrolled: false, reason: 'unclassified_service' });
  // dash-1 books after its day-80 reminder and comes in on day 92 (issue 11: a booking counts as
  // rebooked once its visit happens); the others run to the day-100 staff call.
  await e.sleepUntil(t0 + 85 * DAY_MS);
  const visitAt = e.now() + 7 * DAY_MS;
  await e.send(booking('dash-1', 'dash-1-next', visitAt));
  await e.sleepUntil(visitAt + 3_600_000);
  await e.send(treatment({ clientId: 'dash-1', appointmentId: 'dash-1-next', completedAt: iso(visitAt) }));
  await e.sleepUntil(t0 + 101 * DAY_MS);

  const db = e.database.db;
  const users = [
    { email: 'manager@glow.example', name: 'Morgan Manager', role: 'clinic_manager' as const, clinicIds: [CLINIC_ID] },
    { email: 'desk@glow.example', name: 'Robin Desk', role: 'front_desk' as const, clinicIds: [CLINIC_ID] },
    { email: 'admin@northside.example', name: 'Sam Admin', role: 'agency_admin' as const, clinicIds: [] },
  ];
  for (const u of users) {
    const created = await createUser(db, config.current(), {
      ...u,
      ...(u.role === 'agency_admin' ? { agencyId: 'northside' } : {}),
    });
    await setPassword(db, created.id, PASSWORD);
  }

  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
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

it('shows a manager the dashboard of real sequences as charts', async () => {
  await signIn('manager@glow.example');
  expect(await navLabels()).toEqual(['Call list', 'Conversations', 'Dashboard', 'Preview', 'Settings']);
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.waitForURL(`${base}/app/dashboard`);
  // The first treatments are ~101 days old: outside the default 90 days, inside the last 365. In
  // the 90 days only dash-1's day-92 visit, which started its next cycle: nothing finished yet.
  const recent = await page.locator('.dash-figures').textContent();
  expect(recent).toMatch(/Enrolled\s*1/);
  expect(recent).toContain('No sequence has finished yet');
  await page.getByLabel('Treatments completed in').selectOption('365');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/\/app\/dashboard\?.*range=365/);
  expect(await page.title()).toBe('Dashboard · Rebook');
  const figures = await page.locator('.dash-figures').textContent();
  // dash-1's first run ended attended (its visit happened): the one finished sequence, rebooked.
  // Enrolled: the three first treatments and dash-1's visit, its next cycle.
  expect(figures).toContain('100% rebooked');
  expect(figures).toContain('1 of 1 finished sequences');
  expect(figures).toMatch(/Enrolled\s*4/);
  expect(figures).toContain('3 still in their sequence');
  // Funnel, rebook rate by month, messages: SVG charts, not only tables (held back is empty: nothing was held).
  for (const id of ['funnel', 'months', 'messages'])
    await expect(page.locator(`svg.chart__svg[aria-labelledby^="${id}-title"]`).count()).resolves.toBe(1);
  await expect(page.locator('.chart--empty').textContent()).resolves.toContain('Nothing was held back');
  expect(await page.locator('#funnel-desc').textContent()).toContain('Of 4 treatments enrolled');
  expect(await page.locator('.chart__data').first().textContent()).toMatch(/Reminder/);
  await expect(page.locator('#dash-connector-h').textContent()).resolves.toBe('Booking platform connection');
  await look('dashboard');
});

it('maps an unmapped service with one click: audited, and the next treatment of it enrolls', async () => {
  const row = page.locator('#dash-unmapped-h ~ div table tbody tr').filter({ hasText: 'Aqua Gold Facial' });
  await row.getByLabel('Treatment type for Aqua Gold Facial').selectOption('hydrafacial');
  await row.getByRole('button', { name: 'Map' }).click();
  await page.waitForURL(`${base}/app/dashboard?clinic=${CLINIC_ID}&done=mapped`);
  await expect(page.locator('.notice').textContent()).resolves.toContain('Service mapped');
  await expect(page.getByText('Aqua Gold Facial').count()).resolves.toBe(0);
  const [mapped] = await e.database.db.select().from(auditLog).where(eq(auditLog.action, 'service.map'));
  expect(mapped).toMatchObject({ clinicId: CLINIC_ID, role: 'clinic_manager', target: 'hydrafacial' });

  const t1 = await treatmentSlot(e);
  const [res] = await e.send(
    treatment({ clientId: 'dash-5', appointmentId: 'dash-5-appt', service: 'Aqua Gold Facial', completedAt: iso(t1) }),
  );
  expect(res).toMatchObject({ enrolled: true, treatmentType: 'hydrafacial' });
  const clientId = await e.clientUuid('dash-5');
  const seq = await e.database.db
    .select()
    .from(sequences)
    .where(and(eq(sequences.clientId, clientId), eq(sequences.treatmentType, 'hydrafacial')));
  expect(seq).toMatchObject([{ running: true }]);
});

it('keeps a manager to their clinic and shows the effective send window in settings', async () => {
  // The engine's clock moved on by a day since: the idle session has ended.
  await signIn('manager@glow.example');
  const other = await page.goto(`${base}/app/dashboard?clinic=other-clinic`);
  expect(other?.status()).toBe(404);
  const bad = await page.goto(`${base}/app/dashboard?range=custom&from=2026-05-20&to=2026-05-01`);
  expect(bad?.status()).toBe(400);
  await expect(page.locator('.error-summary').textContent()).resolves.toContain('must not be before');
  await page.goto(`${base}/app/settings`);
  expect(await page.title()).toBe('Settings · Rebook');
  await expect(page.locator('.settings-window').textContent()).resolves.toBe('Every day, 10:00–19:00');
  const types = await page.locator('#settings-types-h ~ div table').textContent();
  expect(types).toContain('Botox');
  expect(types).toContain('Staff escalation (day 100, staff)');
  await look('settings');
});

it('shows an agency admin every clinic of the agency, each linking to its dashboard', async () => {
  await signIn('admin@northside.example');
  expect(await navLabels()).toEqual([
    'Call list',
    'Conversations',
    'Dashboard',
    'Preview',
    'Settings',
    'Agency',
    'Users and keys',
    'Audit log',
  ]);
  await page.goto(`${base}/app/agency?range=365`);
  const rows = page.locator('.agency__table tbody tr');
  await expect(rows.count()).resolves.toBe(2);
  const demoRow = rows.filter({ hasText: 'Glow Aesthetics (demo)' });
  // dash-1, 2, 3, dash-1's visit (its next cycle) and dash-5.
  expect(await demoRow.locator('td').first().textContent()).toBe('5');
  await expect(demoRow.locator('.status').count()).resolves.toBe(2);
  await expect(rows.filter({ hasText: 'Other Spa' }).count()).resolves.toBe(1);
  await look('agency');
  await rows.filter({ hasText: 'Other Spa' }).getByRole('link', { name: 'Other Spa' }).click();
  await page.waitForURL(`${base}/app/dashboard?clinic=other-clinic`);
  await expect(page.locator('.lede').first().textContent()).resolves.toContain('Other Spa');
  await expect(page.locator('.empty-state h2').first().textContent()).resolves.toBe('No treatments in this period yet');
});

it('answers 404 to the front desk for the dashboard, settings and agency pages', async () => {
  await signIn('desk@glow.example');
  expect(await navLabels()).toEqual(['Call list', 'Conversations']);
  for (const path of ['/app/dashboard', '/app/settings', '/app/agency'])
    expect((await page.goto(`${base}${path}`))?.status()).toBe(404);
  // The role check comes before anything else: the mapping action is as invisible as the page.
  const post = await page.request.post(`${base}/app/clinics/${CLINIC_ID}/service-mappings`, {
    form: { serviceKey: 'name:consultation', treatmentType: '' },
  });
  expect(post.status()).toBe(404);
});

it('has no serious or critical accessibility violations and no CSP violations', () => {
  expect(Object.keys(a11y).sort()).toEqual(['agency', 'dashboard', 'settings']);
  expect(a11y).toEqual({ agency: [], dashboard: [], settings: [] });
  expect(cspErrors).toEqual([]);
});
