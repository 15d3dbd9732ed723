/**
 * Treatment series (issue 11 §4) on the time-skipping server, from the ingest the events API
 * calls inward: a laser hair removal course of six sessions reminds for sessions 2…6 (each
 * completed session restarting the sequence through the treatment signal, its number counted from
 * the completed appointments in the database), then switches to the maintenance touch-up cadence.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appointments } from '../../src/db/schema.js';
import type { CanonicalEvent, TreatmentCompleted } from '../../src/ingest/events.js';
import { statusQuery } from '../../workflows/definitions.js';
import { demoDue, treatmentSlot } from '../helpers/clinic-time.js';
import { DAY_MS, type Engine, iso, MINUTE_MS, perWorkflow, startEngine, treatment } from '../helpers/engine.js';

let e: Engine;
beforeAll(async () => {
  e = await startEngine();
});
afterAll(async () => e?.stop());
const { ledger, tasksOf } = perWorkflow(() => e);

const SERVICE = 'Laser Hair Removal - Full Legs';
const session = (n: number, at: number) =>
  treatment({ clientId: 'lhr', appointmentId: `lhr-${n}`, service: SERVICE, completedAt: iso(at) });

it('reminds for sessions 2…6, one cycle per completed session, then plans the maintenance touch-up', async () => {
  let t = await treatmentSlot(e);
  const [first] = await e.send(session(1, t));
  expect(first).toMatchObject({ status: 'accepted', enrolled: true, treatmentType: 'laser_hair_removal' });
  const wf = await e.workflowIdFor('lhr', 'laser_hair_removal');
  const status = () => e.client.workflow.getHandle(wf).query(statusQuery);

  // Session 1 → a full between-session cycle: reminder on day 28, SMS on the interval day (35),
  // staff call a week later (42). No offer anywhere.
  await e.sleep('1m');
  expect(await status()).toMatchObject({ nextStage: 'series_reminder', nextActionAt: iso(demoDue(t, 28)) });
  await e.sleepUntil(demoDue(t, 42) + MINUTE_MS);
  const cycle1 = await ledger(wf);
  expect(cycle1.map((m) => [m.stage, m.channel, m.dueAt.getTime()])).toEqual([
    ['series_reminder', 'email', demoDue(t, 28)],
    ['series_sms', 'sms', demoDue(t, 35)],
    ['series_staff', 'staff_email', demoDue(t, 42)],
  ]);
  expect(cycle1[0]!.subject).toBe('Avery, time to book session 2 of 6');
  expect(cycle1[1]!.body).toContain('session 2 of 6 of your laser hair removal is due');
  expect(cycle1.map((m) => m.body ?? '').join('\n')).not.toMatch(/code|% off|\$\d/i);
  expect((await tasksOf(wf)).map((x) => [x.reason, (x.details as { series?: unknown }).series])).toEqual([
    ['no_response', { session: 2, sessions: 6 }],
  ]);

  // Sessions 2…5 are completed four weeks and a day after the previous: each restarts the
  // sequence, whose reminder asks for the next session.
  let at = t + 45 * DAY_MS;
  for (let n = 2; n <= 5; n++) {
    await e.sleepUntil(at);
    await e.send(session(n, at));
    t = at;
    await e.sleepUntil(demoDue(t, 28) + MINUTE_MS);
    const latest = (await ledger(wf)).at(-1)!;
    expect([latest.stage, latest.dueAt.getTime(), latest.subject]).toEqual([
      'series_reminder',
      demoDue(t, 28),
      `Avery, time to book session ${n + 1} of 6`,
    ]);
    at = t + 29 * DAY_MS;
  }

  // Session 6 completes the course: the maintenance cadence (touch-up at 6–12 months) follows,
  // and nothing reminds for a seventh session.
  await e.sleepUntil(at);
  await e.send(session(6, at));
  t = at;
  await e.sleep('1m');
  expect(await status()).toMatchObject({
    anchorAppointmentId: 'lhr-6',
    nextStage: 'reminder',
    nextActionAt: iso(demoDue(t, 180)),
  });
  const before = (await ledger(wf)).length;
  await e.sleepUntil(demoDue(t, 180) + MINUTE_MS);
  const after = (await ledger(wf)).slice(before);
  expect(after.map((m) => [m.stage, m.channel, m.dueAt.getTime()])).toEqual([['reminder', 'email', demoDue(t, 180)]]);
  expect(after[0]!.body).not.toContain('session');

  // Every between-session reminder asked for the next session, in order.
  const asked = (await ledger(wf))
    .filter((m) => m.stage === 'series_reminder')
    .map((m) => m.subject?.match(/session (\d) of 6/)?.[1]);
  expect(asked).toEqual(['2', '3', '4', '5', '6']);
});

it("takes the platform's session number over the count: a first-seen visit that was session 5 of a package of 6", async () => {
  const t0 = await treatmentSlot(e);
  const packaged = (n: number, at: number): CanonicalEvent => ({
    ...(treatment({
      clientId: 'pkg',
      appointmentId: `pkg-${n}`,
      service: SERVICE,
      completedAt: iso(at),
    }) as TreatmentCompleted),
    series: { session: n, sessions: 6 },
  });
  await e.send(packaged(5, t0));
  const wf = await e.workflowIdFor('pkg', 'laser_hair_removal');
  await e.sleepUntil(demoDue(t0, 28) + MINUTE_MS);
  expect((await ledger(wf)).map((m) => [m.stage, m.subject])).toEqual([
    ['series_reminder', 'Avery, time to book session 6 of 6'],
  ]);
  // The stored appointment keeps the platform's figures (the count would have said session 1).
  const [row] = await e.database.db
    .select({ session: appointments.seriesSession, sessions: appointments.seriesSessions })
    .from(appointments)
    .where(eq(appointments.externalId, 'pkg-5'));
  expect(row).toEqual({ session: 5, sessions: 6 });

  const t1 = t0 + 30 * DAY_MS;
  await e.sleepUntil(t1);
  await e.send(packaged(6, t1));
  await e.sleep('1m');
  expect(await e.client.workflow.getHandle(wf).query(statusQuery)).toMatchObject({
    anchorAppointmentId: 'pkg-6',
    nextStage: 'reminder',
    nextActionAt: iso(demoDue(t1, 180)),
  });
});
