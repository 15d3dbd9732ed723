/**
 * Reactivation for non-responders (issue 11 §3), on the time-skipping server through ingest, the
 * real activities and the inbound-reply handler: the reactivation touch on the window's last day
 * (day 120 for Botox), win-back touches on days 180 and 210 with fresh offers, then churned; a
 * dated "not now" moves the touch to the day it names; a booking after a win-back is its own.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { inboundMessages, incentives } from '../../src/db/schema.js';
import { createLogger } from '../../src/log.js';
import { createInbound } from '../../src/messaging/inbound.js';
import { createOutboxProvider } from '../../src/messaging/outbox/index.js';
import { createSequenceSignals } from '../../src/temporal/sequence-signals.js';
import { snoozeSignal, statusQuery } from '../../workflows/definitions.js';
import { demoDayEnd, demoDue, treatmentSlot } from '../helpers/clinic-time.js';
import {
  booking,
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
const { ledger: fullLedger, tasksOf, rowOf } = perWorkflow(() => e);
/** Client-facing marketing messages (care touches are lifecycle.test.ts's subject; staff alerts are no touch). */
const ledger = async (wf: string) =>
  (await fullLedger(wf)).filter((m) => !m.stage.startsWith('care_') && !m.channel.startsWith('staff'));

async function enrol(clientId: string, phone: string) {
  const t0 = await treatmentSlot(e);
  await e.send(
    treatment({
      clientId,
      appointmentId: `${clientId}-appt`,
      completedAt: iso(t0),
      phone,
      email: `${clientId}@example.com`,
    }),
  );
  return { t0, wf: await e.workflowIdFor(clientId) };
}

it('a client who never answers gets the reactivation touch and both win-back touches, then churned', async () => {
  const { t0, wf } = await enrol('wb-silent', '+12125550171');
  await e.sleepUntil(demoDue(t0, 120) + MINUTE_MS);
  expect(await e.client.workflow.getHandle(wf).query(statusQuery)).toMatchObject({
    outcome: 'running',
    nextStage: 'winback_1',
    nextActionAt: iso(demoDue(t0, 180)),
  });
  // Day 180 falls on a Sunday for a Tuesday treatment: the send window holds it to Monday.
  await e.sleepUntil(demoDue(t0, 210) + MINUTE_MS);
  const msgs = await ledger(wf);
  expect(ledgerShape(msgs)).toEqual([
    ['reminder', 'email', demoDue(t0, 80)],
    ['incentive', 'sms', demoDue(t0, 90)],
    ['results_checkin', 'email', demoDue(t0, 95)],
    ['reactivation', 'sms', demoDue(t0, 120)],
    ['winback_1', 'email', demoDue(t0, 180)],
    ['winback_2', 'sms', demoDue(t0, 210)],
  ]);
  const [, incentive, , reactivation, winback1, winback2] = msgs;
  expect(winback1!.sentAt!.getTime()).toBeGreaterThan(demoDue(t0, 180));
  expect(winback1!.sentAt!.getTime()).toBeLessThan(demoDue(t0, 182));
  // Distinct wording: the offer's last day, then "we miss you", then "our last note".
  expect(reactivation!.body).toContain('last call: your offer ends');
  expect(winback1!.subject).toContain('We miss you');
  expect(winback2!.body).toContain('our last note');
  // Each win-back offer is fresh, with its own expiry; the reactivation repeats the sequence's offer.
  const offers = await e.database.db.select().from(incentives).where(eq(incentives.workflowId, wf));
  const byMessage = new Map(offers.map((o) => [o.messageId, o]));
  expect(offers).toHaveLength(3);
  expect(byMessage.get(incentive!.id)!.expiresAt.getTime()).toBe(demoDayEnd(t0, 120));
  expect(byMessage.get(winback1!.id)!.expiresAt.getTime()).toBe(demoDayEnd(t0, 210));
  expect(byMessage.get(winback2!.id)!.expiresAt.getTime()).toBe(demoDayEnd(t0, 240));
  expect(new Set(offers.map((o) => o.code)).size).toBe(3);
  for (const [m, o] of [
    [winback1!, byMessage.get(winback1!.id)!],
    [winback2!, byMessage.get(winback2!.id)!],
  ] as const)
    expect(m.body).toContain(o.code);
  expect((await tasksOf(wf)).map((t) => t.reason)).toEqual(['no_response']);

  // Churned once the last offer has expired unused, not before.
  await e.sleepUntil(demoDayEnd(t0, 240) - MINUTE_MS);
  await expect(e.result(wf)).rejects.toThrow('still running');
  await e.sleepUntil(demoDayEnd(t0, 240) + MINUTE_MS);
  const result = await e.result(wf);
  expect(result).toMatchObject({ outcome: 'churned', outcomeStage: 'winback_2' });
  expect(result.history.map((h) => `${h.stage}:${h.event}`).slice(-5)).toEqual([
    'staff_escalation:escalated',
    'reactivation:sent',
    'winback_1:sent',
    'winback_2:sent',
    'winback_2:ended',
  ]);
  expect(await rowOf(wf)).toMatchObject({ outcome: 'churned', outcomeStage: 'winback_2', running: false });
});

