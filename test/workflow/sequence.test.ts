/**
 * The sequence as a client lives it, on the real time-skipping server: the four Botox stages at
 * clinic-local 10:00 of treatment day + N, staff escalation for unreachable clients, the
 * enrollment refusals, and the search attributes Temporal's visibility store gets.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unmappedServices } from '../../src/db/schema.js';
import { searchAttributes, statusQuery } from '../../workflows/definitions.js';
import { demoDue, treatmentSlot } from '../helpers/clinic-time.js';
import {
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
const { ledger, tasksOf, rowOf } = perWorkflow(() => e);

const status = (workflowId: string) => e.client.workflow.getHandle(workflowId).query(statusQuery);

describe('a Botox treatment', () => {
  it('sends reminder (email, day 80), incentive (SMS, day 90), check-in (email, day 95) and escalates to staff on day 100, at clinic-local 10:00', async () => {
    const t0 = await treatmentSlot(e);
    const [res] = await e.send(
      treatment({
        clientId: 'full-1',
        appointmentId: 'full-1-appt',
        completedAt: iso(t0),
        firstName: 'Marisol',
        lastName: 'Ferreira-Lind',
        email: 'marisol.fl@example.com',
        phone: '+13055550142',
      }),
    );
    const wf = await e.workflowIdFor('full-1');
    expect(res).toEqual({
      index: 0,
      type: 'treatment.completed',
      status: 'accepted',
      enrolled: true,
      sequenceId: wf,
      treatmentType: 'neuromodulator',
    });

    const due = {
      // Care touches (issue 11): the day-1 SMS check-in and the day-12 results email.
      careCheckin: demoDue(t0, 1),
      careResults: demoDue(t0, 12),
      reminder: demoDue(t0, 80),
      incentive: demoDue(t0, 90),
      checkin: demoDue(t0, 95),
      staff: demoDue(t0, 100),
    };
    // Sanity of the independent expectation: 10:00 in New York is 14:00 or 15:00 UTC.
    for (const ms of Object.values(due)) expect([14, 15]).toContain(new Date(ms).getUTCHours());

    await e.sleep('1h');
    expect(await status(wf)).toMatchObject({
      stage: 'enrolled',
      nextActionAt: iso(due.careCheckin),
      outcome: 'running',
      anchorAppointmentId: 'full-1-appt',
      anchorAt: iso(t0),
    });
    expect(await rowOf(wf)).toMatchObject({
      clinicId: CLINIC_ID,
      treatmentType: 'neuromodulator',
      stage: 'enrolled',
      nextActionAt: new Date(due.careCheckin),
      anchorAppointmentId: 'full-1-appt',
      anchorAt: new Date(t0),
      outcome: 'running',
      running: true,
    });

    // Nothing leaves a minute before each due instant; exactly one more message a minute after.
    const care = ['care_checkin', 'care_results'];
    const expectedStages: [number, string[]][] = [
      [due.careCheckin, ['care_checkin']],
      [due.careResults, care],
      [due.reminder, [...care, 'reminder']],
      [due.incentive, [...care, 'reminder', 'incentive']],
      [due.checkin, [...care, 'reminder', 'incentive', 'results_checkin']],
    ];
    let before: string[] = [];
    for (const [at, stages] of expectedStages) {
      await e.sleepUntil(at - MINUTE_MS);
      expect((await ledger(wf)).map((m) => m.stage)).toEqual(before);
      await e.sleepUntil(at + MINUTE_MS);
      expect((await ledger(wf)).map((m) => m.stage)).toEqual(stages);
      before = stages;
    }
    await e.sleepUntil(due.staff - MINUTE_MS);
    expect(await tasksOf(wf)).toEqual([]);
    await e.sleepUntil(t0 + 101 * DAY_MS);

    const msgs = await ledger(wf);
    expect(
      msgs.map((m) => ({
        stage: m.stage,
        channel: m.channel,
        status: m.status,
        provider: m.provider,
        dueAt: m.dueAt.getTime(),
        recipient: m.recipient,
      })),
    ).toEqual([
      {
        stage: 'care_checkin',
        channel: 'sms',
        status: 'outbox',
        provider: 'outbox',
        dueAt: due.careCheckin,
        recipient: '+13055550142',
      },
      {
        stage: 'care_results',
        channel: 'email',
        status: 'outbox',
        provider: 'outbox',
        dueAt: due.careResults,
        recipient: 'marisol.fl@example.com',
      },
      {
        stage: 'reminder',
        channel: 'email',
        status: 'outbox',
        provider: 'outbox',
        dueAt: due.reminder,
        recipient: 'marisol.fl@example.com',
      },
      {
        stage: 'incentive',
        channel: 'sms',
        status: 'outbox',
        provider: 'outbox',
        dueAt: due.incentive,
        recipient: '+13055550142',
      },
      {
        stage: 'results_checkin',
        channel: 'email',
        status: 'outbox',
        provider: 'outbox',
        dueAt: due.checkin,
        recipient: 'marisol.fl@example.com',
      },
      {
        stage: 'staff_escalation',
        channel: 'staff_email',
        status: 'outbox',
        provider: 'outbox',
        dueAt: due.staff,
        recipient: 'frontdesk@example.com',
      },
    ]);
    for (const m of msgs) {
      // Sent when due (workflow time), not a day early or late.
      expect(m.sentAt!.getTime() - m.dueAt.getTime()).toBeGreaterThanOrEqual(0);
      expect(m.sentAt!.getTime() - m.dueAt.getTime()).toBeLessThan(MINUTE_MS);
      expect(m.providerMessageId).toBe(`outbox-${m.id}`);
      expect(m.idempotencyKey.startsWith(`${wf}|full-1-appt|`)).toBe(true);
    }
    const [careCheckin, careResults, reminder, incentive, checkin, alert] = msgs as [
      (typeof msgs)[number],
      (typeof msgs)[number],
      (typeof msgs)[number],
      (typeof msgs)[number],
      (typeof msgs)[number],
      (typeof msgs)[number],
    ];
    expect(careCheckin.body).toContain('Minor bruising or tenderness for 3-5 days is normal');
    expect(careResults.subject).toBe('Your Botox results, Marisol');
    // A care touch never carries an offer.
    for (const m of [careCheckin, careResults]) expect(`${m.subject ?? ''} ${m.body}`).not.toMatch(/code|valid until/);
    expect(reminder.subject).toBe('Marisol, your Botox window is opening');
    expect(reminder.body).toContain('https://book.example.com/glow-aesthetics');
    expect(incentive.subject).toBeNull();
    expect(incentive.body).toMatch(/^Glow Aesthetics \(demo\): Hi Marisol, /);
    expect(incentive.body).toContain('https://book.example.com/glow-aesthetics');
    expect(incentive.body).toContain('Reply STOP to opt out.');
    // The offer expires with the rebooking window (day 120), not some days after the SMS.
    const day120 = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      month: 'short',
      day: 'numeric',
    }).format(new Date(demoDue(t0, 120)));
    expect(incentive.body).toContain(`valid until ${day120}.`);
    for (const m of msgs) expect(`${m.subject ?? ''} ${m.body}`).not.toContain('{{');
    expect(checkin.subject).toBe('How are your results, Marisol?');
    // The staff alert says "open the task list", never who or what.
    expect(alert.subject).toBe('Call needed: client with no response to automated touches');
    expect(`${alert.subject} ${alert.body}`).not.toMatch(/Marisol|Ferreira|marisol\.fl|3055550142|Botox/);

    const tasks = await tasksOf(wf);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      clinicId: CLINIC_ID,
      treatmentType: 'neuromodulator',
      reason: 'no_response',
      status: 'open',
      idempotencyKey: `${wf}|full-1-appt|escalation`,
      details: {
        stage: 'staff_escalation',
        touches: ['care_checkin', 'care_results', 'reminder', 'incentive', 'results_checkin'],
        appointmentId: 'full-1-appt',
        lastTreatmentAt: iso(t0),
      },
    });
    expect(tasks[0]!.dueAt!.getTime() - due.staff).toBeGreaterThanOrEqual(0);
    expect(tasks[0]!.dueAt!.getTime() - due.staff).toBeLessThan(MINUTE_MS);

    // After the staff stage the non-responder touches follow (issue 11 §3): the reactivation touch
    // on the window's last day first; test/workflow/reactivation.test.ts follows them to churned.
    const reactivationAt = demoDue(t0, 120);
    const st = await status(wf);
    expect(st).toMatchObject({
      stage: 'staff_escalation',
      nextStage: 'reactivation',
      nextActionAt: iso(reactivationAt),
      outcome: 'running',
    });
    expect(st.history.map((h) => [h.stage, h.event, h.detail])).toEqual([
      ['enrolled', 'planned', undefined],
      ['care_checkin', 'sent', 'sms'],
      ['care_results', 'sent', 'email'],
      ['reminder', 'sent', 'email'],
      ['incentive', 'sent', 'sms'],
      ['results_checkin', 'sent', 'email'],
      ['staff_escalation', 'escalated', 'no_response'],
    ]);
    expect(await rowOf(wf)).toMatchObject({
      stage: 'staff_escalation',
      nextStage: 'reactivation',
      nextActionAt: new Date(reactivationAt),
      outcome: 'running',
      running: true,
    });
    expect(await ledger(wf)).toHaveLength(6);
  });

  it('hands a client with neither phone nor email to staff on day 80 (no_usable_channel) and messages nobody', async () => {
    const t0 = await treatmentSlot(e);
    const [res] = await e.send(
      treatment({
        clientId: 'nochan-1',
        appointmentId: 'nochan-1-appt',
        completedAt: iso(t0),
        email: null,
        phone: null,
      }),
    );
    const wf = await e.workflowIdFor('nochan-1');
    expect(res).toEqual({
      index: 0,
      type: 'treatment.completed',
      status: 'accepted',
      enrolled: true,
      sequenceId: wf,
      treatmentType: 'neuromodulator',
      staffEscalationOnly: true,
    });

    const day80 = demoDue(t0, 80);
    await e.sleepUntil(day80 - MINUTE_MS);
    expect(await tasksOf(wf)).toEqual([]);
    await e.sleepUntil(day80 + MINUTE_MS);
    const tasks = await tasksOf(wf);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      reason: 'no_usable_channel',
      status: 'open',
      details: { stage: 'staff_escalation', touches: [], appointmentId: 'nochan-1-appt', lastTreatmentAt: iso(t0) },
    });
    expect(tasks[0]!.dueAt!.getTime() - day80).toBeGreaterThanOrEqual(0);
    expect(tasks[0]!.dueAt!.getTime() - day80).toBeLessThan(MINUTE_MS);

    // Through the whole plan: still one task, and the only ledger row is the staff alert.
    await e.sleepUntil(t0 + 101 * DAY_MS);
    expect(await tasksOf(wf)).toHaveLength(1);
    const msgs = await ledger(wf);
    expect(msgs.map((m) => [m.channel, m.stage, m.recipient])).toEqual([
      ['staff_email', 'staff_escalation', 'frontdesk@example.com'],
    ]);
    expect(msgs[0]!.dueAt.getTime() - day80).toBeGreaterThanOrEqual(0);
    expect(msgs[0]!.dueAt.getTime() - day80).toBeLessThan(MINUTE_MS);
    expect((await status(wf)).history.map((h) => [h.stage, h.event, h.detail])).toEqual([
      ['enrolled', 'planned', undefined],
      // An unreachable care touch is not handed to staff: the first marketing stage is.
      ['care_checkin', 'suppressed', 'no_usable_channel'],
      ['care_results', 'suppressed', 'no_usable_channel'],
      ['reminder', 'suppressed', 'no_usable_channel'],
      ['staff_escalation', 'escalated', 'no_usable_channel'],
    ]);
  });
});

describe('late and refused enrollments', () => {
  it('skips stages more than a day overdue when a treatment arrives 97 days late: no burst of old messages, staff on day 100', async () => {
    // Day 95's 10:00 is 38 to 62 hours back whatever the time of day: past the 24 h tolerance.
    const t0 = (await treatmentSlot(e)) - 97 * DAY_MS;
    const [res] = await e.send(treatment({ clientId: 'late-97', appointmentId: 'late-97-appt', completedAt: iso(t0) }));
    const wf = await e.workflowIdFor('late-97');
    expect(res).toMatchObject({ status: 'accepted', enrolled: true, sequenceId: wf });
    await e.sleep('1h');
    expect(await ledger(wf)).toEqual([]);
    expect(await status(wf)).toMatchObject({ nextActionAt: iso(demoDue(t0, 100)) });
    expect((await status(wf)).history.map((h) => [h.stage, h.event, h.detail])).toEqual([
      ['enrolled', 'planned', undefined],
      ['care_checkin', 'suppressed', 'past_due_at_enrollment'],
      ['care_results', 'suppressed', 'past_due_at_enrollment'],
      ['reminder', 'suppressed', 'past_due_at_enrollment'],
      ['incentive', 'suppressed', 'past_due_at_enrollment'],
      ['results_checkin', 'suppressed', 'past_due_at_enrollment'],
    ]);

    await e.sleepUntil(demoDue(t0, 100) + MINUTE_MS);
    expect((await ledger(wf)).map((m) => m.channel)).toEqual(['staff_email']);
    const tasks = await tasksOf(wf);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      reason: 'no_touch_delivered',
      details: { touches: [], stage: 'staff_escalation' },
    });
  });

  it('names the stage due next, at nextActionAt, when two stages were skipped as past due (92 days late)', async () => {
    // The README's first example: before, the status said `stage: incentive` with the check-in's instant.
    const t0 = (await treatmentSlot(e)) - 92 * DAY_MS;
    await e.send(treatment({ clientId: 'late-92', appointmentId: 'late-92-appt', completedAt: iso(t0) }));
    const wf = await e.workflowIdFor('late-92');
    await e.sleep('1h');
    const next = async () => {
      const [st, row] = await Promise.all([status(wf), rowOf(wf)]);
      return {
        live: [st.stage, st.nextStage, st.nextActionAt],
        row: [row?.stage, row?.nextStage, row?.nextActionAt?.toISOString()],
      };
    };
    const waiting = ['incentive', 'results_checkin', iso(demoDue(t0, 95))];
    expect(await next()).toEqual({ live: waiting, row: waiting });

    await e.sleepUntil(demoDue(t0, 95) + MINUTE_MS);
    const afterCheckin = ['results_checkin', 'staff_escalation', iso(demoDue(t0, 100))];
    expect(await next()).toEqual({ live: afterCheckin, row: afterCheckin });

    await e.sleepUntil(demoDue(t0, 100) + MINUTE_MS);
    const closing = ['staff_escalation', 'reactivation', iso(demoDue(t0, 120))];
    expect(await next()).toEqual({ live: closing, row: closing });
  });

  it('does not enroll a treatment older than interval + 30 days (window_passed)', async () => {
    const completedAt = e.now() - 125 * DAY_MS;
    const res = await e.send(
      treatment({ clientId: 'old-1', appointmentId: 'old-1-appt', completedAt: iso(completedAt) }),
    );
    expect(res).toEqual([
      { index: 0, type: 'treatment.completed', status: 'accepted', enrolled: false, reason: 'window_passed' },
    ]);
    const wf = await e.workflowIdFor('old-1');
    expect(await rowOf(wf)).toBeUndefined();
    await expect(e.client.workflow.getHandle(wf).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('does not enroll an unknown service and reports it in unmapped_services (unclassified_service)', async () => {
    const res = await e.send(
      treatment({
        clientId: 'consult-1',
        appointmentId: 'consult-1-appt',
        service: 'Consultation',
        completedAt: iso(e.now()),
      }),
      treatment({
        clientId: 'consult-2',
        appointmentId: 'consult-2-appt',
        service: 'CONSULTATION',
        completedAt: iso(e.now()),
      }),
    );
    expect(res).toEqual([
      { index: 0, type: 'treatment.completed', status: 'accepted', enrolled: false, reason: 'unclassified_service' },
      { index: 1, type: 'treatment.completed', status: 'accepted', enrolled: false, reason: 'unclassified_service' },
    ]);
    const unmapped = await e.database.db
      .select()
      .from(unmappedServices)
      .where(and(eq(unmappedServices.clinicId, CLINIC_ID), eq(unmappedServices.serviceKey, 'name:consultation')));
    expect(unmapped).toHaveLength(1);
    expect(unmapped[0]).toMatchObject({ serviceId: null, serviceName: 'CONSULTATION', occurrences: 2 });
    for (const client of ['consult-1', 'consult-2']) {
      const uuid = await e.clientUuid(client);
      expect((await e.sequences()).filter((s) => s.clientId === uuid)).toEqual([]);
      // No sequence of any type was started for the client.
      const ids = (await e.sequences()).map((s) => s.workflowId);
      expect(ids.some((id) => id.includes(uuid))).toBe(false);
      await expect(e.client.workflow.getHandle(await e.workflowIdFor(client)).describe()).rejects.toBeInstanceOf(
        WorkflowNotFoundError,
      );
    }
  });
});

describe('visibility', () => {
  it('publishes ClinicId, TreatmentType and SequenceOutcome (the next action in the sequence row), and no client data in ids or search attributes', async () => {
    const t0 = await treatmentSlot(e);
    const client = {
      clientId: 'sa-ext-7731',
      firstName: 'Oksana',
      lastName: 'Vandermeer',
      email: 'oksana.v@example.com',
      phone: '+14155550199',
    };
    await e.send(treatment({ ...client, appointmentId: 'sa-appt-7731', completedAt: iso(t0) }));
    const wf = await e.workflowIdFor('sa-ext-7731');
    await e.sleep('1h');

    const handle = e.client.workflow.getHandle(wf);
    let d = await handle.describe();
    expect(d.typedSearchAttributes.get(searchAttributes.clinicId)).toBe(CLINIC_ID);
    expect(d.typedSearchAttributes.get(searchAttributes.treatmentType)).toBe('neuromodulator');
    expect(d.typedSearchAttributes.get(searchAttributes.outcome)).toBe('running');
    // Issue 12 §5: no per-stage upserts (each is a billable action); the console and the API read
    // the next action from the sequence row. Runs from before keep SequenceStage and NextActionAt.
    expect(d.typedSearchAttributes.get(searchAttributes.stage)).toBeUndefined();
    expect(d.typedSearchAttributes.get(searchAttributes.nextActionAt)).toBeUndefined();
    const row = async () => (await e.sequences()).find((r) => r.workflowId === wf);
    expect(await row()).toMatchObject({ stage: 'enrolled', nextStage: 'care_checkin', outcome: 'running' });
    expect((await row())?.nextActionAt?.getTime()).toBe(demoDue(t0, 1));

    await e.sleepUntil(demoDue(t0, 80) + 60_000);
    d = await handle.describe();
    expect(d.typedSearchAttributes.get(searchAttributes.stage)).toBeUndefined();
    expect(await row()).toMatchObject({ stage: 'reminder', nextStage: 'incentive', outcome: 'running' });
    expect((await row())?.nextActionAt?.getTime()).toBe(demoDue(t0, 90));

    const uuid = await e.clientUuid('sa-ext-7731');
    expect(wf).toBe(`rebook/${CLINIC_ID}/${uuid}/neuromodulator`);
    const visible = JSON.stringify({
      workflowId: d.workflowId,
      typed: d.typedSearchAttributes.getAll(),
      untyped: d.searchAttributes,
      memo: d.memo ?? null,
    });
    expect(visible).toContain('neuromodulator');
    for (const phi of [
      client.firstName,
      client.lastName,
      client.email,
      client.phone,
      client.phone.slice(2),
      client.clientId,
    ]) {
      expect(visible.toLowerCase()).not.toContain(phi.toLowerCase());
    }
  });
});
