/**
 * `npm run bench:actions`: Temporal Cloud billable actions per sequence, counted from real
 * histories (test/fixtures/histories/, recorded by scripts/record-histories.ts from the current
 * workflow on the Temporal test server and replayed by test/workflow/replay.test.ts), and what a
 * clinic-month costs at list price.
 * Which history events are billable: https://docs.temporal.io/cloud/actions (workflow started,
 * each activity attempt, timer started, search-attribute upsert, signal received, marker recorded,
 * child workflow started, continue-as-new). Queries (the status lookups of the API and console)
 * are actions too but leave no event; they are counted apart below when given.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join('test', 'fixtures', 'histories');
/** List price of the first tier, USD per million actions (https://temporal.io/pricing; check it, it changes). */
const USD_PER_MILLION = Number(process.env.ACTIONS_USD_PER_MILLION ?? 50);
/** Sequences a clinic starts a month: 200 injectable treatments (the webhooks benchmark's clinic). */
const SEQUENCES_PER_MONTH = Number(process.env.SEQUENCES_PER_CLINIC_MONTH ?? 200);

interface HistoryEvent {
  eventType: string;
  activityTaskStartedEventAttributes?: { attempt?: number };
}

const BILLABLE: Record<string, string> = {
  EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: 'workflow started',
  EVENT_TYPE_ACTIVITY_TASK_STARTED: 'activity attempts',
  EVENT_TYPE_TIMER_STARTED: 'timers',
  EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: 'search-attribute upserts',
  EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: 'memo upserts',
  EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: 'signals received',
  EVENT_TYPE_MARKER_RECORDED: 'markers (local activities)',
  EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: 'child workflows',
  EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: 'continue-as-new',
  EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: 'signals sent',
};

export function countActions(events: HistoryEvent[]): { total: number; byKind: Record<string, number> } {
  const byKind: Record<string, number> = {};
  for (const e of events) {
    const kind = BILLABLE[e.eventType];
    if (!kind) continue;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
  return { total: Object.values(byKind).reduce((a, b) => a + b, 0), byKind };
}

const rows = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => {
    const { events } = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { events: HistoryEvent[] };
    return { name: f.replace(/\.json$/, ''), ...countActions(events) };
  });

const kinds = [...new Set(rows.flatMap((r) => Object.keys(r.byKind)))];
process.stdout.write(`billable actions per sequence (from ${DIR})\n\n`);
process.stdout.write(`| history | total | ${kinds.join(' | ')} |\n|---|---:|${kinds.map(() => '---:').join('|')}|\n`);
for (const r of rows)
  process.stdout.write(`| ${r.name} | **${r.total}** | ${kinds.map((k) => r.byKind[k] ?? 0).join(' | ')} |\n`);
const worst = Math.max(...rows.map((r) => r.total));
const perMonth = worst * SEQUENCES_PER_MONTH;
process.stdout.write(
  `\nclinic-month: ${SEQUENCES_PER_MONTH} sequences × ${worst} actions (the costliest history) = ${perMonth} actions` +
    ` = $${((perMonth / 1e6) * USD_PER_MILLION).toFixed(2)} at $${USD_PER_MILLION} per million\n`,
);
