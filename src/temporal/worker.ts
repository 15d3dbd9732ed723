/** Builds the worker: sequence workflows plus the activities wired to their dependencies. */
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { type ActivityDeps, createActivities } from '../activities/index.js';
import type { TemporalSettings } from './settings.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

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
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(opts.deps),
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    ...(t
      ? {
          maxConcurrentActivityTaskExecutions: t.maxConcurrentActivityTaskExecutions,
          maxConcurrentWorkflowTaskExecutions: t.maxConcurrentWorkflowTaskExecutions,
          maxCachedWorkflows: t.maxCachedWorkflows,
          shutdownGraceTime: t.shutdownGraceTime as `${number}s`,
        }
      : {}),
  });
}
