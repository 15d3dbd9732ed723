/**
 * A query-cost budget: a bucket of `capacity` points refilling at `restorePerSecond`, for vendors
 * that meter by what a query costs rather than by request count (Boulevard's GraphQL Admin API).
 * A call waits until its expected cost is available instead of being refused (a throttled call
 * costs a round trip too). What the API reports after each call (points left, restore rate) replaces
 * our estimate, and a 429 empties the bucket so the next call waits a full refill of its cost.
 *
 * The bucket lives in this process (one per clinic, memoized in the connector runtime): unlike
 * the request windows of connectors/rate-budget.ts it is not shared through the database, so two
 * processes each start from a full bucket. Because every answer carries the API's own figure of
 * points left, each process corrects itself after its first call; a 429 is the remaining backstop.
 */
import { RebookError } from '../src/errors.js';
import type { CallBudget } from './http.js';

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

export class CostBucket implements CallBudget {
  private available: number;
  private at: number;
  private capacity: number;
  private restorePerSecond: number;
  constructor(
    rate: CostRate,
    private readonly clock: { now(): number; sleep(ms: number): Promise<void> },
    private readonly o: { defaultCost: number; maxWaitMs?: number; platform: string },
  ) {
    if (rate.capacity <= 0 || rate.restorePerSecond <= 0) throw new Error('a cost budget needs capacity and a refill');
    this.capacity = rate.capacity;
    this.restorePerSecond = rate.restorePerSecond;
    this.available = rate.capacity;
    this.at = clock.now();
  }

  /** Points available now (after refill). */
  level(): number {
    const now = this.clock.now();
    this.available = Math.min(this.capacity, this.available + ((now - this.at) / 1000) * this.restorePerSecond);
    this.at = now;
    return this.available;
  }

  /** Waits until `cost` points are available, then spends them. Resolves with the total wait. */
  async take(cost: number = this.o.defaultCost): Promise<number> {
    // A query dearer than the whole bucket could never run: let it wait for a full bucket instead.
    const need = Math.min(cost, this.capacity);
    let waited = 0;
    for (;;) {
      const level = this.level();
      if (level >= need) {
        this.available = level - need;
        return waited;
      }
      const wait = Math.ceil(((need - level) / this.restorePerSecond) * 1000);
      if (waited + wait > (this.o.maxWaitMs ?? COST_BUDGET_MAX_WAIT_MS))
        throw new RebookError('provider_unavailable', `${this.o.platform} API query-cost budget spent; retry later`);
      await this.clock.sleep(wait);
      waited += wait;
    }
  }

  /** The API's own figures replace ours. */
  observe(r: CostReport): void {
    this.level();
    if (r.capacity !== undefined && r.capacity > 0) this.capacity = r.capacity;
    if (r.restorePerSecond !== undefined && r.restorePerSecond > 0) this.restorePerSecond = r.restorePerSecond;
    if (r.available !== undefined && Number.isFinite(r.available))
      this.available = Math.max(0, Math.min(this.capacity, r.available));
  }

  /** Throttled (429): nothing is left as far as the API is concerned. */
  throttled(): void {
    this.level();
    this.available = 0;
  }
}
