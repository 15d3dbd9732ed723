/**
 * A vendor's call budget shared by every process: the window lives in the database
 * (vendor_rate_buckets through the connector store), so two servers and two workers together
 * spend one clinic's budget once, where the in-process RateLimiter let each spend all of it.
 */
import type { Db } from '../src/db/client.js';
import { takeVendorCall } from '../src/db/connector-store.js';
import { RebookError } from '../src/errors.js';
import type { CallBudget } from './http.js';
import type { ConnectorRuntime } from './types.js';

/** A budget of `limit` calls per `windowMs` (a sliding window). */
export interface RateLimit {
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * Longest a call waits for the shared budget before giving up with a retryable error: below the
 * 1-minute start-to-close timeout of activities, so Temporal's retry (with its own backoff) takes
 * over instead of the attempt timing out.
 */
export const SHARED_BUDGET_MAX_WAIT_MS = 30_000;

export interface SharedRateLimiterOptions {
  db: Db;
  clinicId: string;
  platform: string;
  /** Splits a platform's budget where the vendor counts per endpoint; 'api' otherwise. */
  scope?: string;
  rate: RateLimit;
  runtime: Pick<ConnectorRuntime, 'now' | 'sleep'>;
  maxWaitMs?: number;
  random?: () => number;
}

/**
 * Waits for a slot in the clinic's shared window. Each wait is until the oldest call leaves the
 * window plus jitter (up to one call's share of the window, capped at 1 s), so processes refused
 * at the same instant do not all retry at the same instant.
 */
export class SharedRateLimiter implements CallBudget {
  private readonly scope: string;
  private readonly maxWaitMs: number;
  private readonly random: () => number;
  constructor(private readonly o: SharedRateLimiterOptions) {
    if (o.rate.limit < 1) throw new Error('a rate limit allows at least one call per window');
    this.scope = o.scope ?? 'api';
    this.maxWaitMs = o.maxWaitMs ?? SHARED_BUDGET_MAX_WAIT_MS;
    this.random = o.random ?? Math.random;
  }

  /** Resolves with the instant the call was granted at (the caller's clock). */
  async take(): Promise<number> {
    const { db, clinicId, platform, rate, runtime } = this.o;
    let waited = 0;
    for (;;) {
      const now = runtime.now();
      const r = await takeVendorCall(db, { clinicId, platform, scope: this.scope, ...rate, now });
      if (r.granted) return now;
      const wait = r.waitMs + this.random() * Math.min(1000, rate.windowMs / rate.limit);
      if (waited + wait > this.maxWaitMs)
        throw new RebookError('provider_unavailable', `${platform} API call budget spent; retry later`);
      await runtime.sleep(wait);
      waited += wait;
    }
  }
}
