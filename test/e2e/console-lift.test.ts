/**
 * Proof of lift in the console, in a real browser against the real app and database (issue 13):
 * the clinic dashboard's lift panel and the agency overview's lift column. Three clinics of one
 * agency: one with enough finished sequences in both arms (the lift, its interval, visits and
 * revenue, and its stage variants), one with too few ("not enough clients yet — N more needed",
 * no lift), one with no holdout. Finished sequences are written to the database as the sequences
 * would leave them; expectations come from the interval arithmetic, computed here. Pages are
 * screenshotted at 390 and 1280 px under test-results/console/ and checked with axe-core.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createUser, setPassword } from '../../src/console/accounts/users.js';
import { newcombeDifference, sampleSizeForLift } from '../../src/core/proportions.js';
import { clients, messages, sequenceRuns } from '../../src/db/schema.js';
import { axeViolations, launchBrowser, SCREENSHOT_DIR, screenshots } from '../helpers/browser.js';
import { startConsoleApp } from '../helpers/console-app.js';
import { DAY_MS, type Engine } from '../helpers/engine.js';

const PASSWORD = 'lift panel password 1';
let e: Engine;
let configDir: string;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let page: Page;
const a11y: Record<string, string[]> = {};
const cspErrors: string[] = [];
/** The demo clinic's arms: 400 treated (260 rebooked), 100 held out (40 rebooked). */
const DEMO = { treated: { n: 400, x: 260 }, holdout: { n: 100, x: 40 } };
/** The small clinic's: 12 treated (9 rebooked), 3 held out (1 rebooked). */
const SMALL = { treated: { n: 12, x: 9 }, holdout: { n: 3, x: 1 } };

async function look(name: string): Promise<void> {
  await screenshots(page, name, [390, 1280]);
  // The panel alone at phone width, to read at full size.
  if ((await page.locator('section.lift').count()) > 0) {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('section.lift').screenshot({ path: join(SCREENSHOT_DIR, `${name}-panel-390.png`) });
    await page.setViewportSize({ width: 1280, height: 900 });
  }
  const violations = await axeViolations(page);
  a11y[name] = violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.targets.join(' ')}`);
}

async function seed(clinicId: string, arms: typeof DEMO, variants: boolean): Promise<void> {
  const db = e.database.db;
  const plan = (['treated', 'holdout'] as const).flatMap((arm) =>
    Array.from({ length: arms[arm].n }, (_, i) => ({ arm, booked: i < arms[arm].x })),
  );
  const made = await db
    .insert(clients)
    .values(plan.map((_, i) => ({ clinicId, externalId: `${clinicId}-${i}`, firstName: 'Sam', lastName: 'Lee' })))
    .returning({ id: clients.id });
  // Treated 100–110 days ago (inside the last 365 days); booked ones on day 85, churned at day 121.
  const anchor = (i: number) => new Date(e.now() - (100 + (i % 10)) * DAY_MS);
  const wf = (i: number) => `rebook/${clinicId}/${made[i]!.id}/neuromodulator`;
  await db.insert(sequenceRuns).values(
    plan.map((p, i) => ({
      workflowId: wf(i),
      runKey: `${clinicId}-${i}-appt`,
      clinicId,
      clientId: made[i]!.id,
      treatmentType: 'neuromodulator',
      anchorAt: anchor(i),
      outcome: p.booked ? 'booked' : 'churned',
      outcomeStage: p.booked && p.arm === 'treated' ? 'incentive' : null,
      running: false,
      startedAt: anchor(i),
      endedAt: new Date(anchor(i).getTime() + (p.booked ? 85 : 121) * DAY_MS),
      arm: p.arm,
    })),
  );
  if (!variants) return;
  // The incentive went to every treated client, half as each variant.
  await db.insert(messages).values(
    plan.flatMap((p, i) =>
      p.arm === 'treated'
        ? [
            {
              idempotencyKey: `${wf(i)}|${clinicId}-${i}-appt|incentive`,
              clinicId,
              clientId: made[i]!.id,
              workflowId: wf(i),
              treatmentType: 'neuromodulator',
              stage: 'incentive',
              channel: 'sms',
              status: 'delivered',
              provider: 'outbox',
              dueAt: anchor(i),
              arm: 'treated' as const,
              variant: i % 2 === 0 ? 'pct15' : 'usd25',
            },
          ]
        : [],
    ),
  );
}

beforeAll(async () => {
  configDir = mkdtempSync(join(tmpdir(), 'rebook-lift-console-'));
  cpSync('config', configDir, { recursive: true });
  const demoFile = readFileSync(join(configDir, 'clinics', 'demo-clinic.yaml'), 'utf8').replace(
    'name: Glow Aesthetics (demo)\n',
    'name: Glow Aesthetics (demo)\nagency: northside\n',
  );
  writeFileSync(
    join(configDir, 'clinics', 'demo-clinic.yaml'),
    `${demoFile}\nlift: { holdout: 0.2, averagePrice: { neuromodulator: 450 } }\nvariants:\n  incentive:\n    - { name: pct15, offer: { percentOff: 15 } }\n    - { name: usd25, offer: { amountOff: 25 } }\n`,
  );
  writeFileSync(
    join(configDir, 'clinics', 'small-clinic.yaml'),
    `${demoFile.replace('id: demo-clinic', 'id: small-clinic').replace('Glow Aesthetics (demo)', 'Small Spa')}\nlift: { holdout: 0.2 }\n`,
  );
  writeFileSync(
    join(configDir, 'clinics', 'plain-clinic.yaml'),
    demoFile.replace('id: demo-clinic', 'id: plain-clinic').replace('Glow Aesthetics (demo)', 'Plain Studio'),
  );
  mkdirSync(join(configDir, 'agencies'), { recursive: true });
  writeFileSync(join(configDir, 'agencies', 'northside.yaml'), 'name: Northside Group\n');
  const started = await startConsoleApp(configDir);
  ({ e, app, base } = started);
  await seed('demo-clinic', DEMO, true);
  await seed('small-clinic', SMALL, false);
  const created = await createUser(e.database.db, started.config.current(), {
    email: 'admin@northside.example',
    name: 'Sam Admin',
    role: 'agency_admin',
    clinicIds: [],
    agencyId: 'northside',
  });
  await setPassword(e.database.db, created.id, PASSWORD);
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  await page.goto(`${base}/app/login`);
  await page.getByLabel('Email address').fill('admin@northside.example');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/app/calls**`);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await e?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

