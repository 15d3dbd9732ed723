/** Live status of a sequence, asked of its workflow (the `status` query). */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type SequenceStatus, statusQuery } from '../../workflows/definitions.js';

export type SequenceStatusLookup = (
  workflowId: string,
) => Promise<{ state: 'ok'; status: SequenceStatus } | { state: 'not_found' | 'unavailable' }>;

/**
 * A query is answered by a worker (also for closed workflows, within retention); without one it
 * would wait, so it is bounded: the API then says the live status is unavailable.
 */
export function createSequenceStatus(client: Client, timeoutMs = 3_000): SequenceStatusLookup {
  return async (workflowId) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const status = await Promise.race([client.workflow.getHandle(workflowId).query(statusQuery), timeout]);
      return status === 'timeout' ? { state: 'unavailable' } : { state: 'ok', status };
    } catch (err) {
      return { state: err instanceof WorkflowNotFoundError ? 'not_found' : 'unavailable' };
    } finally {
      clearTimeout(timer);
    }
  };
}
