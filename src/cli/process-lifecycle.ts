/**
 * What the long-running commands (`rebook dev`, `server`, `worker`) share: the Temporal SDK's
 * logs routed through pino, the parts a signal stops in order, and the production processes'
 * config store and watcher.
 */
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { createConfigStore, watchConfig } from '../config/store.js';
import type { Env } from '../env.js';
import type { Logger } from '../log.js';
import type { Stoppable } from '../processes.js';
import { loadTemporalSettings } from '../temporal/settings.js';

export function onShutdown(log: Logger, parts: Stoppable[]): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Reverse start order: stop taking requests, drain the worker, then close the stores.
    for (const p of [...parts].reverse()) {
      try {
        await p.stop();
      } catch (err) {
        log.warn({ errorName: (err as Error).name }, 'error while stopping');
      }
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/**
 * What `rebook server` and `rebook worker` share: an existing PostgreSQL and cluster, the config
 * store with its watcher (edits to config/, by file change or SIGHUP, apply without a restart; a
 * bad edit is logged and ignored), and the parts a signal stops, in order.
 */
export function productionProcess(env: Env, log: Logger) {
  requireDatabaseUrl(env);
  const settings = loadTemporalSettings(env.REBOOK_TEMPORAL_CONFIG);
  const config = createConfigStore(env.REBOOK_CONFIG_DIR);
  const parts: Stoppable[] = [];
  onShutdown(log, parts);
  const watcher = watchConfig(config, { log });
  parts.push({ stop: async () => watcher.stop() });
  return { settings, config, parts };
}

function requireDatabaseUrl(env: Env): void {
  // PGlite is one process's database: separate server and worker processes need PostgreSQL.
  if (!env.DATABASE_URL)
    throw new Error(
      'DATABASE_URL is required for `rebook server` and `rebook worker` (use `rebook dev` for the embedded database)',
    );
}

/** Routes the Temporal SDK's own logs (worker state, bundling) through pino at warn and above. */
export function quietTemporalRuntime(log: Logger): void {
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => log.warn({ sdk: entry.meta?.sdkComponent }, entry.message)),
    // Native (Rust core) logs print to the console by themselves unless forwarded here.
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }), forward: {} } },
  });
}
