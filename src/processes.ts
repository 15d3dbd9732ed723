/**
 * The long-running pieces: the HTTP server (with the inbox forwarder) and the sequence worker.
 * `rebook server` and `rebook worker` run one each against a cluster and PostgreSQL; `rebook dev`
 * runs both in one process against the embedded stack.
 */
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { startApiCallLog } from '../connectors/api-call-log.js';
import { createPoller } from '../connectors/poller.js';
import { createBookingChecker, vendorResolver } from '../connectors/registry.js';
import { createConnectorRuntime } from '../connectors/shared.js';
import type { ConnectorRuntime } from '../connectors/types.js';
import type { ConfigStore } from './config/store.js';
import { type Database, openDatabase } from './db/client.js';
import type { Env } from './env.js';
import { HOLDOUT_SECRET_ENV } from './ingest/holdout.js';
import { createIngest } from './ingest/inbox.js';
import type { Logger } from './log.js';
import { createOutboxProvider } from './messaging/outbox/index.js';
import { createProviderRegistry } from './messaging/registry.js';
import { UNSUBSCRIBE_SECRET_ENV } from './messaging/unsubscribe.js';
import { watchApiCalls } from './metrics/index.js';
import { buildApp } from './server/app.js';
import { dataConverterFor, retryWhileUnreachable } from './temporal/connection.js';
import { createSequenceSignals } from './temporal/sequence-signals.js';
import { createSequenceStatus } from './temporal/sequence-status.js';
import type { TemporalSettings } from './temporal/settings.js';
import { createWorker } from './temporal/worker.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export function openConfiguredDatabase(env: Env): Promise<Database> {
  return env.DATABASE_URL
    ? openDatabase({ url: env.DATABASE_URL })
    : openDatabase({ pgliteDir: join(env.REBOOK_DATA_DIR, 'pglite') });
}

/** The codec endpoint when both a token and payload keys are configured (without keys there is nothing to decode). */
function codecFor(env: Env, settings: TemporalSettings, secrets: NodeJS.ProcessEnv) {
  const dataConverter = dataConverterFor(settings, secrets);
  const codec = dataConverter?.payloadCodecs?.[0];
  if (!env.REBOOK_CODEC_TOKEN || !codec) return {};
  return { codec: { codec, token: env.REBOOK_CODEC_TOKEN, origins: env.REBOOK_CODEC_ORIGINS } };
}

export async function runServer(opts: {
  env: Env;
  settings: TemporalSettings;
  database: Database;
  config: ConfigStore;
  temporal: Client;
  log: Logger;
  secrets: NodeJS.ProcessEnv;
  /** Booking-platform connectors (secrets, API call counter); built from `secrets` when absent. */
  connectorRuntime?: ConnectorRuntime;
  /** How often the poller checks which clinics are due (each clinic has its own interval). */
  pollTickMs?: number;
}): Promise<Stoppable & { url: string }> {
  const { env, database, log } = opts;
  const runtime = opts.connectorRuntime ?? createConnectorRuntime({ secrets: opts.secrets, log });
  watchApiCalls(runtime.counter);
  const apiCallLog = startApiCallLog(database.db, runtime.counter, { log });
  const ingest = createIngest({
    db: database.db,
    config: opts.config,
    temporal: opts.temporal,
    taskQueue: opts.settings.taskQueue,
    log,
    resolveVendorEvent: vendorResolver(database.db, runtime),
    holdoutSecret: opts.secrets[HOLDOUT_SECRET_ENV] ?? opts.secrets[UNSUBSCRIBE_SECRET_ENV],
  });
  const app = await buildApp({
    db: database.db,
    config: opts.config,
    ingest,
    log,
    secrets: opts.secrets,
    signals: createSequenceSignals(opts.temporal),
    sequenceStatus: createSequenceStatus(opts.temporal),
    rateLimits: {
      webhooksPerMinute: env.REBOOK_RATE_LIMIT_WEBHOOKS,
      unsubscribePerMinute: env.REBOOK_RATE_LIMIT_UNSUBSCRIBE,
      eventsPerMinute: env.REBOOK_RATE_LIMIT_EVENTS,
      ingestInFlight: env.REBOOK_INGEST_MAX_IN_FLIGHT,
    },
    trustProxy: env.REBOOK_TRUST_PROXY,
    clinicProviders: createProviderRegistry(() => opts.config.current(), { secrets: opts.secrets }),
    ...codecFor(env, opts.settings, opts.secrets),
    readiness: {
      database: () => database.ping(),
      temporal: async () => void (await opts.temporal.connection.workflowService.getSystemInfo({})),
    },
  });
  let url: string;
  try {
    url = await app.listen({ port: env.PORT, host: env.HOST });
  } catch (err) {
    await app.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES')
      throw new Error(
        `port ${env.PORT} on ${env.HOST} (the HTTP API) ${code === 'EADDRINUSE' ? 'is already in use' : 'is not allowed'}: stop what uses it, or choose another port with PORT=<port>`,
      );
    throw err;
  }

  // The forwarder: inbox rows that could not reach Temporal when they arrived.
  // One pass at a time; stop() waits for the pass in flight before the database closes.
  let forwarding: Promise<void> | undefined;
  const timer = setInterval(() => {
    forwarding ??= (async () => {
      try {
        const n = await ingest.forwardPending();
        if (n > 0) log.info({ delivered: n }, 'inbox events forwarded');
      } catch (err) {
        log.warn({ errorName: (err as Error).name }, 'inbox forwarding failed; will retry');
      } finally {
        forwarding = undefined;
      }
    })();
  }, env.REBOOK_FORWARD_INTERVAL_MS);

  // The polling safety net for platforms with an API (connectors/poller.ts).
  const poller = createPoller({ db: database.db, config: opts.config, ingest, runtime, log });
  let polling: Promise<unknown> = Promise.resolve();
  const pollTimer = setInterval(() => {
    polling = polling.then(() => poller.tick()).catch(() => undefined);
  }, opts.pollTickMs ?? 60_000);

  return {
    url,
    async stop() {
      clearInterval(timer);
      clearInterval(pollTimer);
      // Bounded: a pass stuck on an unreachable cluster must not hold the shutdown. Rows it had
      // claimed stay pending with a lock that expires, so the next process forwards them.
      let drainTimer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        Promise.all([polling, forwarding]).then(() => true),
        new Promise<false>((resolve) => {
          drainTimer = setTimeout(() => resolve(false), env.REBOOK_SHUTDOWN_DRAIN_MS);
        }),
      ]);
      clearTimeout(drainTimer);
      if (!drained)
        log.warn(
          { drainMs: env.REBOOK_SHUTDOWN_DRAIN_MS },
          'stopped before the inbox forwarder finished; its rows stay pending',
        );
      await app.close();
      await apiCallLog.stop();
    },
  };
}

