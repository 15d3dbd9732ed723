/** Messaging configuration: defaults, errors that stop the load, warnings that do not. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import {
  capRulesFor,
  emailHidesTreatment,
  incentiveTiersFor,
  loyaltyTiersFor,
  sendWindowFor,
} from '../../src/config/messaging.js';
import { DEFAULT_CAP_RULES, STATE_LAW_RULE } from '../../src/core/caps.js';
import { DEFAULT_INCENTIVE_TIERS } from '../../src/core/incentives.js';
import { DEFAULT_SEND_WINDOW } from '../../src/core/send-window.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const CATALOG = `treatmentTypes:
  neuromodulator:
    label: Botox
    intervalDays: 90
    stages:
      - { key: reminder, day: 80, channel: email, purpose: reminder }
      - { key: incentive, day: 90, channel: sms, purpose: incentive }
      - { key: results_checkin, day: 95, channel: email, purpose: checkin }
      - { key: staff_escalation, day: 100, channel: staff, purpose: escalation }
    synonyms: [botox]
`;
const clinic = (extra = '') => `id: x
name: Clinic X
timeZone: America/Chicago
bookingUrl: https://book.example.com/x
address: 1 Main Street, Springfield
${extra}`;

function load(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'rebook-msgcfg-'));
  made.push(dir);
  mkdirSync(join(dir, 'clinics'));
  writeFileSync(join(dir, 'catalog.yaml'), CATALOG);
  writeFileSync(join(dir, 'clinics', 'x.yaml'), text);
  return loadConfig(dir);
}
function problems(text: string): string[] {
  try {
    load(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.line}:${p.path}: ${p.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('messaging defaults', () => {
  it('apply when a clinic says nothing', () => {
    const c = load(clinic()).clinics.get('x')!;
    expect(capRulesFor(c)).toEqual([...DEFAULT_CAP_RULES, STATE_LAW_RULE]);
    expect(sendWindowFor(c)).toEqual(DEFAULT_SEND_WINDOW);
    expect(incentiveTiersFor(c).tiers).toEqual(DEFAULT_INCENTIVE_TIERS);
    expect(c).toMatchObject({
      defaultCountry: 'US',
      discreet: false,
      fallback: { sms: 'email', email: 'sms' },
      providers: {},
    });
  });

  it('read a clinic’s own caps, window and tiers (state-law rule still added)', () => {
    const c = load(
      clinic(`caps:
  - { max: 4, window: 30d }
sendWindow: { days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00" }
incentives:
  tiers:
    - { below: 200, amountOff: 20 }
    - { percentOff: 12 }
`),
    ).clinics.get('x')!;
    expect(capRulesFor(c)).toEqual([{ max: 4, windowMs: 30 * 86_400_000 }, STATE_LAW_RULE]);
    expect(sendWindowFor(c)).toEqual({ days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' });
    expect(incentiveTiersFor(c).tiers).toEqual([
      { belowCents: 20_000, offer: { kind: 'amount_off', amountCents: 2_000 } },
      { offer: { kind: 'percent_off', percent: 12 } },
    ]);
    expect(loyaltyTiersFor(c)).toEqual([]);
  });

  it('read loyalty tiers, best first, spend in cents', () => {
    const c = load(
      clinic(`incentives:
  loyalty:
    - { name: VIP, minVisits: 6, minSpend: 3000, gift: a complimentary add-on }
    - { name: Regular, minVisits: 3, percentOff: 12 }
`),
    ).clinics.get('x')!;
    expect(loyaltyTiersFor(c)).toEqual([
      { name: 'VIP', minVisits: 6, minSpendCents: 300_000, offer: { kind: 'gift', label: 'a complimentary add-on' } },
      { name: 'Regular', minVisits: 3, offer: { kind: 'percent_off', percent: 12 } },
    ]);
  });
});

describe('errors', () => {
  it.each([
    [
      'an email template without an unsubscribe link',
      'templates:\n  reminder:\n    email:\n      body: "Book {{bookingUrl}} {{clinicAddress}}"\n',
      ['9:templates.reminder.email.body: email must include an unsubscribe link ({{unsubscribeUrl}})'],
    ],
    [
      'an email template without the address',
      'templates:\n  reminder:\n    email:\n      body: "Book {{bookingUrl}} {{unsubscribeUrl}}"\n',
      ['9:templates.reminder.email.body: email must include the clinic address ({{clinicAddress}}, CAN-SPAM)'],
    ],
    [
      'a send window opening before 08:00',
      'sendWindow: { start: "07:30" }\n',
      ['6:sendWindow.start: must not be before 08:00'],
    ],
    [
      'a send window closing after 20:00',
      'sendWindow: { end: "21:00" }\n',
      ['6:sendWindow.end: must not be after 20:00'],
    ],
    [
      'an offer above 20 %',
      'incentives:\n  tiers:\n    - { percentOff: 25 }\n',
      ['8:incentives.tiers.0.percentOff: never above 20% off'],
    ],
    [
      'a loyalty tier above 20 %, one without a threshold, a duplicate name',
      'incentives:\n  loyalty:\n    - { name: VIP, minVisits: 6, percentOff: 30 }\n    - { name: VIP, gift: a facial }\n',
      [
        '8:incentives.loyalty.0.percentOff: never above 20% off',
        '9:incentives.loyalty.1.minVisits: set minVisits, minSpend or both',
        '9:incentives.loyalty.1.name: duplicate tier name "VIP"',
      ],
    ],
    [
      'a Twilio sender given twice',
      'providers:\n  twilio: { accountSidEnv: TW_SID, authTokenEnv: TW_TOKEN, from: "+12125550100", messagingServiceSid: MG0123456789abcdef0123456789abcdef }\n',
      ['7:providers.twilio.messagingServiceSid: set exactly one of messagingServiceSid or from'],
    ],
    [
      'a secret written instead of an env var name',
      'providers:\n  sendgrid: { apiKeyEnv: "SG.abc", from: a@example.com, webhookPublicKeyEnv: SG_PUB }\n',
      ['7:providers.sendgrid.apiKeyEnv: an environment variable name (secrets are referenced, never written here)'],
    ],
    [
      'a cap window that is not a duration',
      'caps:\n  - { max: 2, window: monthly }\n',
      ['7:caps.0.window: expected a window such as 30d, 24h or 90m'],
    ],
  ])('%s', (_, extra, expected) => {
    expect(problems(clinic(extra))).toEqual(expected);
  });
});

describe('warnings', () => {
  it('a literal all-channel 2-per-30-days cap: the check-in can never be sent', () => {
    const cfg = load(clinic('caps:\n  - { max: 2, window: 30d }\n'));
    expect(cfg.warnings.map((w) => `${w.line}:${w.path}: ${w.message}`)).toEqual([
      '6:caps: neuromodulator stage "results_checkin" can never be sent: at most 2 automated message(s) per 30d always holds it past the next stage',
    ]);
  });

  it('the default caps let the sequence through: no cap warning', () => {
    expect(load(clinic()).warnings.filter((w) => w.path === 'caps')).toEqual([]);
  });

  it('SMS segment counts are reported, GSM-7 and UCS-2', () => {
    const cfg = load(
      clinic(
        'templates:\n  incentive:\n    sms:\n      body: "{{clinicName}}: hi {{firstName}}! Reply STOP to opt out."\n  reactivation:\n    sms:\n      body: "{{clinicName}}: hi {{firstName}} 💆 ready when you are. Reply STOP to opt out. See you soon."\n',
      ),
    );
    expect(cfg.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual([
      'templates.incentive.sms.body: about 46 characters → 1 GSM-7 segment(s) per message',
      'templates.reactivation.sms.body: about 82 UCS-2 units → 2 UCS-2 segment(s) per message',
    ]);
  });

  it('a discreet clinic whose SMS names a treatment', () => {
    const cfg = load(
      clinic(
        'discreet: true\ntemplates:\n  incentive:\n    sms:\n      body: "Time for your Botox top-up! Reply STOP to opt out."\n',
      ),
    );
    expect(cfg.warnings.map((w) => w.message)).toContain('discreet clinic: the SMS names the treatment "Botox"');
  });
});

describe('SendGrid dynamic templates for email', () => {
  const ID = 'd-0123456789abcdef0123456789abcdef';
  const sendgrid = 'providers:\n  sendgrid: { apiKeyEnv: SG_KEY, from: a@example.com, webhookPublicKeyEnv: SG_PUB }\n';

  it('an email template may name a templateId instead of a body; a warning says the template itself is not checked', () => {
    const cfg = load(clinic(`${sendgrid}templates:\n  reminder:\n    email: { templateId: ${ID} }\n`));
    expect(cfg.clinics.get('x')!.templates.reminder!.email).toEqual({ templateId: ID });
    expect(cfg.warnings.map((w) => `${w.line}:${w.path}: ${w.message}`)).toEqual([
      `10:templates.reminder.email.templateId: SendGrid template ${ID} is not checked here: it must show {{clinicAddress}} and {{unsubscribeUrl}} (CAN-SPAM, one-click unsubscribe)`,
    ]);
  });

  it.each([
    [
      'neither body nor templateId',
      `${sendgrid}templates:\n  reminder:\n    email: { subject: "Hi" }\n`,
      ['10:templates.reminder.email.body: set exactly one of body or templateId (a SendGrid dynamic template)'],
    ],
    [
      'both body and templateId',
      `${sendgrid}templates:\n  reminder:\n    email: { templateId: ${ID}, body: "{{clinicAddress}} {{unsubscribeUrl}}" }\n`,
      ['10:templates.reminder.email.body: set exactly one of body or templateId (a SendGrid dynamic template)'],
    ],
    [
      'a subject next to a templateId',
      `${sendgrid}templates:\n  reminder:\n    email: { templateId: ${ID}, subject: "Hi {{firstName}}" }\n`,
      ['10:templates.reminder.email.subject: a SendGrid dynamic template sets its own subject'],
    ],
    [
      'an id that is not a dynamic template id',
      `${sendgrid}templates:\n  reminder:\n    email: { templateId: "welcome-email" }\n`,
      ['10:templates.reminder.email.templateId: a SendGrid dynamic template id: "d-" and 32 hex digits'],
    ],
    [
      'a templateId without SendGrid as the provider',
      `templates:\n  reminder:\n    email: { templateId: ${ID} }\n`,
      ['8:templates.reminder.email.templateId: a SendGrid dynamic template needs providers.sendgrid'],
    ],
    [
      'a templateId on an SMS',
      `${sendgrid}templates:\n  incentive:\n    sms: { templateId: ${ID}, body: "hi" }\n`,
      ['10:templates.incentive.sms.templateId: unknown key "templateId"'],
    ],
  ])('%s is an error', (_, extra, expected) => {
    expect(problems(clinic(extra))).toEqual(expected);
  });
});

describe('SendGrid and treatment names (no BAA)', () => {
  const sendgrid = (extra = '') =>
    `providers:\n  sendgrid: { apiKeyEnv: SG_KEY, from: a@example.com, webhookPublicKeyEnv: SG_PUB${extra} }\n`;
  const email =
    'templates:\n  reminder:\n    email:\n      subject: "Your Botox window"\n      body: "{{treatmentLabel}} {{clinicAddress}} {{unsubscribeUrl}}"\n';

  it('emails through SendGrid name no treatment unless the clinic says so; other clinics are not concerned', () => {
    expect(emailHidesTreatment(load(clinic(sendgrid())).clinics.get('x')!)).toBe(true);
    expect(emailHidesTreatment(load(clinic(sendgrid(', treatmentDetails: true'))).clinics.get('x')!)).toBe(false);
    expect(emailHidesTreatment(load(clinic()).clinics.get('x')!)).toBe(false);
  });

  it('a treatment name written in an email template of such a clinic is a warning', () => {
    const warn = (text: string) =>
      load(clinic(text))
        .warnings.filter((w) => w.message.includes('no BAA'))
        .map((w) => `${w.line}:${w.path}: ${w.message}`);
    expect(warn(sendgrid() + email)).toEqual([
      '12:templates.reminder.email.body: email through SendGrid (no BAA) names the treatment "Botox": remove it, or set providers.sendgrid.treatmentDetails',
    ]);
    expect(warn(sendgrid(', treatmentDetails: true') + email)).toEqual([]);
    expect(warn(email)).toEqual([]);
  });
});
