/**
 * A query-cost budget: a bucket of `capacity` points refilling at `restorePerSecond`, for vendors
 * that meter by what a query costs rather than by request count (Boulevard's GraphQL Admin API).
 * The bucket lives in the database (vendor_cost_buckets, through the connector store), so every
 * server and worker process spends one clinic's budget once, like the request windows of
 * connectors/rate-budget.ts. A call waits until its expected cost is available instead of being
 * refused (a throttled call costs a round trip too); what the API reports after each call (points
 * left, capacity, restore rate) replaces our reckoning, and a 429 empties the bucket so the next
 * call waits for a refill of its cost.
 */
import type { Db } from '../src/db/client.js';
import { observeVendorCost, takeVendorCost } from '../src/db/connector-store.js';
import { RebookError } from '../src/errors.js';
import type { CallBudget } from './http.js';
import type { ConnectorRuntime } from './types.js';

export interface CostRate {
  /** Most points the bucket holds. */
  readonly capacity: number;
  /** Points restored per second. */
  readonly restorePerSecond: number;
}

/** What the API reported about the budget after a call; fields it did not report are absent. */
export interface CostReport {
  available?: number;
  capacity?: number;
  restorePerSecond?: number;
}

/** Longest a call waits for points before giving up retryably (below the activity's 1-minute timeout). */
export const COST_BUDGET_MAX_WAIT_MS = 30_000;

export class SharedCostBucket implements CallBudget {
  constructor(
    private readonly o: {
      db: Db;
      clinicId: string;
      platform: string;
      /** The starting figures, until the API reports its own. */
      rate: CostRate;
      /** Expected cost of a call that names none. */
      defaultCost: number;
      runtime: Pick<ConnectorRuntime, 'now' | 'sleep'>;
      maxWaitMs?: number;
    },
  ) {
    if (o.rate.capacity <= 0 || o.rate.restorePerSecond <= 0)
      throw new Error('a cost budget needs capacity and a refill');
  }

  /** Waits until `cost` points are available, then spends them. Resolves with the total wait. */
  async take(cost: number = this.o.defaultCost): Promise<number> {
    const { db, clinicId, platform, rate, runtime } = this.o;
    let waited = 0;
    for (;;) {
      // Whole milliseconds: the row keeps epoch ms as bigint.
      const r = await takeVendorCost(db, { clinicId, platform, cost, ...rate, now: Math.floor(runtime.now()) });
      if (r.granted) return waited;
      if (waited + r.waitMs > (this.o.maxWaitMs ?? COST_BUDGET_MAX_WAIT_MS))
        throw new RebookError('provider_unavailable', `${platform} API query-cost budget spent; retry later`);
      await runtime.sleep(r.waitMs);
      waited += r.waitMs;
    }
  }

  /** The API's own figures replace ours. */
  observe(r: CostReport): Promise<void> {
    const { db, clinicId, platform, rate, runtime } = this.o;
    return observeVendorCost(db, { clinicId, platform, ...r, defaults: rate, now: Math.floor(runtime.now()) });
  }

  /** Throttled (429): nothing is left as far as the API is concerned. */
  throttled(): Promise<void> {
    return this.observe({ available: 0 });
  }
}