/**
 * With PGlite the worker runs in the server's process, on its event loop and its one database
 * connection: its own concurrency is capped (temporal.yaml `worker.embedded`), so planning
 * sequences whose first touch is weeks away never starves the answers to webhooks and API calls.
 * A worker of its own against PostgreSQL keeps the full setting.
 */
function workerTuning(settings: TemporalSettings, database: Database): TemporalSettings['worker'] {
  const { embedded, ...worker } = settings.worker;
  if (database.engine !== 'pglite' || !embedded) return worker;
  return { ...worker, ...embedded };
}

export async function runWorker(opts: {
  settings: TemporalSettings;
  connection: NativeConnection;
  database: Database;
  config: ConfigStore;
  log: Logger;
  secrets: NodeJS.ProcessEnv;
  connectorRuntime?: ConnectorRuntime;
}): Promise<Stoppable & { done: Promise<void> }> {
  // Every email stage carries a signed one-click unsubscribe link: refuse to start rather than
  // fail sends later.
  if (!opts.secrets[UNSUBSCRIBE_SECRET_ENV])
    throw new Error(
      `${UNSUBSCRIBE_SECRET_ENV} is required (any long random string, the same for server and worker): email stages carry a signed unsubscribe link`,
    );
  const outbox = createOutboxProvider(opts.log);
  const runtime = opts.connectorRuntime ?? createConnectorRuntime({ secrets: opts.secrets, log: opts.log });
  watchApiCalls(runtime.counter);
  const apiCallLog = startApiCallLog(opts.database.db, runtime.counter, { log: opts.log });
  const dataConverter = dataConverterFor(opts.settings, opts.secrets);
  // Creating the worker describes the namespace: a cluster down at this moment is waited out.
  const worker = await retryWhileUnreachable(
    'creating the worker',
    () =>
      createWorker({
        connection: opts.connection,
        namespace: opts.settings.namespace,
        taskQueue: opts.settings.taskQueue,
        tuning: workerTuning(opts.settings, opts.database),
        ...(dataConverter ? { dataConverter } : {}),
        deps: {
          db: opts.database.db,
          config: opts.config,
          providers: { sms: outbox, email: outbox },
          // Clinics whose Twilio/SendGrid credentials are present send for real; the rest use the outbox.
          clinicProviders: createProviderRegistry(() => opts.config.current(), { secrets: opts.secrets }),
          unsubscribeSecret: opts.secrets[UNSUBSCRIBE_SECRET_ENV],
          // Stage variants share the holdout's key: both are keyed hashes nobody outside may predict.
          variantSecret: opts.secrets[HOLDOUT_SECRET_ENV] ?? opts.secrets[UNSUBSCRIBE_SECRET_ENV],
          log: opts.log,
          checkBooking: createBookingChecker(runtime),
        },
      }),
    (info) => opts.log.warn(info, 'Temporal unreachable while the worker starts; retrying'),
  );
  const done = worker.run();
  return {
    done,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
      await apiCallLog.stop();
    },
  };
}
