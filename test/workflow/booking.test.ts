/**
 * Exit on booking: a booking stops every pending stage of every sequence of the client, whether
 * it arrives as an event (signal) or is only found by the re-check right before a send.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appointments, sequences } from '../../src/db/schema.js';
import { statusQuery } from '../../workflows/definitions.js';
import { demoDue, treatmentSlot } from '../helpers/clinic-time.js';
import {
  booking,
  CLINIC_ID,
  DAY_MS,
  type Engine,
  iso,
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
const { ledger, tasksOf, rowOf, describeStatus } = perWorkflow(() => e);
const status = (wf: string) => e.client.workflow.getHandle(wf).query(statusQuery);
/** The care touches every Botox client gets whatever the booking (issue 11). */
const CARE = ['care_checkin', 'care_results'];
/** Marketing messages only: what a booking stops. */
const marketing = async (wf: string) => (await ledger(wf)).filter((m) => !m.stage.startsWith('care_'));

/** Enrolls a Botox treatment completed now; returns its instant and workflow id. */
async function enroll(clientId: string, service = 'Botox 20u') {
  const t0 = await treatmentSlot(e);
  const [res] = await e.send(treatment({ clientId, appointmentId: `${clientId}-appt`, service, completedAt: iso(t0) }));
  expect(res).toMatchObject({ status: 'accepted', enrolled: true });
  return { t0, wf: await e.workflowIdFor(clientId) };
}

it('a booking on day 85 stops the marketing stages after the reminder: booked at stage reminder, the booking is watched', async () => {
  const { t0, wf } = await enroll('book85');
  await e.sleepUntil(t0 + 85 * DAY_MS);
  expect((await marketing(wf)).map((m) => m.stage)).toEqual(['reminder']);

  const start = e.now() + 7 * DAY_MS;
  const res = await e.send(booking('book85', 'book85-next', start));
  expect(res).toEqual([{ index: 0, type: 'appointment.booked', status: 'accepted', sequencesSignalled: 1 }]);
  // Booked at once; the sequence keeps watching the appointment until it becomes a visit (issue 11).
  await e.sleep('1m');

  const result = await status(wf);
  expect(result).toMatchObject({
    outcome: 'booked',
    outcomeStage: 'reminder',
    stage: 'reminder',
    anchorAppointmentId: 'book85-appt',
    nextStage: 'visit_check',
    nextActionAt: iso(start + DAY_MS),
  });
  expect(result.history.at(-1)).toMatchObject({ stage: 'reminder', event: 'booked' });
  expect(await describeStatus(wf)).toBe('RUNNING');
  expect(await rowOf(wf)).toMatchObject({ outcome: 'booked', outcomeStage: 'reminder', running: true });

  // Until the booked visit nothing more is sent.
  await e.sleepUntil(start);
  const msgs = await ledger(wf);
  expect(msgs.map((m) => [m.stage, m.channel, m.dueAt.getTime()])).toEqual([
    ['care_checkin', 'sms', demoDue(t0, 1)],
    ['care_results', 'email', demoDue(t0, 12)],
    ['reminder', 'email', demoDue(t0, 80)],
  ]);
  expect(msgs.every((m) => m.dueAt.getTime() <= t0 + 85 * DAY_MS)).toBe(true);
  expect(await tasksOf(wf)).toEqual([]);
});

it('a booking before day 80 means no marketing touch is ever sent: booked before the first touch, care touches still go out', async () => {
  const { t0, wf } = await enroll('book10');
  await e.sleepUntil(t0 + 10 * DAY_MS);
  const start = e.now() + 14 * DAY_MS;
  const res = await e.send(booking('book10', 'book10-next', start));
  expect(res).toEqual([{ index: 0, type: 'appointment.booked', status: 'accepted', sequencesSignalled: 1 }]);
  await e.sleep('1m');

  const result = await status(wf);
  // The day-1 care touch is no conversion stage: the booking is not attributed to it.
  expect(result).toMatchObject({ outcome: 'booked', outcomeStage: 'before_first_touch' });
  expect(result.history.map((h) => h.event)).toEqual(['planned', 'sent', 'booked']);
  expect(await rowOf(wf)).toMatchObject({ outcome: 'booked', outcomeStage: 'before_first_touch', running: true });

  await e.sleepUntil(start);
  expect((await ledger(wf)).map((m) => m.stage)).toEqual(CARE);
  expect(await tasksOf(wf)).toEqual([]);
});

it('re-checks the booking platform before a send: a booking that never reached the workflow stops stage 1', async () => {
  const { t0, wf } = await enroll('recheck-db');
  await e.sleepUntil(t0 + 50 * DAY_MS);
  // Stored by a poll (or a lost signal): the workflow is not told.
  await e.database.db.insert(appointments).values({
    clinicId: CLINIC_ID,
    externalId: 'recheck-db-next',
    clientExternalId: 'recheck-db',
    status: 'booked',
    startAt: new Date(e.now() + 40 * DAY_MS),
  });

  await e.sleepUntil(demoDue(t0, 80) - MINUTE_MS);
  expect(await rowOf(wf)).toMatchObject({ outcome: 'running' });
  await e.sleepUntil(demoDue(t0, 80) + MINUTE_MS);
  const result = await status(wf);
  expect(result).toMatchObject({ outcome: 'booked', outcomeStage: 'before_first_touch' });
  expect(await rowOf(wf)).toMatchObject({ outcome: 'booked', running: true });

  // Until the booked visit (day 90) no marketing touch.
  await e.sleepUntil(t0 + 89 * DAY_MS);
  expect((await ledger(wf)).map((m) => m.stage)).toEqual(CARE);
  expect(await tasksOf(wf)).toEqual([]);
});

