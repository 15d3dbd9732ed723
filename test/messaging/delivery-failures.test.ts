/**
 * Delivery failures, HELP and opt-out precedence end to end on the time-skipping server: the real
 * worker and activities, PGlite, the real HTTP app (webhooks signed for real), the real twilio and
 * @sendgrid/mail SDKs with nock at the HTTP layer.
 *
 * A test-only treatment type sends two SMS stages (day 1 aftercare, day 5 offer) so that what a
 * failure on the first one does to the second is visible.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import nock from 'nock';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createConfigStore } from '../../src/config/store.js';
import { clientChannels, clients, consentEvents, staffTasks } from '../../src/db/schema.js';
import { createLogger } from '../../src/log.js';
import { createProviderRegistry } from '../../src/messaging/registry.js';
import { twilioSignature } from '../../src/messaging/twilio/signature.js';
import { buildApp } from '../../src/server/app.js';
import { createSequenceSignals } from '../../src/temporal/sequence-signals.js';
import { demoDue } from '../helpers/clinic-time.js';
import { type Engine, startEngine, TEST_UNSUBSCRIBE_SECRET, treatment } from '../helpers/engine.js';

const SID = 'AC00000000000000000000000000000003';
const TOKEN = 'twilio-auth-token-for-failure-tests';
const MG = 'MG00000000000000000000000000000003';
/** A second clinic on the same Twilio account whose Messaging Service has Advanced Opt-Out. */
const MG_AOO = 'MG00000000000000000000000000000004';
const BASE = 'http://127.0.0.1:3000';
const MINUTE = 60_000;
const TYPE = 'duo_text';
const secrets = {
  TEST_TWILIO_SID: SID,
  TEST_TWILIO_TOKEN: TOKEN,
  TEST_SENDGRID_KEY: 'SG.test-key',
  TEST_SENDGRID_PUBKEY:
    'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==',
  REBOOK_UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
  REBOOK_API_KEY: 'failure-tests-api-key-0123456789',
} as NodeJS.ProcessEnv;

const logLines: string[] = [];
const log = createLogger({ level: 'debug', destination: { write: (s: string) => void logLines.push(s) } });
let e: Engine;
let app: FastifyInstance;
let configDir: string;
const twilioCalls: Record<string, string>[] = [];
/** Phones Twilio refuses at send time with this code. */
const refuse = new Map<string, number>();
const phi: string[] = [];

function client(id: string, phone: string, email: string, firstName: string, lastName: string) {
  phi.push(phone, phone.slice(2), email, firstName, lastName);
  return { clientId: id, appointmentId: `${id}-appt`, phone, email, firstName, lastName, service: 'Duo text test' };
}

beforeAll(async () => {
  configDir = mkdtempSync(join(tmpdir(), 'rebook-msg-failures-'));
  mkdirSync(join(configDir, 'clinics'));
  const catalog = parse(readFileSync('config/catalog.yaml', 'utf8'));
  catalog.treatmentTypes[TYPE] = {
    label: 'skin booster',
    intervalDays: 30,
    stages: [
      { key: 'aftercare', day: 1, channel: 'sms', purpose: 'care' },
      { key: 'offer', day: 5, channel: 'sms', purpose: 'incentive' },
      { key: 'staff_escalation', day: 8, channel: 'staff', purpose: 'escalation' },
    ],
    synonyms: ['duo text test'],
  };
  writeFileSync(join(configDir, 'catalog.yaml'), stringify(catalog));
  const demo = parse(readFileSync('config/clinics/demo-clinic.yaml', 'utf8'));
  demo.providers = {
    twilio: { accountSidEnv: 'TEST_TWILIO_SID', authTokenEnv: 'TEST_TWILIO_TOKEN', messagingServiceSid: MG },
    sendgrid: {
      apiKeyEnv: 'TEST_SENDGRID_KEY',
      from: 'hello@glow.example.com',
      webhookPublicKeyEnv: 'TEST_SENDGRID_PUBKEY',
    },
  };
  demo.templates.care = {
    sms: {
      body: '{{clinicName}}: Hi {{firstName}}, how are you feeling? Minor bruising is normal. Reply STOP to opt out.',
    },
    email: {
      subject: 'How are you feeling, {{firstName}}?',
      body: 'Hi {{firstName}}, minor bruising is normal.\n{{clinicName}}, {{clinicAddress}}\nUnsubscribe: {{unsubscribeUrl}}\n',
    },
  };
  writeFileSync(join(configDir, 'clinics', 'demo-clinic.yaml'), stringify(demo));
  writeFileSync(
    join(configDir, 'clinics', 'aoo-clinic.yaml'),
    stringify({
      id: 'aoo-clinic',
      name: 'Advanced Opt-Out Spa',
      timeZone: 'America/New_York',
      bookingUrl: 'https://book.example.com/aoo',
      address: '9 Elm Street, Springfield, NY 10001',
      publicBaseUrl: BASE,
      providers: {
        twilio: {
          accountSidEnv: 'TEST_TWILIO_SID',
          authTokenEnv: 'TEST_TWILIO_TOKEN',
          messagingServiceSid: MG_AOO,
          advancedOptOut: true,
        },
      },
    }),
  );
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  nock('https://api.twilio.com')
    .persist()
    .post(`/2010-04-01/Accounts/${SID}/Messages.json`)
    .reply((_uri, body) => {
      const form = Object.fromEntries(new URLSearchParams(body as string));
      twilioCalls.push(form);
      const code = refuse.get(form.To!);
      if (code) return [400, { code, message: 'refused', status: 400 }];
      return [201, { sid: `SM${String(twilioCalls.length).padStart(32, '0')}`, status: 'accepted' }];
    });
  nock('https://api.sendgrid.com')
    .persist()
    .post('/v3/mail/send')
    .reply((_uri, _body) => [202, '', { 'X-Message-Id': `sg-${Math.random().toString(36).slice(2)}` }]);
  e = await startEngine({ configDir, secrets, log });
  const config = createConfigStore(configDir);
  app = await buildApp({
    db: e.database.db,
    config,
    ingest: e.ingest,
    log,
    secrets,
    signals: createSequenceSignals(e.client),
    now: () => e.now(),
    clinicProviders: createProviderRegistry(() => config.current(), { secrets, keepAlive: false }),
  });
});

