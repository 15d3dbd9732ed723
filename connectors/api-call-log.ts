/**
 * Vendor API calls per clinic, platform and UTC day in the database (vendor_api_calls), so the
 * console can show today's calls against the budget across every server and worker replica and
 * across restarts (the in-process ApiCallCounter behind /metrics has neither). Calls are batched
 * in memory and added every few seconds: a vendor call costs far more than one upsert per batch.
 */
import type { Db } from '../src/db/client.js';
import { addVendorApiCalls } from '../src/db/connector-store.js';
import type { Logger } from '../src/log.js';
import type { ApiCallCounter } from './http.js';

/** Daily budgets by platform, where the vendor has one. https://developers.mindbodyonline.com (first ~1,000 calls a day per site free) */
export const VENDOR_DAILY_CALL_BUDGET: Readonly<Record<string, number>> = { mindbody: 1_000 };

export const API_CALL_FLUSH_MS = 5_000;

/** The UTC day of an instant, as vendor_api_calls keys it. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Adds the counter's calls since its last drain to today's rows. */
export async function recordApiCalls(db: Db, counter: ApiCallCounter, nowMs: number): Promise<void> {
  const batch = counter.drain();
  if (batch.length === 0) return;
  await addVendorApiCalls(db, utcDay(nowMs), batch);
}

/** Records the counter's calls every `intervalMs`; stop() writes what is left. */
export function startApiCallLog(
  db: Db,
  counter: ApiCallCounter,
  o: { log: Logger; intervalMs?: number; now?: () => number },
): { stop(): Promise<void> } {
  const now = o.now ?? Date.now;
  let writing: Promise<void> = Promise.resolve();
  const flush = () => {
    writing = writing
      .then(() => recordApiCalls(db, counter, now()))
      .catch((err: unknown) =>
        o.log.warn({ errorName: (err as Error).name }, 'vendor API call count not recorded; /metrics still has it'),
      );
    return writing;
  };
  const timer = setInterval(flush, o.intervalMs ?? API_CALL_FLUSH_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
