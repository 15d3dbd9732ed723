/**
 * One vendor call budget per clinic, platform and scope across processes: limiters on separate
 * database handles (two pools on PostgreSQL, as two server or worker processes have) together stay
 * within the window's limit, on PGlite and on a real PostgreSQL server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../connectors/http.js';
import { SharedRateLimiter } from '../../connectors/rate-budget.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { engines, type ScratchDatabase } from './engines.js';

const realTime = { now: Date.now, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
const RATE = { limit: 10, windowMs: 1000 };
const CALLS = 30;

/** The largest number of instants inside any window of `windowMs` (each window starting at an instant). */
function busiestWindow(instants: number[], windowMs: number): number {
  const sorted = [...instants].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j]! <= sorted[i]! - windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** `CALLS` calls made by two callers on each handle at once; the instants each was granted at. */
async function spendTogether(
  handles: Database[],
  clinicId: string,
): Promise<{ instants: number[]; perHandle: number[] }> {
  const limiters = handles.map(
    (h) =>
      new SharedRateLimiter({
        db: h.db,
        clinicId,
        platform: 'jane',
        scope: 'appointments',
        rate: RATE,
        runtime: realTime,
      }),
  );
  const instants: number[] = [];
  const perHandle = handles.map(() => 0);
  let left = CALLS;
  const caller = async (i: number) => {
    while (left > 0) {
      left--;
      instants.push(await limiters[i]!.take());
      perHandle[i]!++;
    }
  };
  await Promise.all(limiters.flatMap((_, i) => [caller(i), caller(i)]));
  return { instants, perHandle };
}

function expectWithinBudget({ instants, perHandle }: { instants: number[]; perHandle: number[] }) {
  expect(instants).toHaveLength(CALLS);
  // Both handles spent from the one budget…
  for (const n of perHandle) expect(n).toBeGreaterThan(0);
  // …and together never more than the limit in any window: 30 calls at 10 a second span at least 2 s.
  expect(busiestWindow(instants, RATE.windowMs)).toBeLessThanOrEqual(RATE.limit);
  expect(Math.max(...instants) - Math.min(...instants)).toBeGreaterThanOrEqual(2 * RATE.windowMs);
}

it('the check itself: two in-process limiters would each spend the whole budget', async () => {
  const local = [new RateLimiter(RATE.limit, RATE.windowMs), new RateLimiter(RATE.limit, RATE.windowMs)];
  const t0 = Date.now();
  const instants: number[] = [];
  for (let i = 0; i < 2 * RATE.limit; i++) {
    await local[i % 2]!.take();
    instants.push(Date.now());
  }
  expect(Date.now() - t0).toBeLessThan(RATE.windowMs);
  expect(busiestWindow(instants, RATE.windowMs)).toBe(2 * RATE.limit);
});

describe.each(engines)('shared vendor budget on $name', (engine) => {
  let scratch: ScratchDatabase;
  let database: Database;
  beforeAll(async () => {
    scratch = await engine.create();
    database = await openDatabase(scratch.options);
  });
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
  });

  it('limiters sharing the database stay within one budget together', async () => {
    // PGlite is one process's database: two limiters on its one handle stand for two processes.
    expectWithinBudget(await spendTogether([database, database], 'budget-clinic'));
  }, 30_000);

  it('waits until the oldest call leaves the window (plus jitter), and gives up past the bound', async () => {
    let t = 1_000_000;
    const waits: number[] = [];
    const fake = {
      now: () => t,
      sleep: async (ms: number) => {
        waits.push(ms);
        t += ms;
      },
    };
    const limiter = (random: number) =>
      new SharedRateLimiter({
        db: database.db,
        clinicId: 'wait-clinic',
        platform: 'mindbody',
        rate: { limit: 2, windowMs: 60_000 },
        runtime: fake,
        maxWaitMs: 120_000,
        random: () => random,
      });
    await limiter(0).take();
    t += 1000;
    await limiter(0).take();
    t += 1000;
    expect(await limiter(0.5).take()).toBe(1_002_000 + 58_000 + 500);
    // Jitter: half of one call's share of the window (30 s), capped at 1 s → 500 ms.
    expect(waits).toEqual([58_000 + 500]);

    const strict = new SharedRateLimiter({
      db: database.db,
      clinicId: 'wait-clinic',
      platform: 'mindbody',
      scope: 'other',
      rate: { limit: 1, windowMs: 60_000 },
      runtime: fake,
      maxWaitMs: 30_000,
    });
    await strict.take();
    await expect(strict.take()).rejects.toMatchObject({ code: 'provider_unavailable', retryable: true });
  });

  it('clinics, platforms and scopes have budgets of their own', async () => {
    const t = 5_000_000;
    const one = { limit: 1, windowMs: 60_000 };
    const runtime = { now: () => t, sleep: async () => undefined };
    const make = (clinicId: string, platform: string, scope: string) =>
      new SharedRateLimiter({ db: database.db, clinicId, platform, scope, rate: one, runtime, maxWaitMs: 0 });
    for (const l of [
      make('a', 'jane', 'x'),
      make('b', 'jane', 'x'),
      make('a', 'mindbody', 'x'),
      make('a', 'jane', 'y'),
    ])
      expect(await l.take()).toBe(t);
    await expect(make('a', 'jane', 'x').take()).rejects.toMatchObject({ code: 'provider_unavailable' });
  });
});

describe('shared vendor budget on PostgreSQL, two pools (two processes)', () => {
  let pg: TestPostgres;
  const handles: Database[] = [];
  beforeAll(async () => {
    pg = await startTestPostgres();
    const url = pg.createDatabase('rebook_rate_budget');
    // One after the other: the second finds the migrations applied.
    handles.push(await openDatabase({ url }));
    handles.push(await openDatabase({ url }));
  }, 60_000);
  afterAll(async () => {
    for (const h of handles) await h.close();
    pg?.stop();
  });

  it('two Db handles spend one clinic budget: at most the limit in any window', async () => {
    expect(handles).toHaveLength(2);
    expectWithinBudget(await spendTogether(handles, 'budget-clinic'));
  }, 30_000);
});
