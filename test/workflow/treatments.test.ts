/**
 * Treatments arriving over a sequence's life: the latest appointment wins, a late older one
 * changes nothing, and a repeated delivery (through the inbox or straight through
 * signal-with-start) never produces a second sequence or a second set of messages.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clients } from '../../src/db/schema.js';
import { enrollSequence } from '../../src/temporal/sequences.js';
import { sequenceWorkflowId, statusQuery } from '../../workflows/definitions.js';
import { demoDue, treatmentSlot } from '../helpers/clinic-time.js';
import {
  CLINIC_ID,
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
const { ledger: fullLedger, tasksOf } = perWorkflow(() => e);
/**
 * The marketing messages: what this file's schedule is about. The day-1 and day-12 care touches
 * (issue 11) go out besides them; test/workflow/lifecycle.test.ts asserts those.
 */
const ledger = async (wf: string) => (await fullLedger(wf)).filter((m) => !m.stage.startsWith('care_'));

const status = (workflowId: string) => e.client.workflow.getHandle(workflowId).query(statusQuery);
const events = async (workflowId: string) =>
  (await status(workflowId)).history.map((h) => [h.stage, h.event, h.detail]);

/** The full default Botox set for one anchor: three client messages and the staff alert. */
const fullSet = (t0: number) => [
  ['reminder', 'email', demoDue(t0, 80)],
  ['incentive', 'sms', demoDue(t0, 90)],
  ['results_checkin', 'email', demoDue(t0, 95)],
  ['staff_escalation', 'staff_email', demoDue(t0, 100)],
];

it('restarts the clock on a newer Botox treatment: day-50 retreatment moves stage 1 to day 130, nothing on day 80', async () => {
  const t0 = await treatmentSlot(e);
  await e.send(treatment({ clientId: 'restart', appointmentId: 'restart-a', completedAt: iso(t0) }));
  const wf = await e.workflowIdFor('restart');

  await e.sleepUntil(t0 + 50 * DAY_MS);
  const t1 = e.now();
  const [res] = await e.send(treatment({ clientId: 'restart', appointmentId: 'restart-b', completedAt: iso(t1) }));
  expect(res).toEqual({
    index: 0,
    type: 'treatment.completed',
    status: 'accepted',
    enrolled: true,
    sequenceId: wf,
    treatmentType: 'neuromodulator',
  });

  const stage1 = demoDue(t1, 80);
  expect(stage1).toBeGreaterThan(t0 + 129 * DAY_MS);
  expect(stage1).toBeLessThan(t0 + 131 * DAY_MS);
  await e.sleep('1h');
  expect(await status(wf)).toMatchObject({
    anchorAppointmentId: 'restart-b',
    anchorAt: iso(t1),
    stage: 'enrolled',
    // The new treatment's day-1 care touch comes first (issue 11).
    nextActionAt: iso(demoDue(t1, 1)),
    outcome: 'running',
  });
  expect(await events(wf)).toEqual([
    ['enrolled', 'planned', undefined],
    ['care_checkin', 'sent', 'sms'],
    ['care_results', 'sent', 'email'],
    ['enrolled', 'restarted', undefined],
  ]);
  expect((await e.sequences()).find((s) => s.workflowId === wf)).toMatchObject({
    anchorAppointmentId: 'restart-b',
    anchorAt: new Date(t1),
    nextActionAt: new Date(demoDue(t1, 1)),
    running: true,
  });

  // The first treatment's day 80 (and 90, 95, 100) pass in silence.
  await e.sleepUntil(t0 + 101 * DAY_MS);
  expect(await ledger(wf)).toEqual([]);
  expect(await tasksOf(wf)).toEqual([]);

  await e.sleepUntil(stage1 - MINUTE_MS);
  expect(await ledger(wf)).toEqual([]);
  await e.sleepUntil(stage1 + MINUTE_MS);
  const msgs = await ledger(wf);
  expect(ledgerShape(msgs)).toEqual([['reminder', 'email', stage1]]);
  expect(msgs[0]!.idempotencyKey).toBe(`${wf}|restart-b|reminder`);
});

