import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classificationRulesFor, loadConfig } from '../../src/config/load.js';
import { classifyService } from '../../src/core/classify.js';
import { DEFAULT_BOOKING_RATES, parseBookingRates, rateFor } from '../../src/simulator/booking-rates.js';
import { parseHistoryCsv } from '../../src/simulator/history-csv.js';
import { hash32, mulberry32, streamFor } from '../../src/simulator/random.js';
import { generateHistory, historyToCsv, SYNTHETIC_MENU } from '../../src/simulator/synthetic.js';
import { fixtureClinic } from './helpers.js';

const NY = 'America/New_York';

describe('synthetic histories', () => {
  const opts = { clients: 300, treatments: 1800, start: '2026-01-05', seed: 3, timeZone: NY };

  it('have exactly the requested treatments and clients, and read back without a problem', () => {
    const rows = generateHistory(opts);
    expect(rows).toHaveLength(1800);
    expect(new Set(rows.map((r) => r.client_id)).size).toBe(300);
    expect(new Set(rows.map((r) => r.appointment_id)).size).toBe(1800);
    const parsed = parseHistoryCsv(historyToCsv(rows), NY);
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows).toHaveLength(1800);
  });

  it('fall within the year, during opening hours, never on a Sunday', () => {
    const start = Date.parse('2026-01-05T00:00:00-05:00');
    for (const r of generateHistory(opts)) {
      const at = Date.parse(r.completed_at);
      expect(at).toBeGreaterThanOrEqual(start);
      expect(at).toBeLessThan(start + 366 * 86_400_000);
      const local = new Intl.DateTimeFormat('en-US', {
        timeZone: NY,
        weekday: 'short',
        hour: 'numeric',
        hourCycle: 'h23',
      }).formatToParts(new Date(at));
      expect(local.find((p) => p.type === 'weekday')!.value).not.toBe('Sun');
      const hour = Number(local.find((p) => p.type === 'hour')!.value);
      expect(hour).toBeGreaterThanOrEqual(9);
      expect(hour).toBeLessThan(18);
    }
  });

  it('classify as intended with the product catalog (and a few services that do not)', () => {
    const cfg = loadConfig(fileURLToPath(new URL('../../config', import.meta.url)));
    const rules = classificationRulesFor(cfg, cfg.clinics.get('demo-clinic')!);
    for (const item of SYNTHETIC_MENU) {
      for (const name of item.names) {
        const c = classifyService({ name }, rules);
        expect([name, c.matched ? c.treatmentType : null]).toEqual([name, item.type]);
      }
    }
    const rows = generateHistory(opts);
    const unmatched = rows.filter((r) => !classifyService({ name: r.service_name }, rules).matched).length;
    expect(unmatched).toBeGreaterThan(0);
    expect(unmatched / rows.length).toBeLessThan(0.1);
  });

  it('repeat: clients come back (several visits of one type, spaced by days, not all on one day)', () => {
    const rows = generateHistory(opts);
    const visits = new Map<string, number[]>();
    for (const r of rows) visits.set(r.client_id, [...(visits.get(r.client_id) ?? []), Date.parse(r.completed_at)]);
    const repeaters = [...visits.values()].filter(
      (v) => new Set(v.map((t) => Math.floor(t / 86_400_000))).size >= 3,
    ).length;
    expect(repeaters).toBeGreaterThan(100);
  });

  it('are seeded: the same seed gives the same rows, another seed other rows', () => {
    expect(historyToCsv(generateHistory(opts))).toBe(historyToCsv(generateHistory(opts)));
    expect(historyToCsv(generateHistory({ ...opts, seed: 4 }))).not.toBe(historyToCsv(generateHistory(opts)));
  });
});

describe('booking rates', () => {
  it('default to the DOMAIN.md benchmark midpoints by purpose', () => {
    expect(DEFAULT_BOOKING_RATES.byPurpose).toMatchObject({
      reminder: 0.22,
      incentive: 0.35,
      checkin: 0.12,
      escalation: 0.3,
    });
  });

  it('parse stage keys and purposes, decimals and percentages; a stage key beats its purpose', () => {
    const types = [...fixtureClinic().types.values()];
    const r = parseBookingRates('incentive=40%, staff_escalation=0.5, checkin=0', types);
    expect(rateFor(r, { key: 'incentive', purpose: 'incentive' })).toBe(0.4);
    expect(rateFor(r, { key: 'staff_escalation', purpose: 'escalation' })).toBe(0.5);
    expect(rateFor(r, { key: 'results_checkin', purpose: 'checkin' })).toBe(0);
    expect(rateFor(r, { key: 'reminder', purpose: 'reminder' })).toBe(0.22);
  });

  it.each(['reminder=1.5', 'reminder', 'nonsense=0.2', 'reminder=abc', 'reminder=120%'])('refuse %j', (text) => {
    expect(() => parseBookingRates(text, [...fixtureClinic().types.values()])).toThrow(RangeError);
  });
});

describe('seeded random numbers', () => {
  it('repeat for a seed, differ between seeds and keys, stay in [0, 1)', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / 1000 - 0.5)).toBeLessThan(0.05);
    expect(streamFor(1, 'c1')()).not.toBe(streamFor(1, 'c2')());
    expect(streamFor(1, 'c1')()).not.toBe(streamFor(2, 'c1')());
    expect(hash32('abc')).toBe(hash32('abc'));
  });
});
