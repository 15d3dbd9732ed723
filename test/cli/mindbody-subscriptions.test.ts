/**
 * `rebook mindbody subscriptions` against a nocked push API: list, create (the signature key shown
 * once, with the variable to store it in), activate, delete; the API key header on every call;
 * usage errors; a refused key surfaces as a coded error without the vendor's text.
 */
import { rmSync } from 'node:fs';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MINDBODY_PUSH_API_BASE, MINDBODY_SUBSCRIBED_EVENTS } from '../../connectors/mindbody/constants.js';
import { subscriptionsCommand } from '../../src/cli/mindbody-subscriptions.js';
import { createLogger } from '../../src/log.js';
import { connectorConfigDir, SECRETS } from '../helpers/connector-stack.js';
import { sink } from '../helpers/sink.js';

const PUSH = new URL(MINDBODY_PUSH_API_BASE);
const ORIGIN = PUSH.origin;
const BASE = PUSH.pathname;
const log = createLogger({ level: 'silent' });
let configDir: string;

const run = async (...argv: string[]) => {
  const out = sink();
  const code = await subscriptionsCommand(argv, { configDir, secrets: SECRETS, log }, out.stream);
  return { code, out: out.text() };
};
const subscription = (o: Record<string, unknown> = {}) => ({
  subscriptionId: 'f8a2c1de-5a4b-4c3d-9e2f-0b1a2c3d4e5f',
  status: 'PendingActivation',
  webhookUrl: 'https://rebook.example.com/webhooks/mindbody',
  eventIds: MINDBODY_SUBSCRIBED_EVENTS,
  referenceId: 'mb-clinic',
  ...o,
});

beforeAll(() => {
  nock.disableNetConnect();
  configDir = connectorConfigDir();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(() => {
  rmSync(configDir, { recursive: true, force: true });
  nock.enableNetConnect();
});

describe('rebook mindbody subscriptions', () => {
  it('create: every event we act on, schema version 1, the clinic as reference; prints the signature key once with where to keep it, and the next step', async () => {
    nock(ORIGIN)
      .post(`${BASE}/subscriptions`, {
        eventIds: [...MINDBODY_SUBSCRIBED_EVENTS],
        eventSchemaVersion: 1,
        referenceId: 'mb-clinic',
        webhookUrl: 'https://rebook.example.com/webhooks/mindbody',
      })
      .matchHeader('api-key', SECRETS.MB_API_KEY!)
      .reply(200, subscription({ messageSignatureKey: 'whsec_shown_once_123' }));
    const { code, out } = await run(
      'create',
      '--clinic',
      'mb-clinic',
      '--webhook-url',
      'https://rebook.example.com/webhooks/mindbody',
    );
    expect(code).toBe(0);
    expect(out).toContain('created f8a2c1de-5a4b-4c3d-9e2f-0b1a2c3d4e5f (PendingActivation)');
    // The variable the clinic config names for the key.
    expect(out).toMatch(/messageSignatureKey \(shown once; store it in MB_SIGNATURE_KEY\): whsec_shown_once_123/);
    expect(out).toContain(
      'then: rebook mindbody subscriptions activate --clinic mb-clinic --id f8a2c1de-5a4b-4c3d-9e2f-0b1a2c3d4e5f',
    );
  });

  it('activate, list and delete', async () => {
    nock(ORIGIN)
      .patch(`${BASE}/subscriptions/f8a2c1de-5a4b-4c3d-9e2f-0b1a2c3d4e5f`, { status: 'Active' })
      .matchHeader('api-key', SECRETS.MB_API_KEY!)
      .reply(200, subscription({ status: 'Active' }));
    expect(await run('activate', '--clinic', 'mb-clinic', '--id', 'f8a2c1de-5a4b-4c3d-9e2f-0b1a2c3d4e5f')).toEqual({
      code: 0,
      out: 'f8a2c1de-5a4b-4c3d-9e2f-0b1a2c3d4e5f Active\n',
    });

    nock(ORIGIN)
      .get(`${BASE}/subscriptions`)
      .matchHeader('api-key', SECRETS.MB_API_KEY!)
      .reply(200, {
        items: [
          subscription({ status: 'Active' }),
          subscription({ subscriptionId: 'old-1', status: 'DeactivatedByAdmin', eventIds: ['client.updated'] }),
        ],
      });
    const listed = await run('list', '--clinic', 'mb-clinic');
    expect(listed.code).toBe(0);
    expect(listed.out.trim().split('\n')).toEqual([
      `f8a2c1de-5a4b-4c3d-9e2f-0b1a2c3d4e5f\tActive\thttps://rebook.example.com/webhooks/mindbody\t${MINDBODY_SUBSCRIBED_EVENTS.join(',')}`,
      'old-1\tDeactivatedByAdmin\thttps://rebook.example.com/webhooks/mindbody\tclient.updated',
    ]);

    nock(ORIGIN).delete(`${BASE}/subscriptions/old-1`).matchHeader('api-key', SECRETS.MB_API_KEY!).reply(204);
    expect(await run('delete', '--clinic', 'mb-clinic', '--id', 'old-1')).toEqual({ code: 0, out: 'deleted old-1\n' });
  });

  it('usage errors make no call; a refused API key is a coded error without the vendor text', async () => {
    expect((await run('list')).code).toBe(2);
    expect((await run('rename', '--clinic', 'mb-clinic')).code).toBe(2);
    await expect(run('create', '--clinic', 'mb-clinic')).rejects.toThrow(/--webhook-url is required/);
    await expect(run('activate', '--clinic', 'mb-clinic')).rejects.toThrow(/--id is required/);
    await expect(run('list', '--clinic', 'no-such-clinic')).rejects.toMatchObject({ code: 'clinic_not_found' });

    nock(ORIGIN).get(`${BASE}/subscriptions`).reply(401, { message: 'Invalid API key sk_live_leak' });
    const refused = run('list', '--clinic', 'mb-clinic');
    await expect(refused).rejects.toMatchObject({
      code: 'provider_unavailable',
      message: 'mindbody API refused the request (HTTP 401)',
    });
  });
});
