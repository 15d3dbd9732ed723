/** CSV output (reports, synthetic histories): RFC 4180 quoting, the one rule spreadsheets agree on. */

/** Quotes a field when it needs it (a comma, a quote or a line break). */
export function csvField(v: string | number | null | undefined): string {
  const s = v == null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
