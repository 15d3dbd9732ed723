/**
 * An email stage that names a SendGrid dynamic template, end to end on the time-skipping server
 * with the real @sendgrid/mail SDK behind nock: the request carries template_id and the same
 * tokens a text template gets, the ledger keeps them, and a retried send sends exactly the same.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { MESSAGE_ID_ARG } from '../../src/messaging/sendgrid/index.js';
import { verifyUnsubscribeToken } from '../../src/messaging/unsubscribe.js';
import { demoDue } from '../helpers/clinic-time.js';
import { type Engine, startEngine, TEST_UNSUBSCRIBE_SECRET, treatment } from '../helpers/engine.js';

const TEMPLATE = 'd-5f0e2c1b9a8d7e6f5a4b3c2d1e0f9a8b';
const MINUTE = 60_000;
const secrets = {
  TEST_SENDGRID_KEY: 'SG.templates-test',
  TEST_SENDGRID_PUBKEY: 'unused',
  REBOOK_UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
} as NodeJS.ProcessEnv;
let e: Engine;
let configDir: string;
const requests: any[] = [];
/** Answers to give to the template sends, in order (then 202); other emails get 202. */
const answers: number[] = [503];

beforeAll(async () => {
  configDir = mkdtempSync(join(tmpdir(), 'rebook-sg-templates-'));
  mkdirSync(join(configDir, 'clinics'));
  writeFileSync(join(configDir, 'catalog.yaml'), readFileSync('config/catalog.yaml'));
  const demo = parse(readFileSync('config/clinics/demo-clinic.yaml', 'utf8'));
  demo.providers = {
    sendgrid: {
      apiKeyEnv: 'TEST_SENDGRID_KEY',
      from: 'hello@glow.example.com',
      webhookPublicKeyEnv: 'TEST_SENDGRID_PUBKEY',
    },
  };
  demo.templates.reminder.email = { templateId: TEMPLATE };
  writeFileSync(join(configDir, 'clinics', 'demo-clinic.yaml'), stringify(demo));
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  nock('https://api.sendgrid.com')
    .persist()
    .post('/v3/mail/send')
    .reply((_uri, body) => {
      requests.push(body);
      // The day-12 care email (issue 11) goes out first: the 503 is kept for the templated reminder.
      const status = (body as any).template_id === TEMPLATE ? (answers.shift() ?? 202) : 202;
      return status === 202
        ? [202, '', { 'X-Message-Id': `sg-${requests.length}` }]
        : [status, { errors: [{ message: 'try later' }] }];
    });
  e = await startEngine({ configDir, secrets });
});

afterAll(async () => {
  await e?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
  rmSync(configDir, { recursive: true, force: true });
});

it('sends template_id with the tokens as dynamic_template_data; the ledger keeps both; the retry after a 503 sends the same', async () => {
  const t0 = e.now();
  await e.send(
    treatment({
      clientId: 'tpl-1',
      appointmentId: 'tpl-1-a',
      firstName: 'Tamsin',
      email: 'tamsin.p@example.com',
      completedAt: new Date(t0).toISOString(),
    }),
  );
  const wf = await e.workflowIdFor('tpl-1');
  await e.sleepUntil(demoDue(t0, 80) + 10 * MINUTE);

  // By stage key: the day-1 care SMS and the day-12 care email (issue 11) come before it.
  const reminder = (await e.messages()).find((m) => m.workflowId === wf && m.stage === 'reminder');
  expect(reminder).toMatchObject({
    stage: 'reminder',
    channel: 'email',
    status: 'accepted',
    provider: 'sendgrid',
    templateId: TEMPLATE,
    body: null,
    subject: null,
  });
  // The care email (a text email, sent once) and the reminder twice: the 503, then the same request.
  expect(requests.map((r) => r.template_id ?? null)).toEqual([null, TEMPLATE, TEMPLATE]);
  expect(requests[0].categories).toEqual(['rebook', 'demo-clinic', 'care']);
  expect(JSON.stringify(requests[0])).not.toContain('Botox'); // no BAA: the care email names no treatment either
  expect(requests[2]).toEqual(requests[1]);
  const sent = requests[2];
  const data = reminder!.templateData!;
  expect(sent).toEqual({
    from: { email: 'hello@glow.example.com' },
    template_id: TEMPLATE,
    personalizations: [{ to: [{ email: 'tamsin.p@example.com' }], dynamic_template_data: data }],
    custom_args: { [MESSAGE_ID_ARG]: reminder!.id },
    categories: ['rebook', 'demo-clinic', 'reminder'],
    headers: { 'List-Unsubscribe': `<${data.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  });
  expect(data).toMatchObject({
    firstName: 'Tamsin',
    clinicName: 'Glow Aesthetics (demo)',
    treatmentLabel: 'treatment', // SendGrid signs no BAA: no treatment name unless the clinic accepts it
    bookingUrl: 'https://book.example.com/glow-aesthetics',
    clinicAddress: '123 Main Street, Suite 200, Springfield, NY 10001',
    incentive: '',
    // Series tokens (issue 11 §4, docs/configuration.md): empty outside a series.
    session: '',
    sessions: '',
  });
  expect(Object.keys(data).sort()).toEqual([
    'bookingUrl',
    'clinicAddress',
    'clinicName',
    'expiresOn',
    'firstName',
    'incentive',
    'providerName',
    'session',
    'sessions',
    'treatmentLabel',
    'unsubscribeUrl',
  ]);
  expect(verifyUnsubscribeToken(TEST_UNSUBSCRIBE_SECRET, data.unsubscribeUrl!.split('/').pop()!)).toBe(reminder!.id);

  // A stage with a text template of the same clinic still sends our own content.
  await e.sleepUntil(demoDue(t0, 95) + MINUTE);
  const checkin = (await e.messages()).find((m) => m.workflowId === wf && m.stage === 'results_checkin')!;
  expect(checkin).toMatchObject({ channel: 'email', templateId: null, templateData: null });
  const last = requests.at(-1);
  expect(last.template_id).toBeUndefined();
  expect(last.content).toEqual([{ type: 'text/plain', value: checkin.body }]);
  expect(checkin.body).toContain('How do your treatment results look?');
  expect(`${checkin.subject}\n${checkin.body}`).not.toContain('Botox');
});
