/**
 * Frequency caps are enforced atomically per client: several sequences of one client delivering
 * at the same instant (separate connections on PostgreSQL) cannot all slip past a cap. Runs on
 * PGlite and, when TEST_DATABASE_URL is set, on a real PostgreSQL server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDelivery } from '../../src/activities/deliver.js';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { clients, messages } from '../../src/db/schema.js';
import { createLogger } from '../../src/log.js';
import type { MessageProvider } from '../../src/messaging/types.js';
import { engines, type ScratchDatabase } from './engines.js';

const config = createConfigStore('config');
const log = createLogger({ level: 'silent' });
// Tuesday 2026-06-09 15:00 UTC = 11:00 in New York: inside the demo clinic's send window.
const NOW = Date.parse('2026-06-09T15:00:00Z');
const DAY = 86_400_000;
const TYPES = [
  'neuromodulator',
  'lip_filler',
  'cheek_filler',
  'kybella',
  'sculptra',
  'hydrafacial',
  'laser',
  'microneedling',
];

describe.each(engines)('caps under concurrency on $name', (engine) => {
  let scratch: ScratchDatabase;
  let database: Database;
  beforeEach(async () => {
    scratch = await engine.create();
    database = await openDatabase(scratch.options);
  });
  afterEach(async () => {
    await database?.close();
    await scratch?.drop();
  });

  it('eight sequences of one client due at the same instant: exactly one message goes out, the rest wait for the cap', async () => {
    let sends = 0;
    const counting: MessageProvider = {
      name: 'counting',
      async send(m) {
        sends++;
        // Widen the race: the provider call happens while the other reservations are attempted.
        await new Promise((r) => setTimeout(r, 20));
        return { status: 'accepted', providerMessageId: `p-${m.messageId}` };
      },
    };
    const { deliverStage } = createDelivery({
      db: database.db,
      config,
      providers: { sms: counting, email: counting },
      unsubscribeSecret: 'secret',
      log,
    });
    for (let round = 0; round < 5; round++) {
      const [client] = await database.db
        .insert(clients)
        .values({
          clinicId: 'demo-clinic',
          externalId: `race-${round}`,
          firstName: 'Rae',
          lastName: 'Concurrent',
          email: `race${round}@example.com`,
          phone: '+12125550190',
          consentSms: true,
          consentEmail: true,
        })
        .returning();
      const before = sends;
      const results = await Promise.all(
        TYPES.map((type, i) =>
          deliverStage({
            ref: {
              workflowId: `rebook/demo-clinic/${client!.id}/${type}`,
              clinicId: 'demo-clinic',
              clientId: client!.id,
              treatmentType: type,
              runKey: `appt-${round}-${i}`,
            },
            // Alternate channels: the all-channel 1-per-day rule binds both.
            stage: {
              key: 'reminder',
              day: 80,
              channel: i % 2 ? 'sms' : 'email',
              purpose: i % 2 ? 'reactivation' : 'reminder',
              dueAt: new Date(NOW).toISOString(),
            },
            now: new Date(NOW).toISOString(),
            anchorAt: new Date(NOW - 80 * DAY).toISOString(),
            expiresAt: new Date(NOW + 10 * DAY).toISOString(),
            offerExpiresAt: new Date(NOW + 40 * DAY).toISOString(),
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'sent')).toHaveLength(1);
      const deferred = results.filter((r) => r.status === 'deferred');
      expect(deferred).toHaveLength(TYPES.length - 1);
      for (const d of deferred)
        expect(d).toEqual({ status: 'deferred', until: new Date(NOW + DAY).toISOString(), reason: 'capped' });
      expect(sends - before).toBe(1);
      const rows = (await database.db.select().from(messages)).filter((m) => m.clientId === client!.id);
      expect(rows).toHaveLength(1);
    }
  });

  it('a stage whose cap clears only after the next stage is due is suppressed as capped', async () => {
    const ok: MessageProvider = {
      name: 'ok',
      send: async (m) => ({ status: 'accepted', providerMessageId: `p-${m.messageId}` }),
    };
    const { deliverStage } = createDelivery({
      db: database.db,
      config,
      providers: { sms: ok, email: ok },
      unsubscribeSecret: 'secret',
      log,
    });
    const [client] = await database.db
      .insert(clients)
      .values({
        clinicId: 'demo-clinic',
        externalId: 'cap-exp',
        firstName: 'Cy',
        lastName: 'Capped',
        email: 'cy@example.com',
        consentEmail: true,
      })
      .returning();
    const input = (type: string, at: number, expires: number) => ({
      ref: {
        workflowId: `wf-${type}`,
        clinicId: 'demo-clinic',
        clientId: client!.id,
        treatmentType: type,
        runKey: `a-${type}`,
      },
      stage: {
        key: 'reminder',
        day: 80,
        channel: 'email' as const,
        purpose: 'reminder' as const,
        dueAt: new Date(at).toISOString(),
      },
      now: new Date(at).toISOString(),
      anchorAt: new Date(at - 80 * DAY).toISOString(),
      expiresAt: new Date(expires).toISOString(),
      offerExpiresAt: new Date(at + 40 * DAY).toISOString(),
    });
    expect(await deliverStage(input('neuromodulator', NOW, NOW + 10 * DAY))).toMatchObject({ status: 'sent' });
    expect(await deliverStage(input('lip_filler', NOW + DAY, NOW + 10 * DAY))).toMatchObject({ status: 'sent' });
    // A third email within 30 days: allowed again on day 30, but this stage expires on day 20.
    expect(await deliverStage(input('kybella', NOW + 2 * DAY, NOW + 20 * DAY))).toEqual({
      status: 'suppressed',
      reason: 'capped',
    });
    expect(await deliverStage(input('sculptra', NOW + 2 * DAY, NOW + 40 * DAY))).toEqual({
      status: 'deferred',
      until: new Date(NOW + 30 * DAY).toISOString(),
      reason: 'capped',
    });
  });
});
