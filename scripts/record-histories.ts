/**
 * Records representative sequence histories on the time-skipping server into
 * test/fixtures/histories/*.json. test/workflow/replay.test.ts replays them against the current
 * workflow code, so a change that would break running workflows (non-determinism) fails CI.
 * Re-record only when a deliberate, versioned change makes old histories obsolete:
 *   npx tsx scripts/record-histories.ts
 * Arguments name the scenarios to record (prefixes): new paths get new histories while the
 * committed ones stay as recorded by the code that made them, e.g.
 *   npx tsx scripts/record-histories.ts lifecycle-
 * Clients are fictitious; histories hold opaque ids and instants only.
 * A "before" history (bench/temporal-actions.ts compares shapes before and after a change) is
 * recorded with the earlier workflow code checked out elsewhere, e.g.
 *   git show main:workflows/rebook-sequence.ts > .before/workflows/rebook-sequence.ts (and the rest of workflows/)
 *   RECORD_WORKFLOWS_PATH=.before/workflows/index.ts npx tsx scripts/record-histories.ts lifecycle-winback-series
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { demoDue, treatmentSlot } from '../test/helpers/clinic-time.js';
import { booking, DAY_MS, type Engine, startEngine, treatment } from '../test/helpers/engine.js';
import { historyToJson } from '../test/helpers/history-json.js';
import { snoozeSignal } from '../workflows/definitions.js';

const OUT_DIR = join('test', 'fixtures', 'histories');

interface Scenario {
  name: string;
  /** The clinic's Botox type with its four rebooking stages only: no care touches, no reactivation or win-back. */
  rebookingOnly?: boolean;
  /** Drives one sequence to completion; returns its workflow id. */
  run(e: Engine): Promise<string>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** config/ with the demo clinic's Botox narrowed to the four rebooking stages (issue 12 §5's shape). */
function rebookingOnlyConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rebook-config-'));
  mkdirSync(join(dir, 'clinics'));
  writeFileSync(join(dir, 'catalog.yaml'), readFileSync(join('config', 'catalog.yaml')));
  writeFileSync(
    join(dir, 'clinics', 'demo-clinic.yaml'),
    `${readFileSync(join('config', 'clinics', 'demo-clinic.yaml'), 'utf8')}
catalog:
  treatmentTypes:
    neuromodulator:
      stages:
        - { key: reminder, day: 80, channel: email, purpose: reminder }
        - { key: incentive, day: 90, channel: sms, purpose: incentive }
        - { key: results_checkin, day: 95, channel: email, purpose: checkin }
        - { key: staff_escalation, day: 100, channel: staff, purpose: escalation }
      reactivation: []
`,
  );
  return dir;
}

/**
 * No answer to anything until `untilDay`: day 122 ends a sequence of rebooking stages only, day 242
 * one with reactivation and both win-backs (churned when the last offer ends).
 */
async function churnedWithoutAnswer(e: Engine, clientId: string, untilDay: number): Promise<string> {
  const t0 = await treatmentSlot(e);
  await e.send(treatment({ clientId, appointmentId: `${clientId}-appt`, completedAt: iso(t0) }));
  const wf = await e.workflowIdFor(clientId);
  await runToEnd(e, wf, t0 + untilDay * DAY_MS);
  return wf;
}

/** Booked on day 85, cancelled on day 88: the recovery touch, the stages ahead, staff, then no answer until `untilDay`. */
async function cancelledRecovered(e: Engine, clientId: string, untilDay: number): Promise<string> {
  const t0 = await treatmentSlot(e);
  await e.send(treatment({ clientId, appointmentId: `${clientId}-appt`, completedAt: iso(t0) }));
  const wf = await e.workflowIdFor(clientId);
  await e.sleepUntil(t0 + 85 * DAY_MS);
  await e.send(booking(clientId, `${clientId}-next`, t0 + 92 * DAY_MS));
  await e.sleepUntil(t0 + 88 * DAY_MS);
  await e.send({ type: 'appointment.cancelled', clientId, appointmentId: `${clientId}-next` });
  await runToEnd(e, wf, t0 + untilDay * DAY_MS);
  return wf;
}

/**
 * "Remind me in 2 weeks" on day 91 (a dated snooze: one touch on day 105), booked after the day-180
 * win-back; the booking becomes a visit of another type.
 */
