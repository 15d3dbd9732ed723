import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  type ConfigProblem,
  classificationRulesFor,
  clinicOrThrow,
  loadConfig,
  treatmentTypesFor,
} from '../../src/config/load.js';

const repoConfig = fileURLToPath(new URL('../../config', import.meta.url));
const made: string[] = [];

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A config directory in the OS temp dir with the given files (paths relative to it). */
function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rebook-config-'));
  made.push(dir);
  mkdirSync(join(dir, 'clinics'));
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

/** file (relative to the config dir), line and path of each problem, for comparing as a set. */
function located(dir: string, problems: ConfigProblem[]): string[] {
  return problems
    .map((p) => {
      const abs = resolve(process.cwd(), p.file);
      expect(abs.startsWith(dir + sep)).toBe(true);
      return `${abs
        .slice(dir.length + 1)
        .split(sep)
        .join('/')}:${p.line ?? '?'} ${p.path}`;
    })
    .sort();
}

const CATALOG = `treatmentTypes:
  neuromodulator:
    label: Botox
    intervalDays: 90
    stages:
      - { key: reminder, day: 80, channel: email, purpose: reminder }
      - { key: incentive, day: 90, channel: sms, purpose: incentive }
    synonyms: [botox, btx]
  kybella:
    label: Kybella
    intervalDays: 42
    stages:
      - { key: reminder, day: 35, channel: email, purpose: reminder }
`;

const clinic = (id: string, extra = '') => `id: ${id}
name: Clinic ${id}
timeZone: Europe/London
bookingUrl: https://book.example.com/${id}
address: 1 High Street, London
${extra}`;

