/**
 * `npm run bench:actions`: Temporal Cloud billable actions per sequence, counted from real
 * histories (test/fixtures/histories/, recorded by scripts/record-histories.ts on the Temporal test
 * server and replayed by test/workflow/replay.test.ts), before and after issue 12 §5 (patch
 * `fewer-actions`) side by side for each shape, and what a clinic-month costs at list price.
 *
 * What is billable, from https://docs.temporal.io/cloud/actions: workflow started (client start,
 * signal-with-start, continue-as-new, child), each activity attempt (a retried activity is one
 * history event carrying its attempt number), timer started (`condition` with a timeout too),
 * search-attribute upsert (one per command; the attributes given at start are free, and so is the
 * `TemporalChangeVersion` upsert `patched()` makes), signal received or sent, local activities
 * (one per workflow task that ran any), continue-as-new. A `patched()` marker is no action (the
 * list names side effects, which only the Go and Java SDKs have); it is shown apart. Queries (the
 * status lookups of the API and console) are actions too but leave no event: not counted here.
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
  markerRecordedEventAttributes?: { markerName?: string; workflowTaskCompletedEventId?: string };
  upsertWorkflowSearchAttributesEventAttributes?: { searchAttributes?: { indexedFields?: Record<string, unknown> } };
}

/** The same shape of sequence before (the committed history of the earlier code) and after. */
/** `local`: the same shape since patch local-writes (sequence-row writes in local activities), where recorded. */
const SHAPES: { shape: string; before: string; after: string; local?: string }[] = [
  {
    shape: 'Botox, the four rebooking stages, no answer: churned',
    before: 'botox-full-sequence-churned',
    after: 'fewer-actions-botox-rebooking-churned',
    local: 'local-writes-botox-rebooking-churned',
  },
  {
    shape: 'Botox booked at checkout, two care touches, attended',
    before: 'lifecycle-prebooked-care-attended',
    after: 'fewer-actions-prebooked-care-attended',
    local: 'local-writes-prebooked-care-attended',
  },
  {
    shape: 'laser series: session 1, reminder, booked, session 2, then churned',
    before: 'lifecycle-winback-series-two-sessions-churned',
    after: 'fewer-actions-series-two-sessions-churned',
    local: 'local-writes-series-two-sessions-churned',
  },
  {
    shape: 'Botox full lifecycle churned (2 care, 3 rebooking, staff, reactivation, 2 win-backs)',
    before: 'lifecycle-winback-churned',
    after: 'fewer-actions-winback-churned',
  },
  {
    shape: 'Botox dated snooze, booked after a win-back, attended',
    before: 'lifecycle-winback-dated-snooze-booked',
    after: 'fewer-actions-dated-snooze-booked',
    local: 'local-writes-dated-snooze-booked',
  },
];

const BY_EVENT: Record<string, string> = {
  EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: 'workflow started',
  EVENT_TYPE_TIMER_STARTED: 'timers',
  EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: 'memo upserts',
  EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: 'signals received',
  EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: 'child workflows',
  EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: 'continue-as-new',
  EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: 'signals sent',
};
/** Shown, never added to the total. */
const FREE = 'patch markers (free)';

export function countActions(events: HistoryEvent[]): { total: number; byKind: Record<string, number> } {
  const byKind: Record<string, number> = {};
  const add = (kind: string, n = 1) => {
    byKind[kind] = (byKind[kind] ?? 0) + n;
  };
  const localActivityTasks = new Set<string>();
  for (const e of events) {
    const kind = BY_EVENT[e.eventType];
    if (kind) add(kind);
    else if (e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_STARTED')
      add('activity attempts', e.activityTaskStartedEventAttributes?.attempt ?? 1);
    else if (e.eventType === 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES') {
      const fields = Object.keys(
        e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {},
      );
      if (fields.some((f) => f !== 'TemporalChangeVersion')) add('search-attribute upserts');
    } else if (e.eventType === 'EVENT_TYPE_MARKER_RECORDED') {
      const m = e.markerRecordedEventAttributes;
      if (m?.markerName === 'core_patch') add(FREE);
      else localActivityTasks.add(m?.workflowTaskCompletedEventId ?? String(localActivityTasks.size));
    }
  }
  if (localActivityTasks.size) add('local activities (per task)', localActivityTasks.size);
  const total = Object.entries(byKind)
    .filter(([k]) => k !== FREE)
    .reduce((a, [, n]) => a + n, 0);
  return { total, byKind };
}

const rows = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => {
    const { events } = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { events: HistoryEvent[] };
    return { name: f.replace(/\.json$/, ''), ...countActions(events) };
  });
const byName = new Map(rows.map((r) => [r.name, r]));
const usd = (actions: number) => `$${((actions * SEQUENCES_PER_MONTH * USD_PER_MILLION) / 1e6).toFixed(2)}`;

const out: string[] = [];
out.push(`billable actions per sequence, before and after patch fewer-actions (from ${DIR})`, '');
out.push(
  `| shape | before | after | local writes | clinic-month before → after (${SEQUENCES_PER_MONTH} sequences, $${USD_PER_MILLION}/M) |`,
  '|---|---:|---:|---:|---|',
);
const pairs = SHAPES.flatMap((s) => {
  const before = byName.get(s.before);
  const after = byName.get(s.after);
  if (!before || !after) {
    out.push(`| ${s.shape} | ${before?.total ?? 'missing'} | ${after?.total ?? 'missing'} | | |`);
    return [];
  }
  const local = s.local ? (byName.get(s.local)?.total ?? 'missing') : '-';
  out.push(
    `| ${s.shape} | ${before.total} | **${after.total}** | ${local} | ${usd(before.total)} → ${usd(after.total)} |`,
  );
  return [{ ...s, before, after }];
});

const kinds = [...new Set(rows.flatMap((r) => Object.keys(r.byKind)))].sort((a, b) =>
  a === FREE ? 1 : b === FREE ? -1 : 0,
);
out.push('', `| history | total | ${kinds.join(' | ')} |`, `|---|---:|${kinds.map(() => '---:').join('|')}|`);
for (const r of rows) out.push(`| ${r.name} | **${r.total}** | ${kinds.map((k) => r.byKind[k] ?? 0).join(' | ')} |`);

if (pairs.length) {
  const worstBefore = Math.max(...pairs.map((p) => p.before.total));
  const worstAfter = Math.max(...pairs.map((p) => p.after.total));
  out.push(
    '',
    `clinic-month at the costliest shape: ${SEQUENCES_PER_MONTH} × ${worstBefore} = ${worstBefore * SEQUENCES_PER_MONTH} actions (${usd(worstBefore)})` +
      ` before, ${SEQUENCES_PER_MONTH} × ${worstAfter} = ${worstAfter * SEQUENCES_PER_MONTH} actions (${usd(worstAfter)}) after, at $${USD_PER_MILLION} per million`,
  );
}
process.stdout.write(`${out.join('\n')}\n`);
