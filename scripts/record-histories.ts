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
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoDue, treatmentSlot } from '../test/helpers/clinic-time.js';
import { booking, DAY_MS, type Engine, startEngine, treatment } from '../test/helpers/engine.js';
import { historyToJson } from '../test/helpers/history-json.js';
import { snoozeSignal } from '../workflows/definitions.js';

const OUT_DIR = join('test', 'fixtures', 'histories');

interface Scenario {
  name: string;
  /** Drives one sequence to completion; returns its workflow id. */
  run(e: Engine): Promise<string>;
}

const iso = (ms: number) => new Date(ms).toISOString();

async function runToEnd(e: Engine, workflowId: string, until: number): Promise<void> {
  await e.sleepUntil(until);
  await e.result(workflowId); // throws when the scenario did not complete the workflow
}

const scenarios: Scenario[] = [
  {
    // Every stage: three client touches, the staff escalation, the grace period, churned.
    name: 'botox-full-sequence-churned',
    async run(e) {
      const t0 = await treatmentSlot(e);
      await e.send(treatment({ clientId: 'rec-full', appointmentId: 'rec-full-appt', completedAt: iso(t0) }));
      const wf = await e.workflowIdFor('rec-full');
      await runToEnd(e, wf, t0 + 122 * DAY_MS);
      return wf;
    },
  },
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
  {
    // Issue 11: booked at checkout; the care touches still go out; the booking becomes a visit of another type.
    name: 'lifecycle-prebooked-care-attended',
    async run(e) {
      const t0 = await treatmentSlot(e);
      await e.send(treatment({ clientId: 'rec-pre', appointmentId: 'rec-pre-appt', completedAt: iso(t0) }));
      const wf = await e.workflowIdFor('rec-pre');
      await e.send(booking('rec-pre', 'rec-pre-next', t0 + 30 * DAY_MS));
      await e.sleepUntil(t0 + 30 * DAY_MS + 3_600_000);
      await e.send(
        treatment({
          clientId: 'rec-pre',
          appointmentId: 'rec-pre-next',
          service: 'HydraFacial',
          completedAt: iso(t0 + 30 * DAY_MS),
        }),
      );
      await runToEnd(e, wf, t0 + 32 * DAY_MS);
      return wf;
    },
  },
  {
    // Issue 11: booked on day 85, cancelled on day 88, recovery touch, the stages ahead, staff, churned.
    name: 'lifecycle-cancelled-recovered-churned',
    async run(e) {
      const t0 = await treatmentSlot(e);
      await e.send(treatment({ clientId: 'rec-cancel', appointmentId: 'rec-cancel-appt', completedAt: iso(t0) }));
      const wf = await e.workflowIdFor('rec-cancel');
      await e.sleepUntil(t0 + 85 * DAY_MS);
      await e.send(booking('rec-cancel', 'rec-cancel-next', t0 + 92 * DAY_MS));
      await e.sleepUntil(t0 + 88 * DAY_MS);
      await e.send({ type: 'appointment.cancelled', clientId: 'rec-cancel', appointmentId: 'rec-cancel-next' });
      await runToEnd(e, wf, t0 + 122 * DAY_MS);
      return wf;
    },
  },
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
  {
    // Issue 11 §3: no answer to anything: reactivation (day 120), win-back (days 180, 210), churned when its offer ends.
    name: 'lifecycle-winback-churned',
    async run(e) {
      const t0 = await treatmentSlot(e);
      await e.send(treatment({ clientId: 'rec-winback', appointmentId: 'rec-winback-appt', completedAt: iso(t0) }));
      const wf = await e.workflowIdFor('rec-winback');
      await runToEnd(e, wf, t0 + 242 * DAY_MS);
      return wf;
    },
  },
  {
    // Issue 11 §3: "remind me in 2 weeks" on day 91 (a dated snooze: one touch on day 105), booked
    // after the day-180 win-back, the booking becomes a visit of another type.
    name: 'lifecycle-winback-dated-snooze-booked',
    async run(e) {
      const t0 = await treatmentSlot(e);
      await e.send(treatment({ clientId: 'rec-dated', appointmentId: 'rec-dated-appt', completedAt: iso(t0) }));
      const wf = await e.workflowIdFor('rec-dated');
      await e.sleepUntil(t0 + 91 * DAY_MS);
      await e.client.workflow
        .getHandle(wf)
        .signal(snoozeSignal, { reason: 'not_now_reply', until: iso(demoDue(t0, 105)) });
      await e.sleepUntil(demoDue(t0, 182));
      await e.send(booking('rec-dated', 'rec-dated-next', demoDue(t0, 190)));
      await e.sleepUntil(demoDue(t0, 190) + 3_600_000);
      await e.send(
        treatment({
          clientId: 'rec-dated',
          appointmentId: 'rec-dated-next',
          service: 'HydraFacial',
          completedAt: iso(demoDue(t0, 190)),
        }),
      );
      await runToEnd(e, wf, demoDue(t0, 192));
      return wf;
    },
  },
];

const only = process.argv.slice(2);

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  const e = await startEngine();
  try {
    for (const s of scenarios.filter((x) => only.length === 0 || only.some((p) => x.name.startsWith(p)))) {
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

await main();
