/**
 * The polling safety net: webhooks get lost, and Mindbody deactivates a subscription after 3
 * hours of failed deliveries. Each clinic whose connector can poll is polled every
 * `connector.pollIntervalMinutes`; what it finds goes through the same inbox as webhooks (same
 * dedupe, same processing), and the cursor moves only once the items are stored.
 *
 * Every `rebook server` replica runs a poller, but each clinic is polled by one of them per
 * interval: vendor calls cost money (Mindbody bills past ~1,000 a day per site) and must not
 * multiply with the replicas. See `claimPoll`.
 */
import type { ConfigStore } from '../src/config/store.js';
import type { Db } from '../src/db/client.js';
import { claimStamp, recordConnectorError, writeState } from '../src/db/connector-store.js';
import type { Ingest } from '../src/ingest/inbox.js';
import type { Logger } from '../src/log.js';
import { connectors } from './registry.js';
import type { BookingConnector, ConnectorRuntime } from './types.js';

/** First key of the poll election's advisory locks (the migration runner uses 727_001). */
export const POLL_LOCK_NAMESPACE = 727_002;
const CLAIM_KEY = 'poll.claimedAt';
/** connector_state key: when a poll last stored its items and moved its cursor (console: connector health). */
export const POLL_SUCCEEDED_KEY = 'poll.succeededAt';

/** A failed poll, durably (connector_errors): its code only. A failure to record it is not the poll's failure. */
async function recordPollError(db: Db, clinicId: string, platform: string, err: unknown, nowMs: number) {
  const code = (err as { code?: unknown }).code;
  await recordConnectorError(db, {
    clinicId,
    platform,
    source: 'poll',
    code: typeof code === 'string' && /^[a-z0-9_.-]{1,60}$/i.test(code) ? code : (err as Error).name || 'Error',
    occurredAt: new Date(nowMs),
  }).catch(() => undefined);
}

/**
 * Claims a clinic's poll across replicas. The check-and-set of the shared claim stamp runs under
 * a transaction-level advisory lock taken without waiting, so concurrent claimers never both
 * pass (the loser skips at once instead of queueing); the stamp then keeps the claim for the
 * whole interval, so a replica ticking a minute later skips too. Nothing is held while the poll
 * itself talks to the vendor (on PGlite a held transaction would stall every other query).
 * Returns when this replica may poll, or the time of the claim that stands.
 */
export async function claimPoll(
  db: Db,
  o: { clinicId: string; platform: string; now: number; intervalMs: number; force?: boolean },
): Promise<{ claimed: true } | { claimed: false; claimedAt?: number }> {
  return claimStamp(db, { lockNamespace: POLL_LOCK_NAMESPACE, key: CLAIM_KEY, ...o });
}

export function createPoller(deps: {
  db: Db;
  config: ConfigStore;
  ingest: Ingest;
  runtime: ConnectorRuntime;
  log: Logger;
}) {
  // When each clinic was last polled (by any replica, as far as this one knows): saves a claim
  // round trip per clinic and tick.
  const lastRun = new Map<string, number>();
  return {
    /** Polls every clinic that is due and claimed by this replica; returns how many items were stored. */
    async tick(force = false): Promise<number> {
      let total = 0;
      for (const clinic of deps.config.current().clinics.values()) {
        const connector = connectors[clinic.platform] as BookingConnector;
        if (!connector.poll) continue;
        const intervalMs = (clinic.connector?.pollIntervalMinutes ?? 15) * 60_000;
        const now = deps.runtime.now();
        if (!force && now - (lastRun.get(clinic.id) ?? -Infinity) < intervalMs) continue;
        try {
          const claim = await claimPoll(deps.db, {
            clinicId: clinic.id,
            platform: clinic.platform,
            now,
            intervalMs,
            force,
          });
          if (!claim.claimed) {
            if (claim.claimedAt !== undefined) lastRun.set(clinic.id, claim.claimedAt);
            continue;
          }
          lastRun.set(clinic.id, now);
          const result = await connector.poll({ db: deps.db, clinic, runtime: deps.runtime });
          const { stored } = await deps.ingest.store(clinic.id, clinic.platform, result.items);
          await result.commit();
          await deps.ingest.processStored(stored);
          await writeState(deps.db, clinic.id, clinic.platform, POLL_SUCCEEDED_KEY, new Date(now).toISOString());
          total += stored.length;
          if (stored.length)
            deps.log.info(
              { clinicId: clinic.id, platform: clinic.platform, stored: stored.length },
              'poll found changes',
            );
        } catch (err) {
          deps.log.warn(
            {
              clinicId: clinic.id,
              platform: clinic.platform,
              errorName: (err as Error).name,
              code: (err as { code?: string }).code,
            },
            'poll failed; will retry next interval',
          );
          await recordPollError(deps.db, clinic.id, clinic.platform, err, now);
        }
      }
      return total;
    },
  };
}
