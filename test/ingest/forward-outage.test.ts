/**
 * The inbox forwarder while the Temporal cluster is down (found by `npm run chaos`, scenario
 * temporal-down): a pass stops at the first row the cluster cannot take and releases the rest,
 * instead of waiting out the call deadline once per pending row. A real client against a port
 * where nothing listens (gRPC UNAVAILABLE).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { like } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { embeddedDir } from '../../src/db/embedded-lock.js';
import { inboxEvents } from '../../src/db/schema.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { connectorConfigDir } from '../helpers/connector-stack.js';
import { freePort } from '../helpers/ports.js';

const ROWS = 3;
let dataDir: string;
let configDir: string;
let database: Database;
let temporal: Client;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rebook-forward-outage-'));
  configDir = connectorConfigDir();
  database = await openDatabase({ pgliteDir: embeddedDir(dataDir) });
  temporal = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}` }) });
});
afterAll(async () => {
  await temporal?.connection.close().catch(() => undefined);
  await database?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(configDir, { recursive: true, force: true });
});

it('Temporal down: one forwarder pass tries one row, releases the others, leaves all pending', async () => {
  const ingest = createIngest({
    db: database.db,
    config: createConfigStore(configDir),
    temporal,
    taskQueue: 'unused',
    log: createLogger({ level: 'silent' }),
  });
  const results = await ingest.accept(
    'mb-clinic',
    Array.from({ length: ROWS }, (_, i) => ({
      type: 'treatment.completed' as const,
      client: {
        id: `fo-c${i}`,
        firstName: 'Ines',
        lastName: `Vale${i}`,
        email: `ines${i}@example.com`,
        consent: { sms: false, email: true },
      },
      appointmentId: `fo-a${i}`,
      service: { name: 'Botox' },
      completedAt: new Date(Date.now() - 3_600_000).toISOString(),
    })),
  );
  expect(results.map((r) => r.status)).toEqual(Array(ROWS).fill('queued'));
  const read = () =>
    database.db
      .select({
        id: inboxEvents.id,
        attempts: inboxEvents.attempts,
        status: inboxEvents.status,
        lockedUntil: inboxEvents.lockedUntil,
      })
      .from(inboxEvents)
      .where(like(inboxEvents.dedupeKey, 'treatment.completed:fo-a%'));
  const before = new Map((await read()).map((r) => [r.id, r.attempts]));
  expect(before.size).toBe(ROWS);

  expect(await ingest.forwardPending()).toBe(0);
  const after = await read();
  const tried = after.filter((r) => r.attempts > before.get(r.id)!);
  expect(tried).toHaveLength(1);
  expect(after.every((r) => r.status === 'pending' && r.lockedUntil === null)).toBe(true);

  // The next pass tries again (the oldest first), not a row left locked for a minute.
  await ingest.forwardPending();
  const again = await read();
  expect(again.filter((r) => r.attempts > before.get(r.id)!).length).toBeGreaterThanOrEqual(1);
  expect(again.every((r) => r.status === 'pending' && r.lockedUntil === null)).toBe(true);
});
