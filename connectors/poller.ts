/**
 * The polling safety net: webhooks get lost, and Mindbody deactivates a subscription after 3
 * hours of failed deliveries. Each clinic whose connector can poll is polled every
 * `connector.pollIntervalMinutes`; what it finds goes through the same inbox as webhooks (same
 * dedupe, same processing), and the cursor moves only once the items are stored.
 */
import type { ConfigStore } from '../src/config/store.js';
import type { Db } from '../src/db/client.js';
import type { Ingest } from '../src/ingest/service.js';
import type { Logger } from '../src/log.js';
import { connectors } from './registry.js';
import type { BookingConnector, ConnectorRuntime } from './types.js';

export function createPoller(deps: { db: Db; config: ConfigStore; ingest: Ingest; runtime: ConnectorRuntime; log: Logger }) {
  const lastRun = new Map<string, number>();
  return {
    /** Polls every clinic that is due; returns how many items were stored. */
    async tick(force = false): Promise<number> {
      let total = 0;
      for (const clinic of deps.config.current().clinics.values()) {
        const connector = connectors[clinic.platform] as BookingConnector;
        if (!connector.poll) continue;
        const intervalMs = (clinic.connector?.pollIntervalMinutes ?? 15) * 60_000;
        const now = deps.runtime.now();
        if (!force && now - (lastRun.get(clinic.id) ?? -Infinity) < intervalMs) continue;
        lastRun.set(clinic.id, now);
        try {
          const result = await connector.poll({ db: deps.db, clinic, runtime: deps.runtime });
          const { stored } = await deps.ingest.store(clinic.id, clinic.platform, result.items);
          await result.commit();
          await deps.ingest.processStored(stored);
          total += stored.length;
          if (stored.length) deps.log.info({ clinicId: clinic.id, platform: clinic.platform, stored: stored.length }, 'poll found changes');
        } catch (err) {
          deps.log.warn({ clinicId: clinic.id, platform: clinic.platform, errorName: (err as Error).name, code: (err as { code?: string }).code }, 'poll failed; will retry next interval');
        }
      }
      return total;
    },
  };
}
