/**
 * The whole post-treatment cycle (issue 11) on the time-skipping server, from the ingest the
 * events API calls inward: care touches go out even after a booking; a booking is watched until
 * it becomes a visit; a cancellation not rebooked within two days, a reported no-show and a
 * no-show inferred from silence all put the client back into follow-up.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appointments } from '../../src/db/schema.js';
import type { CanonicalEvent } from '../../src/ingest/events.js';
import { demoDue, treatmentSlot } from '../helpers/clinic-time.js';
import { booking, DAY_MS, type Engine, iso, perWorkflow, startEngine, treatment } from '../helpers/engine.js';

let e: Engine;
beforeAll(async () => {
  e = await startEngine();
});
afterAll(async () => e?.stop());
const { ledger, tasksOf, rowOf } = perWorkflow(() => e);

async function enroll(clientId: string, consent = { sms: true, email: true }) {
  const t0 = await treatmentSlot(e);
  const [res] = await e.send(
    treatment({ clientId, appointmentId: `${clientId}-appt`, service: 'Botox 20u', completedAt: iso(t0), consent }),
  );
  expect(res).toMatchObject({ status: 'accepted', enrolled: true });
  return { t0, wf: await e.workflowIdFor(clientId) };
}
const cancelled = (clientId: string, appointmentId: string): CanonicalEvent => ({
  type: 'appointment.cancelled',
  clientId,
  appointmentId,
});
const noShow = (clientId: string, appointmentId: string): CanonicalEvent => ({
  type: 'appointment.no_show',
  clientId,
  appointmentId,
});
/** Client messages only (staff notifications are in the ledger too). */
const clientLedger = async (wf: string) => (await ledger(wf)).filter((m) => m.stage !== 'staff_escalation');
const stages = async (wf: string) => (await clientLedger(wf)).map((m) => m.stage);

it('Botox pre-booked at checkout: the day-1 and day-12 care touches, no rebooking stage', async () => {
  const { t0, wf } = await enroll('prebook');
  // Booked at checkout for day 90.
  await e.send(booking('prebook', 'prebook-next', t0 + 90 * DAY_MS));
  await e.sleepUntil(t0 + 60 * DAY_MS);
  const msgs = await clientLedger(wf);
  expect(msgs.map((m) => [m.stage, m.channel, m.category, m.dueAt.getTime()])).toEqual([
    ['care_checkin', 'sms', 'care', demoDue(t0, 1)],
    ['care_results', 'email', 'care', demoDue(t0, 12)],
  ]);
  expect(msgs[0]!.body).toContain('bruising or tenderness');
  expect(await rowOf(wf)).toMatchObject({ outcome: 'booked', outcomeStage: 'before_first_touch', running: true });
  // The visit happens: the next cycle starts from it.
  await e.sleepUntil(t0 + 90 * DAY_MS + 3_600_000);
  await e.send(
    treatment({ clientId: 'prebook', appointmentId: 'prebook-next', completedAt: iso(t0 + 90 * DAY_MS + 3_600_000) }),
  );
  await e.sleep('1m');
  expect(await rowOf(wf)).toMatchObject({ anchorAppointmentId: 'prebook-next', outcome: 'running', running: true });
  expect(await stages(wf)).toEqual(['care_checkin', 'care_results']);
  await e.sleepUntil(t0 + 92 * DAY_MS);
  expect(await stages(wf)).toEqual(['care_checkin', 'care_results', 'care_checkin']);
});

it('a care touch needs no marketing consent, only a usable channel and no opt-out', async () => {
  const { t0, wf } = await enroll('noconsent', { sms: false, email: false });
  await e.sleepUntil(t0 + 13 * DAY_MS);
  expect(await stages(wf)).toEqual(['care_checkin', 'care_results']);
  await e.sleepUntil(t0 + 81 * DAY_MS);
  // The reminder is marketing: without consent nobody can be reached, and staff take over.
  expect(await stages(wf)).toEqual(['care_checkin', 'care_results']);
  expect((await tasksOf(wf)).map((t) => t.reason)).toEqual(['no_usable_channel']);
});

