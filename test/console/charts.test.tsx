/**
 * The SVG charts' geometry read back from the rendered markup: bar heights and funnel widths
 * proportional to the values, labels and the accessible title/desc present, a figures table
 * beside each chart, and an empty-state message (never NaN) when there is nothing to draw.
 */
import { render } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import { BarChart, FunnelChart, LineChart } from '../../src/console/components/charts.js';

const attrs = (html: string, tag: string, cls: string) =>
  [...html.matchAll(new RegExp(`<${tag} [^>]*class="[^"]*${cls}[^"]*"[^>]*>`, 'g'))].map((m) => {
    const out: Record<string, string> = {};
    for (const a of m[0].matchAll(/([\w-]+)="([^"]*)"/g)) out[a[1]!] = a[2]!;
    return out;
  });
const text = { title: 'Messages', desc: 'Messages by status', empty: 'No messages yet: enrol a treatment.', id: 'c1' };

describe('BarChart', () => {
  it('draws bars proportional to the values, with labels, values and an accessible name', () => {
    const html = render(
      <BarChart
        {...text}
        data={[
          { label: 'sent', value: 30 },
          { label: 'failed', value: 10 },
          { label: 'read', value: 0 },
        ]}
      />,
    );
    const bars = attrs(html, 'rect', 'chart__bar');
    expect(bars).toHaveLength(3);
    const h = bars.map((b) => Number(b.height));
    expect(h[0]! / h[1]!).toBeCloseTo(3, 2);
    expect(h[2]).toBe(0);
    // Bars stand on the same baseline.
    expect(bars.map((b) => Number(b.y) + Number(b.height))).toEqual([204, 204, 204]);
    expect(html).toContain('>sent</text>');
    expect(html).toContain('>failed</text>');
    expect(html).toContain('role="img"');
    expect(html).toMatch(/<title id="c1-title">Messages<\/title>/);
    expect(html).toMatch(/<desc id="c1-desc">Messages by status<\/desc>/);
    expect(html).toContain('aria-labelledby="c1-title c1-desc"');
    expect(html).toMatch(/<table class="chart__table">.*<th scope="row">failed<\/th><td>10<\/td>/s);
    expect(html).not.toMatch(/NaN|Infinity|style=/);
  });

  it('empty or all-zero data: the empty-state message, no SVG', () => {
    for (const data of [[], [{ label: 'sent', value: 0 }], [{ label: 'x', value: Number.NaN }]]) {
      const html = render(<BarChart {...text} data={data} />);
      expect(html).toContain('No messages yet: enrol a treatment.');
      expect(html).not.toContain('<svg');
      expect(html).not.toContain('NaN');
    }
  });
});

describe('LineChart', () => {
  it('places points by value on a shared scale, breaks lines at gaps, and differs series by marker shape', () => {
    const html = render(
      <LineChart
        {...text}
        id="l1"
        categories={['2026-01', '2026-02', '2026-03', '2026-04']}
        series={[
          { name: 'Rebooked', values: [0.5, 0.25, null, 1] },
          { name: 'Before any message', values: [0.25, 0.25, 0.25, 0.25] },
        ]}
        yMax={1}
        area
        formatValue={(v) => `${Math.round(v * 100)}%`}
      />,
    );
    const circles = attrs(html, 'circle', 'chart__marker');
    expect(circles).toHaveLength(3); // null month skipped
    const base = 204; // H - bottom padding
    const plotH = 240 - 20 - 36;
    expect(Number(circles[0]!.cy)).toBeCloseTo(base - 0.5 * plotH, 1);
    expect(Number(circles[1]!.cy)).toBeCloseTo(base - 0.25 * plotH, 1);
    expect(Number(circles[2]!.cy)).toBeCloseTo(base - plotH, 1);
    // The first series is broken by its gap into one drawable run (months 1–2); the second is one line.
    expect(attrs(html, 'polyline', 'chart__line')).toHaveLength(2);
    expect(attrs(html, 'rect', 'chart__marker')).toHaveLength(4); // second series: squares
    expect(attrs(html, 'path', 'chart__area')).toHaveLength(1);
    expect(html).toContain('>2026-03</text>');
    expect(html).toMatch(/<th scope="row">2026-03<\/th><td>—<\/td><td>25%<\/td>/);
    expect(html).not.toMatch(/NaN|Infinity/);
  });

  it('a year of months: about six labels, always the current month, ending inside the chart', () => {
    const months = Array.from({ length: 12 }, (_, i) => `M${String(i + 1).padStart(2, '0')}`);
    const html = render(
      <LineChart
        {...text}
        id="l2"
        categories={months}
        series={[{ name: 'Visits', values: months.map((_, i) => i) }]}
      />,
    );
    const labels = [
      ...html.matchAll(/<text class="chart__label" x="([\d.]+)" y="220" text-anchor="(\w+)">(M\d+)</g),
    ].map((m) => ({ x: Number(m[1]), anchor: m[2], text: m[3] }));
    // Every other month, the one just before the last dropped so the two never overprint.
    expect(labels.map((l) => l.text)).toEqual(['M01', 'M03', 'M05', 'M07', 'M09', 'M12']);
    // The last label ends at the plot's right edge (600 − 12) instead of spilling past the viewBox.
    expect(labels.at(-1)).toEqual({ x: 588, anchor: 'end', text: 'M12' });
    expect(labels.slice(0, -1).every((l) => l.anchor === 'middle')).toBe(true);
  });

  it('no figure at all: the empty-state message', () => {
    const html = render(<LineChart {...text} categories={['2026-01']} series={[{ name: 'x', values: [null] }]} />);
    expect(html).toContain(text.empty);
    expect(html).not.toContain('<svg');
  });
});

describe('FunnelChart', () => {
  it('bar widths proportional to each step, the first full width; notes in the table', () => {
    const html = render(
      <FunnelChart
        {...text}
        id="f1"
        steps={[
          { label: 'Enrolled', value: 200 },
          { label: 'Reminder', value: 150, note: '30 booked after it' },
          { label: 'Churned', value: 50 },
        ]}
      />,
    );
    const bars = attrs(html, 'rect', 'chart__bar');
    const w = bars.map((b) => Number(b.width));
    expect(w[1]! / w[0]!).toBeCloseTo(0.75, 3);
    expect(w[2]! / w[0]!).toBeCloseTo(0.25, 3);
    expect(html).toContain('>Enrolled</text>');
    expect(html).toMatch(/<th scope="row">Reminder<\/th><td>150<\/td><td>30 booked after it<\/td>/);
  });

  it('nobody enrolled: the empty-state message', () => {
    const html = render(<FunnelChart {...text} steps={[{ label: 'Enrolled', value: 0 }]} />);
    expect(html).toContain(text.empty);
    expect(html).not.toMatch(/NaN/);
  });
});