const pts = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(0)}`;

it('the dashboard of a clinic with enough clients shows the lift, its interval, visits, revenue and variants', async () => {
  await page.goto(`${base}/app/dashboard?clinic=demo-clinic&range=365`);
  const { treated: t, holdout: h } = DEMO;
  const d = newcombeDifference(t.x, t.n, h.x, h.n)!;
  const panel = page.locator('section.lift');
  await expect(panel.locator('.lift-figure__number').textContent()).resolves.toBe(`${pts(d.estimate)} points rebooked`);
  const meaning = await panel.locator('.lift-figure__meaning').textContent();
  expect(meaning).toContain('65% rebooked in the program, 40% of comparable clients held out of it');
  expect(meaning).toContain(`95% CI of the difference ${pts(d.lower)} to ${pts(d.upper)} points`);
  // Visits: difference × treated finished = 0.25 × 400 = 100; revenue at the configured $450.
  expect(meaning).toContain('+100 visits, +$45,000 from the program');
  const row = panel.locator('.lift__table tbody tr');
  await expect(row.count()).resolves.toBe(1);
  expect(await row.textContent()).toContain('65% (260 of 400)');
  // 200 sends per variant is fewer than a 10-point difference needs: no variant is called.
  const variant = panel.locator('.lift__variants tbody tr');
  expect(await variant.textContent()).toMatch(/Not enough sends yet — \d+ more needed per variant/);
  await look('lift-dashboard');
});

it('the dashboard of a clinic with too few clients says how many more are needed, and prints no lift', async () => {
  await page.goto(`${base}/app/dashboard?clinic=small-clinic&range=365`);
  const { treated: t, holdout: h } = SMALL;
  // The lift report's rule, by hand: baseline the held-out rate, arms in their observed ratio.
  const n = sampleSizeForLift(h.x / h.n, h.x / h.n + 0.2, t.n / h.n);
  const more = n.treated - t.n + (n.comparison - h.n);
  const panel = page.locator('section.lift');
  await expect(panel.locator('.lift-figure__number').textContent()).resolves.toBe(
    `Not enough clients yet — ${more} more needed`,
  );
  expect(await panel.textContent()).not.toMatch(/points rebooked|CI of the difference/);
  await look('lift-dashboard-small');
});

it('the agency overview has a lift column: the lift, "not enough clients yet", or no holdout', async () => {
  await page.goto(`${base}/app/agency?range=365`);
  const header = await page.locator('.agency__table thead th').allTextContents();
  expect(header).toContain('Lift');
  const cell = async (name: string) => {
    const row = page.locator('.agency__table tbody tr').filter({ hasText: name });
    return row
      .locator('td')
      .nth(header.indexOf('Lift') - 1)
      .textContent();
  };
  const d = newcombeDifference(DEMO.treated.x, DEMO.treated.n, DEMO.holdout.x, DEMO.holdout.n)!;
  await expect(cell('Glow Aesthetics (demo)')).resolves.toBe(
    `${pts(d.estimate)} pts (95% CI ${pts(d.lower)} to ${pts(d.upper)})`,
  );
  await expect(cell('Small Spa')).resolves.toMatch(/^Not enough clients yet — \d+ more needed$/);
  await expect(cell('Plain Studio')).resolves.toBe('no holdout set');
  await look('lift-agency');
});

it('a clinic without a holdout says how to get one', async () => {
  await page.goto(`${base}/app/dashboard?clinic=plain-clinic&range=365`);
  // No treatment in the period: the dashboard's own empty state, no lift panel to misread.
  await expect(page.locator('section.lift').count()).resolves.toBe(0);
});

it('has no serious or critical accessibility violations and no CSP violations', () => {
  expect(a11y).toEqual({ 'lift-dashboard': [], 'lift-dashboard-small': [], 'lift-agency': [] });
  expect(cspErrors).toEqual([]);
});
