/**
 * The database engines the db tests run against: PGlite always, and the real PostgreSQL server
 * named by TEST_DATABASE_URL when it is set (CI's `.ci/run` starts one). Every test gets a
 * database of its own, created empty and dropped afterwards, so reruns start clean.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseOptions, Db } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';

/** A handle on a database that has not been migrated (openDatabase always migrates). */
export interface RawHandle {
  db: Db;
  close(): Promise<void>;
}

/** A new, empty database of one engine. */
export interface ScratchDatabase {
  /** Opens the same database again with openDatabase. */
  options: DatabaseOptions;
  /** A connection without migrations. PGlite allows one open instance per directory at a time. */
  raw(): Promise<RawHandle>;
  drop(): Promise<void>;
}

export interface TestEngine {
  name: 'pglite' | 'postgres';
  create(): Promise<ScratchDatabase>;
}

const pglite: TestEngine = {
  name: 'pglite',
  async create() {
    // A directory rather than memory, so a test can close the database and open it again.
    const dir = mkdtempSync(join(tmpdir(), 'rebook-pglite-'));
    return {
      options: { pgliteDir: dir },
      async raw() {
        const { PGlite } = await import('@electric-sql/pglite');
        const { drizzle } = await import('drizzle-orm/pglite');
        const client = await PGlite.create(dir);
        return { db: drizzle(client, { schema }) as unknown as Db, close: () => client.close() };
      },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

function postgres(adminUrl: string): TestEngine {
  return {
    name: 'postgres',
    async create() {
      const { default: pg } = await import('pg');
      const { drizzle } = await import('drizzle-orm/node-postgres');
      const name = `rebook_test_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return {
        options: { url: url.toString() },
        async raw() {
          const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
          // drop() ends the database WITH (FORCE): a connection still closing after pool.end()
          // then gets "terminating connection due to administrator command" (57P01), which the
          // pool re-emits as 'error'; unheard, that fails the whole run as an unhandled error.
          pool.on('error', () => undefined);
          return { db: drizzle(pool, { schema }) as unknown as Db, close: () => pool.end() };
        },
        async drop() {
          const client = new pg.Client({ connectionString: adminUrl });
          await client.connect();
          try {
            // FORCE: a pool a failed test left open must not keep the database alive.
            await client.query(`drop database if exists ${name} with (force)`);
          } finally {
            await client.end();
          }
        },
      };
    },
  };
}

export const engines: TestEngine[] = [
  pglite,
  ...(process.env.TEST_DATABASE_URL ? [postgres(process.env.TEST_DATABASE_URL)] : []),
];

/** The SQLSTATE of a driver error, looking through Drizzle's DrizzleQueryError wrapper. */
export function sqlState(err: unknown): string | undefined {
  for (let e = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** Resolves with the SQLSTATE the promise failed with; fails the test if it succeeded. */
export async function failure(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return sqlState(err);
  }
  throw new Error('expected the statement to fail');
}
