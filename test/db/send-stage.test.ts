/**
 * The one-activity stage (patch `fewer-actions`, src/activities/send-stage.ts) around a real
 * database and a real activity context: what a retried attempt asks the booking platform, and
 * that the sequence row never makes a sent message go out again. The booking check, the delivery
 * and the row write are the activities' own seams, counted here; their behaviour has its own tests.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createStageActivities } from '../../src/activities/send-stage.js';
import type { ProgressRecord, SequenceActivities, SequenceRef } from '../../src/activities/types.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { clients, messages } from '../../src/db/schema.js';
import { createLogger } from '../../src/log.js';

const NOW = '2026-06-09T15:00:00.000Z';
const LATER = Date.parse(NOW) + 5 * 3_600_000;
const ref: SequenceRef = {
  workflowId: 'rebook/demo-clinic/00000000-0000-4000-8000-000000000001/neuromodulator',
  clinicId: 'demo-clinic',
  clientId: '00000000-0000-4000-8000-000000000001',
  treatmentType: 'neuromodulator',
  runKey: 'appt-1',
};
const stage = { key: 'reminder', day: 80, channel: 'email', purpose: 'reminder', dueAt: NOW } as const;
const next: ProgressRecord = {
  anchorAt: '2026-03-21T15:00:00.000Z',
  stage: 'reminder',
  nextActionAt: '2026-06-19T14:00:00.000Z',
  nextStage: 'incentive',
  outcome: 'running',
  running: true,
};

let database: Database;
let calls: { checkBooking: { after: string }[]; deliverStage: { now: string }[]; recordProgress: number };
let platformBooked: boolean;
let rowWriteFails: boolean;

const base = {
  async checkBooking(q: { after: string }) {
    calls.checkBooking.push({ after: q.after });
    return platformBooked
      ? { booked: true, appointmentId: 'next-1', startAt: '2026-06-20T15:00:00.000Z' }
      : { booked: false };
  },
  async deliverStage(input: { now: string }) {
    calls.deliverStage.push({ now: input.now });
    return { status: 'sent', messageId: 'm-1', channel: 'email' } as const;
  },
  async recordProgress() {
    calls.recordProgress++;
    if (rowWriteFails) throw new Error('connection terminated');
  },
} as unknown as SequenceActivities;

beforeAll(async () => {
  database = await openDatabase({ pgliteMemory: true });
  await database.db.insert(clients).values({
    id: ref.clientId,
    clinicId: ref.clinicId,
    externalId: 'ext-1',
    firstName: 'Avery',
    lastName: 'Quinton',
  });
});
afterAll(async () => {
  await database?.close();
});
beforeEach(async () => {
  calls = { checkBooking: [], deliverStage: [], recordProgress: 0 };
  platformBooked = false;
  rowWriteFails = false;
  await database.db.delete(messages);
});

const acts = () => createStageActivities(base, { db: database.db, log: createLogger({ level: 'silent' }) });
const input = {
  ref,
  stage,
  now: NOW,
  anchorAt: next.anchorAt!,
  recheck: { after: NOW, excludeAppointmentId: 'appt-1' },
};

it('first attempt: re-checks right before the send, and a booking found stops it (nothing delivered, no row)', async () => {
  platformBooked = true;
  const env = new MockActivityEnvironment({ attempt: 1, currentAttemptScheduledTimestampMs: Date.parse(NOW) });
  const r = await env.run(acts().sendStage, { ...input, progress: next });
  expect(r).toMatchObject({ status: 'booked', appointmentId: 'next-1' });
  expect(calls).toEqual({ checkBooking: [{ after: NOW }], deliverStage: [], recordProgress: 0 });
});

it('a retry hours later (the send failed) asks and decides at its own time', async () => {
  const env = new MockActivityEnvironment({ attempt: 3, currentAttemptScheduledTimestampMs: LATER });
  const r = await env.run(acts().sendStage, { ...input, progress: next });
  const later = new Date(LATER).toISOString();
  expect(r).toEqual({ status: 'sent', messageId: 'm-1', channel: 'email', recorded: next });
  expect(calls).toEqual({ checkBooking: [{ after: later }], deliverStage: [{ now: later }], recordProgress: 1 });
});

it('a retry after the message went out does not ask again: a booking made since must not hide the send', async () => {
  await database.db.insert(messages).values({
    idempotencyKey: `${ref.workflowId}|${ref.runKey}|reminder`,
    clinicId: ref.clinicId,
    clientId: ref.clientId,
    workflowId: ref.workflowId,
    treatmentType: ref.treatmentType,
    stage: 'reminder',
    channel: 'email',
    status: 'sent',
    provider: 'outbox',
    dueAt: new Date(NOW),
  });
  platformBooked = true;
  const env = new MockActivityEnvironment({ attempt: 2, currentAttemptScheduledTimestampMs: LATER });
  const r = await env.run(acts().sendStage, { ...input, progress: next });
  expect(r).toMatchObject({ status: 'sent' });
  expect(calls.checkBooking).toEqual([]);
});

it('the row write failing does not fail the send (no retry over a sent message): the workflow writes it', async () => {
  rowWriteFails = true;
  const env = new MockActivityEnvironment({ attempt: 1, currentAttemptScheduledTimestampMs: Date.parse(NOW) });
  const r = await env.run(acts().sendStage, { ...input, progress: next });
  expect(r).toEqual({ status: 'sent', messageId: 'm-1', channel: 'email' });
  expect(calls.deliverStage).toHaveLength(1);
});
