/**
 * A real engine for workflow tests: the time-skipping test server, an in-process PGlite
 * database with the real migrations, the repo's config, the real activities and ingest code.
 */

import { Context } from '@temporalio/activity';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type Worker } from '@temporalio/worker';
import { and, asc, eq } from 'drizzle-orm';
import { createBookingChecker } from '../../connectors/registry.js';
import { createConnectorRuntime } from '../../connectors/shared.js';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { clients, messages, sequences, staffTasks } from '../../src/db/schema.js';
import type { CanonicalEvent } from '../../src/ingest/events.js';
import { createIngest, type Ingest } from '../../src/ingest/inbox.js';
import { createLogger, type Logger } from '../../src/log.js';
import { createOutboxProvider } from '../../src/messaging/outbox/index.js';
import { createProviderRegistry } from '../../src/messaging/registry.js';
import type { ProviderSet } from '../../src/messaging/types.js';
import { registerSearchAttributes } from '../../src/temporal/search-attributes.js';
import { loadTemporalSettings } from '../../src/temporal/settings.js';
import { createWorker, WORKFLOWS_PATH } from '../../src/temporal/worker.js';
import { type SequenceStatus, sequenceWorkflowId } from '../../workflows/definitions.js';
import { temporalBinaries } from './binaries.js';
import { installQuietRuntime, quietSdkLogger } from './quiet-runtime.js';

export const CLINIC_ID = 'demo-clinic';
export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;
export const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One workflow's ledger, staff tasks, sequence row and Temporal status, read from the engine the
 * test file started (a getter: the engine only exists once its beforeAll has run).
 */
export function perWorkflow(engine: () => Engine) {
  return {
    ledger: async (workflowId: string) => (await engine().messages()).filter((m) => m.workflowId === workflowId),
    tasksOf: async (workflowId: string) => (await engine().tasks()).filter((t) => t.workflowId === workflowId),
    rowOf: async (workflowId: string) => (await engine().sequences()).find((s) => s.workflowId === workflowId),
    describeStatus: async (workflowId: string) =>
      (await engine().client.workflow.getHandle(workflowId).describe()).status.name,
  };
}

/** A ledger as [stage, channel, due instant] rows: what a schedule assertion compares. */
export const ledgerShape = (msgs: { stage: string; channel: string; dueAt: Date }[]) =>
  msgs.map((m) => [m.stage, m.channel, m.dueAt.getTime()]);

export interface EngineOptions {
  /** Payload codec(s) used by the worker and by the client ingest signals through. */
  dataConverter?: DataConverter;
  /** Providers the worker sends through instead of the outbox (messaging tests: real SDKs behind nock). */
  providers?: Partial<ProviderSet>;
  /** The logger activities and ingest write to (silent by default). */
  log?: Logger;
  /** Configuration directory (the repo's config/ by default). */
  configDir?: string;
  /** Secrets the worker builds per-clinic providers from (Twilio/SendGrid credentials by env-var name). */
  secrets?: NodeJS.ProcessEnv;
  /** The booking check before each send (the connectors' checker over this database by default). */
  checkBooking?: ReturnType<typeof createBookingChecker>;
  /** Key of the holdout hash ingest assigns arms with (proof of lift). */
  holdoutSecret?: string;
  /** Workflow code to run instead of workflows/ (scripts/record-histories.ts: a "before" history). */
  workflowsPath?: string;
}

/** The unsubscribe-link secret the engine's worker signs with. */
export const TEST_UNSUBSCRIBE_SECRET = 'test-unsubscribe-secret-0123456789';

export interface Engine {
  env: TestWorkflowEnvironment;
  /** The client ingest uses (the environment's time-skipping client, with the engine's data converter). */
  client: Client;
  database: Database;
  ingest: Ingest;
  worker: Worker;
  taskQueue: string;
  /** Server time (ms) of the time-skipping environment. */
  now(): number;
  sleep(duration: string | number): Promise<void>;
  /** Advances server time to the instant `ms` (no-op when already past it). */
  sleepUntil(ms: number): Promise<void>;
  send(...events: CanonicalEvent[]): ReturnType<Ingest['accept']>;
  messages(): Promise<(typeof messages.$inferSelect)[]>;
  tasks(): Promise<(typeof staffTasks.$inferSelect)[]>;
  sequences(): Promise<(typeof sequences.$inferSelect)[]>;
  /** Our internal client uuid for a demo-clinic client's external id. */
  clientUuid(externalId: string): Promise<string>;
  /** The sequence workflow id of a demo-clinic client (by external id) and treatment type. */
  workflowIdFor(externalId: string, treatmentType?: string): Promise<string>;
  /**
   * The result of a sequence that has already completed (fails if it is still running). Read
   * through a plain client: the time-skipping client's result() unlocks skipping, and the test
   * server then jumps years ahead, firing every other test's timers.
   */
  result(workflowId: string): Promise<SequenceStatus>;
  stop(): Promise<void>;
}

const bundles = new Map<string, Awaited<ReturnType<typeof bundleWorkflowCode>>>();

/**
 * The clock the booking check's short cache ages by: the server time at which the running
 * activity was scheduled. On wall time, day 80's answer would still be fresh at day 90 (the
 * test server skips ten days in milliseconds) and a later booking would go unseen.
 */