async function datedSnoozeBooked(e: Engine, clientId: string): Promise<string> {
  const t0 = await treatmentSlot(e);
  await e.send(treatment({ clientId, appointmentId: `${clientId}-appt`, completedAt: iso(t0) }));
  const wf = await e.workflowIdFor(clientId);
  await e.sleepUntil(t0 + 91 * DAY_MS);
  await e.client.workflow.getHandle(wf).signal(snoozeSignal, { reason: 'not_now_reply', until: iso(demoDue(t0, 105)) });
  await e.sleepUntil(demoDue(t0, 182));
  await e.send(booking(clientId, `${clientId}-next`, demoDue(t0, 190)));
  await e.sleepUntil(demoDue(t0, 190) + 3_600_000);
  await e.send(
    treatment({
      clientId,
      appointmentId: `${clientId}-next`,
      service: 'HydraFacial',
      completedAt: iso(demoDue(t0, 190)),
    }),
  );
  await runToEnd(e, wf, demoDue(t0, 192));
  return wf;
}

/** Booked at checkout; the care touches still go out; the booking becomes a visit of another type. */
async function prebookedAttended(e: Engine, clientId: string): Promise<string> {
  const t0 = await treatmentSlot(e);
  await e.send(treatment({ clientId, appointmentId: `${clientId}-appt`, completedAt: iso(t0) }));
  const wf = await e.workflowIdFor(clientId);
  await e.send(booking(clientId, `${clientId}-next`, t0 + 30 * DAY_MS));
  await e.sleepUntil(t0 + 30 * DAY_MS + 3_600_000);
  await e.send(
    treatment({
      clientId,
      appointmentId: `${clientId}-next`,
      service: 'HydraFacial',
      completedAt: iso(t0 + 30 * DAY_MS),
    }),
  );
  await runToEnd(e, wf, t0 + 32 * DAY_MS);
  return wf;
}

/**
 * Laser hair removal, a series: session 1, the next-session reminder, booked on day 30 for day 35,
 * session 2 done (the same sequence restarts for session 3), then no answer to anything: churned.
 */
async function seriesTwoSessionsChurned(e: Engine, clientId: string): Promise<string> {
  const t0 = await treatmentSlot(e);
  const service = 'Laser Hair Removal';
  await e.send(treatment({ clientId, appointmentId: `${clientId}-s1`, service, completedAt: iso(t0) }));
  const wf = await e.workflowIdFor(clientId, 'laser_hair_removal');
  await e.sleepUntil(t0 + 30 * DAY_MS);
  await e.send(booking(clientId, `${clientId}-s2`, t0 + 35 * DAY_MS));
  await e.sleepUntil(t0 + 35 * DAY_MS + 3_600_000);
  await e.send(treatment({ clientId, appointmentId: `${clientId}-s2`, service, completedAt: iso(t0 + 35 * DAY_MS) }));
  await runToEnd(e, wf, t0 + 400 * DAY_MS);
  return wf;
}

async function runToEnd(e: Engine, workflowId: string, until: number): Promise<void> {
  await e.sleepUntil(until);
  await e.result(workflowId); // throws when the scenario did not complete the workflow
}

