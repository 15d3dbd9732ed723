/** `rebook worker`: the sequence worker, against PostgreSQL and a Temporal cluster. */
import type { Env } from '../env.js';
import { createLogger, type Logger, logFormatFor } from '../log.js';
import { serveWorkerMetrics } from '../metrics/index.js';
import { openConfiguredDatabase, runWorker } from '../processes.js';
import { connectWorker, retryWhileUnreachable } from '../temporal/connection.js';
import { type CommandContext, takesNoArguments } from './command.js';
import { productionProcess, quietTemporalRuntime } from './process-lifecycle.js';

export const usage = `usage: rebook worker

The sequence worker. Needs DATABASE_URL (PostgreSQL) and the Temporal cluster of
$REBOOK_TEMPORAL_CONFIG (TEMPORAL_ADDRESS); serves /metrics on REBOOK_WORKER_METRICS_PORT when
set. SIGTERM drains it and stops.
`;

export async function run(argv: string[], { env }: CommandContext): Promise<number> {
  if (!takesNoArguments('worker', argv)) return 2;
  const log = createLogger({ level: env.LOG_LEVEL, format: logFormatFor(env, process.stdout.isTTY === true) });
  quietTemporalRuntime(log);
  await worker(env, log);
  return 0;
}

async function worker(env: Env, log: Logger): Promise<void> {
  const { settings, config, parts } = productionProcess(env, log);
  const connection = await retryWhileUnreachable(
    'connecting',
    () => connectWorker(settings),
    (info) => log.warn(info, 'Temporal unreachable while the worker starts; retrying'),
  );
  parts.push({ stop: () => connection.close() });
  const database = await openConfiguredDatabase(env);
  parts.push({ stop: () => database.close() });
  if (env.REBOOK_WORKER_METRICS_PORT !== undefined) {
    const metrics = await serveWorkerMetrics({ port: env.REBOOK_WORKER_METRICS_PORT, host: env.HOST });
    parts.push(metrics);
    log.info({ url: metrics.url }, 'worker metrics listening');
  }
  const w = await runWorker({ settings, connection, database, config, log, secrets: process.env });
  parts.push(w);
  log.info({ namespace: settings.namespace, taskQueue: settings.taskQueue }, 'worker running');
  await w.done;
}