it('ignores an older treatment that arrives after a newer one', async () => {
  const t0 = await treatmentSlot(e);
  await e.send(treatment({ clientId: 'late', appointmentId: 'late-new', completedAt: iso(t0) }));
  const wf = await e.workflowIdFor('late');
  await e.sleep('1h');
  // A backfill delivers a treatment from ten days before: its day 80 would be the newer one's day 70.
  const [res] = await e.send(
    treatment({ clientId: 'late', appointmentId: 'late-old', completedAt: iso(t0 - 10 * DAY_MS) }),
  );
  expect(res).toMatchObject({ status: 'accepted', enrolled: true, sequenceId: wf });
  await e.sleep('1h');

  expect(await status(wf)).toMatchObject({
    anchorAppointmentId: 'late-new',
    anchorAt: iso(t0),
    stage: 'enrolled',
    nextActionAt: iso(demoDue(t0, 1)),
  });
  expect(await events(wf)).toEqual([['enrolled', 'planned', undefined]]);

  await e.sleepUntil(demoDue(t0, 80) - MINUTE_MS);
  expect(await ledger(wf)).toEqual([]);
  await e.sleepUntil(t0 + 101 * DAY_MS);
  const msgs = await ledger(wf);
  expect(ledgerShape(msgs)).toEqual(fullSet(t0));
  expect(msgs.every((m) => m.idempotencyKey.startsWith(`${wf}|late-new|`))).toBe(true);
  expect((await e.sequences()).find((s) => s.workflowId === wf)).toMatchObject({
    anchorAppointmentId: 'late-new',
    anchorAt: new Date(t0),
  });
});

it('accepts the same event twice as one sequence with one set of messages (inbox dedupe)', async () => {
  const t0 = await treatmentSlot(e);
  const event = treatment({ clientId: 'twice', appointmentId: 'twice-appt', completedAt: iso(t0) });
  const first = await e.send(event);
  const wf = await e.workflowIdFor('twice');
  expect(first).toEqual([
    {
      index: 0,
      type: 'treatment.completed',
      status: 'accepted',
      enrolled: true,
      sequenceId: wf,
      treatmentType: 'neuromodulator',
    },
  ]);
  await e.sleep('1h');
  const second = await e.send(event);
  expect(second).toEqual([
    { index: 0, type: 'treatment.completed', status: 'duplicate', enrolled: false, reason: 'duplicate' },
  ]);

  await e.sleepUntil(t0 + 101 * DAY_MS);
  const uuid = await e.clientUuid('twice');
  expect((await e.sequences()).filter((s) => s.clientId === uuid).map((s) => s.workflowId)).toEqual([wf]);
  expect(ledgerShape(await ledger(wf))).toEqual(fullSet(t0));
  expect(await tasksOf(wf)).toHaveLength(1);
  expect((await events(wf)).filter(([, event]) => event === 'planned' || event === 'restarted')).toEqual([
    ['enrolled', 'planned', undefined],
  ]);
});

it('treats the same appointment signalled twice through signal-with-start as one sequence (workflow dedupe)', async () => {
  const t0 = await treatmentSlot(e);
  // The client exists, but the event never went through the inbox: a forwarder retrying the start.
  const [client] = await e.database.db
    .insert(clients)
    .values({
      clinicId: CLINIC_ID,
      externalId: 'sws',
      firstName: 'Noor',
      lastName: 'Haddad',
      email: 'noor.h@example.com',
      phone: '+12125550177',
      consentSms: true,
      consentEmail: true,
    })
    .returning({ id: clients.id });
  const input = { clinicId: CLINIC_ID, clientId: client!.id, treatmentType: 'neuromodulator' };
  const wf = sequenceWorkflowId(CLINIC_ID, client!.id, 'neuromodulator');
  const signal = { appointmentId: 'sws-appt', completedAt: iso(t0) };

  await enrollSequence(e.client, e.taskQueue, input, wf, signal);
  await enrollSequence(e.client, e.taskQueue, input, wf, signal);
  await e.sleep('1h');
  const { runId } = await e.client.workflow.getHandle(wf).describe();
  expect(await status(wf)).toMatchObject({ anchorAppointmentId: 'sws-appt', nextActionAt: iso(demoDue(t0, 1)) });
  expect(await events(wf)).toEqual([['enrolled', 'planned', undefined]]);

  // Once more after stage 1: still the same run, no restart, no second reminder.
  await e.sleepUntil(t0 + 85 * DAY_MS);
  await enrollSequence(e.client, e.taskQueue, input, wf, signal);
  await e.sleepUntil(t0 + 101 * DAY_MS);
  expect((await e.client.workflow.getHandle(wf).describe()).runId).toBe(runId);
  expect(ledgerShape(await ledger(wf))).toEqual(fullSet(t0));
  expect(await tasksOf(wf)).toHaveLength(1);
  expect((await events(wf)).map(([stage, event]) => `${stage}:${event}`)).toEqual([
    'enrolled:planned',
    'care_checkin:sent',
    'care_results:sent',
    'reminder:sent',
    'incentive:sent',
    'results_checkin:sent',
    'staff_escalation:escalated',
  ]);
});
