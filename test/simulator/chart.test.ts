import { describe, expect, it } from 'vitest';
import { escapeXml, niceStep, renderChart } from '../../src/simulator/chart.js';
import type { SimulationResult, WeekRow } from '../../src/simulator/engine.js';
import { renderSummary } from '../../src/simulator/report.js';
import { csv, fixtureClinic, run } from './helpers.js';
import { allElements, parseXml } from './xml.js';

function week(weekStart: string, email: number, sms: number, staffTasks: number): WeekRow {
  return {
    weekStart,
    email,
    sms,
    staffTasks,
    offers: 0,
    deferredBySendWindow: 0,
    deferredByCaps: 0,
    suppressedByCaps: 0,
    rebookings: 0,
    enrolled: 0,
    care: 0,
    attended: 0,
    cancelled: 0,
    noShows: 0,
  };
}

describe('the SVG chart', () => {
  const base = run(csv([['c1', 'a1', 'Botox', '2026-01-15', '400', 'y', '+12125550123', 'y', 'y']]), fixtureClinic());
  const result: SimulationResult = {
    ...base,
    clinic: 'a <b> & "c"',
    weekly: [week('2026-01-05', 10, 5, 2), week('2026-01-12', 0, 0, 0), week('2026-01-19', 40, 20, 7)],
  };

  it('is well-formed XML with an svg root, escaped text', () => {
    const svg = parseXml(renderChart(result));
    expect(svg.name).toBe('svg');
    expect(svg.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(allElements(svg).find((e) => e.name === 'title')!.text).toContain('a <b> & "c"');
  });

  it('draws one stacked bar per non-empty series and week, heights proportional to the counts', () => {
    const els = allElements(parseXml(renderChart(result)));
    const bars = els.filter((e) => e.name === 'rect' && e.attrs['data-series']);
    expect(bars.map((b) => [b.attrs['data-week'], b.attrs['data-series']])).toEqual([
      ['2026-01-05', 'email'],
      ['2026-01-19', 'email'],
      ['2026-01-05', 'sms'],
      ['2026-01-19', 'sms'],
    ]);
    const h = (i: number) => Number(bars[i]!.attrs.height);
    expect(h(1) / h(0)).toBeCloseTo(4, 1);
    expect(h(3) / h(2)).toBeCloseTo(4, 1);
    // SMS sits on top of email.
    expect(Number(bars[2]!.attrs.y) + h(2)).toBeCloseTo(Number(bars[0]!.attrs.y), 0);
    const line = els.find((e) => e.name === 'polyline' && e.attrs['data-series'] === 'staffTasks')!;
    const ys = line.attrs.points!.split(' ').map((p) => Number(p.split(',')[1]));
    expect(ys).toHaveLength(3);
    expect(ys[1]!).toBeGreaterThan(ys[0]!); // 0 tasks is lower on the page (larger y) than 2
    expect(ys[2]!).toBeLessThan(ys[0]!);
  });

  it('picks round axis steps', () => {
    expect([niceStep(7), niceStep(60), niceStep(409), niceStep(0)]).toEqual([2, 10, 100, 1]);
    expect(escapeXml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&apos;');
  });
});

describe('the summary table', () => {
  it('shows the totals, the stages and the unclassified services', () => {
    const r = run(
      csv([
        ['c1', 'a1', 'Botox', '2026-01-15', '400', 'y', '+12125550123', 'y', 'y'],
        ['c2', 'a2', 'Consultation', '2026-01-15', '', 'y', '', '', ''],
      ]),
      fixtureClinic(),
    );
    const text = renderSummary(r, { malformedRows: 2 });
    expect(text).toMatch(/Client messages\s+3\s/);
    expect(text).toMatch(/ {2}email\s+2\s/);
    expect(text).toMatch(/Staff tasks \(front desk\)\s+1\s/);
    expect(text).toMatch(/Deferred by the send window\s+1$/m);
    expect(text).toContain('2 malformed');
    expect(text).toContain('"Consultation" (1)');
    // rate, reached, booked, visits, expected
    expect(text).toMatch(/reminder\s+0\.00\s+1\s+0\s+0\s+0\.0/);
    expect(text).toMatch(/ {2}attended \(became visits\)\s+0$/m);
  });
});
