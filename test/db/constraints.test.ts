/**
 * The unique constraints the product's idempotency rests on: the inbox keeps one row per
 * delivered event, and a message or staff task is created once per key however many activity
 * retries or concurrent workers try (they insert with ON CONFLICT DO NOTHING and read back).
 */
import { count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';
import { clients, inboxEvents, messages, staffTasks } from '../../src/db/schema.js';
import { engines, failure, type ScratchDatabase } from './engines.js';

const UNIQUE_VIOLATION = '23505';

describe.each(engines)('unique constraints on $name', (engine) => {
  let scratch: ScratchDatabase;
  let database: Database;
  let clientId: string;

  beforeAll(async () => {
    scratch = await engine.create();
    database = await openDatabase(scratch.options);
  });
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
  });
  beforeEach(async () => {
    await database.db.execute(sql`truncate inbox_events, messages, staff_tasks, clients cascade`);
    const [row] = await database.db
      .insert(clients)
      .values({
        clinicId: 'clinic-a',
        externalId: 'c-1',
        firstName: 'Avery',
        lastName: 'Quinton',
        email: 'avery@example.com',
      })
      .returning({ id: clients.id });
    clientId = row!.id;
  });

  describe('inbox_events (clinic_id, source, dedupe_key)', () => {
    const event = (over: Partial<typeof inboxEvents.$inferInsert> = {}) => ({
      clinicId: 'clinic-a',
      source: 'api',
      dedupeKey: 'treatment.completed:appt-1',
      eventType: 'treatment.completed',
      payload: { type: 'treatment.completed' },
      ...over,
    });

    it('rejects the same event twice', async () => {
      await database.db.insert(inboxEvents).values(event());
      expect(await failure(database.db.insert(inboxEvents).values(event({ eventType: 'other', payload: null })))).toBe(
        UNIQUE_VIOLATION,
      );
    });

    it('keeps the same key from another source or another clinic', async () => {
      await database.db
        .insert(inboxEvents)
        .values([event(), event({ source: 'csv' }), event({ clinicId: 'clinic-b' })]);
      const [n] = await database.db.select({ n: count() }).from(inboxEvents);
      expect(n!.n).toBe(3);
    });

    it('stores one row per key for a batch with repeats, returning only the new rows (as accept() does)', async () => {
      await database.db.insert(inboxEvents).values(event({ dedupeKey: 'k-old' }));
      const stored = await database.db
        .insert(inboxEvents)
        .values([event({ dedupeKey: 'k-old' }), event({ dedupeKey: 'k-new' }), event({ dedupeKey: 'k-new' })])
        .onConflictDoNothing()
        .returning({ dedupeKey: inboxEvents.dedupeKey });
      expect(stored.map((s) => s.dedupeKey)).toEqual(['k-new']);
      const [n] = await database.db.select({ n: count() }).from(inboxEvents);
      expect(n!.n).toBe(2);
    });
  });

  describe('messages.idempotency_key', () => {
    const message = (over: Partial<typeof messages.$inferInsert> = {}) => ({
      idempotencyKey: 'wf-1|appt-1|reminder',
      clinicId: 'clinic-a',
      clientId,
      workflowId: 'wf-1',
      treatmentType: 'neuromodulator',
      stage: 'reminder',
      channel: 'email',
      status: 'reserved',
      provider: 'outbox',
      dueAt: new Date('2026-03-01T15:00:00Z'),
      ...over,
    });

    it('rejects a second message with the same key, even for another stage', async () => {
      await database.db.insert(messages).values(message());
      expect(await failure(database.db.insert(messages).values(message({ stage: 'incentive', channel: 'sms' })))).toBe(
        UNIQUE_VIOLATION,
      );
    });

    it('lets exactly one of several concurrent reservations win', async () => {
      const attempts = await Promise.all(
        Array.from({ length: 5 }, () =>
          database.db.insert(messages).values(message()).onConflictDoNothing().returning({ id: messages.id }),
        ),
      );
      expect(attempts.filter((a) => a.length === 1)).toHaveLength(1);
      expect(
        await database.db.select().from(messages).where(eq(messages.idempotencyKey, 'wf-1|appt-1|reminder')),
      ).toHaveLength(1);
    });
  });

  describe('staff_tasks.idempotency_key', () => {
    const task = (over: Partial<typeof staffTasks.$inferInsert> = {}) => ({
      idempotencyKey: 'wf-1|appt-1|escalation',
      clinicId: 'clinic-a',
      clientId,
      workflowId: 'wf-1',
      reason: 'no_response',
      ...over,
    });

    it('rejects a second task with the same key, even for another reason', async () => {
      await database.db.insert(staffTasks).values(task());
      expect(await failure(database.db.insert(staffTasks).values(task({ reason: 'opted_out' })))).toBe(
        UNIQUE_VIOLATION,
      );
    });

    it('lets exactly one of several concurrent escalations win', async () => {
      const attempts = await Promise.all(
        Array.from({ length: 5 }, () =>
          database.db.insert(staffTasks).values(task()).onConflictDoNothing().returning({ id: staffTasks.id }),
        ),
      );
      expect(attempts.filter((a) => a.length === 1)).toHaveLength(1);
      const [n] = await database.db.select({ n: count() }).from(staffTasks);
      expect(n!.n).toBe(1);
    });
  });
});
