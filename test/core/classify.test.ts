import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { classificationRulesFor, type LoadedConfig, loadConfig } from '../../src/config/load.js';
import type { ClinicConfig } from '../../src/config/schema.js';
import { type ClassificationRules, classifyService, normalizeServiceName } from '../../src/core/classify.js';

const configDir = fileURLToPath(new URL('../../config', import.meta.url));
let cfg: LoadedConfig;
let demo: ClinicConfig;
let rules: ClassificationRules;

beforeAll(() => {
  cfg = loadConfig(configDir);
  demo = cfg.clinics.get('demo-clinic')!;
  rules = classificationRulesFor(cfg, demo);
});

const typeOf = (name: string, r: ClassificationRules = rules, id?: string): string | null => {
  const c = classifyService({ id, name }, r);
  return c.matched ? c.treatmentType : null;
};

describe('real-world service names, demo clinic rules', () => {
  it.each([
    // Neuromodulators, every way front desks spell them.
    ['Botox 20u', 'neuromodulator'],
    ['BOTOX® Cosmetic', 'neuromodulator'],
    ['Botox 20 units - Crow’s Feet', 'neuromodulator'],
    ['BTX', 'neuromodulator'],
    ['btx20', 'neuromodulator'],
    ['BTX 20u', 'neuromodulator'],
    ['Injectables', 'neuromodulator'],
    ['Neuromodulator - Forehead', 'neuromodulator'],
    ['Neurotoxin (per area)', 'neuromodulator'],
    ['Dysport 60 units', 'neuromodulator'],
    ['Xeomin', 'neuromodulator'],
    ['Jeuveau #Newtox', 'neuromodulator'],
    ['DAXXIFY', 'neuromodulator'],
    ['Daxxify 40u', 'neuromodulator'],
    ['Wrinkle Relaxer - 3 areas', 'neuromodulator'],
    ['Tox', 'neuromodulator'],
    ['Tox touch up', 'neuromodulator'],
    ['Forehead Lines', 'neuromodulator'], // only through the demo clinic's own synonyms
    // Lip filler.
    ['Juvéderm Ultra XC – Lips', 'lip_filler'],
    ['JUVEDERM ULTRA PLUS', 'lip_filler'],
    ['Juvederm', 'lip_filler'],
    ['Restylane Kysse', 'lip_filler'],
    ['Kysse 1ml', 'lip_filler'],
    ['Restylane Silk', 'lip_filler'],
    ['Volbella XC', 'lip_filler'],
    ['Lip Filler (1 syringe)', 'lip_filler'],
    ['Filler - Lips', 'lip_filler'],
    ['RHA 2 - Lips', 'lip_filler'],
    ['Lip Augmentation', 'lip_filler'],
    // Cheek filler: the longer, more specific phrase beats "juvederm".
    ['Juvederm Voluma Cheeks', 'cheek_filler'],
    ['Voluma', 'cheek_filler'],
    ['Voluma XC 2 syringes', 'cheek_filler'],
    ['RHA 4', 'cheek_filler'],
    ['Restylane Lyft - Cheeks', 'cheek_filler'],
    ['Cheek Filler', 'cheek_filler'],
    ['Midface filler', 'cheek_filler'],
    // Kybella, Sculptra.
    ['Kybella session 2', 'kybella'],
    ['Kybella – 2 vials', 'kybella'],
    ['Double Chin Injection', 'kybella'],
    ['Sculptra 2 vials', 'sculptra'],
    ['Sculptra Aesthetic', 'sculptra'],
    ['PLLA', 'sculptra'],
    ['Poly-L-Lactic Acid', 'sculptra'],
    // Skin and laser.
    ['VI Peel', 'chemical_peel'],
    ['Glycolic Peel 30%', 'chemical_peel'],
    ['TCA peel', 'chemical_peel'],
    ['HydraFacial Deluxe', 'hydrafacial'],
    ['Hydra-Facial Signature', 'hydrafacial'],
    ['Morpheus8', 'microneedling'],
    ['Morpheus8 - Face & Neck', 'microneedling'],
    ['Micro-Needling w/ PRP', 'microneedling'],
    ['SkinPen Microneedling', 'microneedling'],
    ['RF Microneedling', 'microneedling'],
    ['IPL Photofacial', 'laser'],
    ['Laser Hair Removal - Full Legs', 'laser_hair_removal'], // a series of its own (issue 11)
    ['BBL Hero', 'laser'],
    ['Fraxel Dual', 'laser'],
    ['Halo Laser', 'laser'],
    ['Clear and Brilliant', 'laser'],
    ['Clear + Brilliant', 'laser'], // the brand's own spelling
    // Not a repeatable treatment (or not one we know): not enrolled, reported for mapping.
    ['Consultation', null],
    ['Gift card', null],
    ['Gift Card $100', null],
    ['Signature Facial', null],
    ['Dermal Filler', null],
    ['Retail: SkinCeuticals C E Ferulic', null],
    ['Toxin', null], // "tox" matches whole words (optionally with a unit count), not prefixes
    ['Lipo', null],
    ['Peeling', null],
    ['', null],
    ['---', null],
  ] as const)('%j → %s', (name, expected) => {
    expect(typeOf(name)).toBe(expected);
  });
});

