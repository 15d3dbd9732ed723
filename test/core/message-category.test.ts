/** Care touches vs marketing: the category rule, the consent rule, caps and offer-free care templates. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import {
  capsApply,
  channelBlock,
  countedCategories,
  isCareTouch,
  messageCategory,
  stageTemplate,
} from '../../src/core/message-category.js';

describe('message category', () => {
  it('care purpose is care; every other purpose is marketing', () => {
    expect(messageCategory({ purpose: 'care' })).toBe('care');
    for (const purpose of ['reminder', 'incentive', 'checkin', 'escalation', 'reactivation', 'recovery'] as const)
      expect(isCareTouch({ purpose })).toBe(false);
  });

  const usable = { hasAddress: true, consented: true, optedOut: false, undeliverable: false };
  it.each([
    ['no marketing consent', { consented: false }, null, 'no_consent'],
    ['opted out (STOP)', { optedOut: true }, 'opted_out', 'opted_out'],
    ['no address', { hasAddress: false }, 'no_address', 'no_address'],
    ['undeliverable', { undeliverable: true }, 'undeliverable', 'undeliverable'],
    ['everything fine', {}, null, null],
  ] as const)('%s: care → %s, marketing → %s', (_, change, care, marketing) => {
    expect(channelBlock('care', { ...usable, ...change })).toBe(care);
    expect(channelBlock('marketing', { ...usable, ...change })).toBe(marketing);
  });

  it('caps hold and count care only when the clinic says so', () => {
    expect(capsApply('care', false)).toBe(false);
    expect(capsApply('care', true)).toBe(true);
    expect(capsApply('marketing', false)).toBe(true);
    expect(countedCategories(false)).toEqual(['marketing']);
    expect(countedCategories(true)).toEqual(['care', 'marketing']);
  });

  it('templates are found by stage key first, then purpose', () => {
    const t = { care_checkin: { sms: 'key' }, care: { sms: 'purpose', email: 'purpose-email' } };
    expect(stageTemplate(t, { key: 'care_checkin', purpose: 'care' }, 'sms')).toBe('key');
    expect(stageTemplate(t, { key: 'care_checkin', purpose: 'care' }, 'email')).toBe('purpose-email');
    expect(stageTemplate(t, { key: 'other', purpose: 'reminder' }, 'sms')).toBeUndefined();
  });
});

describe('config validation refuses an offer in a care template', () => {
  const made: string[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  const load = (templates: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'rebook-care-'));
    made.push(dir);
    mkdirSync(join(dir, 'clinics'));
    writeFileSync(
      join(dir, 'catalog.yaml'),
      `treatmentTypes:
  neuromodulator:
    label: Botox
    intervalDays: 90
    stages:
      - { key: care_checkin, day: 1, channel: sms, purpose: care }
      - { key: reminder, day: 80, channel: email, purpose: reminder }
    synonyms: [botox]
`,
    );
    writeFileSync(
      join(dir, 'clinics', 'x.yaml'),
      `id: x
name: Clinic X
timeZone: America/Chicago
bookingUrl: https://book.example.com/x
address: 1 Main Street, Springfield
templates:
${templates}`,
    );
    return loadConfig(dir);
  };

  it('by stage key and by purpose, naming the path; an offer in a marketing template is fine', () => {
    let err: unknown;
    try {
      load(`  care_checkin:
    sms: { body: "Hi {{firstName}}, {{incentive}} for you" }
  care:
    sms: { body: "Valid until {{ expiresOn }}" }
  incentive:
    sms: { body: "{{incentive}} until {{expiresOn}}" }
`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual([
      'templates.care_checkin.sms.body: a care template never carries an offer: remove {{incentive}}',
      'templates.care.sms.body: a care template never carries an offer: remove {{expiresOn}}',
    ]);
  });

  it('an offer-free care template loads', () => {
    expect(
      load(`  care_checkin:\n    sms: { body: "Hi {{firstName}}, how are you?" }\n`).clinics.get('x'),
    ).toBeTruthy();
  });
});
