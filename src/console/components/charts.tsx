/**
 * Small SVG charts rendered on the server: no script, no inline style (the CSP forbids both),
 * colours from dashboard.css classes (Okabe–Ito palette, safe for colour-blind readers) and never
 * colour alone: series differ by dash and marker shape too. Each chart is an accessible image
 * (role="img", <title>, <desc>) followed by the same figures as a table, and says what to do
 * when there is nothing to draw instead of drawing NaN.
 */
import type { ComponentChildren } from 'preact';

export interface Datum {
  label: string;
  value: number;
}

interface ChartText {
  /** Short name of the chart (the SVG <title> and the table caption). */
  title: string;
  /** One sentence on what it shows (the SVG <desc>). */
  desc: string;
  /** Shown instead of the chart when there is nothing to draw: say what to do next. */
  empty: string;
  formatValue?: (v: number) => string;
  /** Unique on the page: ids for aria-labelledby. */
  id: string;
}

const W = 600;
const H = 240;
const PAD = { top: 20, right: 12, bottom: 36, left: 44 };
const round = (n: number) => Math.round(n * 100) / 100;
const plain = (v: number) => String(Math.round(v * 100) / 100);

function EmptyChart({ title, message }: { title: string; message: string }) {
  return (
    <figure class="chart chart--empty">
      <figcaption class="chart__title">{title}</figcaption>
      <p class="chart__empty">{message}</p>
    </figure>
  );
}

function ChartFrame(props: {
  id: string;
  title: string;
  desc: string;
  children: ComponentChildren;
  table: ComponentChildren;
}) {
  return (
    <figure class="chart">
      <svg
        class="chart__svg"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby={`${props.id}-title ${props.id}-desc`}
        preserveAspectRatio="xMidYMid meet"
      >
        <title id={`${props.id}-title`}>{props.title}</title>
        <desc id={`${props.id}-desc`}>{props.desc}</desc>
        {props.children}
      </svg>
      <details class="chart__data">
        <summary>{props.title}: the figures</summary>
        {props.table}
      </details>
    </figure>
  );
}

function DataTable(props: { caption: string; head: string[]; rows: (string | number)[][] }) {
  return (
    <table class="chart__table">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          {props.head.map((h) => (
            <th scope="col">{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr>{r.map((c, i) => (i === 0 ? <th scope="row">{c}</th> : <td>{c}</td>))}</tr>
        ))}
      </tbody>
    </table>
  );
}

const finite = (v: number) => (Number.isFinite(v) ? v : 0);

/** Vertical bars, heights proportional to the values (the tallest fills the plot). */
export function BarChart(props: ChartText & { data: Datum[]; valueLabel?: string }) {
  const fmt = props.formatValue ?? plain;
  const data = props.data.map((d) => ({ ...d, value: Math.max(0, finite(d.value)) }));
  const max = Math.max(0, ...data.map((d) => d.value));
  if (data.length === 0 || max === 0) return <EmptyChart title={props.title} message={props.empty} />;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / data.length;
  const barW = round(Math.min(64, slot * 0.7));
  return (
    <ChartFrame
      id={props.id}
      title={props.title}
      desc={props.desc}
      table={
        <DataTable
          caption={props.title}
          head={['', props.valueLabel ?? 'Value']}
          rows={data.map((d) => [d.label, fmt(d.value)])}
        />
      }
    >
      <line class="chart__axis" x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} />
      {data.map((d, i) => {
        const h = round((d.value / max) * plotH);
        const x = round(PAD.left + i * slot + (slot - barW) / 2);
        const y = round(H - PAD.bottom - h);
        return (
          <g class="chart__bar-group">
            <rect class="chart__bar chart__series-1" x={x} y={y} width={barW} height={h}>
              <title>{`${d.label}: ${fmt(d.value)}`}</title>
            </rect>
            <text class="chart__value" x={round(x + barW / 2)} y={round(y - 4)} text-anchor="middle">
              {fmt(d.value)}
            </text>
            <text class="chart__label" x={round(x + barW / 2)} y={H - PAD.bottom + 16} text-anchor="middle">
              {d.label}
            </text>
          </g>
        );
      })}
    </ChartFrame>
  );
}

export interface LineSeries {
  name: string;
  /** One value per category (null: no figure, drawn as a gap). */
  values: (number | null)[];
}

