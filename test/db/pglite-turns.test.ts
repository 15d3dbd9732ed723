/**
 * Foreground queries (a webhook's inbox INSERT, which its answer waits for) do not queue behind
 * background work. PGlite executes queries synchronously on the event loop; src/db/client.ts makes
 * every query take a turn so a chain of background queries lets I/O in between, and a foreground
 * query goes before queued background ones. On PostgreSQL (TEST_DATABASE_URL) foreground queries
 * have connections of their own, so a pool busy with background work does not delay them.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, foreground, openDatabase } from '../../src/db/client.js';
import { engines } from './engines.js';

let database: Database;
beforeAll(async () => {
  database = await openDatabase({ pgliteMemory: true });
});
afterAll(async () => {
  await database.close();
});

describe('PGlite query turns', () => {
  it('a chain of awaited queries yields to the event loop between queries', async () => {
    let done = 0;
    const chain = (async () => {
      for (let i = 0; i < 40; i++) {
        await database.db.execute(sql`select 1`);
        done++;
      }
    })();
    // A callback queued now (as an incoming request would be) runs long before the chain ends.
    const seenAt = await new Promise<number>((resolve) => setImmediate(() => resolve(done)));
    await chain;
    expect(done).toBe(40);
    expect(seenAt).toBeLessThan(5);
  });

  it('a foreground query runs before background queries queued ahead of it', async () => {
    const order: string[] = [];
    const background = Array.from({ length: 6 }, (_, i) =>
      database.db.execute(sql`select pg_sleep(0.02)`).then(() => order.push(`bg${i}`)),
    );
    const fg = foreground(() => database.db.execute(sql`select 1`)).then(() => order.push('fg'));
    await Promise.all([...background, fg]);
    // At most the one background query already running finishes first.
    expect(order.indexOf('fg')).toBeLessThanOrEqual(1);
    expect(order.filter((o) => o.startsWith('bg'))).toEqual(['bg0', 'bg1', 'bg2', 'bg3', 'bg4', 'bg5']);
  });

  it('a transaction holds its turn to the end', async () => {
    const order: string[] = [];
    let other: Promise<unknown> | undefined;
    await database.db.transaction(async (t) => {
      await t.execute(sql`select 1`);
      order.push('tx-1');
      // A foreground query arriving mid-transaction waits for its end (PGlite has one session).
      other = foreground(() => database.db.execute(sql`select 1`)).then(() => order.push('fg'));
      await new Promise((r) => setTimeout(r, 20));
      await t.execute(sql`select 1`);
      order.push('tx-2');
    });
    await other;
    expect(order).toEqual(['tx-1', 'tx-2', 'fg']);
  });
});

for (const engine of engines.filter((e) => e.name === 'postgres')) {
  describe(`foreground connections on ${engine.name}`, () => {
    it('a foreground query answers while every pooled connection is busy with background work', async () => {
      const scratch = await engine.create();
      const pg = await openDatabase(scratch.options);
      try {
        // Twelve slow background queries for a pool of ten: the pool is full and has a queue.
        // (Drizzle queries are lazy: `then` starts them.)
        let backgroundDone = 0;
        const background = Array.from({ length: 12 }, () =>
          pg.db.execute(sql`select pg_sleep(2)`).then(() => void backgroundDone++),
        );
        await new Promise((r) => setTimeout(r, 200));
        await foreground(() => pg.db.execute(sql`select 1`));
        // Answered while the background queries still hold (and queue for) every pooled connection.
        const doneWhenAnswered = backgroundDone;
        await Promise.all(background);
        expect(doneWhenAnswered).toBe(0);
      } finally {
        await pg.close();
        await scratch.drop();
      }
    });
  });
}
