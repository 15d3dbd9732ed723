/**
 * Events-API requests that arrive while a batch is being applied go together in the next one
 * (src/ingest/inbox.ts accept): the completed treatments of distinct clients are applied with a
 * handful of statements (src/ingest/apply-treatments.ts applyTreatments). The outcome must be the
 * one each request would have had alone: the same answers, rows, consent events and workflows;
 * two events about one client in the order they came; duplicates across requests caught.
 * Time-skipping server, PGlite, the real worker.
 *
 * The calls are made in one tick: the first two start a batch each (two are applied at once,
 * and they are alone when they arrive) and every later one waits for a free slot, so the rest
 * form the third batch together.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appointments, clientChannels, clients, consentEvents, inboxEvents, sequences } from '../../src/db/schema.js';
import type { EventResult } from '../../src/ingest/events.js';
import { sequenceWorkflowId, statusQuery } from '../../workflows/definitions.js';
import { booking, CLINIC_ID, DAY_MS, type Engine, startEngine, treatment } from '../helpers/engine.js';

let e: Engine;
beforeAll(async () => {
  e = await startEngine();
});
afterAll(async () => {
  await e?.stop();
});

const accept = (...events: Parameters<Engine['send']>) => e.ingest.accept(CLINIC_ID, events);

async function clientRows(externalIds: string[]) {
  return e.database.db
    .select()
    .from(clients)
    .where(and(eq(clients.clinicId, CLINIC_ID), inArray(clients.externalId, externalIds)));
}

/** The workflow id an answer enrolled the event in. */
function sequenceOf(r: EventResult | undefined): string {
  if (!r || !('sequenceId' in r) || !r.sequenceId) throw new Error('not enrolled');
  return r.sequenceId;
}

