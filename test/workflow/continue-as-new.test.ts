/**
 * Continue-as-new carries the whole sequence: a flood of repeated treatment signals (webhook
 * retries) grows the history past the workflow's limit, the run continues as new after the
 * next stage, and the new run neither repeats a touch nor forgets what it has seen.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { searchAttributes, statusQuery, treatmentCompletedSignal } from '../../workflows/definitions.js';
import { demoDue, treatmentSlot } from '../helpers/clinic-time.js';
import { booking, CLINIC_ID, DAY_MS, type Engine, startEngine, treatment } from '../helpers/engine.js';

let e: Engine;
beforeAll(async () => {
  e = await startEngine();
});
afterAll(async () => {
  await e?.stop();
});

const MINUTE = 60_000;
/** Above the workflow's HISTORY_LIMIT (4,000 events) even with signals batched into tasks. */
const REPEATED_SIGNALS = 4_500;

it('continues as new past the history limit and keeps plan, touches, dedupe memory and search attributes', async () => {
  const t0 = await treatmentSlot(e);
  const completedAt = new Date(t0).toISOString();
  await e.send(treatment({ clientId: 'can', appointmentId: 'can-appt', completedAt }));
  const wf = await e.workflowIdFor('can');
  const handle = e.client.workflow.getHandle(wf);
  // Past the day-1 and day-12 care touches: each stage is a point where the loop may continue as new.
  await e.sleepUntil(demoDue(t0, 12) + MINUTE);
  const firstRun = (await handle.describe()).runId;

  for (let sent = 0; sent < REPEATED_SIGNALS; sent += 150) {
    await Promise.all(
      Array.from({ length: 150 }, () =>
        handle.signal(treatmentCompletedSignal, { appointmentId: 'can-appt', completedAt }),
      ),
    );
  }
  await e.sleepUntil(demoDue(t0, 80) - MINUTE);
  const before = await handle.describe();
  expect(before.runId).toBe(firstRun);
  expect(before.historyLength).toBeGreaterThan(4_000);

  // Stage 1 runs, then the loop continues as new.
  await e.sleepUntil(demoDue(t0, 80) + MINUTE);
  const after = await handle.describe();
  expect(after.runId).not.toBe(firstRun);
  expect(after.status.name).toBe('RUNNING');
  expect(after.historyLength).toBeLessThan(100);
  expect(after.typedSearchAttributes.get(searchAttributes.clinicId)).toBe(CLINIC_ID);
  expect(after.typedSearchAttributes.get(searchAttributes.treatmentType)).toBe('neuromodulator');
  expect(after.typedSearchAttributes.get(searchAttributes.outcome)).toBe('running');
  expect((await e.sequences()).find((r) => r.workflowId === wf)).toMatchObject({
    stage: 'reminder',
    nextStage: 'incentive',
    running: true,
  });
  const st = await handle.query(statusQuery);
  expect(st).toMatchObject({
    anchorAppointmentId: 'can-appt',
    anchorAt: completedAt,
    stage: 'reminder',
    nextActionAt: new Date(demoDue(t0, 90)).toISOString(),
    outcome: 'running',
  });
  expect(st.history.map((h) => `${h.stage}:${h.event}`)).toEqual([
    'enrolled:planned',
    'care_checkin:sent',
    'care_results:sent',
    'reminder:sent',
  ]);

  // The carried dedupe memory still recognises the anchor appointment: no restart.
  await handle.signal(treatmentCompletedSignal, { appointmentId: 'can-appt', completedAt });
  await e.sleepUntil(t0 + 101 * DAY_MS);
  const msgs = (await e.messages()).filter((m) => m.workflowId === wf);
  expect(msgs.map((m) => [m.stage, m.channel, m.dueAt.getTime()])).toEqual([
    ['care_checkin', 'sms', demoDue(t0, 1)],
    ['care_results', 'email', demoDue(t0, 12)],
    ['reminder', 'email', demoDue(t0, 80)],
    ['incentive', 'sms', demoDue(t0, 90)],
    ['results_checkin', 'email', demoDue(t0, 95)],
    ['staff_escalation', 'staff_email', demoDue(t0, 100)],
  ]);
  const tasks = (await e.tasks()).filter((t) => t.workflowId === wf);
  expect(tasks).toHaveLength(1);
  // Touches of the first run are part of the escalation written by the second.
  expect(tasks[0]!.details).toMatchObject({
    // Staff see every touch the client had, care touches included.
    touches: ['care_checkin', 'care_results', 'reminder', 'incentive', 'results_checkin'],
    appointmentId: 'can-appt',
  });

  // Signals reach the new run: a booking in the grace period is attributed to the last touch, and the
  // run keeps watching the booked appointment until it becomes a visit (issue 11).
  await e.send(booking('can', 'can-next', e.now() + 3 * DAY_MS));
  await e.sleep('1m');
  expect(await handle.query(statusQuery)).toMatchObject({ outcome: 'booked', outcomeStage: 'staff_escalation' });
  expect((await e.sequences()).find((s) => s.workflowId === wf)).toMatchObject({ outcome: 'booked', running: true });
});
