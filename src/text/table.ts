/** Plain-text tables for the terminal: columns padded to their widest cell. */

export type Align = 'l' | 'r';

export function textTable(rows: (string | number)[][], align: Align[]): string[] {
  const cells = rows.map((r) =>
    r.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US', { maximumFractionDigits: 1 }) : c)),
  );
  const widths = align.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) =>
    r
      .map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