describe('how a match is made', () => {
  it('reports the synonym that won', () => {
    expect(classifyService({ name: 'Juvederm Voluma Cheeks' }, rules)).toEqual({
      matched: true,
      treatmentType: 'cheek_filler',
      by: 'synonym',
      synonym: 'juvederm voluma',
    });
  });

  it('the demo clinic synonyms extend the catalog, and only for that clinic', () => {
    const plain: ClinicConfig = { ...demo, services: { synonyms: {}, ids: {} } };
    const catalogOnly = classificationRulesFor(cfg, plain);
    expect(typeOf('Forehead Lines', catalogOnly)).toBeNull();
    expect(typeOf('Forehead Lines', rules)).toBe('neuromodulator');
    expect(classifyService({ name: 'Tox touch up' }, rules)).toMatchObject({ synonym: 'tox touch up' });
    expect(classifyService({ name: 'Tox touch up' }, catalogOnly)).toMatchObject({ synonym: 'tox' });
  });

  it('a clinic limited to some treatment types does not classify into the others', () => {
    const toxOnly: ClinicConfig = { ...demo, treatmentTypes: ['neuromodulator'] };
    const r = classificationRulesFor(cfg, toxOnly);
    expect(typeOf('Botox', r)).toBe('neuromodulator');
    expect(typeOf('Restylane Kysse', r)).toBeNull();
  });

  it('a mapped service id beats the name, and an unmapped id falls back to the name', () => {
    const withIds: ClinicConfig = {
      ...demo,
      services: { ...demo.services, ids: { 'svc-991': 'lip_filler', '42': 'sculptra' } },
    };
    const r = classificationRulesFor(cfg, withIds);
    expect(classifyService({ id: 'svc-991', name: 'Botox 20u' }, r)).toEqual({
      matched: true,
      treatmentType: 'lip_filler',
      by: 'service_id',
    });
    expect(classifyService({ id: '42', name: 'Consultation' }, r)).toEqual({
      matched: true,
      treatmentType: 'sculptra',
      by: 'service_id',
    });
    expect(classifyService({ id: 'svc-000', name: 'Botox 20u' }, r)).toMatchObject({
      matched: true,
      treatmentType: 'neuromodulator',
      by: 'synonym',
    });
    expect(classifyService({ id: null, name: 'Botox 20u' }, r)).toMatchObject({
      treatmentType: 'neuromodulator',
      by: 'synonym',
    });
    // Ids are exact: no case folding or trimming.
    expect(classifyService({ id: 'SVC-991', name: 'Consultation' }, r)).toEqual({ matched: false });
  });

  it('ties between equally long synonyms go to the type listed first', () => {
    const r: ClassificationRules = { synonyms: { first: ['alpha'], second: ['omega'] } };
    expect(typeOf('alpha omega', r)).toBe('first');
    expect(typeOf('omega alpha', r)).toBe('first');
    const swapped: ClassificationRules = { synonyms: { second: ['omega'], first: ['alpha'] } };
    expect(typeOf('alpha omega', swapped)).toBe('second');
  });

  it('a digit suffix is allowed only on the last word of a phrase', () => {
    const r: ClassificationRules = { synonyms: { x: ['lip filler'] } };
    expect(typeOf('lip filler2', r)).toBe('x');
    expect(typeOf('lip2 filler', r)).toBeNull();
    expect(typeOf('lip fillers', r)).toBeNull();
  });
});

