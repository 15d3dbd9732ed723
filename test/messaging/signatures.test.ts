/** Webhook signatures: the vendors' public test vectors, our own computed ones, and tampering. */
import { createSign, generateKeyPairSync } from 'node:crypto';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import {
  isFreshTimestamp,
  sendgridPublicKey,
  verifySendgridSignature,
} from '../../src/messaging/sendgrid/signature.js';
import {
  parseTwilioForm,
  twilioSignature,
  verifyTwilioJsonBody,
  verifyTwilioSignature,
} from '../../src/messaging/twilio/signature.js';
import { signUnsubscribeToken, verifyUnsubscribeToken } from '../../src/messaging/unsubscribe.js';

describe('Twilio X-Twilio-Signature', () => {
  // Public vector from Twilio's security docs (VENDORS.md).
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = {
    CallSid: 'CA1234567890ABCDE',
    Caller: '+12349013030',
    Digits: '1234',
    From: '+12349013030',
    To: '+18005551212',
  };

  it('matches the public vector', () => {
    expect(twilioSignature('12345', url, params)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(verifyTwilioSignature('12345', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, params)).toBe(true);
  });

  it('rejects a changed parameter, URL, token or a missing signature', () => {
    expect(verifyTwilioSignature('12345', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, { ...params, Digits: '1235' })).toBe(
      false,
    );
    expect(verifyTwilioSignature('12345', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url.replace('https', 'http'), params)).toBe(
      false,
    );
    expect(verifyTwilioSignature('54321', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, params)).toBe(false);
    expect(verifyTwilioSignature('12345', undefined, url, params)).toBe(false);
    expect(verifyTwilioSignature('', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, params)).toBe(false);
  });

  it('agrees with the twilio SDK on our own status-callback shape', () => {
    const ours = 'https://rebook.example.com/webhooks/twilio/status?m=0b9f6a52-1f0e-4c55-9d5a-2c7d1b0e8a11';
    const cb = {
      AccountSid: 'AC0123',
      MessageSid: 'SM1',
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
      To: '+12125550123',
      From: '+12125550100',
      Body: 'naïve café ✓',
    };
    const sig = twilioSignature('secret-token', ours, cb);
    expect(twilio.validateRequest('secret-token', sig, ours, cb)).toBe(true);
    expect(verifyTwilioSignature('secret-token', sig, ours, cb)).toBe(true);
  });

  it('accepts a form with repeated parameter names exactly when twilio-node does (every value is signed)', () => {
    const url = 'https://rebook.example.com/webhooks/twilio/inbound';
    const body = 'AccountSid=AC0123&MessageSid=SM9&Body=hi&MediaUrl=https%3A%2F%2Fm%2F2&MediaUrl=https%3A%2F%2Fm%2F1';
    const form = parseTwilioForm(body);
    expect(form.MediaUrl).toEqual(['https://m/2', 'https://m/1']);
    // Twilio's own expected signature for this request, from the SDK.
    const genuine = twilio.getExpectedTwilioSignature('tok', url, form);
    expect(verifyTwilioSignature('tok', genuine, url, form)).toBe(true);
    // A signature over the last value alone is not what Twilio sends: refused.
    const lastOnly = twilio.getExpectedTwilioSignature('tok', url, { ...form, MediaUrl: 'https://m/1' });
    expect(twilio.validateRequest('tok', lastOnly, url, form)).toBe(false);
    expect(verifyTwilioSignature('tok', lastOnly, url, form)).toBe(false);
    // A value added to the repeated name breaks it.
    const tampered = parseTwilioForm(`${body}&MediaUrl=https%3A%2F%2Fm%2F3`);
    expect(verifyTwilioSignature('tok', genuine, url, tampered)).toBe(false);
  });

  it('accepts the URL with and without the default port, as twilio-node does, and nothing else', () => {
    const params = { AccountSid: 'AC0123', MessageSid: 'SM1', Body: 'yes' };
    const bare = 'https://rebook.example.com/webhooks/twilio/inbound?x=1';
    const withPort = 'https://rebook.example.com:443/webhooks/twilio/inbound?x=1';
    for (const [signedOver, rebuilt] of [
      [bare, withPort],
      [withPort, bare],
      [bare, bare],
    ] as const) {
      const sig = twilioSignature('tok', signedOver, params);
      expect(twilio.validateRequest('tok', sig, rebuilt, params)).toBe(true);
      expect(verifyTwilioSignature('tok', sig, rebuilt, params)).toBe(true);
    }
    const otherPort = twilioSignature('tok', 'https://rebook.example.com:8443/webhooks/twilio/inbound?x=1', params);
    expect(verifyTwilioSignature('tok', otherPort, bare, params)).toBe(false);
    const httpSig = twilioSignature('tok', 'http://rebook.example.com/webhooks/twilio/inbound?x=1', params);
    expect(verifyTwilioSignature('tok', httpSig, bare, params)).toBe(false);
  });

  it('checks bodySHA256 of JSON bodies', () => {
    const body = '{"a":1}';
    const hex = '015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862';
    expect(verifyTwilioJsonBody(`https://x.example/hook?bodySHA256=${hex}`, body)).toBe(true);
    expect(verifyTwilioJsonBody(`https://x.example/hook?bodySHA256=${hex}`, '{"a":2}')).toBe(false);
    expect(verifyTwilioJsonBody('https://x.example/hook', body)).toBe(false);
  });
});

describe('SendGrid signed event webhook', () => {
  // Public vector from sendgrid-nodejs eventwebhook spec (VENDORS.md): the body ends with CR LF.
  const key =
    'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==';
  const timestamp = '1600112502';
  const signature = 'MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=';
  const body =
    '[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address","sg_event_id":"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA","sg_message_id":"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0","smtp-id":"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>","timestamp":1600112492}]\r\n';

  it('verifies the public vector, byte for byte', () => {
    expect(verifySendgridSignature(sendgridPublicKey(key), signature, timestamp, Buffer.from(body))).toBe(true);
  });

  it('fails when the body loses its CR LF, the timestamp changes or the signature is garbage', () => {
    const k = sendgridPublicKey(key);
    expect(verifySendgridSignature(k, signature, timestamp, body.trimEnd())).toBe(false);
    expect(verifySendgridSignature(k, signature, '1600112503', body)).toBe(false);
    expect(verifySendgridSignature(k, 'bm90IGEgc2lnbmF0dXJl', timestamp, body)).toBe(false);
    expect(verifySendgridSignature(k, undefined, timestamp, body)).toBe(false);
  });

  it('verifies what we sign with our own P-256 key, and only with that key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const ourBody = JSON.stringify([
      { email: 'a@example.com', event: 'delivered', sg_event_id: 'e1', rebook_message_id: 'm1', timestamp: 1 },
    ]);
    const sig = createSign('sha256').update(`1700000000${ourBody}`).sign(privateKey, 'base64');
    const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    expect(verifySendgridSignature(sendgridPublicKey(spki), sig, '1700000000', ourBody)).toBe(true);
    expect(verifySendgridSignature(other, sig, '1700000000', ourBody)).toBe(false);
  });
});

