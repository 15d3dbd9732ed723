/**
 * The real twilio and @sendgrid/mail SDKs against nock at the HTTP layer: what we send, what we
 * make of each answer. No request leaves the machine (nock.disableNetConnect).
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSendgridProvider, MESSAGE_ID_ARG } from '../../src/messaging/sendgrid/index.js';
import { createTwilioProvider } from '../../src/messaging/twilio/index.js';
import { ProviderError } from '../../src/messaging/types.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const MG = 'MG0123456789abcdef0123456789abcdef';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(() => {
  nock.enableNetConnect();
});

const twilioProvider = (over: Partial<Parameters<typeof createTwilioProvider>[0]> = {}) =>
  createTwilioProvider({
    accountSid: SID,
    authToken: 'token-1',
    messagingServiceSid: MG,
    statusCallbackUrl: 'https://rebook.example.com/webhooks/twilio/status',
    keepAlive: false,
    ...over,
  });

const message = {
  messageId: '0b9f6a52-1f0e-4c55-9d5a-2c7d1b0e8a11',
  clinicId: 'demo-clinic',
  channel: 'sms' as const,
  to: '+12125550123',
  body: 'Glow: time for your next visit? Reply STOP to opt out.',
};

describe('twilio', () => {
  it('creates the message through the Messaging Service with our status callback', async () => {
    let form: URLSearchParams | undefined;
    let auth: string | undefined;
    nock('https://api.twilio.com')
      .post(`/2010-04-01/Accounts/${SID}/Messages.json`, (body) => {
        form = new URLSearchParams(body as unknown as string);
        return true;
      })
      .reply(function () {
        auth = this.req.headers.authorization as string;
        return [201, { sid: 'SM0000000000000000000000000000001', status: 'accepted', error_code: null }];
      });
    const receipt = await twilioProvider().send(message);
    expect(receipt).toEqual({ status: 'accepted', providerMessageId: 'SM0000000000000000000000000000001' });
    expect(Object.fromEntries(form!)).toEqual({
      To: '+12125550123',
      Body: message.body,
      MessagingServiceSid: MG,
      StatusCallback: `https://rebook.example.com/webhooks/twilio/status?m=${message.messageId}`,
    });
    expect(auth).toBe(`Basic ${Buffer.from(`${SID}:token-1`).toString('base64')}`);
  });

  it('uses a From number when the clinic has no Messaging Service', async () => {
    let form: URLSearchParams | undefined;
    nock('https://api.twilio.com')
      .post(`/2010-04-01/Accounts/${SID}/Messages.json`, (body) => {
        form = new URLSearchParams(body as unknown as string);
        return true;
      })
      .reply(201, { sid: 'SM2', status: 'queued' });
    expect(await twilioProvider({ messagingServiceSid: undefined, from: '+12125550100' }).send(message)).toEqual({
      status: 'queued',
      providerMessageId: 'SM2',
    });
    expect(form!.get('From')).toBe('+12125550100');
    expect(form!.has('MessagingServiceSid')).toBe(false);
  });

  it.each([
    [400, 21211, 'undeliverable'],
    [400, 21614, 'undeliverable'],
    [400, 21635, 'undeliverable'],
    [400, 21610, 'opted_out'],
    [429, 20429, 'retryable'],
    [500, 20500, 'retryable'],
    [503, undefined, 'retryable'],
    [400, 21408, 'rejected'], // permission to send to this region not enabled
    [401, 20003, 'rejected'],
  ])('HTTP %s with code %s → %s, and the message names no recipient', async (status, code, failure) => {
    nock('https://api.twilio.com')
      .post(`/2010-04-01/Accounts/${SID}/Messages.json`)
      .reply(
        status,
        code
          ? {
              code,
              message: `The 'To' number +12125550123 is not valid.`,
              more_info: `https://www.twilio.com/docs/errors/${code}`,
              status,
            }
          : 'Service Unavailable',
      );
    const err = await twilioProvider()
      .send(message)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ failure, code: String(code ?? status) });
    expect((err as Error).message).not.toContain('555');
  });

  it('a request Twilio does not answer in time may have been sent: unknown, not retryable', async () => {
    nock('https://api.twilio.com')
      .post(`/2010-04-01/Accounts/${SID}/Messages.json`)
      .delay(3_000)
      .reply(201, { sid: 'SM-late', status: 'queued' });
    const err = await twilioProvider({ timeoutMs: 300 })
      .send(message)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).failure).toBe('unknown');
  });

  it('a connection refused before the request left is retryable', async () => {
    nock('https://api.twilio.com')
      .post(`/2010-04-01/Accounts/${SID}/Messages.json`)
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    await expect(twilioProvider({ timeoutMs: 2_000 }).send(message)).rejects.toMatchObject({
      failure: 'retryable',
      code: 'ECONNREFUSED',
    });
  });
});

describe('sendgrid', () => {
  const provider = (over: Partial<Parameters<typeof createSendgridProvider>[0]> = {}) =>
    createSendgridProvider({
      apiKey: 'SG.test-key',
      from: 'hello@glow.example.com',
      fromName: 'Glow Aesthetics',
      ...over,
    });
  const email = {
    ...message,
    channel: 'email' as const,
    to: 'avery@example.com',
    subject: 'Your window is opening',
    body: 'Hi Avery, …',
    unsubscribeUrl: 'https://rebook.example.com/unsubscribe/tok123',
    categories: ['rebook', 'demo-clinic', 'reminder'],
  };

  it('sends our id in custom_args, categories and one-click unsubscribe headers', async () => {
    let payload: any;
    let auth: string | undefined;
    nock('https://api.sendgrid.com')
      .post('/v3/mail/send', (body) => {
        payload = body;
        return true;
      })
      .reply(function () {
        auth = this.req.headers.authorization as string;
        return [202, '', { 'X-Message-Id': 'sg-abc123' }];
      });
    expect(await provider({ unsubscribeGroupId: 4242 }).send(email)).toEqual({
      status: 'accepted',
      providerMessageId: 'sg-abc123',
    });
    expect(auth).toBe('Bearer SG.test-key');
    expect(payload).toMatchObject({
      from: { email: 'hello@glow.example.com', name: 'Glow Aesthetics' },
      subject: 'Your window is opening',
      personalizations: [{ to: [{ email: 'avery@example.com' }] }],
      content: [{ type: 'text/plain', value: 'Hi Avery, …' }],
      custom_args: { [MESSAGE_ID_ARG]: message.messageId },
      categories: ['rebook', 'demo-clinic', 'reminder'],
      headers: {
        'List-Unsubscribe': '<https://rebook.example.com/unsubscribe/tok123>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      asm: { group_id: 4242 },
    });
    expect(payload.mail_settings).toBeUndefined();
  });

  it('a dynamic template: template_id and the tokens as dynamic_template_data, no subject or content of ours', async () => {
    let payload: any;
    nock('https://api.sendgrid.com')
      .post('/v3/mail/send', (body) => {
        payload = body;
        return true;
      })
      .reply(202, '', { 'X-Message-Id': 'sg-tpl-1' });
    const data = {
      firstName: 'Avery',
      clinicName: 'Glow Aesthetics',
      treatmentLabel: 'treatment',
      bookingUrl: 'https://book.example.com/glow',
      unsubscribeUrl: 'https://rebook.example.com/unsubscribe/tok123',
      clinicAddress: '1 Main St',
    };
    const templated = {
      ...email,
      subject: undefined,
      body: '',
      template: { id: 'd-0123456789abcdef0123456789abcdef', data },
    };
    expect(await provider({ unsubscribeGroupId: 4242 }).send(templated)).toEqual({
      status: 'accepted',
      providerMessageId: 'sg-tpl-1',
    });
    expect(payload).toEqual({
      from: { email: 'hello@glow.example.com', name: 'Glow Aesthetics' },
      template_id: 'd-0123456789abcdef0123456789abcdef',
      personalizations: [{ to: [{ email: 'avery@example.com' }], dynamic_template_data: data }],
      custom_args: { [MESSAGE_ID_ARG]: message.messageId },
      categories: ['rebook', 'demo-clinic', 'reminder'],
      headers: {
        'List-Unsubscribe': '<https://rebook.example.com/unsubscribe/tok123>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      asm: { group_id: 4242 },
    });
  });

  it('sandbox mode is passed through', async () => {
    let payload: any;
    nock('https://api.sendgrid.com')
      .post('/v3/mail/send', (body) => {
        payload = body;
        return true;
      })
      .reply(202, '', { 'X-Message-Id': 'sg-2' });
    await provider({ sandbox: true }).send(email);
    expect(payload.mail_settings).toEqual({ sandbox_mode: { enable: true } });
  });

  it.each([
    [429, 'retryable'],
    [500, 'retryable'],
    [400, 'rejected'],
    [401, 'rejected'],
    [413, 'rejected'],
  ])('HTTP %s → %s', async (status, failure) => {
    nock('https://api.sendgrid.com')
      .post('/v3/mail/send')
      .reply(status, {
        errors: [{ message: 'The to email avery@example.com is invalid', field: 'personalizations.0.to' }],
      });
    const err = await provider()
      .send(email)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ failure, code: String(status) });
    expect((err as Error).message).not.toContain('avery');
  });
  it('an unanswered request ends at the timeout as an unknown outcome (it held the activity slot for good)', async () => {
    nock('https://api.sendgrid.com').post('/v3/mail/send').delay(5_000).reply(202, '');
    const err = await provider({ timeoutMs: 300 })
      .send(email)
      .catch((e: unknown) => e);
    // Unknown, not retryable: SendGrid may have taken it, so the ledger row becomes `unconfirmed`.
    expect(err).toMatchObject({ failure: 'unknown' });
  });

  it('apiBaseUrl sends to another host (EU data residency, a relay)', async () => {
    nock('https://api.eu.sendgrid.com').post('/v3/mail/send').reply(202, '', { 'X-Message-Id': 'sg-eu-1' });
    expect(await provider({ apiBaseUrl: 'https://api.eu.sendgrid.com' }).send(email)).toEqual({
      status: 'accepted',
      providerMessageId: 'sg-eu-1',
    });
  });
});