describe('normalizeServiceName', () => {
  it.each([
    ['Juvéderm Ultra XC – Lips', 'juvederm ultra xc lips'],
    ['  BOTOX®  20u!! ', 'botox 20u'],
    ['Poly-L-Lactic_Acid', 'poly l lactic acid'],
    ['Crème Brûlée Peel', 'creme brulee peel'],
    ['Ｂｏｔｏｘ', 'botox'], // full-width letters fold under NFKD
    ['***', ''],
  ])('%j → %j', (input, expected) => {
    expect(normalizeServiceName(input)).toBe(expected);
  });
});

describe('classification properties', () => {
  const vocabulary = [
    'botox',
    'btx',
    'dysport',
    'xeomin',
    'juvederm',
    'voluma',
    'ultra',
    'lips',
    'lip',
    'filler',
    'cheeks',
    'rha',
    'kysse',
    'restylane',
    'kybella',
    'sculptra',
    'vi',
    'peel',
    'hydrafacial',
    'morpheus8',
    'ipl',
    'laser',
    'hair',
    'removal',
    'tox',
    'touch',
    'up',
    'forehead',
    'lines',
    'consultation',
    'gift',
    'card',
    'deluxe',
    'session',
    'units',
    'full',
    'legs',
    '2',
    '4',
    '20u',
    '60',
    'xc',
    'plus',
    'face',
    'neck',
  ];
  const wordsArb = fc.array(fc.constantFrom(...vocabulary), { minLength: 1, maxLength: 6 });
  const separatorArb = fc
    .array(
      fc.constantFrom(
        ' ',
        '  ',
        '-',
        ' - ',
        ' – ',
        '/',
        ', ',
        '.',
        '_',
        '(',
        ') ',
        '+',
        ' & ',
        '®',
        '\t',
        '#',
        '*',
        ': ',
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((parts) => parts.join(''));
  const accented: Record<string, string> = { a: 'á', e: 'é', i: 'í', o: 'ö', u: 'ü', c: 'ç', n: 'ñ' };

  it('is deterministic', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
        (name, id) => {
          expect(classifyService({ id, name }, rules)).toEqual(classifyService({ id, name }, rules));
        },
      ),
    );
  });

  it('ignores case, punctuation, spacing and accents between and within words', () => {
    fc.assert(
      fc.property(
        wordsArb,
        fc.array(separatorArb, { minLength: 7, maxLength: 7 }),
        fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }),
        fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }),
        (words, seps, upper, accent) => {
          const plain = words.join(' ');
          let variant = seps[0]!;
          words.forEach((w, i) => {
            if (i > 0) variant += seps[i]!;
            variant += [...w]
              .map((ch, j) => {
                const k = (i * 7 + j) % 60;
                const c = accent[k] && accented[ch] ? accented[ch]! : ch;
                return upper[k] ? c.toUpperCase() : c;
              })
              .join('');
          });
          variant += seps[6]!;
          expect(classifyService({ name: variant }, rules)).toEqual(classifyService({ name: plain }, rules));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a name containing a synonym as whole words is always matched', () => {
    const allSynonyms = Object.values(rules.synonyms).flat();
    fc.assert(
      fc.property(
        fc.constantFrom(...allSynonyms),
        fc.array(fc.constantFrom('session', 'full', 'face', 'deluxe', '2'), { maxLength: 3 }),
        (syn, extra) => {
          const c = classifyService({ name: [...extra, syn, ...extra].join(' ') }, rules);
          expect(c.matched).toBe(true);
        },
      ),
    );
  });
});
