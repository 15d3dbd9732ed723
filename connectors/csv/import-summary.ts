/**
 * What `rebook import` prints when it is done: counts per outcome, the reasons rows were skipped
 * (with what to do about them) and the plan's warnings. Counts and reason codes only: no client
 * data. `--json` prints the ImportSummary itself instead.
 */
import type { ImportSummary } from './import.js';

/** What each skip reason means for the person importing, and what to do about it. */
const REASONS: Record<string, string> = {
  window_passed: 'treated too long ago: the rebooking window has closed',
  not_completed: 'not a completed visit (booked, cancelled, no-show)',
  invalid_row: 'a required value is missing or malformed (--dry-run shows the line)',
  unclassified_service: 'the service matches no treatment type (map it; see rebook config validate)',
  not_repeatable: 'the service is mapped to no repeatable treatment',
  treatment_type_disabled: "the treatment type is not in the clinic's list",
};

export function renderImportSummary(
  summary: ImportSummary,
  context: { clinicId: string; url: string; warnings: string[] },
): string {
  const skipped = Object.entries(summary.skipped).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const skippedTotal = skipped.reduce((n, [, count]) => n + count, 0);
  const rows: [string, number, string][] = [
    ['enrolled', summary.enrolled, 'a sequence started (or the treatment joined a running one)'],
    ['already imported', summary.duplicates, 'sent before: nothing changed'],
    ['queued', summary.queued, 'accepted; Temporal was unreachable, the server forwards them'],
    ['skipped', skippedTotal, ''],
    ...skipped.map(([reason, count]): [string, number, string] => [`  ${reason}`, count, REASONS[reason] ?? '']),
  ];
  const labelWidth = Math.max(...rows.map((r) => r[0].length));
  const countWidth = Math.max(...rows.map((r) => String(r[1]).length));
  const lines = [
    `Imported ${summary.rows} row(s) into ${context.clinicId} through ${context.url}`,
    '',
    ...rows.map(([label, count, meaning]) =>
      `  ${label.padEnd(labelWidth)}  ${String(count).padStart(countWidth)}  ${meaning}`.trimEnd(),
    ),
  ];
  if (context.warnings.length > 0) lines.push('', 'Warnings:', ...context.warnings.map((w) => `  - ${w}`));
  return `${lines.join('\n')}\n`;
}
