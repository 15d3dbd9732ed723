/**
 * Stage variants (issue 13 §2): the assignment is a keyed hash of clinic, client and stage that
 * splits within tolerance over 10,000 clients and stays put across config reloads; what a variant
 * changes; and configuration validation that refuses a variant which is invalid on its own,
 * naming the field.
 */
import { createHmac } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, clinicOrThrow, loadConfig } from '../../src/config/load.js';
import { createConfigStore } from '../../src/config/store.js';
import { stageVariantsFor } from '../../src/config/variants.js';
import {
  assignVariant,
  chooseVariant,
  type StageVariant,
  variantOffer,
  variantSendAt,
  variantTemplate,
} from '../../src/core/variants.js';

const SECRET = 'variant-test-secret-0123456789abcdef';
const hmac = (m: string) => createHmac('sha256', SECRET).update(m).digest();
const ids = Array.from({ length: 10_000 }, (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);
const stage = { key: 'incentive', purpose: 'incentive' as const };

describe('variant assignment', () => {
  it('splits 10,000 clients 1:1 and 1:3 within four standard deviations', () => {
    const even: StageVariant[] = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 1 },
    ];
    const a = ids.filter(
      (id) => assignVariant({ incentive: even }, stage, { clinicId: 'c', clientId: id }, hmac)?.name === 'a',
    );
    // Binomial(10000, 0.5): sd = 50.
    expect(Math.abs(a.length - 5000)).toBeLessThanOrEqual(200);
    const uneven: StageVariant[] = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 3 },
    ];
    const a25 = ids.filter(
      (id) => assignVariant({ incentive: uneven }, stage, { clinicId: 'c', clientId: id }, hmac)?.name === 'a',
    ).length;
    // Binomial(10000, 0.25): sd ≈ 43.3.
    expect(Math.abs(a25 - 2500)).toBeLessThanOrEqual(174);
    // Three ways, weights 2:1:1.
    const three: StageVariant[] = [
      { name: 'a', weight: 2 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 1 },
    ];
    const counts = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (const id of ids)
      counts[assignVariant({ incentive: three }, stage, { clinicId: 'c', clientId: id }, hmac)!.name]!++;
    expect(Math.abs(counts.a! - 5000)).toBeLessThanOrEqual(200);
    expect(Math.abs(counts.b! - 2500)).toBeLessThanOrEqual(174);
    expect(Math.abs(counts.c! - 2500)).toBeLessThanOrEqual(174);
  });

  it('draws per stage: a client’s reminder variant does not decide its incentive variant', () => {
    const two: StageVariant[] = [
      { name: 'x', weight: 1 },
      { name: 'y', weight: 1 },
    ];
    const config = { incentive: two, reminder: two };
    const same = ids.filter((id) => {
      const i = assignVariant(config, stage, { clinicId: 'c', clientId: id }, hmac)!.name;
      const r = assignVariant(
        config,
        { key: 'reminder', purpose: 'reminder' },
        { clinicId: 'c', clientId: id },
        hmac,
      )!.name;
      return i === r;
    }).length;
    // Independent draws agree half the time (sd 50); one shared draw would agree always.
    expect(Math.abs(same - 5000)).toBeLessThanOrEqual(200);
  });

  it('chooses by slices of [0, 1) in configured order; a single variant or none is no experiment', () => {
    const v = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 3 },
    ];
    expect(chooseVariant(v, 0).name).toBe('a');
    expect(chooseVariant(v, 0.2499).name).toBe('a');
    expect(chooseVariant(v, 0.25).name).toBe('b');
    expect(chooseVariant(v, 0.999999).name).toBe('b');
    expect(assignVariant({ incentive: [v[0]!] }, stage, { clinicId: 'c', clientId: 'x' }, hmac)).toBeNull();
    expect(assignVariant({}, stage, { clinicId: 'c', clientId: 'x' }, hmac)).toBeNull();
    // Found by stage key first, then purpose (as templates are).
    expect(
      assignVariant(
        { incentive: v },
        { key: 'offer_sms', purpose: 'incentive' },
        { clinicId: 'c', clientId: 'x' },
        hmac,
      ),
    ).not.toBeNull();
  });

  it('keeps every client on its variant across a config reload', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebook-variants-'));
    cpSync('config', dir, { recursive: true });
    const file = join(dir, 'clinics', 'demo-clinic.yaml');
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8')}\nvariants:\n  incentive:\n    - { name: pct15, offer: { percentOff: 15 } }\n    - { name: usd25, offer: { amountOff: 25 } }\n`,
    );
    const store = createConfigStore(dir);
    const names = () =>
      ids.map(
        (id) =>
          assignVariant(
            stageVariantsFor(clinicOrThrow(store.current(), 'demo-clinic')),
            stage,
            { clinicId: 'demo-clinic', clientId: id },
            hmac,
          )?.name,
      );
    const before = names();
    expect(new Set(before)).toEqual(new Set(['pct15', 'usd25']));
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n# edited\n`);
    store.reload();
    expect(names()).toEqual(before);
  });
});

