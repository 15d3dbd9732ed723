/**
 * The inbox processor behind webhook answers: nothing of processing runs before the answer is
 * written (it starts on a later macrotask), concurrency is bounded, failures stay for the
 * forwarder, and drain waits for what is queued.
 */
import { describe, expect, it } from 'vitest';
import { createInboxProcessor } from '../../src/ingest/processor.js';
import { createLogger } from '../../src/log.js';

const log = createLogger({ level: 'silent' });

describe('inbox processor', () => {
  it('starts nothing in the current turn of the event loop: the answer goes out first', async () => {
    const started: number[][] = [];
    const processor = createInboxProcessor({ ingest: { processStored: async (ids) => void started.push(ids) }, log });
    processor.enqueue([1, 2]);
    // Still nothing after every microtask of this turn (where fastify writes the response).
    await Promise.resolve();
    await new Promise<void>((r) => queueMicrotask(r));
    expect(started).toEqual([]);
    await processor.drain();
    expect(started).toEqual([[1, 2]]);
  });

  it('never runs more than `concurrency` deliveries at once, and drains them all', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const processor = createInboxProcessor({
      concurrency: 3,
      log,
      ingest: {
        processStored: async ([id]) => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
          done.push(id!);
        },
      },
    });
    for (let i = 1; i <= 20; i++) processor.enqueue([i]);
    expect(processor.backlog).toBe(20);
    await processor.drain();
    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(processor.backlog).toBe(0);
  });

  it('a failing delivery is left for the forwarder and does not stop the others', async () => {
    const done: number[] = [];
    const warnings: unknown[] = [];
    const processor = createInboxProcessor({
      log: { ...log, warn: (o: unknown) => void warnings.push(o) } as unknown as typeof log,
      ingest: {
        processStored: async ([id]) => {
          if (id === 2) throw Object.assign(new Error('database went away'), { name: 'DatabaseError' });
          done.push(id!);
        },
      },
    });
    processor.enqueue([1], { clinicId: 'c' });
    processor.enqueue([2], { clinicId: 'c' });
    processor.enqueue([3], { clinicId: 'c' });
    processor.enqueue([]);
    await processor.drain();
    expect(done.sort()).toEqual([1, 3]);
    // Logged by class and context only (driver messages may quote client data).
    expect(warnings).toEqual([{ clinicId: 'c', errorName: 'DatabaseError' }]);
  });
});
