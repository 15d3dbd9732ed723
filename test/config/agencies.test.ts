/**
 * Many clinics: agencies/<agency>.yaml defaults under clinics/<clinic>.yaml, catalog.yaml under
 * both. Merge order, the single-file format alongside, and problems reported at the file and
 * line that hold the value.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  type ConfigProblem,
  classificationRulesFor,
  loadConfig,
  treatmentTypesFor,
} from '../../src/config/load.js';
import { mergeLayers } from '../../src/config/merge.js';
import { capRulesFor, sendWindowFor } from '../../src/config/messaging.js';
import { DEFAULT_CAP_RULES, STATE_LAW_RULE } from '../../src/core/caps.js';
import { classifyService } from '../../src/core/classify.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rebook-agencies-'));
  made.push(dir);
  mkdirSync(join(dir, 'clinics'));
  mkdirSync(join(dir, 'agencies'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function problemsOf(dir: string): ConfigProblem[] {
  try {
    loadConfig(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

const located = (dir: string, problems: ConfigProblem[]) =>
  problems
    .map((p) => {
      const abs = resolve(process.cwd(), p.file);
      expect(abs.startsWith(dir + sep)).toBe(true);
      return `${abs
        .slice(dir.length + 1)
        .split(sep)
        .join('/')}:${p.line ?? '?'} ${p.path}`;
    })
    .sort();

const CATALOG = `treatmentTypes:
  neuromodulator:
    label: Botox
    intervalDays: 90
    stages:
      - { key: reminder, day: 80, channel: email, purpose: reminder }
      - { key: incentive, day: 90, channel: sms, purpose: incentive }
      - { key: staff_escalation, day: 100, channel: staff, purpose: escalation }
    synonyms: [botox, btx]
  kybella:
    label: Kybella
    intervalDays: 42
    stages:
      - { key: reminder, day: 35, channel: email, purpose: reminder }
    synonyms: [kybella]
`;

// Line numbers below are referred to by the tests.
const AGENCY = `name: Glow Group
catalog:
  treatmentTypes:
    neuromodulator:
      intervalDays: 120
    skin_booster:
      label: skin booster
      intervalDays: 30
      stages:
        - { key: reminder, day: 25, channel: email, purpose: reminder }
      synonyms: [profhilo]
    kybella: null
defaults:
  timeZone: America/Chicago
  sendTime: "09:30"
  sendWindow: { days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00" }
  caps:
    - { max: 1, window: 30d, channel: sms }
  services:
    synonyms:
      neuromodulator: [tox touch up]
  staff:
    notify: { email: desk@glow.example.com }
`;

const clinic = (id: string, extra = '') => `id: ${id}
name: Clinic ${id}
bookingUrl: https://book.example.com/${id}
address: 1 Main Street
${extra}`;

describe('merge rules', () => {
  it('objects merge, arrays and scalars replace, null removes', () => {
    const base = { a: { x: 1, y: [1, 2] }, b: 'keep', c: { deep: { z: 1 } } };
    expect(mergeLayers(base, { a: { y: [3] }, c: null, d: { e: null, f: 2 } })).toEqual({
      a: { x: 1, y: [3] },
      b: 'keep',
      d: { f: 2 },
    });
    expect(base).toEqual({ a: { x: 1, y: [1, 2] }, b: 'keep', c: { deep: { z: 1 } } });
  });
});

describe('agencies', () => {
  it('catalog.yaml < agency < clinic for treatment types; built-in defaults < agency defaults < clinic for settings', () => {
    const dir = configDir({
      'catalog.yaml': CATALOG,
      'agencies/glow.yaml': AGENCY,
      'clinics/a.yaml': clinic('a', 'agency: glow\n'),
      'clinics/b.yaml': clinic(
        'b',
        `agency: glow
timeZone: America/Denver
sendWindow: { end: "17:00" }
caps: null
staff: { notify: { sms: "+13035550100" } }
catalog:
  treatmentTypes:
    neuromodulator:
      stages:
        - { key: only_reminder, day: 100, channel: email, purpose: reminder }
`,
      ),
      'clinics/solo.yaml': clinic('solo', 'timeZone: Europe/London\n'),
    });
    const cfg = loadConfig(dir);
    expect([...cfg.agencies.keys()]).toEqual(['glow']);
    expect(cfg.agencies.get('glow')!.name).toBe('Glow Group');

    const a = cfg.clinics.get('a')!;
    expect(a).toMatchObject({
      agency: 'glow',
      timeZone: 'America/Chicago',
      sendTime: '09:30',
      staff: { notify: { email: 'desk@glow.example.com' } },
    });
    expect(sendWindowFor(a)).toEqual({ days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' });
    expect(capRulesFor(a)).toEqual([{ max: 1, windowMs: 30 * 86_400_000, channel: 'sms' }, STATE_LAW_RULE]);
    const aTypes = treatmentTypesFor(cfg, a);
    // The agency changed one field of Botox, added a type and removed Kybella.
    expect([...aTypes.keys()].sort()).toEqual(['neuromodulator', 'skin_booster']);
    expect(aTypes.get('neuromodulator')).toMatchObject({ intervalDays: 120, label: 'Botox' });
    expect(aTypes.get('neuromodulator')!.stages.map((s) => s.day)).toEqual([80, 90, 100]);
    expect(aTypes.get('neuromodulator')!.synonyms).toEqual(['botox', 'btx', 'tox touch up']);
    expect(classifyService({ name: 'Profhilo 2ml' }, classificationRulesFor(cfg, a))).toMatchObject({
      matched: true,
      treatmentType: 'skin_booster',
    });

    const b = cfg.clinics.get('b')!;
    expect(b.timeZone).toBe('America/Denver');
    // sendWindow merged key by key: days and start from the agency, end from the clinic.
    expect(sendWindowFor(b)).toEqual({ days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' });
    // caps: null drops the agency's rules: the built-in defaults apply again.
    expect(capRulesFor(b)).toEqual([...DEFAULT_CAP_RULES, STATE_LAW_RULE]);
    expect(b.staff.notify).toEqual({ email: 'desk@glow.example.com', sms: '+13035550100' });
    // The clinic's stages replace the agency's (arrays replace); the agency's interval stays.
    const bBotox = treatmentTypesFor(cfg, b).get('neuromodulator')!;
    expect(bBotox.stages).toEqual([{ key: 'only_reminder', day: 100, channel: 'email', purpose: 'reminder' }]);
    expect(bBotox.intervalDays).toBe(120);

    // A clinic without an agency: the single-file format, catalog.yaml as written.
    const solo = cfg.clinics.get('solo')!;
    expect(solo.agency).toBeUndefined();
    expect(solo.sendTime).toBe('10:00');
    expect([...treatmentTypesFor(cfg, solo).keys()].sort()).toEqual(['kybella', 'neuromodulator']);
    expect(treatmentTypesFor(cfg, solo).get('neuromodulator')!.intervalDays).toBe(90);
    expect(cfg.catalog.treatmentTypes.neuromodulator!.intervalDays).toBe(90);
    expect(cfg.clinicFiles.get('solo')).toMatch(/clinics[/\\]solo\.yaml$/);
  });

  it('reports each problem at the file and line holding the value, once even when several clinics inherit it', () => {
    const dir = configDir({
      'catalog.yaml': CATALOG,
      // line 3: not a channel (agency catalog); line 6: after the legal window; line 7: unknown key;
      // line 8: a secret instead of an env-var name; line 9: names one clinic.
      'agencies/glow.yaml': `name: Glow Group
catalog:
  treatmentTypes: { kybella: { stages: [{ key: reminder, day: 35, channel: fax, purpose: reminder }] } }
defaults:
  timeZone: America/Chicago
  sendWindow: { start: "09:00", end: "21:00" }
  sendtime: "09:00"
  providers: { sendgrid: { apiKeyEnv: "SG.abc", from: a@example.com, webhookPublicKeyEnv: SG_PUB } }
  name: Everyone
colour: blue
`,
      'clinics/a.yaml': clinic('a', 'agency: glow\n'),
      // line 6: the clinic's own bad value; line 8: an override of the agency's catalog with no interval.
      'clinics/b.yaml': clinic(
        'b',
        'agency: glow\nsendTime: "9am"\ncatalog:\n  treatmentTypes: { neuromodulator: { intervalDays: 0 } }\n',
      ),
      // line 5: no such agency.
      'clinics/c.yaml': clinic('c', 'agency: nowhere\ntimeZone: UTC\n'),
    });
    expect(located(dir, problemsOf(dir))).toEqual(
      [
        'agencies/glow.yaml:10 colour',
        'agencies/glow.yaml:3 catalog.treatmentTypes.kybella.stages.0.channel',
        'agencies/glow.yaml:6 defaults.sendWindow.end',
        'agencies/glow.yaml:7 defaults.sendtime',
        'agencies/glow.yaml:8 defaults.providers.sendgrid.apiKeyEnv',
        'agencies/glow.yaml:9 defaults.name',
        'clinics/b.yaml:6 sendTime',
        'clinics/b.yaml:8 catalog.treatmentTypes.neuromodulator.intervalDays',
        'clinics/c.yaml:5 agency',
      ].sort(),
    );
  });

  it('blames the clinic for an array it replaced, even where the agency array had the value', () => {
    const dir = configDir({
      'catalog.yaml': CATALOG,
      'agencies/glow.yaml': 'name: Glow\ndefaults:\n  timeZone: UTC\n  caps:\n    - { max: 1, window: 30d }\n',
      'clinics/a.yaml': clinic('a', 'agency: glow\ncaps:\n  - { window: 7d }\n'),
    });
    expect(located(dir, problemsOf(dir))).toEqual(['clinics/a.yaml:7 caps.0.max']);
  });

  it('checks an agency without clinics, but leaves to each clinic what only a clinic can give', () => {
    const dir = configDir({
      'catalog.yaml': CATALOG,
      // A Mindbody agency: each clinic brings its own site id; the agency names the credentials.
      'agencies/mb.yaml': `name: MB Group
defaults:
  timeZone: UTC
  platform: mindbody
  connector: { credentials: { apiKey: MB_API_KEY, webhookSignatureKey: MB_WEBHOOK_KEY } }
  templates:
    reminder:
      email: { subject: Hi, body: "Book {{bookingUrl}}" }
`,
    });
    const problems = problemsOf(dir);
    expect(located(dir, problems)).toEqual([
      'agencies/mb.yaml:8 defaults.templates.reminder.email.body',
      'agencies/mb.yaml:8 defaults.templates.reminder.email.body',
    ]);
    expect(problems.map((p) => p.message).join('\n')).toMatch(/clinicAddress[\s\S]*unsubscribeUrl/);

    const fixed = configDir({
      'catalog.yaml': CATALOG,
      'agencies/mb.yaml':
        'name: MB Group\ndefaults:\n  timeZone: UTC\n  platform: mindbody\n  connector: { credentials: { apiKey: MB_API_KEY, webhookSignatureKey: MB_WEBHOOK_KEY } }\n',
      'clinics/a.yaml': clinic('a', 'agency: mb\nconnector: { siteId: "123" }\n'),
      'clinics/b.yaml': clinic('b', 'agency: mb\n'),
    });
    // Only the clinic without a site id is wrong; the connector object merged key by key.
    expect(located(fixed, problemsOf(fixed))).toEqual(['clinics/b.yaml:1 connector.siteId']);
  });

  it('warns about stage days out of order where the stages were written', () => {
    const dir = configDir({
      'catalog.yaml': CATALOG,
      'agencies/glow.yaml': `name: Glow
catalog:
  treatmentTypes:
    neuromodulator:
      stages:
        - { key: reminder, day: 80, channel: email, purpose: reminder }
        - { key: incentive, day: 75, channel: sms, purpose: incentive }
defaults: { timeZone: UTC }
`,
      'clinics/a.yaml': clinic('a', 'agency: glow\n'),
      'clinics/b.yaml': clinic('b', 'agency: glow\n'),
    });
    const cfg = loadConfig(dir);
    const w = cfg.warnings.filter((p) => /out of order/.test(p.message));
    expect(located(dir, w)).toEqual(['agencies/glow.yaml:7 catalog.treatmentTypes.neuromodulator.stages.1.day']);
    // The planner runs them by day anyway.
    expect(
      treatmentTypesFor(cfg, cfg.clinics.get('a')!)
        .get('neuromodulator')!
        .stages.map((s) => s.key),
    ).toEqual(['reminder', 'incentive']);
  });
});