describe('loadConfig: valid configuration', () => {
  it('loads a catalog and clinics, applying defaults', () => {
    const dir = configDir({
      'catalog.yaml': CATALOG,
      'clinics/one.yaml': clinic('one'),
      'clinics/two.yml': clinic(
        'two',
        'sendTime: "09:30"\ntreatmentTypes: [kybella]\nservices:\n  ids: { "svc-7": kybella }\n',
      ),
      'clinics/README.md': 'not a clinic: ignored',
    });
    const cfg = loadConfig(dir);
    expect(Object.keys(cfg.catalog.treatmentTypes).sort()).toEqual(['kybella', 'neuromodulator']);
    expect(cfg.catalog.treatmentTypes.kybella!.synonyms).toEqual([]);
    expect([...cfg.clinics.keys()].sort()).toEqual(['one', 'two']);

    const one = cfg.clinics.get('one')!;
    expect(one.sendTime).toBe('10:00');
    expect(one.platform).toBe('generic');
    expect(one.services).toEqual({ synonyms: {}, ids: {} });
    expect(one.apiKeys).toEqual([]);
    expect(one.templates).toEqual({});
    expect([...treatmentTypesFor(cfg, one).keys()].sort()).toEqual(['kybella', 'neuromodulator']);

    const two = cfg.clinics.get('two')!;
    expect(two.sendTime).toBe('09:30');
    expect([...treatmentTypesFor(cfg, two).keys()]).toEqual(['kybella']);
    expect(classificationRulesFor(cfg, two).serviceIds).toEqual({ 'svc-7': 'kybella' });
  });

  it("loads the repository's config/ with the demo clinic", () => {
    const cfg = loadConfig(repoConfig);
    expect(Object.keys(cfg.catalog.treatmentTypes)).toEqual(
      expect.arrayContaining([
        'neuromodulator',
        'lip_filler',
        'cheek_filler',
        'kybella',
        'sculptra',
        'chemical_peel',
        'microneedling',
        'hydrafacial',
        'laser',
      ]),
    );
    const demo = clinicOrThrow(cfg, 'demo-clinic');
    expect(demo.timeZone).toBe('America/New_York');
    expect(demo.sendTime).toBe('10:00');
    expect(demo.bookingUrl).toMatch(/^https:\/\//);
    // Every client-facing stage purpose and channel of the catalog has a template in the demo clinic.
    for (const t of treatmentTypesFor(cfg, demo).values()) {
      for (const s of t.stages) expect(demo.templates[s.purpose]?.[s.channel], `${t.key}/${s.key}`).toBeDefined();
    }
    expect(treatmentTypesFor(cfg, demo).get('neuromodulator')!.synonyms).toEqual(
      expect.arrayContaining(['botox', 'tox touch up', 'forehead lines']),
    );
  });

  it('clinicOrThrow names no client data and uses the coded error', () => {
    const cfg = loadConfig(repoConfig);
    expect(() => clinicOrThrow(cfg, 'no-such-clinic')).toThrow(expect.objectContaining({ code: 'clinic_not_found' }));
  });
});

describe('loadConfig: every problem in every file at once', () => {
  it('reports catalog, schema, YAML and cross-file problems together with file, line and path', () => {
    const dir = configDir({
      // line 7: not a channel; line 12: unknown key.
      'catalog.yaml': `treatmentTypes:
  neuromodulator:
    label: Botox
    intervalDays: 90
    stages:
      - { key: reminder, day: 80, channel: email, purpose: reminder }
      - { key: incentive, day: 90, channel: fax, purpose: incentive }
    synonyms: [botox]
  lip_filler:
    label: lip filler
    intervalDays: 180
    colour: red
    stages:
      - { key: reminder, day: 160, channel: email, purpose: reminder }
`,
      // line 3: not a time zone.
      'clinics/a-zone.yaml': `id: a-clinic
name: A
timeZone: America/Nowhere
bookingUrl: https://a.example.com
address: 1 A Street
`,
      // line 6: misspelt key, rejected by the strict schema.
      'clinics/b-key.yaml': `id: b-clinic
name: B
timeZone: UTC
bookingUrl: https://b.example.com
address: 1 B Street
sendtime: "09:00"
`,
      // line 2: not YAML.
      'clinics/c-yaml.yaml': `id: c-clinic
name: a: b
timeZone: UTC
`,
      // lines 9 and 11: treatment types the catalog does not have.
      'clinics/d-refs.yaml': `id: d-clinic
name: D
timeZone: Asia/Kolkata
bookingUrl: https://d.example.com
address: 1 D Street
services:
  synonyms:
    neuromodulator: [tox touch up]
    botox_typo: [btx]
  ids:
    svc-1: kybella
`,
      // line 1: same id as d-refs.yaml.
      'clinics/e-dup.yaml': `id: d-clinic
name: E
timeZone: Australia/Sydney
bookingUrl: https://e.example.com
address: 1 E Street
`,
      'clinics/f-fine.yaml': clinic('f-clinic'),
    });
    let error: unknown;
    try {
      loadConfig(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(located(dir, problems)).toEqual(
      [
        'catalog.yaml:7 treatmentTypes.neuromodulator.stages.1.channel',
        'catalog.yaml:12 treatmentTypes.lip_filler.colour',
        'clinics/a-zone.yaml:3 timeZone',
        'clinics/b-key.yaml:6 sendtime',
        'clinics/c-yaml.yaml:2 ',
        'clinics/d-refs.yaml:9 services.synonyms.botox_typo',
        'clinics/d-refs.yaml:11 services.ids.svc-1',
        'clinics/e-dup.yaml:1 id',
      ].sort(),
    );
    const byPath = (path: string) => problems.find((p) => p.path === path)?.message ?? '';
    expect(byPath('treatmentTypes.neuromodulator.stages.1.channel')).toMatch(/email|sms|staff/);
    expect(byPath('treatmentTypes.lip_filler.colour')).toMatch(/colour/);
    expect(byPath('timeZone')).toMatch(/time zone/);
    expect(byPath('sendtime')).toMatch(/sendtime/);
    expect(byPath('services.synonyms.botox_typo')).toMatch(/botox_typo/);
    expect(byPath('services.ids.svc-1')).toMatch(/kybella/);
    expect(byPath('id')).toMatch(/duplicate.*d-clinic/);
    expect(problems.find((p) => p.file.endsWith('c-yaml.yaml'))!.message).toMatch(/^YAML: /);

    // One message lists them all, each as file:line path.
    const message = (error as Error).message;
    for (const p of problems) expect(message).toContain(`${p.file}:${p.line} ${p.path || '(root)'}: ${p.message}`);
  });

  it.each([
    ['a bad time zone', clinic('x').replace('Europe/London', 'Europe/Londres'), 'clinics/x.yaml:3 timeZone'],
    ['a send time that is not HH:MM', clinic('x', 'sendTime: "9am"\n'), 'clinics/x.yaml:6 sendTime'],
    [
      'a booking URL that is not a URL',
      clinic('x').replace('https://book.example.com/x', 'book here'),
      'clinics/x.yaml:4 bookingUrl',
    ],
    ['an id that is not a slug', clinic('Main Clinic'), 'clinics/x.yaml:1 id'],
    [
      'a secret written instead of an env var name',
      clinic('x', 'apiKeys:\n  - { name: default, env: "sk_live_abc" }\n'),
      'clinics/x.yaml:7 apiKeys.0.env',
    ],
    [
      'an unknown nested key',
      clinic('x', 'staff:\n  notify:\n    email: a@example.com\n    pager: "555"\n'),
      'clinics/x.yaml:9 staff.notify.pager',
    ],
    ['an unknown platform', clinic('x', 'platform: acuity\n'), 'clinics/x.yaml:6 platform'],
    [
      'an unknown treatment type in the list the clinic runs',
      clinic('x', 'treatmentTypes: [neuromodulator, botox]\n'),
      'clinics/x.yaml:6 treatmentTypes.1',
    ],
    [
      'an unknown treatment type in services.synonyms',
      clinic('x', 'services:\n  synonyms:\n    fillers: [filler]\n'),
      'clinics/x.yaml:8 services.synonyms.fillers',
    ],
    ['a duplicate key', clinic('x', 'name: again\n'), 'clinics/x.yaml:6 '],
    ['an empty file', '', 'clinics/x.yaml:? '],
    [
      'a template with an unknown placeholder',
      clinic(
        'x',
        'templates:\n  reminder:\n    email:\n      subject: "Hi {{first_name}}"\n      body: "Book: {{bookingUrl}} {{clinicAddress}} {{unsubscribeUrl}}"\n',
      ),
      'clinics/x.yaml:9 templates.reminder.email.subject',
    ],
    [
      'an empty template body',
      clinic('x', 'templates:\n  incentive:\n    sms:\n      body: ""\n'),
      'clinics/x.yaml:9 templates.incentive.sms.body',
    ],
  ])('a clinic with %s is rejected at its line', (_, text, expected) => {
    const dir = configDir({ 'catalog.yaml': CATALOG, 'clinics/x.yaml': text });
    expect(located(dir, problemsOf(dir))).toEqual([expected]);
  });

  it.each([
    [
      'a duplicate stage key',
      CATALOG.replace('key: incentive', 'key: reminder'),
      'catalog.yaml:7 treatmentTypes.neuromodulator.stages.1.key',
    ],
    [
      'an unknown stage channel',
      CATALOG.replace('channel: sms', 'channel: whatsapp'),
      'catalog.yaml:7 treatmentTypes.neuromodulator.stages.1.channel',
    ],
    [
      'an unknown key in a stage',
      CATALOG.replace('purpose: incentive }', 'purpose: incentive, offset: 3 }'),
      'catalog.yaml:7 treatmentTypes.neuromodulator.stages.1.offset',
    ],
    [
      'a zero interval',
      CATALOG.replace('intervalDays: 42', 'intervalDays: 0'),
      'catalog.yaml:11 treatmentTypes.kybella.intervalDays',
    ],
    [
      'no stages',
      CATALOG.replace(/ {4}stages:\n {6}- \{ key: reminder, day: 35.*\n/, '    stages: []\n'),
      'catalog.yaml:12 treatmentTypes.kybella.stages',
    ],
    [
      'a type key that is not a slug',
      CATALOG.replace('  kybella:', '  Kybella Series:'),
      'catalog.yaml:9 treatmentTypes.Kybella Series',
    ],
  ])('a catalog with %s is rejected at its line', (_, text, expected) => {
    const dir = configDir({ 'catalog.yaml': text, 'clinics/x.yaml': clinic('x') });
    expect(located(dir, problemsOf(dir))).toEqual([expected]);
  });

  it('loads stage days out of order with a warning at the line (the planner runs stages by day)', () => {
    const dir = configDir({ 'catalog.yaml': CATALOG.replace('day: 90', 'day: 79'), 'clinics/x.yaml': clinic('x') });
    const cfg = loadConfig(dir);
    const w = cfg.warnings.filter((p) => /out of order/.test(p.message));
    expect(located(dir, w)).toEqual(['catalog.yaml:7 treatmentTypes.neuromodulator.stages.1.day']);
    expect(w[0]!.message).toMatch(/"incentive" \(day 79\).*"reminder" \(day 80\)/);
  });

  it('reports each unknown key of an object on its own line', () => {
    const dir = configDir({
      'catalog.yaml': CATALOG,
      'clinics/x.yaml': clinic('x', 'timezone: UTC\nsend_time: "09:00"\n'),
    });
    expect(located(dir, problemsOf(dir))).toEqual(['clinics/x.yaml:6 timezone', 'clinics/x.yaml:7 send_time']);
  });

  it('reports a missing catalog together with the problems of the clinics', () => {
    const dir = configDir({ 'clinics/x.yaml': clinic('x').replace('Europe/London', 'Nowhere') });
    const problems = problemsOf(dir);
    expect(problems).toHaveLength(2);
    expect(problems.find((p) => /catalog/.test(p.message))).toBeDefined();
    expect(problems.find((p) => p.path === 'timeZone')).toBeDefined();
  });
});