describe('what a variant changes', () => {
  it('caps an amount at 20% of the price and a percentage at 20', () => {
    expect(variantOffer({ kind: 'amount_off', amountCents: 2500 }, 10_000)).toEqual({
      kind: 'amount_off',
      amountCents: 2000,
    });
    expect(variantOffer({ kind: 'amount_off', amountCents: 2500 }, 50_000)).toEqual({
      kind: 'amount_off',
      amountCents: 2500,
    });
    expect(variantOffer({ kind: 'percent_off', percent: 30 }, null)).toEqual({ kind: 'percent_off', percent: 20 });
  });

  it('moves the send time on the stage’s local day, never earlier than due', () => {
    // 2026-03-10 10:00 in New York (EDT from March 8) is 14:00 UTC.
    const due = Date.UTC(2026, 2, 10, 14);
    expect(variantSendAt(due, { name: 'a', weight: 1, sendTime: '15:00' }, 'America/New_York')).toBe(
      Date.UTC(2026, 2, 10, 19),
    );
    expect(variantSendAt(due, { name: 'a', weight: 1, sendTime: '09:00' }, 'America/New_York')).toBe(due);
    expect(variantSendAt(due, null, 'America/New_York')).toBe(due);
  });

  it('uses the variant’s wording for a channel when it has one, else the clinic’s', () => {
    const v: StageVariant = { name: 'a', weight: 1, templates: { sms: { body: 'short' } } };
    expect(variantTemplate(v, 'sms', { body: 'clinic' })).toEqual({ body: 'short' });
    expect(variantTemplate(v, 'email', { body: 'clinic' })).toEqual({ body: 'clinic' });
  });
});

describe('variant configuration', () => {
  function problems(yaml: string) {
    const dir = mkdtempSync(join(tmpdir(), 'rebook-variants-cfg-'));
    cpSync('config', dir, { recursive: true });
    const file = join(dir, 'clinics', 'demo-clinic.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\nvariants:\n${yaml}`);
    try {
      loadConfig(dir);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
    return [];
  }

  it('accepts wording, channel, send time and offer variants', () => {
    expect(
      problems(`  incentive:
    - { name: pct15, weight: 2, offer: { percentOff: 15 } }
    - { name: usd25, offer: { amountOff: 25 }, sendTime: "15:00" }
  reminder:
    - { name: email }
    - name: sms
      channel: sms
      templates: { sms: { body: "{{clinicName}}: time to book {{bookingUrl}} Reply STOP to opt out." } }
`),
    ).toEqual([]);
  });

  it('refuses weights, the 20% ceiling, lone and duplicate variants, naming the field', () => {
    const out = problems(`  incentive:
    - { name: a, weight: 0 }
    - { name: a, offer: { percentOff: 25 } }
  reminder:
    - { name: only }
`);
    expect(out).toEqual(
      expect.arrayContaining([
        'variants.incentive.0.weight: must be more than 0',
        expect.stringMatching(/^variants\.incentive\.1\.offer/),
        'variants.incentive.1.name: duplicate variant name "a"',
        'variants.reminder: a stage needs two or more variants',
      ]),
    );
    expect(out.some((p) => p.includes('never above 20% off'))).toBe(true);
  });

  it('refuses a variant that is invalid on its own: no template, long SMS, unlawful email, stray offer, send time, staff, caps', () => {
    const long = 'x'.repeat(480);
    const out = problems(`  reminder:
    - { name: a, channel: sms }
    - { name: b, channel: sms, templates: { sms: { body: "${long} {{bookingUrl}}" } } }
    - { name: c, templates: { email: { subject: hi, body: "no address here {{bookingUrl}}" } } }
    - { name: d, offer: { percentOff: 10 } }
    - { name: e, sendTime: "09:00" }
  staff_escalation:
    - { name: a }
    - { name: b }
  unknown_stage:
    - { name: a }
    - { name: b }
`);
    expect(out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^variants\.reminder\.0\.channel: no sms template for \w+ stage "reminder"/),
        expect.stringMatching(/^variants\.reminder\.1\.templates\.sms\.body: the SMS runs to 4 GSM-7 segments/),
        'variants.reminder.2.templates.email.body: email must include the clinic address ({{clinicAddress}}, CAN-SPAM)',
        expect.stringMatching(/^variants\.reminder\.3\.offer: the offer never reaches the client/),
        "variants.reminder.4.sendTime: must not be before the clinic's sendTime 10:00",
        expect.stringMatching(/^variants\.staff_escalation: .* staff stages have no variants/),
        `variants.unknown_stage: no stage of the clinic's treatment types has key or purpose "unknown_stage"`,
      ]),
    );
  });

  it('refuses a channel variant the clinic’s own caps would always hold back', () => {
    // One SMS per 30 days: the incentive SMS (Botox day 90) leaves no room for a check-in moved to SMS on day 95.
    const dir = mkdtempSync(join(tmpdir(), 'rebook-variants-caps-'));
    cpSync('config', dir, { recursive: true });
    const file = join(dir, 'clinics', 'demo-clinic.yaml');
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8')}\ncaps: [{ max: 1, window: 30d, channel: sms }]\nvariants:\n  checkin:\n    - { name: email }\n    - name: sms\n      channel: sms\n      templates: { sms: { body: "{{clinicName}}: how do your results look? {{bookingUrl}} Reply STOP to opt out." } }\n`,
    );
    let out: string[] = [];
    try {
      loadConfig(dir);
    } catch (err) {
      out = (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
    expect(out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^variants\.checkin\.1\.channel: \w+ stage "results_checkin" with this variant can never be sent: at most 1 sms/,
        ),
      ]),
    );
    expect(out.some((p) => p.startsWith('variants.checkin.0'))).toBe(false);
  });
});
