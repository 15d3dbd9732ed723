/** Builds the worker: sequence workflows plus the activities wired to their dependencies. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { type ActivityDeps, createActivities } from '../activities/index.js';
import type { TemporalSettings } from './settings.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
/** The prebuilt workflow bundle `npm run build` writes at the root of dist/. */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/**
 * Where the worker's workflow code comes from: compiled (dist/), the prebuilt bundle, which must
 * exist (a production worker never bundles at start: slow, and it needs the sources); from
 * source (tsx), the workflow sources, bundled at start.
 */
function workflowCode(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (!import.meta.url.endsWith('.js')) return { workflowsPath: WORKFLOWS_PATH };
  const codePath = fileURLToPath(new URL(`../../${WORKFLOW_BUNDLE_FILE}`, import.meta.url));
  if (!existsSync(codePath)) throw new Error(`${codePath} is missing: run npm run build`);
  return { workflowBundle: { codePath } };
}

export async function createWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  dataConverter?: DataConverter;
  tuning?: TemporalSettings['worker'];
  /** A prebuilt bundle (tests build it once per file). */
  workflowBundle?: WorkerOptions['workflowBundle'];
}): Promise<Worker> {
  const t = opts.tuning;
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : workflowCode()),
    activities: createActivities(opts.deps),
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    ...(t
      ? {
          maxConcurrentActivityTaskExecutions: t.maxConcurrentActivityTaskExecutions,
          // The sequence-row writes run as local activities (workflows/rebook-sequence.ts): the same cap.
          maxConcurrentLocalActivityExecutions: t.maxConcurrentActivityTaskExecutions,
          maxConcurrentWorkflowTaskExecutions: t.maxConcurrentWorkflowTaskExecutions,
          maxCachedWorkflows: t.maxCachedWorkflows,
          shutdownGraceTime: t.shutdownGraceTime as `${number}s`,
        }
      : {}),
  });
}
