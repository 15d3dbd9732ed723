/**
 * The holdout assignment (issue 13): a keyed hash of clinic and client, split within tolerance,
 * the same arm after a config reload, nested when the share grows; what a held-out client gets.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clinicOrThrow } from '../../src/config/load.js';
import { createConfigStore } from '../../src/config/store.js';
import { armForDraw, drawFromDigest, holdoutSuppresses } from '../../src/core/holdout.js';
import { assignArm, holdoutDraw } from '../../src/ingest/holdout.js';

const SECRET = 'holdout-test-secret-0123456789abcdef';
const ids = Array.from({ length: 10_000 }, (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);

describe('holdout assignment', () => {
  it('holds out 10% of 10,000 clients within four standard deviations (±120), and 30% likewise (±183)', () => {
    const clinic = {
      id: 'demo-clinic',
      lift: { holdout: 0.1, holdoutByTreatmentType: { filler: 0.3 }, averagePrice: {} },
    };
    const held = ids.filter((id) => assignArm(SECRET, clinic, 'neuromodulator', id) === 'holdout').length;
    // Binomial(10000, 0.1): sd = sqrt(10000 · 0.1 · 0.9) = 30.
    expect(Math.abs(held - 1000)).toBeLessThanOrEqual(120);
    const held30 = ids.filter((id) => assignArm(SECRET, clinic, 'filler', id) === 'holdout').length;
    // sd = sqrt(10000 · 0.3 · 0.7) ≈ 45.8.
    expect(Math.abs(held30 - 3000)).toBeLessThanOrEqual(183);
    // The arms nest: every client held out at 10% is held out at 30% (one draw per clinic and client).
    for (const id of ids)
      if (assignArm(SECRET, clinic, 'neuromodulator', id) === 'holdout')
        expect(assignArm(SECRET, clinic, 'filler', id)).toBe('holdout');
  });

  it('is keyed: another secret or another clinic draws differently; the same inputs always draw the same', () => {
    const a = ids.slice(0, 200).map((id) => holdoutDraw(SECRET, 'demo-clinic', id));
    expect(ids.slice(0, 200).map((id) => holdoutDraw(SECRET, 'demo-clinic', id))).toEqual(a);
    const other = ids.slice(0, 200).map((id) => holdoutDraw('another-secret', 'demo-clinic', id));
    const otherClinic = ids.slice(0, 200).map((id) => holdoutDraw(SECRET, 'other-clinic', id));
    expect(other.filter((d, i) => d === a[i]).length).toBe(0);
    expect(otherClinic.filter((d, i) => d === a[i]).length).toBe(0);
    for (const d of a) expect(d >= 0 && d < 1).toBe(true);
  });

  it('keeps every client in its arm across a config reload', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebook-holdout-'));
    cpSync('config', dir, { recursive: true });
    const file = join(dir, 'clinics', 'demo-clinic.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\nlift: { holdout: 0.1 }\n`);
    const store = createConfigStore(dir);
    const arms = () =>
      ids.map((id) => assignArm(SECRET, clinicOrThrow(store.current(), 'demo-clinic'), 'neuromodulator', id));
    const before = arms();
    expect(before.filter((a) => a === 'holdout').length).toBeGreaterThan(0);
    // An unrelated edit, then a reload: nobody moves.
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n# edited\n`);
    store.reload();
    expect(arms()).toEqual(before);
  });

  it('needs a secret once a share is set, and none while the share is 0', () => {
    expect(assignArm(undefined, { id: 'c', lift: undefined }, 't', ids[0]!)).toBe('treated');
    expect(() =>
      assignArm(
        undefined,
        { id: 'c', lift: { holdout: 0.1, holdoutByTreatmentType: {}, averagePrice: {} } },
        't',
        ids[0]!,
      ),
    ).toThrow(/REBOOK_HOLDOUT_SECRET/);
  });

  it('draws from the first 48 bits of the digest', () => {
    expect(drawFromDigest(new Uint8Array(32))).toBe(0);
    expect(drawFromDigest(new Uint8Array([0x80, 0, 0, 0, 0, 0, 0xff]))).toBe(0.5);
    expect(armForDraw(0.0999, 0.1)).toBe('holdout');
    expect(armForDraw(0.1, 0.1)).toBe('treated');
    expect(armForDraw(0, 0)).toBe('treated');
  });
});

describe('what a held-out client receives', () => {
  it.each([
    ['holdout', 'care', false],
    ['holdout', 'marketing', true],
    ['holdout', undefined, true],
    ['treated', 'marketing', false],
    ['treated', undefined, false],
    [null, undefined, false],
  ] as const)('arm %s, stage category %s: suppressed %s', (arm, category, suppressed) => {
    expect(holdoutSuppresses(arm, category)).toBe(suppressed);
  });
});
