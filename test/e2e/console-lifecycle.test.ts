/**
 * The whole post-treatment lifecycle on the client page (issue 11 §7), in a real browser against
 * the real stack (time-skipping Temporal server, real worker and activities, PGlite, the real
 * app). Three Botox clients treated at the same moment: one pre-booked at checkout (care touches
 * out, the visit watched), one who booked on day 85 and cancelled on day 88 (a recovery text two
 * days later), one who missed a booked visit (the no-show recovery). Each client page must say
 * where the sequence stands and show what happened to the bookings; pages are screenshotted at
 * 390 and 1280 px under test-results/console/ and checked with axe-core.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createUser, setPassword } from '../../src/console/accounts/users.js';
import { clients } from '../../src/db/schema.js';
import type { CanonicalEvent } from '../../src/ingest/events.js';
import { axeViolations, launchBrowser, screenshots } from '../helpers/browser.js';
import { treatmentSlot } from '../helpers/clinic-time.js';
import { startConsoleApp } from '../helpers/console-app.js';
import { booking, CLINIC_ID, DAY_MS, type Engine, iso, treatment } from '../helpers/engine.js';
import { until } from '../helpers/poll.js';

const PASSWORD = 'lifecycle page password 1';
let e: Engine;
let configDir: string;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let page: Page;
let t0: number;
const a11y: Record<string, string[]> = {};

/** A cancellation or no-show as platforms report it, with its time (the engine's clock). */
const lapse = (type: 'appointment.cancelled' | 'appointment.no_show', clientId: string, appointmentId: string) =>
  ({ type, clientId, appointmentId, occurredAt: iso(e.now()) }) as CanonicalEvent;

async function clientPage(externalId: string, name: string): Promise<{ timeline: string; sequences: string }> {
  const [row] = await e.database.db
    .select({ id: clients.id })
    .from(clients)
    .where(and(eq(clients.clinicId, CLINIC_ID), eq(clients.externalId, externalId)));
  await page.goto(`${base}/app/clients/${row!.id}`);
  await screenshots(page, name, [390, 1280]);
  a11y[name] = (await axeViolations(page)).map((v) => `${v.id} (${v.impact}): ${v.help}`);
  return {
    timeline: (await page.locator('.timeline').textContent()) ?? '',
    sequences: (await page.locator('aside').textContent()) ?? '',
  };
}

beforeAll(async () => {
  configDir = mkdtempSync(join(tmpdir(), 'rebook-console-lifecycle-'));
  cpSync('config', configDir, { recursive: true });
  const started = await startConsoleApp(configDir);
  ({ e, app, base } = started);

  t0 = await treatmentSlot(e);
  for (const id of ['life-pre', 'life-cancel', 'life-miss'])
    await e.send(treatment({ clientId: id, appointmentId: `${id}-appt`, service: 'Botox 20u', completedAt: iso(t0) }));
  // Pre-booked at checkout for day 95 (still ahead when the pages are read on day 91).
  await e.send(booking('life-pre', 'life-pre-next', t0 + 95 * DAY_MS));
  await e.sleepUntil(t0 + 85 * DAY_MS);
  await e.send(booking('life-cancel', 'life-cancel-next', t0 + 92 * DAY_MS));
  await e.send(booking('life-miss', 'life-miss-next', t0 + 86 * DAY_MS + 3 * 3_600_000));
  await e.sleepUntil(t0 + 86 * DAY_MS + 6 * 3_600_000);
  await e.send(lapse('appointment.no_show', 'life-miss', 'life-miss-next'));
  await e.sleepUntil(t0 + 88 * DAY_MS);
  await e.send(lapse('appointment.cancelled', 'life-cancel', 'life-cancel-next'));
  await e.sleepUntil(t0 + 89 * DAY_MS);
  await until('the no-show recovery', async () => (await e.messages()).find((m) => m.stage === 'recovery_no_show'));
  await e.sleepUntil(t0 + 91 * DAY_MS);
  await until('the cancellation recovery', async () =>
    (await e.messages()).find((m) => m.stage === 'recovery_cancelled'),
  );

  const desk = await createUser(e.database.db, started.config.current(), {
    email: 'desk@glow.example',
    name: 'Robin Desk',
    role: 'front_desk',
    clinicIds: [CLINIC_ID],
  });
  await setPassword(e.database.db, desk.id, PASSWORD);
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${base}/app/login`);
  await page.getByLabel('Email address').fill('desk@glow.example');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/app/calls**`);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await e?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

it('pre-booked at checkout: care touches tagged as care, the sequence watches the booked visit', async () => {
  const { timeline, sequences } = await clientPage('life-pre', 'client-lifecycle-prebooked');
  expect(timeline).toMatch(/Day-1 check-in · text\s*care/);
  expect(timeline).toMatch(/Results message · Email\s*care/);
  expect(timeline).not.toContain('Reminder');
  expect(timeline).toContain('Appointment booked');
  expect(sequences).toContain('Booked');
  expect(sequences).toContain('Marketing stopped; aftercare still goes out');
  // The watched visit is the day-95 booking, shown in the clinic's time.
  expect(sequences).toMatch(/visit \w{3} \d{1,2}/);
});

it('booked then cancelled: the cancellation and the recovery text on the timeline, back in follow-up', async () => {
  const { timeline, sequences } = await clientPage('life-cancel', 'client-lifecycle-cancelled');
  expect(timeline).toContain('Appointment cancelled');
  expect(timeline).toContain('Was booked for');
  // Listed when it was cancelled (day 88), after the day-80 reminder and before the recovery text.
  expect(timeline.indexOf('New time after a cancellation')).toBeLessThan(timeline.indexOf('Appointment cancelled'));
  expect(timeline.indexOf('Appointment cancelled')).toBeLessThan(timeline.indexOf('Reminder · Email'));
  expect(timeline).toContain('New time after a cancellation · text');
  expect(timeline).toContain('Reminder · Email');
  expect(sequences).toContain('Back in follow-up');
  expect(sequences).toContain('cancelled and not replaced');
  expect(sequences).toMatch(/next: (Results check-in|Staff call)/);
  // The last touch is the one the client got, not a stage skipped while the booking stood.
  expect(sequences).toContain('Last touch: New time after a cancellation');
});

it('a missed visit: the no-show and its own recovery wording', async () => {
  const { timeline, sequences } = await clientPage('life-miss', 'client-lifecycle-no-show');
  expect(timeline).toContain('Missed appointment');
  expect(timeline).toContain('no-show');
  expect(timeline).toContain('New time after a missed visit · text');
  expect(sequences).toContain('Back in follow-up');
  expect(sequences).toContain('missed the booked visit');
  // No client data in the title.
  expect(await page.title()).toBe('Client · Rebook');
});

it('has no serious or critical accessibility violations on the lifecycle pages', () => {
  expect(Object.keys(a11y)).toHaveLength(3);
  expect(a11y).toEqual({
    'client-lifecycle-prebooked': [],
    'client-lifecycle-cancelled': [],
    'client-lifecycle-no-show': [],
  });
});