it('"remind me in 2 weeks" on day 91 gives one touch on day 105 and nothing else marketing in between', async () => {
  const { t0, wf } = await enrol('wb-snooze', '+12125550172');
  const log = createLogger({ level: 'silent' });
  const outbox = createOutboxProvider(log);
  const inbound = createInbound({
    db: e.database.db,
    log,
    signals: createSequenceSignals(e.client),
    provider: () => outbox,
    now: () => new Date(e.now()),
  });
  const clinic = loadConfig('config').clinics.get(CLINIC_ID)!;
  await e.sleepUntil(t0 + 91 * DAY_MS);
  await inbound.twilioInbound(clinic, {
    MessageSid: 'SM-wb-snooze',
    From: '+12125550172',
    Body: 'Not now, remind me in 2 weeks',
  });
  const [reply] = await e.database.db
    .select()
    .from(inboundMessages)
    .where(eq(inboundMessages.providerMessageId, 'SM-wb-snooze'));
  expect(reply!.intent).toBe('snooze');
  await e.sleep('1m');
  const touchAt = demoDue(t0, 105);
  expect(await e.client.workflow.getHandle(wf).query(statusQuery)).toMatchObject({
    stage: 'snoozed',
    outcome: 'snoozed',
    nextStage: 'snooze_reactivation',
    nextActionAt: iso(touchAt),
  });

  // The day-95 check-in and the day-100 staff call are off; nothing before day 105.
  await e.sleepUntil(touchAt - MINUTE_MS);
  expect((await ledger(wf)).map((m) => m.stage)).toEqual(['reminder', 'incentive']);
  expect(await tasksOf(wf)).toEqual([]);
  await e.sleepUntil(touchAt + MINUTE_MS);
  const msgs = await ledger(wf);
  expect(ledgerShape(msgs)).toEqual([
    ['reminder', 'email', demoDue(t0, 80)],
    ['incentive', 'sms', demoDue(t0, 90)],
    ['snooze_reactivation', 'sms', touchAt],
  ]);
  expect(msgs[2]!.body).toContain('you asked us to check back');
  // The day-120 reactivation touch lands within the cap window of the snooze touch: dropped.
  // The win-back touches (60 and 90 days past the window) stay.
  expect(await e.client.workflow.getHandle(wf).query(statusQuery)).toMatchObject({
    outcome: 'running',
    nextStage: 'winback_1',
    nextActionAt: iso(demoDue(t0, 180)),
  });
  await e.sleepUntil(demoDue(t0, 125));
  expect((await ledger(wf)).map((m) => m.stage)).toEqual(['reminder', 'incentive', 'snooze_reactivation']);
});

it('a booking after a win-back touch is attributed to it, and the touches after it stop', async () => {
  const { t0, wf } = await enrol('wb-book', '+12125550173');
  await e.sleepUntil(demoDue(t0, 182));
  expect((await ledger(wf)).map((m) => m.stage).slice(-2)).toEqual(['reactivation', 'winback_1']);
  await e.send(booking('wb-book', 'wb-book-next', demoDue(t0, 230)));
  await e.sleep('1m');
  expect(await e.client.workflow.getHandle(wf).query(statusQuery)).toMatchObject({
    outcome: 'booked',
    outcomeStage: 'winback_1',
  });
  expect(await rowOf(wf)).toMatchObject({ outcome: 'booked', outcomeStage: 'winback_1', running: true });
  await e.sleepUntil(demoDue(t0, 212));
  expect((await ledger(wf)).map((m) => m.stage).slice(-2)).toEqual(['reactivation', 'winback_1']);
});

it('a dated "not now" in reply to a win-back never lands within the cap window of that touch', async () => {
  const { t0, wf } = await enrol('wb-late', '+12125550174');
  await e.sleepUntil(demoDue(t0, 183));
  const winback1 = (await ledger(wf)).find((m) => m.stage === 'winback_1')!;
  // "In 2 weeks" would be day 197, 16 days after the win-back went out: held to 30 days after it.
  await e.client.workflow.getHandle(wf).signal(snoozeSignal, { reason: 'not_now_reply', until: iso(demoDue(t0, 197)) });
  await e.sleep('1m');
  // A cap window (30 days) after the win-back went out (as the workflow recorded it, within a minute of the ledger's).
  const st = await e.client.workflow.getHandle(wf).query(statusQuery);
  expect(st).toMatchObject({ outcome: 'snoozed', nextStage: 'snooze_reactivation' });
  const touchAt = Date.parse(st.nextActionAt!);
  expect(touchAt - (winback1.sentAt!.getTime() + 30 * DAY_MS)).toBeGreaterThanOrEqual(0);
  expect(touchAt - (winback1.sentAt!.getTime() + 30 * DAY_MS)).toBeLessThan(MINUTE_MS);
  // The day-210 win-back falls within the cap window of the snooze touch: dropped.
  await e.sleepUntil(touchAt + 2 * DAY_MS);
  const msgs = (await ledger(wf)).map((m) => m.stage);
  expect(msgs.slice(-3)).toEqual(['reactivation', 'winback_1', 'snooze_reactivation']);
});