function activityServerTime(): number {
  try {
    return Context.current().info.currentAttemptScheduledTimestampMs;
  } catch {
    return Date.now();
  }
}

export async function startEngine(opts: EngineOptions = {}): Promise<Engine> {
  installQuietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalBinaries().testServer } },
    ...(opts.dataConverter ? { client: { dataConverter: opts.dataConverter } } : {}),
  });
  await registerSearchAttributes(
    env.connection,
    env.namespace ?? 'default',
    loadTemporalSettings('temporal.yaml').searchAttributes,
  );
  const database = await openDatabase({ pgliteMemory: true });
  const config = createConfigStore(opts.configDir ?? 'config');
  const log = opts.log ?? createLogger({ level: 'silent' });
  const outbox = createOutboxProvider(log);
  const taskQueue = `test-${Math.random().toString(36).slice(2)}`;
  const workflowsPath = opts.workflowsPath ?? WORKFLOWS_PATH;
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = await bundleWorkflowCode({ workflowsPath, logger: quietSdkLogger() });
    bundles.set(workflowsPath, bundle);
  }
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: bundle,
    deps: {
      db: database.db,
      config,
      providers: { sms: opts.providers?.sms ?? outbox, email: opts.providers?.email ?? outbox },
      unsubscribeSecret: TEST_UNSUBSCRIBE_SECRET,
      // As in production: the holdout's key, else the unsubscribe secret.
      variantSecret: opts.holdoutSecret ?? TEST_UNSUBSCRIBE_SECRET,
      ...(opts.secrets
        ? {
            clinicProviders: createProviderRegistry(() => config.current(), {
              secrets: opts.secrets,
              keepAlive: false,
            }),
          }
        : {}),
      log,
      checkBooking:
        opts.checkBooking ??
        createBookingChecker(createConnectorRuntime({ secrets: {}, log, now: activityServerTime })),
    },
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
  });
  let clock = Date.now();
  const ingest = createIngest({
    db: database.db,
    config,
    temporal: env.client,
    taskQueue,
    log,
    now: () => clock,
    ...(opts.holdoutSecret ? { holdoutSecret: opts.holdoutSecret } : {}),
  });
  const running = worker.run();
  const plainClient = new Client({
    connection: env.connection,
    namespace: env.namespace ?? 'default',
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
  });
  const clientUuid = async (externalId: string) => {
    const [row] = await database.db
      .select({ id: clients.id })
      .from(clients)
      .where(and(eq(clients.clinicId, CLINIC_ID), eq(clients.externalId, externalId)));
    if (!row) throw new Error(`no client ${externalId} in the database`);
    return row.id;
  };
  const engine: Engine = {
    env,
    client: env.client,
    database,
    ingest,
    worker,
    taskQueue,
    now: () => clock,
    async sleep(duration) {
      await env.sleep(duration);
      clock = await env.currentTimeMs();
    },
    async sleepUntil(ms) {
      const current = await env.currentTimeMs();
      if (ms > current) await env.sleep(ms - current);
      clock = await env.currentTimeMs();
    },
    send: (...events) => ingest.accept(CLINIC_ID, events),
    messages: () => database.db.select().from(messages).orderBy(asc(messages.dueAt)),
    tasks: () => database.db.select().from(staffTasks).orderBy(asc(staffTasks.dueAt)),
    sequences: () => database.db.select().from(sequences),
    clientUuid,
    async workflowIdFor(externalId, treatmentType = 'neuromodulator') {
      return sequenceWorkflowId(CLINIC_ID, await clientUuid(externalId), treatmentType);
    },
    async result(workflowId) {
      const handle = plainClient.workflow.getHandle<(input: unknown) => Promise<SequenceStatus>>(workflowId);
      const { status } = await handle.describe();
      if (status.name === 'RUNNING') throw new Error(`sequence ${workflowId} is still running`);
      return handle.result();
    },
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
      await database.close();
    },
  };
  clock = await env.currentTimeMs();
  return engine;
}

/** A treatment.completed event for the demo clinic with a reachable, consenting client. */
export function treatment(
  over: Partial<{
    clientId: string;
    appointmentId: string;
    service: string;
    completedAt: string;
    firstName: string;
    lastName: string;
    email: string | null;
    phone: string | null;
    consent: { sms: boolean; email: boolean };
  }> = {},
): CanonicalEvent {
  return {
    type: 'treatment.completed',
    client: {
      id: over.clientId ?? 'client-1',
      firstName: over.firstName ?? 'Avery',
      lastName: over.lastName ?? 'Quinton',
      email: over.email === undefined ? 'avery.quinton@example.com' : over.email,
      phone: over.phone === undefined ? '+12125550123' : over.phone,
      consent: over.consent ?? { sms: true, email: true },
    },
    appointmentId: over.appointmentId ?? 'appt-1',
    service: { name: over.service ?? 'Botox 20u' },
    completedAt: over.completedAt ?? new Date().toISOString(),
  };
}

/** An appointment.booked event for a demo-clinic client (by external id). */
export function booking(clientId: string, appointmentId: string, startAt: number | string): CanonicalEvent {
  return { type: 'appointment.booked', clientId, appointmentId, startAt: new Date(startAt).toISOString() };
}