const scenarios: Scenario[] = [
  // Every stage: three client touches, the staff escalation, the grace period, churned.
  { name: 'botox-full-sequence-churned', run: (e) => churnedWithoutAnswer(e, 'rec-full', 122) },
  {
    // A retreatment on day 50 restarts the clock; a booking after the new reminder ends it.
    name: 'botox-restarted-then-booked',
    async run(e) {
      const t0 = await treatmentSlot(e);
      await e.send(treatment({ clientId: 'rec-book', appointmentId: 'rec-book-a', completedAt: iso(t0) }));
      const wf = await e.workflowIdFor('rec-book');
      await e.sleepUntil(t0 + 50 * DAY_MS);
      await e.send(treatment({ clientId: 'rec-book', appointmentId: 'rec-book-b', completedAt: iso(e.now()) }));
      await e.sleepUntil(t0 + 135 * DAY_MS);
      await e.send(booking('rec-book', 'rec-book-next', e.now() + 7 * DAY_MS));
      await runToEnd(e, wf, e.now() + 60_000);
      return wf;
    },
  },
  {
    // "Not now" on day 91: one reactivation touch on day 120, then the grace period, churned.
    name: 'botox-snoozed-reactivated',
    async run(e) {
      const t0 = await treatmentSlot(e);
      await e.send(treatment({ clientId: 'rec-snooze', appointmentId: 'rec-snooze-appt', completedAt: iso(t0) }));
      const wf = await e.workflowIdFor('rec-snooze');
      await e.sleepUntil(t0 + 91 * DAY_MS);
      await e.client.workflow.getHandle(wf).signal(snoozeSignal, { reason: 'not_now_reply' });
      await runToEnd(e, wf, t0 + 152 * DAY_MS);
      return wf;
    },
  },
  // Issue 11: booked at checkout; the care touches still go out; the booking becomes a visit of another type.
  { name: 'lifecycle-prebooked-care-attended', run: (e) => prebookedAttended(e, 'rec-pre') },
  // Issue 11: booked on day 85, cancelled on day 88, recovery touch, the stages ahead, staff, churned.
  { name: 'lifecycle-cancelled-recovered-churned', run: (e) => cancelledRecovered(e, 'rec-cancel', 122) },
  {
    // Issue 11: booked for day 84, never heard of again: inferred no-show, recovery, churned.
    name: 'lifecycle-inferred-no-show-churned',
    async run(e) {
      const t0 = await treatmentSlot(e);
      await e.send(treatment({ clientId: 'rec-silent', appointmentId: 'rec-silent-appt', completedAt: iso(t0) }));
      const wf = await e.workflowIdFor('rec-silent');
      await e.sleepUntil(t0 + 82 * DAY_MS);
      await e.send(booking('rec-silent', 'rec-silent-next', t0 + 84 * DAY_MS));
      await runToEnd(e, wf, t0 + 122 * DAY_MS);
      return wf;
    },
  },
  // Issue 11 §3: no answer to anything: reactivation (day 120), win-back (days 180, 210), churned when its offer ends.
  { name: 'lifecycle-winback-churned', run: (e) => churnedWithoutAnswer(e, 'rec-winback', 242) },
  // Issue 11 §3: a dated snooze, booked after the day-180 win-back.
  { name: 'lifecycle-winback-dated-snooze-booked', run: (e) => datedSnoozeBooked(e, 'rec-dated') },
  // The same series shape on the code before issue 12 §5 (recorded with RECORD_WORKFLOWS_PATH):
  // the "before" of bench/temporal-actions.ts, and one more old path the replay test keeps.
  { name: 'lifecycle-winback-series-two-sessions-churned', run: (e) => seriesTwoSessionsChurned(e, 'rec-series-old') },
  // Issue 12 §5 (patch fewer-actions): the shapes bench/temporal-actions.ts prices, on the lean path.
  // The four rebooking stages, no answer: the issue's "about 27 actions" shape.
  {
    name: 'fewer-actions-botox-rebooking-churned',
    rebookingOnly: true,
    run: (e) => churnedWithoutAnswer(e, 'rec-lean-full', 122),
  },
  { name: 'fewer-actions-prebooked-care-attended', run: (e) => prebookedAttended(e, 'rec-lean-pre') },
  { name: 'fewer-actions-series-two-sessions-churned', run: (e) => seriesTwoSessionsChurned(e, 'rec-lean-series') },
  { name: 'fewer-actions-winback-churned', run: (e) => churnedWithoutAnswer(e, 'rec-lean-winback', 242) },
  // The recovery touch, the stages ahead, staff, win-back, churned.
  { name: 'fewer-actions-cancelled-recovered-churned', run: (e) => cancelledRecovered(e, 'rec-lean-cancel', 242) },
  { name: 'fewer-actions-dated-snooze-booked', run: (e) => datedSnoozeBooked(e, 'rec-lean-dated') },
  // Issue 12 §5 (patch local-writes): the lean path with its sequence-row writes in local activities.
  {
    name: 'local-writes-botox-rebooking-churned',
    rebookingOnly: true,
    run: (e) => churnedWithoutAnswer(e, 'rec-lw-full', 122),
  },
  { name: 'local-writes-prebooked-care-attended', run: (e) => prebookedAttended(e, 'rec-lw-pre') },
  { name: 'local-writes-series-two-sessions-churned', run: (e) => seriesTwoSessionsChurned(e, 'rec-lw-series') },
  { name: 'local-writes-dated-snooze-booked', run: (e) => datedSnoozeBooked(e, 'rec-lw-dated') },
];

const only = process.argv.slice(2);

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  const chosen = scenarios.filter((x) => only.length === 0 || only.some((p) => x.name.startsWith(p)));
  const workflowsPath = process.env.RECORD_WORKFLOWS_PATH ? resolve(process.env.RECORD_WORKFLOWS_PATH) : undefined;
  // One engine per configuration: the rebooking-only shape needs its own catalog.
  for (const rebookingOnly of [false, true]) {
    const group = chosen.filter((s) => !!s.rebookingOnly === rebookingOnly);
    if (group.length === 0) continue;
    const e = await startEngine({
      ...(rebookingOnly ? { configDir: rebookingOnlyConfig() } : {}),
      ...(workflowsPath ? { workflowsPath } : {}),
    });
    try {
      for (const s of group) {
        const wf = await s.run(e);
        const history = await e.client.workflow.getHandle(wf).fetchHistory();
        const file = join(OUT_DIR, `${s.name}.json`);
        writeFileSync(file, historyToJson(history));
        console.log(`${file}: ${history.events?.length ?? 0} events`);
      }
    } finally {
      await e.stop();
    }
  }
}

await main();
