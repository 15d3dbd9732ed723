import { readdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, migrate, openDatabase, rows } from '../../src/db/client.js';
import { engines, type ScratchDatabase } from './engines.js';

const migrationFiles = readdirSync(new URL('../../src/db/migrations/', import.meta.url))
  .filter((f) => /^\d{4}_.*\.sql$/.test(f))
  .sort();
const productTables = [
  'api_keys',
  'appointments',
  'audit_log',
  'client_aliases',
  'client_channels',
  'client_plans',
  'clients',
  'connector_client_refs',
  'connector_errors',
  'connector_state',
  'consent_events',
  'console_links',
  'console_sessions',
  'console_sign_in_steps',
  'console_users',
  'dashboard_rollup',
  'delivery_holds',
  'inbound_messages',
  'inbox_events',
  'incentives',
  'message_events',
  'messages',
  'provider_events',
  'sequence_runs',
  'sequences',
  'service_mappings',
  'staff_tasks',
  'unmapped_services',
  'vendor_api_calls',
  'vendor_cost_buckets',
  'vendor_rate_buckets',
];

async function tables(db: Db): Promise<string[]> {
  const r = await db.execute(
    sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
  );
  return rows<{ table_name: string }>(r).map((t) => t.table_name);
}

async function recorded(db: Db): Promise<string[]> {
  return rows<{ version: string }>(await db.execute(sql`select version from schema_migrations order by version`)).map(
    (r) => r.version,
  );
}

describe.each(engines)('migrations on $name', (engine) => {
  let scratch: ScratchDatabase;
  beforeEach(async () => {
    scratch = await engine.create();
  });
  afterEach(async () => {
    await scratch?.drop();
  });

  it('applies every migration to an empty database, in order', async () => {
    const raw = await scratch.raw();
    try {
      expect(await tables(raw.db)).toEqual([]);
      expect(await migrate(raw.db)).toEqual(migrationFiles);
      expect(await tables(raw.db)).toEqual([...productTables, 'schema_migrations'].sort());
      expect(await recorded(raw.db)).toEqual(migrationFiles);
    } finally {
      await raw.close();
    }
  });

  it('applies nothing the second time, in the same process or after reopening', async () => {
    const first = await openDatabase(scratch.options);
    expect(first.engine).toBe(engine.name);
    expect(await migrate(first.db)).toEqual([]);
    await first.close();

    const second = await openDatabase(scratch.options);
    try {
      expect(await migrate(second.db)).toEqual([]);
      expect(await recorded(second.db)).toEqual(migrationFiles);
      await second.ping();
    } finally {
      await second.close();
    }
  });

  it('lets concurrent migrators race without failing: one applies, the others wait and apply nothing', async () => {
    // Postgres: separate pools, as when several servers and workers start at once. PGlite has
    // a single connection per directory, so its migrators share one instance.
    const handles =
      engine.name === 'postgres'
        ? await Promise.all([scratch.raw(), scratch.raw(), scratch.raw()])
        : [await scratch.raw()];
    try {
      const dbs =
        engine.name === 'postgres' ? handles.map((h) => h.db) : [handles[0]!.db, handles[0]!.db, handles[0]!.db];
      const results = await Promise.all(dbs.map((db) => migrate(db)));
      expect(results.flat().sort()).toEqual(migrationFiles);
      expect(results.filter((r) => r.length > 0)).toHaveLength(1);
      expect(await recorded(dbs[0]!)).toEqual(migrationFiles);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });
});