it('re-checks before stage 2: a booked event that found no running sequence to signal still stops the incentive', async () => {
  const { t0, wf } = await enroll('recheck-evt');
  await e.sleepUntil(t0 + 85 * DAY_MS);
  expect((await marketing(wf)).map((m) => m.stage)).toEqual(['reminder']);
  // The database mirror says "not running" (stale), so ingest signals nobody.
  await e.database.db.update(sequences).set({ running: false }).where(eq(sequences.workflowId, wf));
  const start = e.now() + 5 * DAY_MS;
  const res = await e.send(booking('recheck-evt', 'recheck-evt-next', start));
  expect(res).toEqual([{ index: 0, type: 'appointment.booked', status: 'accepted', sequencesSignalled: 0 }]);

  await e.sleepUntil(demoDue(t0, 90) - MINUTE_MS);
  expect((await status(wf)).outcome).toBe('running');
  await e.sleepUntil(demoDue(t0, 90) + MINUTE_MS);
  const result = await status(wf);
  expect(result).toMatchObject({ outcome: 'booked', outcomeStage: 'reminder' });

  await e.sleepUntil(start);
  expect((await marketing(wf)).map((m) => m.stage)).toEqual(['reminder']);
  expect(await tasksOf(wf)).toEqual([]);
});

it('re-checks before the staff escalation: no call task for a client who booked after the last touch', async () => {
  const { t0, wf } = await enroll('recheck-staff');
  await e.sleepUntil(t0 + 97 * DAY_MS);
  expect((await marketing(wf)).map((m) => m.stage)).toEqual(['reminder', 'incentive', 'results_checkin']);
  await e.database.db.insert(appointments).values({
    clinicId: CLINIC_ID,
    externalId: 'recheck-staff-next',
    clientExternalId: 'recheck-staff',
    status: 'booked',
    startAt: new Date(e.now() + 10 * DAY_MS),
  });

  await e.sleepUntil(demoDue(t0, 100) + MINUTE_MS);
  const result = await status(wf);
  expect(result).toMatchObject({ outcome: 'booked', outcomeStage: 'results_checkin' });
  expect(await tasksOf(wf)).toEqual([]);
  expect((await marketing(wf)).map((m) => m.stage)).toEqual(['reminder', 'incentive', 'results_checkin']);
});

it('runs Botox and lip filler of the same day as two independent sequences, and one booking stops both', async () => {
  const t0 = await treatmentSlot(e);
  const res = await e.send(
    treatment({ clientId: 'pair', appointmentId: 'pair-botox', service: 'Botox 20u', completedAt: iso(t0) }),
    treatment({ clientId: 'pair', appointmentId: 'pair-lips', service: 'Juvederm lips', completedAt: iso(t0) }),
  );
  const botox = await e.workflowIdFor('pair', 'neuromodulator');
  const lips = await e.workflowIdFor('pair', 'lip_filler');
  expect(botox).not.toBe(lips);
  expect(res).toEqual([
    {
      index: 0,
      type: 'treatment.completed',
      status: 'accepted',
      enrolled: true,
      sequenceId: botox,
      treatmentType: 'neuromodulator',
    },
    {
      index: 1,
      type: 'treatment.completed',
      status: 'accepted',
      enrolled: true,
      sequenceId: lips,
      treatmentType: 'lip_filler',
    },
  ]);

  await e.sleepUntil(t0 + 81 * DAY_MS);
  expect(await e.client.workflow.getHandle(botox).query(statusQuery)).toMatchObject({
    stage: 'reminder',
    nextActionAt: iso(demoDue(t0, 90)),
    anchorAppointmentId: 'pair-botox',
  });
  expect(await e.client.workflow.getHandle(lips).query(statusQuery)).toMatchObject({
    stage: 'care_results',
    nextActionAt: iso(demoDue(t0, 160)),
    anchorAppointmentId: 'pair-lips',
  });
  expect((await ledger(botox)).map((m) => m.stage)).toEqual([...CARE, 'reminder']);
  // Lip filler's own care touches: the day-1 swelling check-in and the day-14 results email.
  expect((await ledger(lips)).map((m) => m.stage)).toEqual(['care_swelling', 'care_results']);

  await e.sleepUntil(t0 + 85 * DAY_MS);
  const start = e.now() + 3 * DAY_MS;
  const booked = await e.send(booking('pair', 'pair-next', start));
  expect(booked).toEqual([{ index: 0, type: 'appointment.booked', status: 'accepted', sequencesSignalled: 2 }]);
  await e.sleep('1m');
  expect(await status(botox)).toMatchObject({
    outcome: 'booked',
    outcomeStage: 'reminder',
    treatmentType: 'neuromodulator',
  });
  expect(await status(lips)).toMatchObject({
    outcome: 'booked',
    outcomeStage: 'before_first_touch',
    treatmentType: 'lip_filler',
  });
  const rows = (await e.sequences()).filter((s) => s.workflowId === botox || s.workflowId === lips);
  expect(rows.map((r) => [r.treatmentType, r.outcome, r.running]).sort()).toEqual([
    ['lip_filler', 'booked', true],
    ['neuromodulator', 'booked', true],
  ]);

  await e.sleepUntil(start);
  expect((await marketing(botox)).map((m) => m.stage)).toEqual(['reminder']);
  expect(await marketing(lips)).toEqual([]);
  expect(
    await e.database.db
      .select()
      .from(appointments)
      .where(and(eq(appointments.clinicId, CLINIC_ID), eq(appointments.clientExternalId, 'pair'))),
  ).toHaveLength(3);
});
