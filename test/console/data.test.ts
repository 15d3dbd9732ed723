/**
 * The console's query modules against a real database (PGlite, and PostgreSQL when
 * TEST_DATABASE_URL is set): a seeded clinic read through the dashboard (the same numbers as the
 * rebooking report, which it must not recount), connector and sending health from what the
 * poller, the API call log and the provider webhooks record, the agency overview, and
 * conversation threads.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordApiCalls } from '../../connectors/api-call-log.js';
import { ApiCallCounter } from '../../connectors/http.js';
import { POLL_SUCCEEDED_KEY } from '../../connectors/poller.js';
import { type LoadedConfig, loadConfig } from '../../src/config/load.js';
import { loadAgencyOverview, warningsFor } from '../../src/console/data/agency-overview.js';
import { loadClinicDashboard } from '../../src/console/data/clinic-dashboard.js';
import { loadConnectorHealth } from '../../src/console/data/connector-health.js';
import { loadConversationThreads, markReplyHandled } from '../../src/console/data/conversations.js';
import { loadSendingHealth } from '../../src/console/data/sending-health.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { writeState } from '../../src/db/connector-store.js';
import { connectorErrors, inboxEvents, messageEvents, messages, staffTasks } from '../../src/db/schema.js';
import { mapService, unmappedServicesOf } from '../../src/ingest/service-mappings.js';
import { clinicRebookingReport } from '../../src/reports/query.js';
import { engines, type ScratchDatabase } from '../db/engines.js';
import { runFate, seedConsoleClinic } from '../helpers/console-seed.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-10-15T16:00:00Z');
const SEED = { clients: 400, messages: 900, openTasks: 12, days: 300, nowMs: NOW, replies: 30 };

function configDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rebook-console-config-'));
  mkdirSync(join(dir, 'clinics'));
  mkdirSync(join(dir, 'agencies'));
  writeFileSync(join(dir, 'catalog.yaml'), readCatalog());
  writeFileSync(join(dir, 'agencies', 'glow.yaml'), 'name: Glow Group\n');
  const base = `timeZone: America/New_York
bookingUrl: https://book.example.com/x
address: 1 Main Street
agency: glow
publicBaseUrl: http://127.0.0.1:3000
`;
  writeFileSync(
    join(dir, 'clinics', 'spa-a.yaml'),
    `id: spa-a\nname: Spa A\n${base}platform: mindbody\nconnector:\n  siteId: "123"\n  credentials: { apiKey: MB_KEY, webhookSignatureKey: MB_SIG }\n`,
  );
  writeFileSync(join(dir, 'clinics', 'spa-b.yaml'), `id: spa-b\nname: Spa B\n${base}platform: generic\n`);
  return dir;
}
const readCatalog = () => readFileSync('config/catalog.yaml', 'utf8');

describe.each(engines)('console data on $name', (engine) => {
  let scratch: ScratchDatabase;
  let database: Database;
  let dir: string;
  let config: LoadedConfig;

  beforeAll(async () => {
    scratch = await engine.create();
    database = await openDatabase(scratch.options);
    dir = configDir();
    config = loadConfig(dir);
    await seedConsoleClinic(database.db, { clinicId: 'spa-a', ...SEED });
  }, 120_000);
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const spaA = () => config.clinics.get('spa-a')!;
  const period = { fromMs: NOW - 250 * DAY, toMs: NOW };

  it('dashboard: the funnel and rates are the rebooking report’s, by stage and by month', async () => {
    const d = await loadClinicDashboard(database.db, config, spaA(), period, NOW);
    const report = await clinicRebookingReport(
      database.db,
      config,
      spaA(),
      { from: new Date(period.fromMs).toISOString(), to: new Date(period.toMs).toISOString() },
      NOW,
    );
    expect(d.report.totals).toEqual(report.totals);
    expect(d.report.types.map((t) => t.treatmentType)).toEqual(['neuromodulator']);

    // What the seed put in the period, counted from its own rule.
    const fates = Array.from({ length: SEED.clients }, (_, k) => runFate(k + 1, SEED)).filter(
      (f) => f.anchorAtMs >= period.fromMs,
    );
    const booked = fates.filter((f) => f.outcome === 'booked');
    expect(d.funnel.enrolled).toBe(fates.length);
    expect(d.funnel.booked).toBe(booked.length);
    expect(d.funnel.churned).toBe(fates.filter((f) => f.outcome === 'churned').length);
    expect(d.funnel.bookedBeforeFirstTouch).toBe(booked.filter((f) => f.outcomeStage === null).length);
    expect(d.funnel.stages.map((s) => s.stage)).toEqual([
      'reminder',
      'incentive',
      'results_checkin',
      'staff_escalation',
    ]);
    expect(d.funnel.stages[0]!.label).toBe('Reminder');
    expect(d.funnel.stages.find((s) => s.stage === 'incentive')!.bookedAfter).toBe(
      booked.filter((f) => f.outcomeStage === 'incentive').length,
    );
    expect(d.funnel.staffConverted).toBeGreaterThan(0);
    expect(d.funnel.staffConverted).toBe(report.totals.staffConverted);

    // Months: every month of the period, and their runs add up to the period's.
    expect(d.byMonth.length).toBeGreaterThanOrEqual(8);
    expect(d.byMonth.reduce((n, m) => n + m.enrolled, 0)).toBe(d.funnel.enrolled);
    const finishedMonths = d.byMonth.filter((m) => m.finished > 0);
    for (const m of finishedMonths) {
      // Seeded bookings end 100 days after the treatment, inside the 120-day window: all on time.
      expect(m.rebookingRate).toBeCloseTo(m.bookedOnTime / m.finished, 4);
      expect(m.beforeFirstTouchRate).not.toBeNull();
    }
    expect(d.byMonth.at(-1)!.rebookingRate).toBeNull(); // last month: everything still running

    const sent = d.messages.reduce((n, m) => n + m.count, 0);
    expect(sent).toBeGreaterThan(0);
    expect(d.messages.find((m) => m.channel === 'sms' && m.status === 'delivered')).toBeDefined();
    expect(d.heldBack).toEqual(report.totals.heldBack);
    expect(d.heldBack.sendWindow + d.heldBack.capsDeferred + d.heldBack.consent).toBeGreaterThan(0);
  });

  it('dashboard: unmapped services with the treatment types to map them to; a mapping takes them off', async () => {
    const d = await loadClinicDashboard(database.db, config, spaA(), period, NOW);
    expect(d.unmapped.services.map((s) => s.serviceName)).toEqual([1, 2, 3, 4, 5].map((g) => `Mystery Service ${g}`));
    expect(d.unmapped.treatmentTypes.map((t) => t.key)).toContain('neuromodulator');
    await expect(
      mapService(database.db, config, spaA(), {
        serviceKey: 'name:Mystery Service 1',
        treatmentType: 'nope',
        mappedBy: 'u1',
      }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    await mapService(database.db, config, spaA(), {
      serviceKey: d.unmapped.services[0]!.serviceKey,
      treatmentType: 'neuromodulator',
      mappedBy: 'user-1',
    });
    expect((await unmappedServicesOf(database.db, 'spa-a')).map((s) => s.serviceName)).not.toContain(
      'Mystery Service 1',
    );
  });

  it('connector health: webhooks, polls, errors, dead letters and API calls against the budget', async () => {
    const db = database.db;
    const clinics = [spaA(), config.clinics.get('spa-b')!];
    const at = (ms: number) => new Date(NOW - ms);
    await db.insert(inboxEvents).values([
      {
        clinicId: 'spa-a',
        source: 'mindbody',
        dedupeKey: 'mindbody:w1',
        eventType: 'x',
        status: 'done',
        receivedAt: at(5 * 60_000),
      },
      {
        clinicId: 'spa-a',
        source: 'mindbody',
        dedupeKey: 'mindbody:poll:p1',
        eventType: 'x',
        status: 'done',
        receivedAt: at(60_000),
      },
    ]);
    await writeState(db, 'spa-a', 'mindbody', POLL_SUCCEEDED_KEY, at(2 * 60_000).toISOString());
    await db.insert(connectorErrors).values([
      {
        clinicId: 'spa-a',
        platform: 'mindbody',
        source: 'poll',
        code: 'provider_unavailable',
        occurredAt: at(3_600_000),
      },
      { clinicId: 'spa-a', platform: 'mindbody', source: 'poll', code: 'old', occurredAt: at(2 * DAY) },
    ]);
    const counter = new ApiCallCounter();
    for (let k = 0; k < 850; k++) counter.add('mindbody', 'spa-a');
    await recordApiCalls(db, counter, NOW);
    counter.add('mindbody', 'spa-a');
    await recordApiCalls(db, counter, NOW);
    await recordApiCalls(db, counter, NOW); // nothing new: no double count

    let [a, b] = await loadConnectorHealth(db, clinics, NOW);
    expect(a).toMatchObject({
      platform: 'mindbody',
      polls: true,
      lastWebhookAt: at(5 * 60_000),
      lastEventAt: at(60_000),
      lastPollAt: at(2 * 60_000),
      deadLetters: 0,
      apiCallsToday: 851,
      apiCallBudget: 1000,
      errors: { poll: 1, inboxFailing: 0, inboxRejected: 0, lastPollErrorCode: 'provider_unavailable' },
      status: 'amber',
      why: '1 error in the last 24 h',
    });
    // Older than the seed's inbox rows, which are all done: spa-b has none.
    expect(b).toMatchObject({ platform: 'generic', polls: false, lastEventAt: null, status: 'amber' });
    expect(b!.why).toMatch(/nothing received yet/);

    await db.insert(inboxEvents).values({
      clinicId: 'spa-a',
      source: 'mindbody',
      dedupeKey: 'mindbody:dead1',
      eventType: 'x',
      status: 'dead',
      receivedAt: at(DAY * 3),
    });
    [a] = await loadConnectorHealth(db, clinics, NOW);
    expect(a).toMatchObject({ deadLetters: 1, status: 'red' });
    expect(a!.why).toMatch(/^1 event failed for good/);
  });

  it('sending health: failures, opt-outs and spam reports over the window, with the verdict', async () => {
    const db = database.db;
    const window = { fromMs: NOW - 400 * DAY, toMs: NOW + 400 * DAY };
    const [before] = await loadSendingHealth(db, ['spa-a'], window);
    const all = await db.select({ id: messages.id, status: messages.status, channel: messages.channel }).from(messages);
    const sentRows = all.filter((m) => !['sending', 'retry_pending', 'rejected'].includes(m.status));
    expect(before!.sent).toBe(sentRows.length);
    expect(before!.failed).toBe(
      sentRows.filter((m) => ['failed', 'bounced', 'undelivered', 'dropped'].includes(m.status)).length,
    );
    expect(before!.optOuts).toBe(Math.floor(SEED.clients / 50));
    expect(before!.spamReports).toBe(0);
    // 20% of the seeded messages failed: red, and said so.
    expect(before!.failureRate).toBeCloseTo(0.2, 1);
    expect(before).toMatchObject({ status: 'red' });
    expect(before!.why).toMatch(/of messages failed/);

    const email = all.find((m) => m.channel === 'email')!;
    await db
      .insert(messageEvents)
      .values({ messageId: email.id, event: 'spamreport', occurredAt: new Date(NOW - DAY) });
    const [after] = await loadSendingHealth(db, ['spa-a', 'spa-b'], window);
    expect(after!.spamReports).toBe(1);
    expect((await loadSendingHealth(db, ['spa-b'], window))[0]).toMatchObject({ sent: 0, status: 'green' });

    // A send left unconfirmed by a crash: red whatever the rates, counted, and said so (issue 12 §4).
    const row = all.find((m) => m.status === 'sent')!;
    await db.update(messages).set({ status: 'unconfirmed' }).where(eq(messages.id, row.id));
    const [unknown] = await loadSendingHealth(db, ['spa-a'], window);
    expect(unknown).toMatchObject({ unconfirmed: 1, status: 'red' });
    expect(unknown!.why).toMatch(/^1 send has an unknown outcome after a crash/);
    await db.update(messages).set({ status: 'sent' }).where(eq(messages.id, row.id));
  });

  it('agency overview: one row per clinic with enrolled, rebook rate, open tasks, health and warnings', async () => {
    const o = await loadAgencyOverview(database.db, config, 'glow', period, NOW);
    expect(o.agencyName).toBe('Glow Group');
    expect(o.clinics.map((c) => c.clinicId)).toEqual(['spa-a', 'spa-b']);
    const [a, b] = o.clinics;
    const dash = await loadClinicDashboard(database.db, config, spaA(), period, NOW);
    expect(a!.totals.enrolled).toBe(dash.report.totals.enrolled);
    expect(a!.totals.rebookingRate).toBe(dash.report.totals.rebookingRate);
    expect(a!.openTasks).toBe(SEED.openTasks);
    expect(a!.dueTasks).toBe(SEED.openTasks);
    expect(a!.connector.status).toBe('red');
    expect(b).toMatchObject({ openTasks: 0, totals: { enrolled: 0 } });
    expect(o.totals.enrolled).toBe(a!.totals.enrolled);
  });

  it('config warnings go to the clinic they concern', () => {
    const cfg: LoadedConfig = {
      ...config,
      warnings: [
        { file: config.clinicFiles.get('spa-a')!, path: 'caps', message: 'a' },
        { file: config.clinicFiles.get('spa-b')!, path: 'caps', message: 'b' },
        { file: join(dir, 'catalog.yaml'), path: 'treatmentTypes.x', message: 'catalog' },
        { file: config.agencies.get('glow')!.file, path: 'defaults', message: 'agency' },
      ],
    };
    expect(warningsFor(cfg, 'spa-a').map((w) => w.message)).toEqual(['a', 'catalog', 'agency']);
    expect(warningsFor(cfg, 'spa-b').map((w) => w.message)).toEqual(['b', 'catalog', 'agency']);
  });

  it('conversations: replies newest first, with the messages before them, the action and whether handled', async () => {
    const db = database.db;
    const threads = await loadConversationThreads(db, 'spa-a', { limit: 10 });
    expect(threads).toHaveLength(10);
    for (let k = 1; k < threads.length; k++)
      expect(threads[k - 1]!.receivedAt.getTime()).toBeGreaterThanOrEqual(threads[k]!.receivedAt.getTime());
    const t = threads[0]!;
    // Received on day 91: the day-80 reminder and day-90 incentive came before, the day-95 check-in did not.
    expect(t.preceding.map((m) => m.stage)).toEqual(['incentive', 'reminder']);
    expect(t.client?.firstName).toMatch(/^First\d+$/);

    const byIntent = (i: string) => threads.find((x) => x.intent === i)!;
    expect(byIntent('snooze')).toMatchObject({ handled: true, handledBy: 'automatic' });
    const other = byIntent('other');
    expect(other).toMatchObject({ handled: false, action: 'Needs a human: task for staff' });

    // The task the reply raised, resolved: handled by the task.
    const [task] = await db
      .insert(staffTasks)
      .values({
        idempotencyKey: `reply|${other.id}`,
        clinicId: 'spa-a',
        clientId: other.client!.id,
        reason: 'reply_needs_human',
        details: {},
        inboundMessageId: other.id,
        status: 'resolved',
      })
      .returning();
    const hot = byIntent('hot_lead');
    const unhandledBefore = await loadConversationThreads(db, 'spa-a', { unhandledOnly: true, limit: 200 });
    expect(unhandledBefore.map((x) => x.id)).not.toContain(other.id);
    expect(unhandledBefore.map((x) => x.id)).toContain(hot.id);
    expect(unhandledBefore.every((x) => !x.handled)).toBe(true);
    const again = await loadConversationThreads(db, 'spa-a', { limit: 10 });
    expect(again.find((x) => x.id === other.id)).toMatchObject({
      handled: true,
      handledBy: 'task',
      tasks: [{ id: task!.id, status: 'resolved' }],
    });

    expect(await markReplyHandled(db, 'spa-b', hot.id, 'user-1')).toBe(false); // another clinic's reply
    expect(await markReplyHandled(db, 'spa-a', hot.id, 'user-1', new Date(NOW))).toBe(true);
    const marked = (await loadConversationThreads(db, 'spa-a', { limit: 10 })).find((x) => x.id === hot.id);
    expect(marked).toMatchObject({ handled: true, handledBy: 'staff' });

    const page2 = await loadConversationThreads(db, 'spa-a', {
      limit: 10,
      beforeMs: threads.at(-1)!.receivedAt.getTime(),
    });
    expect(page2[0]!.receivedAt.getTime()).toBeLessThan(threads.at(-1)!.receivedAt.getTime());
  });
});
