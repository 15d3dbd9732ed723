/**
 * A real engine for workflow tests: the time-skipping test server, an in-process PGlite
 * database with the real migrations, the repo's config, the real activities and ingest code.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type Worker } from '@temporalio/worker';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { asc, eq } from 'drizzle-orm';
import { createConfigStore } from '../../src/config/store.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { messages, staffTasks, sequences } from '../../src/db/schema.js';
import { createIngest, type Ingest } from '../../src/ingest/service.js';
import { createLogger } from '../../src/log.js';
import { createOutboxProvider } from '../../src/messaging/outbox/index.js';
import { createWorker, WORKFLOWS_PATH } from '../../src/temporal/worker.js';
import type { CanonicalEvent } from '../../src/ingest/events.js';
import { temporalBinaries } from './binaries.js';
import { registerSearchAttributes } from '../../src/temporal/search-attributes.js';
import { loadTemporalSettings } from '../../src/temporal/settings.js';

export interface Engine {
  env: TestWorkflowEnvironment;
  database: Database;
  ingest: Ingest;
  worker: Worker;
  taskQueue: string;
  /** Server time (ms) of the time-skipping environment. */
  now(): number;
  sleep(duration: string | number): Promise<void>;
  send(...events: CanonicalEvent[]): ReturnType<Ingest['accept']>;
  messages(): Promise<(typeof messages.$inferSelect)[]>;
  tasks(): Promise<(typeof staffTasks.$inferSelect)[]>;
  sequences(): Promise<(typeof sequences.$inferSelect)[]>;
  stop(): Promise<void>;
}

let bundle: Awaited<ReturnType<typeof bundleWorkflowCode>> | undefined;

export async function startEngine(): Promise<Engine> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalBinaries().testServer } },
  });
  await registerSearchAttributes(env.connection, env.namespace ?? 'default', loadTemporalSettings('temporal.yaml').searchAttributes);
  const database = await openDatabase({ pgliteMemory: true });
  const config = createConfigStore('config');
  const log = createLogger({ level: 'silent' });
  const outbox = createOutboxProvider(log);
  const taskQueue = `test-${Math.random().toString(36).slice(2)}`;
  bundle ??= await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: bundle,
    deps: { db: database.db, config, providers: { sms: outbox, email: outbox }, log },
  });
  let clock = Date.now();
  const ingest = createIngest({ db: database.db, config, temporal: env.client, taskQueue, log, now: () => clock });
  const running = worker.run();
  const engine: Engine = {
    env,
    database,
    ingest,
    worker,
    taskQueue,
    now: () => clock,
    async sleep(duration) {
      await env.sleep(duration);
      clock = await env.currentTimeMs();
    },
    send: (...events) => ingest.accept('demo-clinic', events),
    messages: () => database.db.select().from(messages).orderBy(asc(messages.dueAt)),
    tasks: () => database.db.select().from(staffTasks),
    sequences: () => database.db.select().from(sequences),
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
      await database.close();
    },
  };
  clock = await env.currentTimeMs();
  void eq;
  return engine;
}

/** A treatment.completed event for the demo clinic with a reachable, consenting client. */
export function treatment(over: Partial<{ clientId: string; appointmentId: string; service: string; completedAt: string; email: string | null; phone: string | null; consent: { sms: boolean; email: boolean } }> = {}): CanonicalEvent {
  return {
    type: 'treatment.completed',
    client: {
      id: over.clientId ?? 'client-1',
      firstName: 'Avery',
      lastName: 'Quinton',
      email: over.email === undefined ? 'avery.quinton@example.com' : over.email,
      phone: over.phone === undefined ? '+12125550123' : over.phone,
      consent: over.consent ?? { sms: true, email: true },
    },
    appointmentId: over.appointmentId ?? 'appt-1',
    service: { name: over.service ?? 'Botox 20u' },
    completedAt: over.completedAt ?? new Date().toISOString(),
  };
}