describe('unsubscribe tokens', () => {
  const id = '0b9f6a52-1f0e-4c55-9d5a-2c7d1b0e8a11';
  it('round-trip the message id and carry nothing else', () => {
    const token = signUnsubscribeToken('s3cret', id);
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/);
    expect(verifyUnsubscribeToken('s3cret', token)).toBe(id);
  });
  it('reject another secret, a changed id and malformed tokens', () => {
    const token = signUnsubscribeToken('s3cret', id);
    expect(verifyUnsubscribeToken('other', token)).toBeUndefined();
    const forged = `${signUnsubscribeToken('s3cret', '1b9f6a52-1f0e-4c55-9d5a-2c7d1b0e8a11').split('.')[0]}.${token.split('.')[1]}`;
    expect(verifyUnsubscribeToken('s3cret', forged)).toBeUndefined();
    expect(verifyUnsubscribeToken('s3cret', 'abc')).toBeUndefined();
  });
});

describe('SendGrid event freshness', () => {
  const now = Date.parse('2026-12-05T12:00:00Z');
  const at = (offsetSeconds: number) => String(now / 1000 + offsetSeconds);
  it.each([
    [at(0), true],
    [at(-600), true],
    [at(-601), false],
    [at(-86_400), false],
    [at(600), true],
    [at(601), false],
    ['', false],
    ['12.5', false],
    ['-5', false],
    ['1e9', false],
  ])('timestamp %s within 600 s: %s', (ts, fresh) => {
    expect(isFreshTimestamp(ts, now, 600)).toBe(fresh);
  });
});
