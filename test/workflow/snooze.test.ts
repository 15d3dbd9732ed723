/**
 * "Not now": a snooze stops the sequence and leaves exactly one touch at interval + 30 days (day
 * 120 for Botox) when the reply names no date, which a booking in between cancels too. Dated
 * snoozes and the win-back touches after it: test/workflow/reactivation.test.ts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { snoozeSignal, statusQuery } from '../../workflows/definitions.js';
import { demoDue, treatmentSlot } from '../helpers/clinic-time.js';
import {
  booking,
  DAY_MS,
  type Engine,
  iso,
  ledgerShape,
  MINUTE_MS,
  perWorkflow,
  startEngine,
  treatment,
} from '../helpers/engine.js';

let e: Engine;
beforeAll(async () => {
  e = await startEngine();
});
afterAll(async () => e?.stop());
const { ledger: fullLedger, tasksOf, rowOf } = perWorkflow(() => e);
/**
 * The marketing messages: what this file's schedule is about. The day-1 and day-12 care touches
 * (issue 11) go out besides them; test/workflow/lifecycle.test.ts asserts those.
 */
const ledger = async (wf: string) => (await fullLedger(wf)).filter((m) => !m.stage.startsWith('care_'));

/** Enrolls a Botox treatment completed now, runs it to day 91 and snoozes it there. */
async function snoozedOnDay91(clientId: string) {
  const t0 = await treatmentSlot(e);
  await e.send(
    treatment({
      clientId,
      appointmentId: `${clientId}-appt`,
      completedAt: iso(t0),
      phone: '+12125550166',
      email: `${clientId}@example.com`,
    }),
  );
  const wf = await e.workflowIdFor(clientId);
  await e.sleepUntil(t0 + 91 * DAY_MS);
  expect(ledgerShape(await ledger(wf))).toEqual([
    ['reminder', 'email', demoDue(t0, 80)],
    ['incentive', 'sms', demoDue(t0, 90)],
  ]);
  await e.client.workflow.getHandle(wf).signal(snoozeSignal, { reason: 'not_now_reply' });
  await e.sleep('1m');
  return { t0, wf };
}

it('a snooze on day 91 leaves exactly one touch on day 120 and nothing else before it', async () => {
  const { t0, wf } = await snoozedOnDay91('snooze');
  const reactivationAt = demoDue(t0, 120);
  expect(await e.client.workflow.getHandle(wf).query(statusQuery)).toMatchObject({
    stage: 'snoozed',
    outcome: 'snoozed',
    nextStage: 'snooze_reactivation',
    nextActionAt: iso(reactivationAt),
  });
  expect(await rowOf(wf)).toMatchObject({
    stage: 'snoozed',
    outcome: 'snoozed',
    nextActionAt: new Date(reactivationAt),
    running: true,
  });

  // Day 95 (check-in) and day 100 (staff) pass without a touch.
  await e.sleepUntil(reactivationAt - MINUTE_MS);
  expect((await ledger(wf)).map((m) => m.stage)).toEqual(['reminder', 'incentive']);
  expect(await tasksOf(wf)).toEqual([]);

  await e.sleepUntil(reactivationAt + MINUTE_MS);
  const msgs = await ledger(wf);
  // The snooze touch (its own wording) takes the place of the day-120 reactivation touch (issue 11 §3).
  expect(ledgerShape(msgs)).toEqual([
    ['reminder', 'email', demoDue(t0, 80)],
    ['incentive', 'sms', demoDue(t0, 90)],
    ['snooze_reactivation', 'sms', reactivationAt],
  ]);
  expect(msgs[2]).toMatchObject({
    recipient: '+12125550166',
    idempotencyKey: `${wf}|snooze-appt|snooze_reactivation`,
  });
  expect(msgs[2]!.body).toContain('https://book.example.com/glow-aesthetics');
  expect(msgs[2]!.body).toContain('you asked us to check back');

  // Then the win-back touches, 60 and 90 days past the window (test/workflow/reactivation.test.ts).
  const st = await e.client.workflow.getHandle(wf).query(statusQuery);
  expect(st).toMatchObject({ outcome: 'running', nextStage: 'winback_1', nextActionAt: iso(demoDue(t0, 180)) });
  expect(st.history.map((h) => `${h.stage}:${h.event}`)).toEqual([
    'enrolled:planned',
    'care_checkin:sent',
    'care_results:sent',
    'reminder:sent',
    'incentive:sent',
    'incentive:snoozed',
    'snooze_reactivation:sent',
  ]);
  expect(await tasksOf(wf)).toEqual([]);
});

it('a booking on day 100 after a snooze cancels the reactivation touch', async () => {
  const { t0, wf } = await snoozedOnDay91('snooze-book');
  await e.sleepUntil(t0 + 100 * DAY_MS);
  const res = await e.send(booking('snooze-book', 'snooze-book-next', e.now() + 10 * DAY_MS));
  expect(res).toEqual([{ index: 0, type: 'appointment.booked', status: 'accepted', sequencesSignalled: 1 }]);
  await e.sleep('1m');

  // Booked: the sequence now watches the booking until the visit (issue 11).
  const result = await e.client.workflow.getHandle(wf).query(statusQuery);
  expect(result).toMatchObject({ outcome: 'booked', outcomeStage: 'incentive' });
  expect(await rowOf(wf)).toMatchObject({ outcome: 'booked', outcomeStage: 'incentive', running: true });

  await e.sleepUntil(t0 + 110 * DAY_MS);
  expect((await ledger(wf)).map((m) => m.stage)).toEqual(['reminder', 'incentive']);
  expect(await tasksOf(wf)).toEqual([]);
});
