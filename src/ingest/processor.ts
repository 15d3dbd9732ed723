/**
 * The inbox processor: applies inbox rows after the delivery that brought them has been answered.
 * A webhook's answer depends only on verification and one INSERT; everything else (re-reading the
 * vendor's API, database writes, signal-with-start) runs here — deferred past the answer
 * (setImmediate: the response is written before any of it starts) and with bounded concurrency,
 * so a burst of deliveries neither delays the next answer nor exhausts the database pool. A row
 * that fails stays pending and the forwarder retries it; nothing is lost by deferring.
 */
import type { Logger } from '../log.js';
import type { Ingest } from './inbox.js';

/**
 * Deliveries processed at once per process. Most of a row's time is spent waiting on the vendor's
 * API and on Temporal, not holding a database connection, so this can exceed the pool size; the
 * answers do not queue behind it (their INSERT is a foreground query: src/db/client.ts).
 */
export const INBOX_PROCESSING_CONCURRENCY = 32;

export interface InboxProcessor {
  /** Queues the rows of one delivery (processed together, in event-time order); never waits, never throws. */
  enqueue(ids: number[], context?: Record<string, string>): void;
  /** Resolves once everything queued so far has been processed. */
  drain(): Promise<void>;
  /** Deliveries queued or being processed. */
  readonly backlog: number;
}

export function createInboxProcessor(deps: {
  ingest: Pick<Ingest, 'processStored'>;
  log: Logger;
  concurrency?: number;
}): InboxProcessor {
  const limit = Math.max(1, deps.concurrency ?? INBOX_PROCESSING_CONCURRENCY);
  const queue: { ids: number[]; context: Record<string, string> }[] = [];
  let running = 0;
  let waiters: (() => void)[] = [];

  function settle(): void {
    if (running > 0 || queue.length > 0) return;
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  }

  function pump(): void {
    while (running < limit && queue.length > 0) {
      const job = queue.shift()!;
      running++;
      deps.ingest
        .processStored(job.ids)
        .catch((err) =>
          deps.log.warn(
            { ...job.context, errorName: (err as Error).name },
            'inbox processing deferred to the forwarder',
          ),
        )
        .finally(() => {
          running--;
          pump();
          settle();
        });
    }
  }

  return {
    enqueue(ids, context = {}) {
      if (ids.length === 0) return;
      queue.push({ ids, context });
      // After the current answer has been written: not one query of processing runs before it.
      setImmediate(pump);
    },
    drain() {
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    get backlog() {
      return running + queue.length;
    },
  };
}
