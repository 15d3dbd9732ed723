/**
 * The ledger's one crash window, on the time-skipping server: the provider accepted the SMS and
 * the worker died before the ledger recorded it. The retried activity must not send again (at
 * most once); the row says `unconfirmed` and the sequence carries on.
 */
import nock from 'nock';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTwilioProvider } from '../../src/messaging/twilio/index.js';
import type { MessageProvider } from '../../src/messaging/types.js';
import { statusQuery } from '../../workflows/definitions.js';
import { demoDue } from '../helpers/clinic-time.js';
import { type Engine, startEngine, treatment } from '../helpers/engine.js';

const SID = 'AC00000000000000000000000000000002';
const MINUTE = 60_000;
let e: Engine;
let creates = 0;
let crashes = 0;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  nock('https://api.twilio.com')
    .persist()
    .post(`/2010-04-01/Accounts/${SID}/Messages.json`)
    .reply(() => [201, { sid: `SM${String(++creates).padStart(32, '0')}`, status: 'accepted' }]);
  const twilio = createTwilioProvider({
    accountSid: SID,
    authToken: 't',
    messagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
    keepAlive: false,
  });
  // The real provider sends; then, once, the worker "dies" before the ledger update. Only the
  // incentive SMS crashes: the day-1 care check-in SMS (issue 11) goes out normally before it.
  const crashingAfterSend: MessageProvider = {
    name: 'twilio',
    async send(m) {
      const receipt = await twilio.send(m);
      if (m.categories?.includes('incentive') && crashes++ === 0) {
        throw new Error('worker lost between provider call and ledger update');
      }
      return receipt;
    },
  };
  e = await startEngine({ providers: { sms: crashingAfterSend } });
});

afterAll(async () => {
  await e?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

it('a crash between the provider call and the ledger update does not resend', async () => {
  const t0 = e.now();
  await e.send(
    treatment({
      clientId: 'crash-1',
      appointmentId: 'crash-1-appt',
      completedAt: new Date(t0).toISOString(),
      phone: '+12125550180',
    }),
  );
  const wf = await e.workflowIdFor('crash-1');
  await e.sleepUntil(demoDue(t0, 90) + 10 * MINUTE);
  // Two SMS reached Twilio: the care check-in and the incentive, the latter only once.
  expect(crashes).toBe(1);
  expect(creates).toBe(2);
  const care = (await e.messages()).filter((m) => m.workflowId === wf && m.stage === 'care_checkin');
  expect(care.map((m) => [m.channel, m.status])).toEqual([['sms', 'accepted']]);
  const incentive = (await e.messages()).filter((m) => m.workflowId === wf && m.stage === 'incentive');
  expect(incentive.map((m) => [m.channel, m.status])).toEqual([['sms', 'unconfirmed']]);
  // The sequence went on: the check-in is sent on day 95, still no second SMS.
  await e.sleepUntil(demoDue(t0, 95) + MINUTE);
  expect((await e.messages()).filter((m) => m.workflowId === wf).map((m) => m.stage)).toEqual([
    'care_checkin',
    'care_results',
    'reminder',
    'incentive',
    'results_checkin',
  ]);
  expect(creates).toBe(2);
  const history = (await e.client.workflow.getHandle(wf).query(statusQuery)).history.map((h) => [h.stage, h.event]);
  expect(history).toContainEqual(['incentive', 'sent']);
});