it('booked on day 85, cancelled on day 88: a recovery touch two days later, then the stages ahead and the staff stage on day 100', async () => {
  const { t0, wf } = await enroll('cancel88');
  await e.sleepUntil(t0 + 85 * DAY_MS);
  await e.send(booking('cancel88', 'cancel88-next', t0 + 92 * DAY_MS));
  await e.sleepUntil(t0 + 88 * DAY_MS);
  expect(await rowOf(wf)).toMatchObject({ outcome: 'booked', outcomeStage: 'reminder', running: true });
  const cancelAt = e.now();
  const [res] = await e.send(cancelled('cancel88', 'cancel88-next'));
  expect(res).toMatchObject({ status: 'accepted', sequencesSignalled: 1 });
  // Still within the two days to rebook: nothing yet.
  await e.sleepUntil(cancelAt + 2 * DAY_MS - 3_600_000);
  expect(await stages(wf)).toEqual(['care_checkin', 'care_results', 'reminder']);
  await e.sleepUntil(t0 + 101 * DAY_MS);
  const msgs = await clientLedger(wf);
  expect(msgs.map((m) => m.stage)).toEqual([
    'care_checkin',
    'care_results',
    'reminder',
    'recovery_cancelled',
    'results_checkin',
  ]);
  const recovery = msgs[3]!;
  expect(recovery.attemptedAt!.getTime()).toBeGreaterThanOrEqual(cancelAt + 2 * DAY_MS);
  expect(recovery.body).toContain('cancelled');
  expect(recovery.body).toContain('https://book.example.com/glow-aesthetics');
  // The incentive (day 90) had passed by the time follow-up resumed: never sent late.
  const tasks = await tasksOf(wf);
  expect(tasks).toHaveLength(1);
  expect(tasks[0]!.dueAt!.getTime() - demoDue(t0, 100)).toBeGreaterThanOrEqual(0);
  expect(tasks[0]!.dueAt!.getTime() - demoDue(t0, 100)).toBeLessThan(60_000);
  const result = (await e.client.workflow.getHandle(wf).query('status')) as { history: { event: string }[] };
  expect(result.history.map((h) => h.event)).toContain('cancelled');
});

it('cancelled and rebooked within two days: no recovery touch, the new booking is watched', async () => {
  const { t0, wf } = await enroll('rebook2');
  await e.sleepUntil(t0 + 85 * DAY_MS);
  await e.send(booking('rebook2', 'rebook2-a', t0 + 92 * DAY_MS));
  await e.sleepUntil(t0 + 86 * DAY_MS);
  await e.send(cancelled('rebook2', 'rebook2-a'));
  await e.sleepUntil(t0 + 87 * DAY_MS);
  await e.send(booking('rebook2', 'rebook2-b', t0 + 95 * DAY_MS));
  await e.sleepUntil(t0 + 94 * DAY_MS);
  expect(await stages(wf)).toEqual(['care_checkin', 'care_results', 'reminder']);
  expect(await rowOf(wf)).toMatchObject({ outcome: 'booked', running: true });
});

it('a no-show reported by the platform resumes at once with the no-show wording', async () => {
  const { t0, wf } = await enroll('noshow');
  await e.sleepUntil(t0 + 82 * DAY_MS);
  await e.send(booking('noshow', 'noshow-next', t0 + 84 * DAY_MS));
  await e.sleepUntil(t0 + 84 * DAY_MS + 2 * 3_600_000);
  const [res] = await e.send(noShow('noshow', 'noshow-next'));
  expect(res).toMatchObject({ status: 'accepted', sequencesSignalled: 1 });
  const [row] = await e.database.db
    .select({ status: appointments.status })
    .from(appointments)
    .where(and(eq(appointments.externalId, 'noshow-next')));
  expect(row?.status).toBe('no_show');
  await e.sleepUntil(t0 + 91 * DAY_MS);
  const msgs = await clientLedger(wf);
  expect(msgs.map((m) => m.stage)).toEqual([
    'care_checkin',
    'care_results',
    'reminder',
    'recovery_no_show',
    'incentive',
  ]);
  expect(msgs[3]!.body).toContain('missed you');
  expect(msgs[3]!.attemptedAt!.getTime()).toBeLessThan(t0 + 86 * DAY_MS);
});

it('a no-show inferred from silence: a day after the booked start, confirmed by the booking check, follow-up resumes', async () => {
  const { t0, wf } = await enroll('silent');
  await e.sleepUntil(t0 + 82 * DAY_MS);
  const start = t0 + 84 * DAY_MS;
  await e.send(booking('silent', 'silent-next', start));
  await e.sleepUntil(start + DAY_MS - 3_600_000);
  expect(await stages(wf)).toEqual(['care_checkin', 'care_results', 'reminder']);
  await e.sleepUntil(t0 + 91 * DAY_MS);
  const msgs = await clientLedger(wf);
  expect(msgs.map((m) => m.stage)).toEqual([
    'care_checkin',
    'care_results',
    'reminder',
    'recovery_no_show',
    'incentive',
  ]);
  expect(msgs[3]!.attemptedAt!.getTime()).toBeGreaterThanOrEqual(start + DAY_MS);
});

it('a booked appointment that became a visit of another type ends the sequence as attended', async () => {
  const { t0, wf } = await enroll('other');
  await e.sleepUntil(t0 + 82 * DAY_MS);
  const start = t0 + 84 * DAY_MS;
  await e.send(booking('other', 'other-next', start));
  await e.sleepUntil(start + 3_600_000);
  const [res] = await e.send(
    treatment({ clientId: 'other', appointmentId: 'other-next', service: 'HydraFacial', completedAt: iso(start) }),
  );
  expect(res).toMatchObject({ status: 'accepted', enrolled: true, treatmentType: 'hydrafacial' });
  await e.sleepUntil(start + 2 * DAY_MS);
  expect(await rowOf(wf)).toMatchObject({ outcome: 'attended', outcomeStage: 'reminder', running: false });
  expect((await e.result(wf)).outcome).toBe('attended');
});
