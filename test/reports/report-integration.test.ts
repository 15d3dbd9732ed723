/**
 * The rebooking report over real sequences on the time-skipping server: eight Botox clients
 * treated at the same instant — two book (after the reminder, after the incentive), one is
 * converted by staff after the escalation, one snoozes, four run to the end (one without SMS
 * consent → incentive by email and a capped check-in, one without email consent, one in another
 * time zone held by the send window) — read through GET /v1/clinics/:clinicId/reports/rebooking.
 * With issue 11's lifecycle everyone also gets the day-1 and day-12 care touches, and a booking
 * counts as rebooked once its visit happens (attended); the non-responders get the reactivation and
 * win-back touches and churn after day 240.
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { clients, messageEvents, messages } from '../../src/db/schema.js';
import type { CanonicalEvent } from '../../src/ingest/events.js';
import { createLogger } from '../../src/log.js';
import { buildApp } from '../../src/server/app.js';
import { createSequenceSignals } from '../../src/temporal/sequence-signals.js';
import { snoozeSignal } from '../../workflows/definitions.js';
import { treatmentSlot } from '../helpers/clinic-time.js';
import { booking, CLINIC_ID, DAY_MS, type Engine, startEngine, treatment } from '../helpers/engine.js';

type TreatmentCompleted = Extract<CanonicalEvent, { type: 'treatment.completed' }>;
const API_KEY = 'report-integration-api-key-0123';
const HOUR = 3_600_000;
let e: Engine;
let app: FastifyInstance;

beforeAll(async () => {
  e = await startEngine();
  app = await buildApp({
    db: e.database.db,
    config: createConfigStore('config'),
    ingest: e.ingest,
    log: createLogger({ level: 'silent' }),
    secrets: { REBOOK_API_KEY: API_KEY } as NodeJS.ProcessEnv,
    signals: createSequenceSignals(e.client),
    now: () => e.now(),
  });
});
afterAll(async () => {
  await app?.close();
  await e?.stop();
});

const iso = (ms: number) => new Date(ms).toISOString();
const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${API_KEY}` } });

it('counts enrolments, messages, attributed bookings, staff conversions, churn, holds and revenue', async () => {
  const t0 = await treatmentSlot(e);
  const at = (days: number) => t0 + days * DAY_MS;
  const enroll = (id: string, over: Parameters<typeof treatment>[0] = {}) =>
    e.send(
      treatment({
        clientId: id,
        appointmentId: `${id}-1`,
        completedAt: iso(t0),
        email: `${id}@example.com`,
        phone: '+12125550123',
        ...over,
      }),
    );
  for (const id of ['book-reminder', 'book-incentive', 'churn', 'staff', 'snooze']) await enroll(id);
  await enroll('no-sms', { consent: { sms: false, email: true } });
  await enroll('no-email', { consent: { sms: true, email: false } });
  await enroll('west', {});
  // 10:00 in New York is 07:00 in Los Angeles: every stage of this client waits for 10:00 there.
  await e.database.db
    .update(clients)
    .set({ timeZone: 'America/Los_Angeles' })
    .where(and(eq(clients.clinicId, CLINIC_ID), eq(clients.externalId, 'west')));

  await e.sleepUntil(at(81));
  await e.client.workflow.getHandle(await e.workflowIdFor('snooze')).signal(snoozeSignal, { reason: 'not_now_reply' });
  // Engagement as SendGrid would report it: one reminder delivered, opened and clicked; one opened.
  const reminderOf = async (id: string) =>
    (await e.messages()).find((m) => m.workflowId === (wfs[id] ?? '') && m.stage === 'reminder')!;
  const wfs: Record<string, string> = {};
  for (const id of ['book-reminder', 'churn']) wfs[id] = await e.workflowIdFor(id);
  const r1 = await reminderOf('book-reminder');
  await e.database.db.update(messages).set({ status: 'delivered' }).where(eq(messages.id, r1.id));
  await e.database.db.insert(messageEvents).values([
    { messageId: r1.id, event: 'open', occurredAt: new Date(at(81)) },
    { messageId: r1.id, event: 'open', occurredAt: new Date(at(81) + HOUR) },
    { messageId: r1.id, event: 'click', occurredAt: new Date(at(81)) },
    { messageId: (await reminderOf('churn')).id, event: 'open', occurredAt: new Date(at(81)) },
  ]);

  await e.sleepUntil(at(85));
  await e.send(booking('book-reminder', 'book-reminder-2', at(92)));
  await e.sleepUntil(at(91));
  await e.send(booking('book-incentive', 'book-incentive-2', at(98)));
  await e.sleepUntil(at(92) + HOUR);
  // The rebooked appointment completes with its price: the revenue of the first run.
  await e.send({
    ...(treatment({
      clientId: 'book-reminder',
      appointmentId: 'book-reminder-2',
      completedAt: iso(at(92)),
      email: 'book-reminder@example.com',
    }) as TreatmentCompleted),
    price: 450,
  });

  // Booked on day 91 for day 98: the visit happens (issue 11: a booking counts once it is a visit).
  await e.sleepUntil(at(98) + HOUR);
  await e.send(
    treatment({
      clientId: 'book-incentive',
      appointmentId: 'book-incentive-2',
      completedAt: iso(at(98)),
      email: 'book-incentive@example.com',
    }),
  );

  await e.sleepUntil(at(100) + HOUR);
  const staffWf = await e.workflowIdFor('staff');
  const task = (await e.tasks()).find((t) => t.workflowId === staffWf)!;
  const resolved = await app.inject({
    method: 'POST',
    url: `/v1/clinics/${CLINIC_ID}/tasks/${task.id}/resolve`,
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    payload: { outcome: 'booked', by: 'front desk' },
  });
  expect(resolved.statusCode).toBe(200);

  // Past the last win-back offer (day 240): every run of the period has ended.
  await e.sleepUntil(at(245));
  const period = `from=${encodeURIComponent(iso(t0 - DAY_MS))}&to=${encodeURIComponent(iso(t0 + DAY_MS))}`;
  const res = await get(`/v1/clinics/${CLINIC_ID}/reports/rebooking?${period}`);
  expect(res.statusCode).toBe(200);
  const report = res.json();
  expect(report).toMatchObject({
    clinics: [CLINIC_ID],
    from: iso(t0 - DAY_MS),
    to: iso(t0 + DAY_MS),
    treatmentType: null,
  });
  expect(report.types.map((t: { treatmentType: string }) => t.treatmentType)).toEqual(['neuromodulator']);
  const botox = report.types[0];
  expect(botox).toMatchObject({
    enrolled: 8,
    running: 0,
    snoozed: 0,
    finished: 8,
    booked: 3,
    bookedOnTime: 3,
    // Two bookings became visits (days 92 and 98); the staff-reported one cannot be watched.
    attended: 2,
    awaitingVisit: 0,
    // The four who never answered and the one who said "not now" without a date (issue 11 §3).
    churned: 5,
    rebookingRate: 0.375,
    escalated: 5,
    staffConverted: 1,
    staffConversionRate: 0.2,
    revenueCents: 45_000,
    bookingsWithPrice: 1,
    bookingsWithoutPrice: 2,
    // Eight day-1 SMS and eight day-12 email care touches (care needs no marketing consent), the
    // rebooking stages' 11 emails and 6 SMS, then 14 touches after the window (below); the west
    // client's touches each wait for 10:00 there.
    sent: { email: 25, sms: 22, total: 47 },
    delivered: 1,
    opened: 2,
    clicked: 1,
    heldBack: { sendWindow: 8, capsDeferred: 0, capsSuppressed: 1, consent: 2, other: 0 },
  });
  const stages = Object.fromEntries(botox.stages.map((s: { stage: string }) => [s.stage, s]));
  expect(Object.keys(stages)).toEqual([
    'care_checkin',
    'care_results',
    'reminder',
    'incentive',
    'results_checkin',
    'staff_escalation',
    'reactivation',
    'snooze_reactivation',
    'winback_1',
    'winback_2',
  ]);
  // Care touches reach everyone, the consent-less too, and are never credited with a booking.
  expect(stages.care_checkin).toMatchObject({
    purpose: 'care',
    reached: 8,
    bookings: 0,
    sent: { email: 0, sms: 8 },
    heldBack: { sendWindow: 1 },
  });
  expect(stages.care_results).toMatchObject({ purpose: 'care', reached: 8, bookings: 0, sent: { email: 8, sms: 0 } });
  expect(stages.reminder).toMatchObject({
    reached: 7,
    bookings: 1,
    bookingRate: 0.1429,
    sent: { email: 7, sms: 0 },
    opened: 2,
    clicked: 1,
    heldBack: { sendWindow: 1, consent: 1 },
  });
  expect(stages.incentive).toMatchObject({
    reached: 6,
    bookings: 1,
    sent: { email: 1, sms: 5 },
    heldBack: { sendWindow: 1 },
  });
  expect(stages.results_checkin).toMatchObject({
    reached: 3,
    bookings: 0,
    sent: { email: 3, sms: 0 },
    heldBack: { sendWindow: 1, capsSuppressed: 1, consent: 1 },
  });
  expect(stages.staff_escalation).toMatchObject({ reached: 5, escalated: 5, staffConverted: 1, bookings: 1 });
  // After the window: the reactivation touch on day 120 to the four who never answered (the one
  // without SMS consent by email), the snoozed client's own touch instead, then two win-backs for all
  // five (day 180 by email, day 210 by SMS, each falling back where the channel lacks consent).
  expect(stages.reactivation).toMatchObject({ purpose: 'reactivation', reached: 4, sent: { email: 1, sms: 3 } });
  expect(stages.snooze_reactivation).toMatchObject({ purpose: 'reactivation', reached: 1, sent: { sms: 1 } });
  expect(stages.winback_1).toMatchObject({ purpose: 'winback', reached: 5, bookings: 0, sent: { email: 4, sms: 1 } });
  expect(stages.winback_2).toMatchObject({ purpose: 'winback', reached: 5, bookings: 0, sent: { email: 1, sms: 4 } });

  // The rebooked treatment on day 92 is a run of its own, in its own period.
  const later = (
    await get(
      `/v1/clinics/${CLINIC_ID}/reports/rebooking?from=${encodeURIComponent(iso(at(91)))}&to=${encodeURIComponent(iso(at(93)))}`,
    )
  ).json();
  expect(later.totals).toMatchObject({ enrolled: 1, running: 1 });
  const lips = (await get(`/v1/clinics/${CLINIC_ID}/reports/rebooking?${period}&treatmentType=lip_filler`)).json();
  expect(lips.totals).toMatchObject({ enrolled: 0 });
  const bad = await get(`/v1/clinics/${CLINIC_ID}/reports/rebooking?treatmentType=nope`);
  expect(bad.statusCode).toBe(400);
  expect(bad.json().error.issues[0].path).toBe('query.treatmentType');
  expect((await app.inject({ method: 'GET', url: `/v1/clinics/${CLINIC_ID}/reports/rebooking` })).statusCode).toBe(401);
}, 120_000);