afterAll(async () => {
  await app?.close();
  await e?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
  rmSync(configDir, { recursive: true, force: true });
});

const iso = (ms: number) => new Date(ms).toISOString();
const ledger = async (wf: string) => (await e.messages()).filter((m) => m.workflowId === wf);
const callsTo = (phone: string) => twilioCalls.filter((f) => f.To === phone);

async function twilioPost(path: string, params: Record<string, string>) {
  const body = new URLSearchParams(params).toString();
  return app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(TOKEN, `${BASE}${path}`, params),
    },
    payload: body,
  });
}
const statusCallback = (m: { id: string; providerMessageId: string | null }, status: string, code: string) =>
  twilioPost(`/webhooks/twilio/status?m=${m.id}`, {
    AccountSid: SID,
    MessageSid: m.providerMessageId!,
    MessageStatus: status,
    ErrorCode: code,
  });
const reply = (from: string, text: string, sid: string, extra: Record<string, string> = {}) =>
  twilioPost('/webhooks/twilio/inbound', {
    AccountSid: SID,
    MessageSid: sid,
    From: from,
    To: '+12125550100',
    Body: text,
    MessagingServiceSid: MG,
    ...extra,
  });

async function enroll(c: ReturnType<typeof client>, consent = { sms: true, email: true }) {
  const t0 = e.now();
  await e.send(treatment({ ...c, consent, completedAt: iso(t0) }));
  return { t0, wf: await e.workflowIdFor(c.clientId, TYPE), uuid: await e.clientUuid(c.clientId) };
}
async function smsState(uuid: string) {
  const [row] = await e.database.db
    .select()
    .from(clientChannels)
    .where(and(eq(clientChannels.clientId, uuid), eq(clientChannels.channel, 'sms')));
  return row;
}

