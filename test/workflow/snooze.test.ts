/**
 * "Not now": a snooze stops the sequence and leaves exactly one reactivation touch at
 * interval + 30 days (day 120 for Botox), which a booking in between cancels too.
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

it('a snooze on day 91 leaves exactly one reactivation touch on day 120 and nothing else', async () => {
  const { t0, wf } = await snoozedOnDay91('snooze');
  const reactivationAt = demoDue(t0, 120);
  expect(await e.client.workflow.getHandle(wf).query(statusQuery)).toMatchObject({
    stage: 'snoozed',
    outcome: 'snoozed',
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
  expect(ledgerShape(msgs)).toEqual([
    ['reminder', 'email', demoDue(t0, 80)],
    ['incentive', 'sms', demoDue(t0, 90)],
    ['reactivation', 'sms', reactivationAt],
  ]);
  expect(msgs[2]).toMatchObject({ recipient: '+12125550166', idempotencyKey: `${wf}|snooze-appt|reactivation` });
  expect(msgs[2]!.body).toContain('https://book.example.com/glow-aesthetics');

  // Then a 30-day grace for a booking, and the sequence ends as churned, with no further touch.
  const graceEnd = reactivationAt + 30 * DAY_MS;
  await e.sleepUntil(graceEnd - MINUTE_MS);
  await expect(e.result(wf)).rejects.toThrow('still running');
  await e.sleepUntil(graceEnd + MINUTE_MS);
  const result = await e.result(wf);
  expect(result).toMatchObject({ outcome: 'churned', outcomeStage: 'reactivation' });
  expect(result.history.map((h) => `${h.stage}:${h.event}`)).toEqual([
    'enrolled:planned',
    'care_checkin:sent',
    'care_results:sent',
    'reminder:sent',
    'incentive:sent',
    'incentive:snoozed',
    'reactivation:sent',
    'reactivation:ended',
  ]);
  expect(await ledger(wf)).toHaveLength(3);
  expect(await tasksOf(wf)).toEqual([]);
  expect(await rowOf(wf)).toMatchObject({ outcome: 'churned', outcomeStage: 'reactivation', running: false });
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