/** Lines over categories (months), each series with its own colour, dash and marker; the first one filled below. */
export function LineChart(
  props: ChartText & { categories: string[]; series: LineSeries[]; yMax?: number; area?: boolean },
) {
  const fmt = props.formatValue ?? plain;
  const all = props.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  if (props.categories.length === 0 || all.length === 0)
    return <EmptyChart title={props.title} message={props.empty} />;
  const max = Math.max(props.yMax ?? 0, ...all);
  const top = max > 0 ? max : 1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = props.categories.length > 1 ? plotW / (props.categories.length - 1) : 0;
  const xOf = (i: number) => round(PAD.left + (props.categories.length > 1 ? i * step : plotW / 2));
  const yOf = (v: number) => round(H - PAD.bottom - (Math.max(0, v) / top) * plotH);
  const markers = ['circle', 'square', 'diamond'] as const;
  return (
    <ChartFrame
      id={props.id}
      title={props.title}
      desc={props.desc}
      table={
        <DataTable
          caption={props.title}
          head={['', ...props.series.map((s) => s.name)]}
          rows={props.categories.map((c, i) => [
            c,
            ...props.series.map((s) => (s.values[i] == null ? '—' : fmt(s.values[i]!))),
          ])}
        />
      }
    >
      <line class="chart__axis" x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} />
      <text class="chart__label" x={PAD.left - 6} y={PAD.top + 4} text-anchor="end">
        {fmt(top)}
      </text>
      <text class="chart__label" x={PAD.left - 6} y={H - PAD.bottom} text-anchor="end">
        {fmt(0)}
      </text>
      {props.categories.map((c, i) => {
        // At most about six labels (a year of months side by side would overprint each other),
        // and always the last: the current month is the one read first. It ends at the plot's
        // edge instead of centring there, where half of it would be cut off.
        const n = props.categories.length;
        const every = Math.ceil(n / 6);
        const last = i === n - 1 && n > 1;
        if (!last && (i % every !== 0 || (n - 1 - i > 0 && n - 1 - i < every))) return null;
        return (
          <text class="chart__label" x={xOf(i)} y={H - PAD.bottom + 16} text-anchor={last ? 'end' : 'middle'}>
            {c}
          </text>
        );
      })}
      {props.series.map((s, k) => {
        // Runs of consecutive figures: a null breaks the line.
        const runs: { i: number; v: number }[][] = [];
        let run: { i: number; v: number }[] = [];
        s.values.forEach((v, i) => {
          if (v === null || !Number.isFinite(v)) {
            if (run.length) runs.push(run);
            run = [];
          } else run.push({ i, v });
        });
        if (run.length) runs.push(run);
        const marker = markers[k % markers.length]!;
        return (
          <g class={`chart__series chart__series-${(k % 3) + 1}`}>
            {props.area &&
              k === 0 &&
              runs
                .filter((r) => r.length > 1)
                .map((r) => (
                  <path
                    class="chart__area"
                    d={`M${xOf(r[0]!.i)},${H - PAD.bottom} ${r.map((p) => `L${xOf(p.i)},${yOf(p.v)}`).join(' ')} L${xOf(r.at(-1)!.i)},${H - PAD.bottom} Z`}
                  />
                ))}
            {runs
              .filter((r) => r.length > 1)
              .map((r) => (
                <polyline class="chart__line" points={r.map((p) => `${xOf(p.i)},${yOf(p.v)}`).join(' ')} />
              ))}
            {runs.flat().map((p) =>
              marker === 'circle' ? (
                <circle class="chart__marker" cx={xOf(p.i)} cy={yOf(p.v)} r={4}>
                  <title>{`${s.name}, ${props.categories[p.i]}: ${fmt(p.v)}`}</title>
                </circle>
              ) : marker === 'square' ? (
                <rect class="chart__marker" x={round(xOf(p.i) - 4)} y={round(yOf(p.v) - 4)} width={8} height={8}>
                  <title>{`${s.name}, ${props.categories[p.i]}: ${fmt(p.v)}`}</title>
                </rect>
              ) : (
                <path class="chart__marker" d={`M${xOf(p.i)},${round(yOf(p.v) - 5)} l5,5 l-5,5 l-5,-5 Z`}>
                  <title>{`${s.name}, ${props.categories[p.i]}: ${fmt(p.v)}`}</title>
                </path>
              ),
            )}
          </g>
        );
      })}
    </ChartFrame>
  );
}

export interface FunnelStep {
  label: string;
  value: number;
  /** What the step means, next to its number ("12 booked after it"). */
  note?: string;
}

/** Horizontal funnel: each bar's width proportional to its count, the first step the full width. */
export function FunnelChart(props: ChartText & { steps: FunnelStep[] }) {
  const fmt = props.formatValue ?? plain;
  const steps = props.steps.map((s) => ({ ...s, value: Math.max(0, finite(s.value)) }));
  const max = Math.max(0, ...steps.map((s) => s.value));
  if (steps.length === 0 || max === 0) return <EmptyChart title={props.title} message={props.empty} />;
  const labelW = 150;
  const plotW = W - labelW - 120;
  const rowH = Math.min(36, (H - 8) / steps.length);
  const height = round(rowH * steps.length + 8);
  return (
    <figure class="chart">
      <svg
        class="chart__svg"
        viewBox={`0 0 ${W} ${height}`}
        role="img"
        aria-labelledby={`${props.id}-title ${props.id}-desc`}
        preserveAspectRatio="xMidYMid meet"
      >
        <title id={`${props.id}-title`}>{props.title}</title>
        <desc id={`${props.id}-desc`}>{props.desc}</desc>
        {steps.map((s, i) => {
          const w = round((s.value / max) * plotW);
          const y = round(4 + i * rowH);
          return (
            <g class="chart__funnel-step">
              <text class="chart__label" x={labelW - 8} y={round(y + rowH / 2 + 4)} text-anchor="end">
                {s.label}
              </text>
              <rect
                class={`chart__bar chart__series-${i === 0 ? 1 : 2}`}
                x={labelW}
                y={y}
                width={w}
                height={round(rowH - 6)}
              >
                <title>{`${s.label}: ${fmt(s.value)}${s.note ? `, ${s.note}` : ''}`}</title>
              </rect>
              <text class="chart__value" x={round(labelW + w + 6)} y={round(y + rowH / 2 + 4)}>
                {fmt(s.value)}
              </text>
            </g>
          );
        })}
      </svg>
      <details class="chart__data">
        <summary>{props.title}: the figures</summary>
        <DataTable
          caption={props.title}
          head={['Step', 'Count', 'Meaning']}
          rows={steps.map((s) => [s.label, fmt(s.value), s.note ?? ''])}
        />
      </details>
    </figure>
  );
}
