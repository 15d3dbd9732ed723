/**
 * The app the console's browser tests drive: the real app (API and console) over an engine (the
 * time-skipping Temporal server, the real worker, PGlite), listening on a free port, with the
 * engine's clock, so sessions and pages see the same time as the sequences.
 */
import type { FastifyInstance } from 'fastify';
import { type ConfigStore, createConfigStore } from '../../src/config/store.js';
import { createLogger } from '../../src/log.js';
import { buildApp } from '../../src/server/app.js';
import { createSequenceSignals } from '../../src/temporal/sequence-signals.js';
import { type Engine, startEngine } from './engine.js';

export interface ConsoleApp {
  e: Engine;
  app: FastifyInstance;
  config: ConfigStore;
  /** http://127.0.0.1:PORT */
  base: string;
}

export async function startConsoleApp(configDir: string): Promise<ConsoleApp> {
  const e = await startEngine({ configDir });
  const config = createConfigStore(configDir);
  const app = await buildApp({
    db: e.database.db,
    config,
    ingest: e.ingest,
    log: createLogger({ level: 'silent' }),
    secrets: {},
    signals: createSequenceSignals(e.client),
    now: () => e.now(),
  });
  const base = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
  return { e, app, config, base };
}
