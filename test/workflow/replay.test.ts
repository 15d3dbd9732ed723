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
    'lifecycle-cancelled-recovered-churned.json',
    'lifecycle-inferred-no-show-churned.json',
    'lifecycle-prebooked-care-attended.json',
    'lifecycle-winback-churned.json',
    'lifecycle-winback-dated-snooze-booked.json',
  ]);
  for (const { history } of histories) {
    expect(history.events!.length).toBeGreaterThan(30);
    expect(history.events!.at(-1)!.workflowExecutionCompletedEventAttributes).toBeTruthy();
  }
});

it('the histories from before issue 11 take the old path, the new ones the patched lifecycle (and win-back) paths', () => {
  const patches = (file: string): string[] => {
    const raw = JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')) as {
      events: {
        markerRecordedEventAttributes?: {
          markerName: string;
          details: Record<string, { payloads: { data: string }[] }>;
        };
      }[];
    };
    return raw.events.flatMap((e) =>
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
