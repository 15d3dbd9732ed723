/**
 * Replays recorded histories (test/fixtures/histories, written by scripts/record-histories.ts)
 * against the current workflow code: a change that would make running sequences
 * non-deterministic fails here instead of in production.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../src/temporal/worker.js';
import { historyFromJson } from '../helpers/history-json.js';
import { installQuietRuntime, quietSdkLogger } from '../helpers/quiet-runtime.js';

const HISTORIES_DIR = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
const files = readdirSync(HISTORIES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const histories = files.map((f) => ({
  workflowId: f.replace(/\.json$/, ''),
  history: historyFromJson(JSON.parse(readFileSync(join(HISTORIES_DIR, f), 'utf8'))),
}));

let bundle: WorkflowBundle;
beforeAll(async () => {
  // The control case fails workflow tasks on purpose: its warnings stay out of the output.
  installQuietRuntime();
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietSdkLogger() });
});

it('has recorded histories of complete sequences to replay', () => {
  expect(files).toEqual([
    'botox-full-sequence-churned.json',
    'botox-restarted-then-booked.json',
    'botox-snoozed-reactivated.json',
    'fewer-actions-botox-rebooking-churned.json',
    'fewer-actions-cancelled-recovered-churned.json',
    'fewer-actions-dated-snooze-booked.json',
    'fewer-actions-prebooked-care-attended.json',
    'fewer-actions-series-two-sessions-churned.json',
    'fewer-actions-winback-churned.json',
    'lifecycle-cancelled-recovered-churned.json',
    'lifecycle-inferred-no-show-churned.json',
    'lifecycle-prebooked-care-attended.json',
    'lifecycle-winback-churned.json',
    'lifecycle-winback-dated-snooze-booked.json',
    'lifecycle-winback-series-two-sessions-churned.json',
    'local-writes-botox-rebooking-churned.json',
    'local-writes-dated-snooze-booked.json',
    'local-writes-prebooked-care-attended.json',
    'local-writes-series-two-sessions-churned.json',
  ]);
  for (const { history } of histories) {
    expect(history.events!.length).toBeGreaterThan(30);
    expect(history.events!.at(-1)!.workflowExecutionCompletedEventAttributes).toBeTruthy();
  }
});

interface RawEvent {
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  upsertWorkflowSearchAttributesEventAttributes?: { searchAttributes: { indexedFields: Record<string, unknown> } };
  markerRecordedEventAttributes?: {
    markerName: string;
    details: Record<string, { payloads: { data: string }[] }>;
  };
}
const eventsOf = (file: string) =>
  (JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')) as { events: RawEvent[] }).events;

it('the histories from before issue 11 take the old path, the new ones the patched lifecycle (and win-back) paths', () => {
  const patches = (file: string): string[] => {
    return eventsOf(file).flatMap((e) =>
      e.markerRecordedEventAttributes?.markerName === 'core_patch'
        ? Object.values(e.markerRecordedEventAttributes.details).flatMap((d) =>
            d.payloads.map((p) => (JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) as { id: string }).id),
          )
        : [],
    );
  };
  for (const f of files)
    expect([f, patches(f).includes('post-treatment-lifecycle')]).toEqual([f, f.startsWith('lifecycle-')]);
  // Issue 11 §3: only the histories recorded since reactivation and win-back took that path.
  for (const f of files)
    expect([f, patches(f).includes('reactivation-winback')]).toEqual([f, f.startsWith('lifecycle-winback-')]);
  // Issue 12 §5: the lean path, whose runs ask for no other patch.
  for (const f of files) expect([f, patches(f).includes('fewer-actions')]).toEqual([f, f.startsWith('fewer-actions-')]);
  // The lean path with local writes: one marker still (the patch implies fewer-actions).
  for (const f of files) expect([f, patches(f).includes('local-writes')]).toEqual([f, f.startsWith('local-writes-')]);
  for (const f of files.filter((x) => x.startsWith('local-writes-')))
    expect([f, patches(f)]).toEqual([f, ['local-writes']]);
});

it('the local-writes histories plan in the workflow task that took the start and write the row without an activity task', () => {
  for (const f of files.filter((x) => x.startsWith('local-writes-'))) {
    const events = eventsOf(f);
    const activities = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType.name ?? []);
    expect([f, activities.includes('beginSequence')]).toEqual([f, false]);
    // Nor is a sequence-row write ever an activity of its own: only what talks to the outside is.
    expect([f, activities.includes('recordProgress')]).toEqual([f, false]);
    // The first workflow task completes with the patch, the local activity's marker and the
    // first stage's timer: the sequence is planned and waiting after one task.
    const firstDone = events.findIndex((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
    const after = events.slice(firstDone + 1, firstDone + 5);
    expect([f, after.map((e) => e.markerRecordedEventAttributes?.markerName ?? e.eventType)]).toEqual([
      f,
      ['core_patch', 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'core_local_activity', 'EVENT_TYPE_TIMER_STARTED'],
    ]);
  }
});

it('the fewer-actions histories publish no stage in visibility and spend one activity per step', () => {
  for (const f of files.filter((x) => x.startsWith('fewer-actions-') || x.startsWith('local-writes-'))) {
    const events = eventsOf(f);
    const upserted = events.flatMap((e) =>
      Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes.indexedFields ?? {}),
    );
    // The outcome once, at the end; TemporalChangeVersion comes with the patch marker (not billed).
    expect([f, upserted.sort()]).toEqual([f, ['SequenceOutcome', 'TemporalChangeVersion']]);
    const activities = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType.name ?? []);
    // The booking re-check happens inside sendStage and escalateStage, never as an activity of its own.
    expect([f, activities.filter((a) => ['checkBooking', 'deliverStage', 'planSequence'].includes(a))]).toEqual([
      f,
      [],
    ]);
    expect([f, activities.includes('sendStage')]).toEqual([f, true]);
    // Per stage one timer and one activity: the sequence row is written by the stage's activity.
    const timers = events.filter((e) => e.eventType === 'EVENT_TYPE_TIMER_STARTED').length;
    expect([f, activities.length <= timers + 3]).toEqual([f, true]);
  }
});

it('replays every recorded history against the current workflow code without a determinism error', async () => {
  const results: { workflowId: string; error?: unknown }[] = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, histories))
    results.push({ workflowId: r.workflowId, error: r.error });
  expect(results.map((r) => [r.workflowId, r.error])).toEqual(histories.map((h) => [h.workflowId, undefined]));
});

it('rejects a history replayed against incompatible workflow code (the check can fail)', async () => {
  const changed = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../fixtures/workflows/nondeterministic.ts', import.meta.url)),
    logger: quietSdkLogger(),
  });
  const [first] = histories;
  await expect(
    Worker.runReplayHistory({ workflowBundle: changed }, first!.history, first!.workflowId),
  ).rejects.toBeInstanceOf(DeterminismViolationError);
});