async function until<T>(what: string, read: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  for (const deadline = Date.now() + ms; ; ) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('events API requests applied together', () => {
  it('twelve treatments of distinct clients at once: each answered, recorded and enrolled as if it came alone; a duplicate in another request is caught', async () => {
    const completedAt = new Date(e.now() - 10 * DAY_MS).toISOString();
    const ids = Array.from({ length: 12 }, (_, i) => `batch-a-${i}`);
    const first = accept(treatment({ clientId: 'batch-a-lead', appointmentId: 'batch-a-lead-appt', completedAt }));
    const rest = ids.map((id, i) =>
      accept(
        treatment({
          clientId: id,
          appointmentId: `${id}-appt`,
          completedAt,
          // One without SMS consent and one with a number no carrier takes: their own outcomes.
          ...(i === 3 ? { consent: { sms: false, email: true } } : {}),
          ...(i === 5 ? { phone: 'not a phone' } : {}),
        }),
      ),
    );
    const duplicate = accept(treatment({ clientId: ids[0]!, appointmentId: `${ids[0]}-appt`, completedAt }));
    const answers = await Promise.all([first, ...rest, duplicate]);

    const rows = await clientRows(ids);
    expect(rows).toHaveLength(12);
    const byExternal = new Map(rows.map((r) => [r.externalId, r]));
    ids.forEach((id, i) => {
      const [a] = answers[i + 1] as EventResult[];
      expect(a).toMatchObject({
        index: 0,
        type: 'treatment.completed',
        status: 'accepted',
        enrolled: true,
        treatmentType: 'neuromodulator',
        sequenceId: sequenceWorkflowId(CLINIC_ID, byExternal.get(id)!.id, 'neuromodulator'),
      });
    });
    expect(answers.at(-1)).toEqual([
      { index: 0, type: 'treatment.completed', status: 'duplicate', enrolled: false, reason: 'duplicate' },
    ]);

    // The phone in stored form; the unusable one kept as given and its channel marked.
    expect(byExternal.get(ids[0]!)).toMatchObject({ phone: '+12125550123', phoneE164: '+12125550123' });
    expect(byExternal.get(ids[5]!)).toMatchObject({ phone: 'not a phone', phoneE164: null });
    const [flag] = await e.database.db
      .select()
      .from(clientChannels)
      .where(and(eq(clientChannels.clientId, byExternal.get(ids[5]!)!.id), eq(clientChannels.channel, 'sms')));
    expect(flag?.undeliverableAt).toBeInstanceOf(Date);

    // Each granted consent once, from the platform; no SMS grant for the client who gave none.
    const consents = await e.database.db
      .select({ clientId: consentEvents.clientId, channel: consentEvents.channel, action: consentEvents.action })
      .from(consentEvents)
      .where(
        inArray(
          consentEvents.clientId,
          rows.map((r) => r.id),
        ),
      );
    expect(consents).toHaveLength(23);
    expect(consents.filter((c) => c.clientId === byExternal.get(ids[3]!)!.id).map((c) => c.channel)).toEqual(['email']);
    expect(consents.every((c) => c.action === 'granted')).toBe(true);

    // The completed appointments, the sequence rows, the workflows running, the inbox rows done.
    const appts = await e.database.db
      .select()
      .from(appointments)
      .where(
        and(
          eq(appointments.clinicId, CLINIC_ID),
          inArray(
            appointments.externalId,
            ids.map((id) => `${id}-appt`),
          ),
        ),
      );
    expect(appts).toHaveLength(12);
    expect(appts.every((a) => a.status === 'completed' && a.treatmentType === 'neuromodulator')).toBe(true);
    const seqs = await e.database.db
      .select()
      .from(sequences)
      .where(
        inArray(
          sequences.clientId,
          rows.map((r) => r.id),
        ),
      );
    expect(seqs).toHaveLength(12);
    expect(seqs.every((s) => s.running && s.arm !== null)).toBe(true);
    for (const s of seqs) {
      const d = await e.client.workflow.getHandle(s.workflowId).describe();
      expect(d.status.name).toBe('RUNNING');
    }
    const inbox = await e.database.db
      .select({ status: inboxEvents.status, payload: inboxEvents.payload })
      .from(inboxEvents)
      .where(
        and(
          eq(inboxEvents.clinicId, CLINIC_ID),
          inArray(
            inboxEvents.dedupeKey,
            ids.map((id) => `treatment.completed:${id}-appt`),
          ),
        ),
      );
    expect(inbox).toHaveLength(12);
    expect(inbox.every((r) => r.status === 'done' && r.payload === null)).toBe(true);
  });

  it('two events about one client keep their order (treatment, then its booking), beside a request about another client', async () => {
    const completedAt = new Date(e.now() - 5 * DAY_MS).toISOString();
    const lead = accept(treatment({ clientId: 'batch-b-lead', appointmentId: 'batch-b-lead-appt', completedAt }));
    const both = accept(
      treatment({ clientId: 'batch-b-x', appointmentId: 'batch-b-x-appt', completedAt }),
      booking('batch-b-x', 'batch-b-x-next', e.now() + 7 * DAY_MS),
    );
    const other = accept(treatment({ clientId: 'batch-b-y', appointmentId: 'batch-b-y-appt', completedAt }));
    const [, xs, ys] = await Promise.all([lead, both, other]);
    const [t, b] = xs;
    const [y] = ys;
    expect(t).toMatchObject({ index: 0, status: 'accepted', enrolled: true });
    // Applied after the enrolment: the sequence was there to be told.
    expect(b).toMatchObject({ index: 1, type: 'appointment.booked', status: 'accepted', sequencesSignalled: 1 });
    expect(y).toMatchObject({ status: 'accepted', enrolled: true });
    const x = await until('the booking recorded', async () => {
      const [s] = await e.database.db
        .select()
        .from(sequences)
        .where(and(eq(sequences.workflowId, sequenceOf(t)), eq(sequences.outcome, 'booked')));
      return s;
    });
    expect(x.outcome).toBe('booked');
  });

  it('a booking that came before its treatment ends the sequence the batch starts', async () => {
    const completedAt = new Date(e.now() - 3 * DAY_MS).toISOString();
    await accept(booking('batch-c-z', 'batch-c-z-next', e.now() + 10 * DAY_MS));
    const lead = accept(treatment({ clientId: 'batch-c-lead', appointmentId: 'batch-c-lead-appt', completedAt }));
    const z = accept(treatment({ clientId: 'batch-c-z', appointmentId: 'batch-c-z-appt', completedAt }));
    const w = accept(treatment({ clientId: 'batch-c-w', appointmentId: 'batch-c-w-appt', completedAt }));
    const [, zs, ws] = await Promise.all([lead, z, w]);
    const [zr] = zs;
    const [wr] = ws;
    expect(zr).toMatchObject({ status: 'accepted', enrolled: true });
    const booked = await until('the earlier booking applied to the new sequence', async () => {
      const [s] = await e.database.db
        .select()
        .from(sequences)
        .where(and(eq(sequences.workflowId, sequenceOf(zr)), eq(sequences.outcome, 'booked')));
      return s;
    });
    expect(booked.outcome).toBe('booked');
    // The other client of the batch has no booking: still waiting for its first touch.
    const [other] = await e.database.db
      .select()
      .from(sequences)
      .where(eq(sequences.workflowId, sequenceOf(wr)));
    expect(other?.outcome).not.toBe('booked');
  });
  it('bookings at once: each running sequence told and recorded booked; a booking for a completed appointment is stale; a merged profile is followed to the kept one', async () => {
    const completedAt = new Date(e.now() - 8 * DAY_MS).toISOString();
    const ids = Array.from({ length: 6 }, (_, i) => `batch-d-${i}`);
    await Promise.all(ids.map((id) => accept(treatment({ clientId: id, appointmentId: `${id}-appt`, completedAt }))));
    // batch-d-5 was merged into batch-d-4 on the platform: its booking reaches batch-d-4's sequence.
    await accept({ type: 'client.merged', keptClientId: ids[4]!, removedClientId: 'batch-d-old' });
    const startAt = e.now() + 6 * DAY_MS;
    const lead = accept(booking(ids[0]!, `${ids[0]}-next`, startAt));
    const rest = [
      accept(booking(ids[1]!, `${ids[1]}-next`, startAt)),
      accept(booking(ids[2]!, `${ids[2]}-next`, startAt)),
      // The completed treatment itself, "booked" late: stale, nothing told.
      accept(booking(ids[3]!, `${ids[3]}-appt`, startAt)),
      accept(booking('batch-d-old', 'batch-d-old-next', startAt)),
    ];
    const answers = await Promise.all([lead, ...rest]);
    expect(answers.map((a) => a[0])).toEqual([
      { index: 0, type: 'appointment.booked', status: 'accepted', sequencesSignalled: 1 },
      { index: 0, type: 'appointment.booked', status: 'accepted', sequencesSignalled: 1 },
      { index: 0, type: 'appointment.booked', status: 'accepted', sequencesSignalled: 1 },
      { index: 0, type: 'appointment.booked', status: 'accepted', sequencesSignalled: 0, stale: true },
      { index: 0, type: 'appointment.booked', status: 'accepted', sequencesSignalled: 1 },
    ]);
    const [stale] = await e.database.db
      .select()
      .from(appointments)
      .where(and(eq(appointments.clinicId, CLINIC_ID), eq(appointments.externalId, `${ids[3]}-appt`)));
    expect(stale?.status).toBe('completed');
    const [moved] = await e.database.db
      .select()
      .from(appointments)
      .where(and(eq(appointments.clinicId, CLINIC_ID), eq(appointments.externalId, 'batch-d-old-next')));
    expect(moved).toMatchObject({ status: 'booked', clientExternalId: ids[4] });
    for (const id of [ids[0]!, ids[1]!, ids[2]!, ids[4]!]) {
      const workflowId = await e.workflowIdFor(id);
      await until(`${id} recorded booked`, async () => {
        const [s] = await e.database.db
          .select()
          .from(sequences)
          .where(and(eq(sequences.workflowId, workflowId), eq(sequences.outcome, 'booked')));
        return s;
      });
    }
    const [untouched] = await e.database.db
      .select()
      .from(sequences)
      .where(eq(sequences.workflowId, await e.workflowIdFor(ids[3]!)));
    expect(untouched?.outcome).not.toBe('booked');
  });

  it('marking the applied rows done fails: the answer still reports the enrolment (it happened), the row stays pending, and the forwarder applies it again without enrolling twice', async () => {
    const db = e.database.db;
    // The database refuses the "done" update, as a connection lost right after the workflows started would.
    await db.execute(
      sql.raw(`create function test_refuse_done() returns trigger language plpgsql as $$
        begin raise exception 'refused by the test'; end $$`),
    );
    await db.execute(
      sql.raw(`create trigger test_refuse_done before update on inbox_events for each row
        when (new.status = 'done') execute function test_refuse_done()`),
    );
    const completedAt = new Date(e.now() - 10 * DAY_MS).toISOString();
    const rowOf = async () => {
      const [row] = await db
        .select()
        .from(inboxEvents)
        .where(
          and(eq(inboxEvents.clinicId, CLINIC_ID), sql`${inboxEvents.payload}->>'appointmentId' = 'batch-m-appt'`),
        );
      return row;
    };
    let answer: EventResult[];
    let pending: Awaited<ReturnType<typeof rowOf>>;
    try {
      answer = await accept(treatment({ clientId: 'batch-m', appointmentId: 'batch-m-appt', completedAt }));
      pending = await rowOf();
    } finally {
      await db.execute(sql.raw('drop trigger test_refuse_done on inbox_events'));
      await db.execute(sql.raw('drop function test_refuse_done()'));
    }
    expect(answer[0]).toMatchObject({ status: 'accepted', enrolled: true });
    const workflowId = sequenceOf(answer[0]);
    expect(pending).toMatchObject({ status: 'pending' });
    expect(pending?.payload).not.toBeNull();

    // Its lock runs out (INBOX_LOCK_MS) and the forwarder takes it: applied again, now marked.
    await db.update(inboxEvents).set({ lockedUntil: null }).where(eq(inboxEvents.id, pending!.id));
    expect(await e.ingest.forwardPending()).toBeGreaterThanOrEqual(1);
    const [marked] = await db.select().from(inboxEvents).where(eq(inboxEvents.id, pending!.id));
    expect(marked).toMatchObject({ status: 'done', payload: null });
    // The same sequence, enrolled once: the repeated treatment signal is recognised by its appointment.
    expect(await e.workflowIdFor('batch-m')).toBe(workflowId);
    const status = await until('the sequence planned', async () => {
      const st = await e.client.workflow.getHandle(workflowId).query(statusQuery);
      return st.history.some((h) => h.stage === 'enrolled') ? st : undefined;
    });
    expect(status.history.filter((h) => h.stage === 'enrolled')).toHaveLength(1);
    expect(status.anchorAppointmentId).toBe('batch-m-appt');
  });
});
