/**
 * The simulation's weekly chart as a standalone SVG (written by hand: no charting dependency):
 * client messages per week as stacked bars (email, SMS) and staff tasks as a line.
 */
import type { SimulationResult } from './engine.js';

const W = 960;
const H = 440;
const M = { top: 56, right: 24, bottom: 64, left: 56 };
const COLORS = { email: '#4e79a7', sms: '#59a14f', staff: '#e15759' };

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A round step (1, 2 or 5 × 10^k) giving at most `ticks` intervals up to `max`. */
export function niceStep(max: number, ticks = 6): number {
  if (max <= 0) return 1;
  const raw = max / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  return Math.max(1, step);
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

export function renderChart(result: SimulationResult): string {
  const weeks = result.weekly;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const peak = Math.max(1, ...weeks.map((w) => Math.max(w.email + w.sms, w.staffTasks)));
  const step = niceStep(peak);
  const yMax = Math.ceil(peak / step) * step;
  const n = Math.max(1, weeks.length);
  const band = plotW / n;
  const barW = Math.max(1, band * 0.8);
  const x = (i: number) => M.left + i * band;
  const y = (v: number) => M.top + plotH - (v / yMax) * plotH;
  const r = (v: number) => Math.round(v * 10) / 10;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
  );
  out.push(`<title>${escapeXml(`Rebook simulation: ${result.clinic}, ${result.from} to ${result.to}`)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(
    `<text x="${M.left}" y="24" font-size="16" font-weight="600">${escapeXml(`Weekly messages and staff tasks: ${result.clinic}`)}</text>`,
  );
  out.push(
    `<text x="${M.left}" y="42" fill="#555">${escapeXml(`${result.from} to ${result.to} (${result.timeZone}), seed ${result.seed}`)}</text>`,
  );

  // Grid and y axis.
  out.push('<g stroke="#e0e0e0" fill="#555" text-anchor="end">');
  for (let v = 0; v <= yMax; v += step) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${r(y(v))}" y2="${r(y(v))}"/>`);
    out.push(`<text x="${M.left - 6}" y="${r(y(v) + 4)}" stroke="none">${fmt(v)}</text>`);
  }
  out.push('</g>');

  // Bars: email at the bottom, SMS stacked on top.
  out.push(`<g fill="${COLORS.email}">`);
  weeks.forEach((w, i) => {
    if (w.email > 0)
      out.push(
        `<rect data-week="${w.weekStart}" data-series="email" x="${r(x(i) + (band - barW) / 2)}" y="${r(y(w.email))}" width="${r(barW)}" height="${r(y(0) - y(w.email))}"/>`,
      );
  });
  out.push('</g>');
  out.push(`<g fill="${COLORS.sms}">`);
  weeks.forEach((w, i) => {
    if (w.sms > 0)
      out.push(
        `<rect data-week="${w.weekStart}" data-series="sms" x="${r(x(i) + (band - barW) / 2)}" y="${r(y(w.email + w.sms))}" width="${r(barW)}" height="${r(y(w.email) - y(w.email + w.sms))}"/>`,
      );
  });
  out.push('</g>');

  // Staff tasks: a line through the middle of each week's band.
  const points = weeks.map((w, i) => `${r(x(i) + band / 2)},${r(y(w.staffTasks))}`).join(' ');
  out.push(
    `<polyline data-series="staffTasks" fill="none" stroke="${COLORS.staff}" stroke-width="2" points="${points}"/>`,
  );

  // X axis: a label about every month.
  const every = Math.max(1, Math.ceil(n / 13));
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${r(y(0))}" y2="${r(y(0))}" stroke="#333"/>`);
  out.push('<g fill="#555" text-anchor="middle">');
  weeks.forEach((w, i) => {
    if (i % every === 0)
      out.push(`<text x="${r(x(i) + band / 2)}" y="${r(y(0) + 18)}">${escapeXml(w.weekStart.slice(5))}</text>`);
  });
  out.push('</g>');
  out.push(
    `<text x="${M.left + plotW / 2}" y="${H - 14}" text-anchor="middle" fill="#555">week starting (month-day)</text>`,
  );

  // Legend.
  const legend: [string, string][] = [
    ['email', COLORS.email],
    ['SMS', COLORS.sms],
    ['staff tasks', COLORS.staff],
  ];
  legend.forEach(([label, color], i) => {
    const lx = W - M.right - 300 + i * 100;
    out.push(`<rect x="${lx}" y="14" width="12" height="12" fill="${color}"/>`);
    out.push(`<text x="${lx + 18}" y="25">${escapeXml(label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