describe('delivery errors reported by the status callback', () => {
  it.each([
    ['30003', 'unreachable', '+12125550181'],
    ['30005', 'unknown destination', '+12125550182'],
    ['30006', 'landline or unreachable carrier', '+12125550183'],
  ])(
    '%s (%s) marks the number undeliverable: the later SMS stage goes by email, Twilio is not called again',
    async (code, _label, phone) => {
      const c = client(`unreach-${code}`, phone, `una.${code}@example.com`, `Una${code.slice(-1)}`, 'Reachwell');
      const { t0, wf, uuid } = await enroll(c);
      await e.sleepUntil(demoDue(t0, 1) + MINUTE);
      const [care] = await ledger(wf);
      expect(care).toMatchObject({
        stage: 'aftercare',
        channel: 'sms',
        status: 'accepted',
        provider: 'twilio',
        recipient: c.phone,
      });
      expect((await statusCallback(care!, 'undelivered', code)).statusCode).toBe(204);
      expect((await ledger(wf))[0]).toMatchObject({ status: 'undelivered', errorCode: code });
      expect(await smsState(uuid)).toMatchObject({ undeliverableCode: code, optedOutAt: null });

      await e.sleepUntil(demoDue(t0, 5) + MINUTE);
      expect((await ledger(wf)).map((m) => [m.stage, m.channel, m.status])).toEqual([
        ['aftercare', 'sms', 'undelivered'],
        ['offer', 'email', 'accepted'],
      ]);
      expect(callsTo(c.phone)).toHaveLength(1);
      // The undelivered touch is not a reason for a staff task of its own.
      expect((await e.tasks()).filter((t) => t.clientId === uuid)).toEqual([]);
    },
  );

  it('30007 (carrier filtered) makes one staff task and is not retried; the number stays usable', async () => {
    const c = client('filtered-1', '+12125550184', 'fern.filtrova@example.com', 'Fern', 'Filtrova');
    const { t0, wf, uuid } = await enroll(c);
    await e.sleepUntil(demoDue(t0, 1) + MINUTE);
    const [care] = await ledger(wf);
    expect(care).toMatchObject({ stage: 'aftercare', channel: 'sms', status: 'accepted' });
    // Twilio redelivers callbacks: still one task.
    expect((await statusCallback(care!, 'failed', '30007')).statusCode).toBe(204);
    expect((await statusCallback(care!, 'failed', '30007')).statusCode).toBe(204);
    const tasks = (await e.tasks()).filter((t) => t.clientId === uuid);
    expect(tasks.map((t) => [t.reason, t.status, t.messageId, t.workflowId])).toEqual([
      ['sms_filtered', 'open', care!.id, wf],
    ]);
    expect(tasks[0]!.details).toMatchObject({ stage: 'aftercare', errorCode: '30007' });
    expect(await smsState(uuid)).toBeUndefined();

    await e.sleep('1h');
    // No automatic retry of the filtered stage, on either channel.
    expect(
      (await ledger(wf)).filter((m) => m.stage === 'aftercare').map((m) => [m.channel, m.status, m.errorCode]),
    ).toEqual([['sms', 'failed', '30007']]);
    await e.sleepUntil(demoDue(t0, 5) + MINUTE);
    expect(
      (await ledger(wf)).filter((m) => m.channel === 'sms' || m.channel === 'email').map((m) => [m.stage, m.channel]),
    ).toEqual([
      ['aftercare', 'sms'],
      ['offer', 'sms'],
    ]);
    expect(callsTo(c.phone).map((f) => f.Body!.includes('bruising'))).toEqual([true, false]);
  });
});

describe('21610 at send time (the recipient replied STOP to Twilio before)', () => {
  it('records the SMS opt-out with its source, does not retry, and the stage falls back to email', async () => {
    const c = client('stopped-1', '+12125550185', 'sol.stoppard@example.com', 'Sol', 'Stoppard');
    refuse.set(c.phone, 21610);
    const { t0, wf, uuid } = await enroll(c);
    await e.sleepUntil(demoDue(t0, 1) + MINUTE);
    const day1 = await ledger(wf);
    expect(day1.map((m) => [m.stage, m.channel, m.status, m.errorCode])).toEqual([
      ['aftercare', 'sms', 'rejected', '21610'],
      ['aftercare', 'email', 'accepted', null],
    ]);
    expect(callsTo(c.phone)).toHaveLength(1);
    expect(await smsState(uuid)).toMatchObject({ optOutSource: 'provider', undeliverableAt: null });
    const events = await e.database.db
      .select()
      .from(consentEvents)
      .where(and(eq(consentEvents.clientId, uuid), eq(consentEvents.channel, 'sms')))
      .orderBy(asc(consentEvents.id));
    expect(events.filter((x) => x.action === 'revoked').map((x) => [x.source, x.ref])).toEqual([
      ['provider', day1[0]!.id],
    ]);

    await e.sleepUntil(demoDue(t0, 5) + MINUTE);
    expect((await ledger(wf)).filter((m) => m.stage === 'offer').map((m) => [m.channel, m.status])).toEqual([
      ['email', 'accepted'],
    ]);
    expect(callsTo(c.phone)).toHaveLength(1);
  });
});

