/** `rebook server`: the HTTP API and the inbox forwarder, against PostgreSQL and a Temporal cluster. */

import type { Env } from '../env.js';
import { createLogger, type Logger, logFormatFor } from '../log.js';
import { openConfiguredDatabase, runServer } from '../processes.js';
import { connectClient } from '../temporal/connection.js';
import { type CommandContext, takesNoArguments } from './command.js';
import { productionProcess, quietTemporalRuntime } from './process-lifecycle.js';

export const usage = `usage: rebook server

The HTTP API and the inbox forwarder. Needs DATABASE_URL (PostgreSQL) and the Temporal cluster
of $REBOOK_TEMPORAL_CONFIG (TEMPORAL_ADDRESS); listens on HOST:PORT. SIGTERM stops it.
`;

export async function run(argv: string[], { env }: CommandContext): Promise<number> {
  if (!takesNoArguments('server', argv)) return 2;
  const log = createLogger({ level: env.LOG_LEVEL, format: logFormatFor(env, process.stdout.isTTY === true) });
  quietTemporalRuntime(log);
  await server(env, log);
  return 0;
}

async function server(env: Env, log: Logger): Promise<void> {
  const { settings, config, parts } = productionProcess(env, log);
  const client = await connectClient(settings);
  parts.push({ stop: () => client.connection.close() });
  const database = await openConfiguredDatabase(env);
  parts.push({ stop: () => database.close() });
  const srv = await runServer({ env, settings, database, config, temporal: client, log, secrets: process.env });
  parts.push(srv);
  log.info({ url: srv.url, namespace: settings.namespace, taskQueue: settings.taskQueue }, 'server listening');
}
