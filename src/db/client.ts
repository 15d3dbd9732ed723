/**
 * One PostgreSQL dialect, two engines: node-postgres against a server when DATABASE_URL is set
 * (production, CI's Postgres job), PGlite in-process under .data/ otherwise (the embedded
 * default). Both go through the same Drizzle schema and the same SQL migrations.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  engine: 'postgres' | 'pglite';
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseOptions = { url: string } | { pgliteDir: string } | { pgliteMemory: true };

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  let database: Database;
  if ('url' in opts) {
    const { default: pg } = await import('pg');
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const pool = new pg.Pool({ connectionString: opts.url, max: 10 });
    const foregroundPool = new pg.Pool({ connectionString: opts.url, max: FOREGROUND_CONNECTIONS });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    foregroundPool.on('error', () => undefined);
    const db = drizzle(routedPool(pool, foregroundPool), { schema }) as unknown as Db;
    database = {
      db,
      engine: 'postgres',
      ping: async () => void (await pool.query('select 1')),
      close: async () => void (await Promise.all([pool.end(), foregroundPool.end()])),
    };
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    const { drizzle } = await import('drizzle-orm/pglite');
    let client: InstanceType<typeof PGlite>;
    if ('pgliteDir' in opts) {
      mkdirSync(opts.pgliteDir, { recursive: true });
      client = await PGlite.create(opts.pgliteDir);
    } else {
      client = await PGlite.create();
    }
    const db = drizzle(takingTurns(client), { schema }) as unknown as Db;
    database = {
      db,
      engine: 'pglite',
      ping: async () => void (await client.query('select 1')),
      close: () => client.close(),
    };
  }
  await migrate(database.db);
  return database;
}

/**
 * Marks the queries `fn` makes as foreground (a webhook's inbox INSERT, which its answer waits
 * for): on PGlite they run before queued background queries; on PostgreSQL they use connections
 * of their own.
 */
export function foreground<T>(fn: () => PromiseLike<T>): Promise<T> {
  // Awaited inside: Drizzle's queries are lazy thenables that start when awaited.
  return priority.run(true, async () => await fn());
}

const priority = new AsyncLocalStorage<boolean>();

/**
 * PGlite executes each query synchronously on the event loop, and a chain of awaited queries
 * (inbox processing, activities) resolves in microtasks without the loop ever polling for I/O in
 * between: a webhook arriving meanwhile is not even read until the chain reaches a network call.
 * So every query takes a turn: one at a time (as PGlite does anyway), handed over on a macrotask
 * so incoming requests are read between two queries, and foreground queries (a webhook's inbox
 * INSERT, see `foreground`) before background ones. A transaction holds its turn to the end.
 */
function takingTurns<C extends object>(client: C): C {
  const waiting: { foreground: (() => void)[]; background: (() => void)[] } = { foreground: [], background: [] };
  let busy = false;
  const acquire = (): Promise<void> => {
    if (!busy) {
      busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting[priority.getStore() ? 'foreground' : 'background'].push(resolve));
  };
  const release = () =>
    setImmediate(() => {
      const next = waiting.foreground.shift() ?? waiting.background.shift();
      if (next) next();
      else busy = false;
    });
  return new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop !== 'query' && prop !== 'exec' && prop !== 'transaction') return value.bind(target);
      return async (...args: unknown[]) => {
        await acquire();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          release();
        }
      };
    },
  });
}

/**
 * PostgreSQL: connections of their own for foreground queries (see `foreground`), so a webhook's
 * INSERT never waits in the pool's queue behind background processing holding every connection.
 */
const FOREGROUND_CONNECTIONS = 4;

function routedPool<P extends { query: unknown; connect: unknown }>(pool: P, foregroundPool: P): P {
  return new Proxy(pool, {
    get(target, prop) {
      if (prop === 'query' || prop === 'connect') {
        return (...args: unknown[]) => {
          const chosen = priority.getStore() ? foregroundPool : target;
          return (chosen[prop] as (...a: unknown[]) => unknown).apply(chosen, args);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
/** Arbitrary constant: serializes concurrent migrators (several servers/workers starting at once). */
const MIGRATION_LOCK = 727_001;

/** Applies every migrations/NNNN_*.sql not yet recorded, each in its own transaction. */
export async function migrate(db: Db): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.*\.sql$/.test(f))
    .sort();
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.execute(
      sql`create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())`,
    );
    const done = await tx.execute<{ version: string }>(sql`select version from schema_migrations`);
    const have = new Set(rows<{ version: string }>(done).map((r) => r.version));
    for (const f of files) {
      if (have.has(f)) continue;
      // One statement per execute: extended-protocol drivers reject multi-statement strings.
      for (const statement of splitStatements(readFileSync(join(MIGRATIONS_DIR, f), 'utf8')))
        await tx.execute(sql.raw(statement));
      await tx.execute(sql`insert into schema_migrations (version) values (${f})`);
      applied.push(f);
    }
  });
  return applied;
}

/** Splits a migration file on statement-ending semicolons (at end of line; migrations keep that form). */
function splitStatements(text: string): string[] {
  return text
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}

/**
 * The rows of a multi-row write in the order of their key: two such statements running at once
 * (two ingest batches) then lock the rows they share in the same order, and do not deadlock.
 */
export function inLockOrder<T>(rows: T[], key: (row: T) => string): T[] {
  return rows
    .map((row) => ({ row, k: key(row) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.row);
}

/** node-postgres and PGlite shape `execute` results differently; both carry `rows`. */
export function rows<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? (result as T[])) as T[];
}