describe('HELP: one answer, never two', () => {
  const twiml = (message?: string) =>
    `<?xml version="1.0" encoding="UTF-8"?><Response>${message ? `<Message>${message}</Message>` : ''}</Response>`;
  const HELP =
    'Glow Aesthetics (demo): treatment reminders, up to 2 msgs/month. For help call +12125550100. Msg &amp; data rates may apply. Reply STOP to opt out.';

  it('without Advanced Opt-Out we answer HELP with the help text, once per inbound message, by TwiML only', async () => {
    const before = twilioCalls.length;
    const first = await reply('+12125550186', 'HELP', 'SMhelp-1');
    expect(first.statusCode).toBe(200);
    expect(first.body).toBe(twiml(HELP));
    // Twilio redelivers the same message: it was answered already.
    expect((await reply('+12125550186', 'HELP', 'SMhelp-1')).body).toBe(twiml());
    expect((await reply('+12125550186', ' info ', 'SMhelp-2')).body).toBe(twiml(HELP));
    expect(twilioCalls.length).toBe(before);
  });

  it('a genuine post with a repeated parameter name is accepted (Twilio signs every value); one signed over the last value is 401', async () => {
    const path = '/webhooks/twilio/inbound';
    const fields: [string, string][] = [
      ['AccountSid', SID],
      ['MessageSid', 'SMhelp-multi'],
      ['From', '+12125550186'],
      ['To', '+12125550100'],
      ['Body', 'HELP'],
      ['MessagingServiceSid', MG],
      ['Tag', 'b'],
      ['Tag', 'a'],
    ];
    const payload = new URLSearchParams(fields).toString();
    const post = (signed: Record<string, string | string[]>) =>
      app.inject({
        method: 'POST',
        url: path,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, `${BASE}${path}`, signed),
        },
        payload,
      });
    const base = Object.fromEntries(fields.filter(([k]) => k !== 'Tag'));
    expect((await post({ ...base, Tag: 'a' })).statusCode).toBe(401);
    const genuine = await post({ ...base, Tag: ['b', 'a'] });
    expect(genuine.statusCode).toBe(200);
    expect(genuine.body).toBe(twiml(HELP));
  });

  it('when Twilio says it matched HELP itself (OptOutType), we stay silent even if the clinic forgot to say so', async () => {
    expect((await reply('+12125550186', 'HELP', 'SMhelp-3', { OptOutType: 'HELP' })).body).toBe(twiml());
  });

  it('a clinic whose Messaging Service has Advanced Opt-Out gets no answer from us', async () => {
    const before = twilioCalls.length;
    for (const [sid, extra] of [
      ['SMaoo-1', { OptOutType: 'HELP' }],
      ['SMaoo-2', {}],
    ] as const) {
      const res = await reply('+12125550187', 'HELP', sid, { MessagingServiceSid: MG_AOO, ...extra });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(twiml());
    }
    expect(twilioCalls.length).toBe(before);
  });
});

describe('opt-out precedence', () => {
  it('a booking-platform flag that says yes after a STOP sends no SMS; the flag change is a consent event', async () => {
    const c = client('flag-1', '+12125550188', 'flo.flagstad@example.com', 'Flo', 'Flagstad');
    const { t0, wf, uuid } = await enroll(c, { sms: false, email: true });
    expect((await reply(c.phone, 'STOP', 'SMflag-stop')).statusCode).toBe(200);
    const flagAt = iso(e.now() + MINUTE);
    expect(
      await e.send({ type: 'client.updated', occurredAt: flagAt, client: { id: c.clientId, consent: { sms: true } } }),
    ).toMatchObject([{ status: 'accepted', clientsUpdated: 1 }]);
    const [row] = await e.database.db
      .select({ consentSms: clients.consentSms })
      .from(clients)
      .where(eq(clients.id, uuid));
    expect(row!.consentSms).toBe(true);

    await e.sleepUntil(demoDue(t0, 5) + MINUTE);
    expect((await ledger(wf)).map((m) => [m.stage, m.channel])).toEqual([
      ['aftercare', 'email'],
      ['offer', 'email'],
    ]);
    expect(callsTo(c.phone)).toEqual([]);
    expect(await smsState(uuid)).toMatchObject({ optOutSource: 'reply' });
    const events = await e.database.db
      .select()
      .from(consentEvents)
      .where(eq(consentEvents.clientId, uuid))
      .orderBy(asc(consentEvents.id));
    expect(events.map((x) => [x.channel, x.action, x.source])).toEqual([
      ['email', 'granted', 'platform'],
      ['sms', 'revoked', 'reply'],
      ['sms', 'granted', 'platform'],
    ]);
    expect(events[2]!.occurredAt.toISOString()).toBe(flagAt);
  });

  it('no log line written during this file names any client', async () => {
    expect(logLines.length).toBeGreaterThan(20);
    const all = logLines.join('\n');
    for (const value of phi) expect(all).not.toContain(value);
    expect((await e.database.db.select().from(staffTasks)).length).toBeGreaterThan(0);
  });
});
