/**
 * What ingest does with a client's phone and consent flags (time-skipping server, PGlite, the real
 * ingest and HTTP app): phones stored as E.164 with the clinic's default country, invalid ones
 * kept as given and never sent to, platform/import consent changes recorded as consent events.
 */
import { and, asc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { clientChannels, clients, consentEvents } from '../../src/db/schema.js';
import { createLogger } from '../../src/log.js';
import type { MessageProvider, OutboundMessage } from '../../src/messaging/types.js';
import { buildApp } from '../../src/server/app.js';
import { demoDue } from '../helpers/clinic-time.js';
import { CLINIC_ID, type Engine, startEngine, treatment } from '../helpers/engine.js';

const MINUTE = 60_000;
const API_KEY = 'contact-ingest-api-key-0123456789';
let e: Engine;
let app: FastifyInstance;
const smsSent: OutboundMessage[] = [];
const sms: MessageProvider = {
  name: 'recording-sms',
  async send(m) {
    smsSent.push(m);
    return { status: 'accepted', providerMessageId: `rec-${smsSent.length}` };
  },
};

beforeAll(async () => {
  e = await startEngine({ providers: { sms } });
  const log = createLogger({ level: 'silent' });
  app = await buildApp({
    db: e.database.db,
    config: createConfigStore('config'),
    ingest: e.ingest,
    log,
    secrets: { REBOOK_API_KEY: API_KEY } as NodeJS.ProcessEnv,
    now: () => e.now(),
  });
});

afterAll(async () => {
  await app?.close();
  await e?.stop();
});

const iso = (ms: number) => new Date(ms).toISOString();
async function row(externalId: string) {
  const [c] = await e.database.db
    .select()
    .from(clients)
    .where(and(eq(clients.clinicId, CLINIC_ID), eq(clients.externalId, externalId)));
  return c!;
}
async function smsState(externalId: string) {
  const [s] = await e.database.db
    .select()
    .from(clientChannels)
    .where(and(eq(clientChannels.clientId, (await row(externalId)).id), eq(clientChannels.channel, 'sms')));
  return s;
}
async function consent(externalId: string) {
  const rows = await e.database.db
    .select()
    .from(consentEvents)
    .where(eq(consentEvents.clientId, (await row(externalId)).id))
    .orderBy(asc(consentEvents.id));
  return rows.map((r) => [r.channel, r.action, r.source, r.ref, r.occurredAt.toISOString()]);
}

describe('phones at ingest', () => {
  it.each([
    ['(212) 555-0191', '+12125550191'],
    ['212.555.0192', '+12125550192'],
    ['1-212-555-0193', '+12125550193'],
    ['+1 212 555 0194', '+12125550194'],
  ])('%s is stored as %s (clinic default country US)', async (given, e164) => {
    const id = `e164-${e164}`;
    await e.send(treatment({ clientId: id, appointmentId: `${id}-a`, phone: given, completedAt: iso(e.now()) }));
    expect(await row(id)).toMatchObject({ phone: e164, phoneE164: e164 });
    expect(await smsState(id)).toBeUndefined();
  });

  it('an invalid number is stored as given, flagged undeliverable for SMS, and never reaches the SMS provider', async () => {
    const t0 = e.now();
    await e.send(
      treatment({ clientId: 'bad-phone', appointmentId: 'bad-phone-a', phone: '555-0123', completedAt: iso(t0) }),
    );
    expect(await row('bad-phone')).toMatchObject({ phone: '555-0123', phoneE164: null });
    expect(await smsState('bad-phone')).toMatchObject({ undeliverableCode: 'invalid_number', optedOutAt: null });
    // A known landline keeps its E.164 form and is flagged too.
    await e.send(
      treatment({
        clientId: 'toll-free',
        appointmentId: 'toll-free-a',
        phone: '1 (800) 555-0199',
        completedAt: iso(t0),
      }),
    );
    expect(await row('toll-free')).toMatchObject({ phone: '+18005550199', phoneE164: '+18005550199' });
    expect(await smsState('toll-free')).toMatchObject({ undeliverableCode: 'not_mobile' });

    await e.sleepUntil(demoDue(t0, 90) + MINUTE);
    const wf = await e.workflowIdFor('bad-phone');
    // The day-1 care check-in (an SMS stage, issue 11) falls back to email like the incentive does.
    expect((await e.messages()).filter((m) => m.workflowId === wf).map((m) => [m.stage, m.channel])).toEqual([
      ['care_checkin', 'email'],
      ['care_results', 'email'],
      ['reminder', 'email'],
      ['incentive', 'email'],
    ]);
    expect(smsSent.filter((m) => m.to === '555-0123' || m.to.endsWith('5550123'))).toEqual([]);
    expect(smsSent.filter((m) => m.to === '+18005550199')).toEqual([]);
  });

  it('a corrected number clears the mark: the next SMS goes to its E.164 form', async () => {
    const t0 = e.now();
    await e.send(
      treatment({ clientId: 'fixed-phone', appointmentId: 'fixed-phone-a', phone: '12345', completedAt: iso(t0) }),
    );
    expect(await smsState('fixed-phone')).toMatchObject({ undeliverableCode: 'invalid_number' });
    // The same bad number again changes nothing; a different bad one keeps it flagged.
    await e.send({
      type: 'client.updated',
      occurredAt: iso(t0 + MINUTE),
      client: { id: 'fixed-phone', phone: '12345' },
    });
    expect(await smsState('fixed-phone')).toMatchObject({ undeliverableCode: 'invalid_number' });
    await e.send({
      type: 'client.updated',
      occurredAt: iso(t0 + 2 * MINUTE),
      client: { id: 'fixed-phone', phone: '(212) 555-0195' },
    });
    expect(await row('fixed-phone')).toMatchObject({ phone: '+12125550195', phoneE164: '+12125550195' });
    expect(await smsState('fixed-phone')).toMatchObject({ undeliverableAt: null, undeliverableCode: null });

    await e.sleepUntil(demoDue(t0, 90) + MINUTE);
    const wf = await e.workflowIdFor('fixed-phone');
    // Both SMS stages (the day-1 care check-in, issue 11, and the incentive) go to the corrected number, once each.
    const sms = (await e.messages()).filter((m) => m.workflowId === wf && m.channel === 'sms');
    expect(sms.map((m) => [m.stage, m.recipient])).toEqual([
      ['care_checkin', '+12125550195'],
      ['incentive', '+12125550195'],
    ]);
    expect(smsSent.filter((m) => m.to === '+12125550195')).toHaveLength(2);
  });

  it('a carrier-level mark concerns the number: a new number clears it, the same number keeps it', async () => {
    await e.send({
      type: 'client.updated',
      createIfMissing: true,
      occurredAt: iso(e.now()),
      client: { id: 'carrier', firstName: 'Cara', phone: '+12125550196', consent: { sms: true } },
    });
    const { id } = await row('carrier');
    await e.database.db
      .insert(clientChannels)
      .values({ clientId: id, channel: 'sms', undeliverableAt: new Date(e.now()), undeliverableCode: '30003' });
    await e.send({
      type: 'client.updated',
      occurredAt: iso(e.now() + MINUTE),
      client: { id: 'carrier', phone: '(212) 555-0196' },
    });
    expect(await smsState('carrier')).toMatchObject({ undeliverableCode: '30003' });
    await e.send({
      type: 'client.updated',
      occurredAt: iso(e.now() + 2 * MINUTE),
      client: { id: 'carrier', phone: '(212) 555-0197' },
    });
    expect(await smsState('carrier')).toMatchObject({ undeliverableAt: null, undeliverableCode: null });
    expect(await row('carrier')).toMatchObject({ phone: '+12125550197', phoneE164: '+12125550197' });
  });
});

describe('consent flags from the platform and imports', () => {
  it('are consent events with source and the platform’s time, written only when they change', async () => {
    const t0 = e.now();
    const at = (min: number) => iso(t0 + min * MINUTE);
    await e.send({
      ...treatment({
        clientId: 'flags',
        appointmentId: 'flags-a',
        completedAt: at(0),
        consent: { sms: false, email: true },
      }),
      occurredAt: at(1),
    });
    expect(await consent('flags')).toEqual([['email', 'granted', 'platform', 'api', at(1)]]);
    // Same flags again: nothing new. Then SMS yes, email no.
    await e.send({
      type: 'client.updated',
      occurredAt: at(2),
      client: { id: 'flags', consent: { sms: false, email: true } },
    });
    await e.send({
      type: 'client.updated',
      occurredAt: at(3),
      client: { id: 'flags', consent: { sms: true, email: false } },
    });
    // An update older than the one applied changes nothing, consent included.
    await e.send({ type: 'client.updated', occurredAt: at(2.5), client: { id: 'flags', consent: { sms: false } } });
    expect(await consent('flags')).toEqual([
      ['email', 'granted', 'platform', 'api', at(1)],
      ['sms', 'granted', 'platform', 'api', at(3)],
      ['email', 'revoked', 'platform', 'api', at(3)],
    ]);
    expect(await row('flags')).toMatchObject({ consentSms: true, consentEmail: false });
  });

  it('an import (rebook import marks its batches) records source import', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/v1/clinics/${CLINIC_ID}/events`,
      headers: { authorization: `Bearer ${API_KEY}`, 'x-rebook-source': 'import' },
      payload: {
        events: [
          treatment({
            clientId: 'imported',
            appointmentId: 'imported-a',
            completedAt: iso(e.now()),
            consent: { sms: true, email: true },
          }),
        ],
      },
    });
    expect(res.statusCode).toBe(202);
    expect((await consent('imported')).map((c) => c.slice(0, 4))).toEqual([
      ['sms', 'granted', 'import', 'import'],
      ['email', 'granted', 'import', 'import'],
    ]);
  });
});
