/**
 * Inbox dead letters: a row failing for a reason other than Temporal (here the vendor API) backs
 * off, and after 72 hours (or 100 failures) is `dead` with its error code, listed by
 * `rebook inbox` and revived by `rebook inbox retry`. A row failing because Temporal is
 * unreachable is never dead-lettered, however long and however often.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, ServiceError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboxCommand } from '../../src/cli/inbox.js';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { embeddedDir } from '../../src/db/embedded-lock.js';
import { inboxEvents } from '../../src/db/schema.js';
import { RebookError } from '../../src/errors.js';
import { INBOX_DEAD_AFTER_FAILURES, INBOX_DEAD_AFTER_MS } from '../../src/ingest/dead-letters.js';
import { createIngest, type IngestDeps } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { connectorConfigDir } from '../helpers/connector-stack.js';
import { sink } from '../helpers/sink.js';

const HOUR = 3_600_000;
const log = createLogger({ level: 'silent' });
let dataDir: string;
let configDir: string;
let database: Database;
let now = Date.parse('2026-06-09T15:00:00Z');
let vendorUp = false;

/** What the Temporal client throws when the cluster cannot be reached (gRPC UNAVAILABLE). */
const unreachable = () =>
  new ServiceError('Failed to signalWithStart Workflow', {
    cause: Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }),
  });
/** A cluster whose signal-with-start always fails with `failure`. */
const failingTemporal = (failure: () => Error) =>
  ({
    // Every ingest-path call runs under a deadline (src/temporal/sequences.ts); these calls fail before it.
    withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn(),
    workflow: { signalWithStart: async () => Promise.reject(failure()) },
  }) as unknown as Client;
const temporal = failingTemporal(unreachable);

// The vendor's API by default: down (a retryable refusal) until `vendorUp`; then the event resolves to nothing to apply.
const vendorDownUntilUp: IngestDeps['resolveVendorEvent'] = async () => {
  if (!vendorUp) throw new RebookError('provider_unavailable', 'mindbody API unavailable (HTTP 503) after 4 attempts');
  return [];
};
const ingest = (resolveVendorEvent = vendorDownUntilUp, temporalClient = temporal) =>
  createIngest({
    db: database.db,
    config: createConfigStore(configDir),
    temporal: temporalClient,
    taskQueue: 'unused',
    log,
    now: () => now,
    resolveVendorEvent,
  });

const row = async (id: number) => (await database.db.select().from(inboxEvents).where(eq(inboxEvents.id, id)))[0]!;
const vendorItem = (key: string) => ({
  dedupeKey: key,
  eventType: 'mindbody:appointmentBooking.updated',
  vendor: { platform: 'mindbody', kind: 'appointmentBooking.updated', data: { appointmentId: '1' } },
});

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rebook-dead-letters-'));
  configDir = connectorConfigDir();
  database = await openDatabase({ pgliteDir: embeddedDir(dataDir) });
});
afterAll(async () => {
  await database?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(configDir, { recursive: true, force: true });
});

describe('inbox dead letters', () => {
  it('a vendor failure backs off, stays pending for 72 hours, then is dead with its code; never picked by the forwarder', async () => {
    const t0 = now;
    const i = ingest();
    const { stored } = await i.store('mb-clinic', 'mindbody', [vendorItem('dl:vendor-1')]);
    const id = stored[0]!;
    await i.processStored([id]);
    let r = await row(id);
    expect(r).toMatchObject({ status: 'pending', failures: 1, attempts: 1, lastError: 'provider_unavailable' });
    expect(r.failingSince!.getTime()).toBe(t0);
    // Backed off: not due for the forwarder yet.
    expect(r.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 20_000);
    expect(await i.forwardPending()).toBe(0);
    expect((await row(id)).attempts).toBe(1);

    now = t0 + INBOX_DEAD_AFTER_MS - HOUR;
    await i.processStored([id]);
    expect(await row(id)).toMatchObject({ status: 'pending', failures: 2 });

    now = t0 + INBOX_DEAD_AFTER_MS;
    await i.processStored([id]);
    r = await row(id);
    expect(r).toMatchObject({ status: 'dead', failures: 3, lastError: 'provider_unavailable', lockedUntil: null });
    expect(r.processedAt!.getTime()).toBe(now);
    // Kept for a retry once the cause is fixed.
    expect(r.payload).not.toBeNull();
    await database.db.update(inboxEvents).set({ lockedUntil: null }).where(eq(inboxEvents.id, id));
    expect(await i.forwardPending()).toBe(0);
    expect((await row(id)).status).toBe('dead');
  });

  it(`${INBOX_DEAD_AFTER_FAILURES} failures dead-letter a row sooner`, async () => {
    const i = ingest();
    const { stored } = await i.store('mb-clinic', 'mindbody', [vendorItem('dl:vendor-many')]);
    const id = stored[0]!;
    await database.db
      .update(inboxEvents)
      .set({ failures: INBOX_DEAD_AFTER_FAILURES - 2, failingSince: new Date(now - HOUR) })
      .where(eq(inboxEvents.id, id));
    await i.processStored([id]);
    expect((await row(id)).status).toBe('pending');
    await i.processStored([id]);
    expect(await row(id)).toMatchObject({ status: 'dead', failures: INBOX_DEAD_AFTER_FAILURES });
  });

  it('Temporal unreachable for days and hundreds of attempts: still pending, retried on every pass', async () => {
    const t0 = now;
    const i = ingest();
    const [result] = await i.accept('mb-clinic', [
      {
        type: 'treatment.completed',
        client: {
          id: 'dl-c1',
          firstName: 'Nadia',
          lastName: 'Osei',
          email: 'nadia@example.com',
          consent: { sms: false, email: true },
        },
        appointmentId: 'dl-a1',
        service: { name: 'Botox' },
        completedAt: new Date(now - 2 * HOUR).toISOString(),
      },
    ]);
    expect(result).toMatchObject({ status: 'queued', reason: 'temporal_unavailable' });
    const [stored] = await database.db
      .select({ id: inboxEvents.id })
      .from(inboxEvents)
      .where(eq(inboxEvents.dedupeKey, 'treatment.completed:dl-a1'));
    const id = stored!.id;
    await database.db.update(inboxEvents).set({ attempts: 500 }).where(eq(inboxEvents.id, id));
    now = t0 + 5 * INBOX_DEAD_AFTER_MS;
    // Due again at once (no backoff), however many attempts.
    expect((await row(id)).lockedUntil).toBeNull();
    await i.forwardPending();
    const r = await row(id);
    expect(r).toMatchObject({
      status: 'pending',
      failures: 0,
      failingSince: null,
      attempts: 501,
      lastError: 'temporal_unavailable',
    });
  });

  it('any other failure to apply is not called temporal_unavailable: its own code, backed off, counted toward dead-lettering', async () => {
    // The cluster answered and refused (gRPC INVALID_ARGUMENT): reachable, so not an outage to wait out.
    const refused = new ServiceError('Failed to signalWithStart Workflow', {
      cause: Object.assign(new Error('3 INVALID_ARGUMENT: bad request'), { code: 3 }),
    });
    const refusing = failingTemporal(() => refused);
    const i = ingest(vendorDownUntilUp, refusing);
    const [result] = await i.accept('mb-clinic', [
      {
        type: 'treatment.completed',
        client: {
          id: 'dl-c3',
          firstName: 'Lena',
          lastName: 'Park',
          email: 'lena@example.com',
          consent: { sms: false, email: true },
        },
        appointmentId: 'dl-a3',
        service: { name: 'Botox' },
        completedAt: new Date(now - 2 * HOUR).toISOString(),
      },
    ]);
    expect(result).toMatchObject({ status: 'queued', reason: 'processing_failed' });
    const [stored] = await database.db
      .select({ id: inboxEvents.id })
      .from(inboxEvents)
      .where(eq(inboxEvents.dedupeKey, 'treatment.completed:dl-a3'));
    const r = await row(stored!.id);
    expect(r).toMatchObject({ status: 'pending', lastError: 'ServiceError', failures: 1, attempts: 1 });
    expect(r.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
  });

  it('a vendor event resolved before Temporal failed keeps its resolution: the retry does not call the vendor again', async () => {
    let vendorCalls = 0;
    const i = ingest(async () => {
      vendorCalls++;
      return [
        {
          type: 'treatment.completed',
          client: {
            id: 'dl-c2',
            firstName: 'Ines',
            lastName: 'Moreau',
            email: 'ines@example.com',
            consent: { sms: false, email: true },
          },
          appointmentId: 'dl-a2',
          service: { name: 'Botox' },
          completedAt: new Date(now - 2 * HOUR).toISOString(),
        },
      ];
    });
    const { stored } = await i.store('mb-clinic', 'mindbody', [vendorItem('dl:resolved-1')]);
    const id = stored[0]!;
    await i.processStored([id]);
    const r = await row(id);
    expect(r).toMatchObject({ status: 'pending', lastError: 'temporal_unavailable', lockedUntil: null });
    expect(r.payload).toMatchObject({
      vendor: { platform: 'mindbody' },
      resolved: [{ type: 'treatment.completed', appointmentId: 'dl-a2' }],
    });
    expect(vendorCalls).toBe(1);
    await i.processStored([id]);
    expect(await row(id)).toMatchObject({ status: 'pending', attempts: 2 });
    expect(vendorCalls).toBe(1);
  });

  it('rebook inbox lists dead rows with their codes (no payload) and retry revives them for the forwarder', async () => {
    const dead = await database.db
      .select({ id: inboxEvents.id })
      .from(inboxEvents)
      .where(eq(inboxEvents.status, 'dead'));
    expect(dead).toHaveLength(2);
    // The CLI opens the embedded database itself (one process at a time).
    await database.close();
    try {
      const out = sink();
      expect(
        await inboxCommand(['--clinic', 'mb-clinic'], { REBOOK_DATA_DIR: dataDir }, out.stream, sink().stream),
      ).toBe(0);
      const lines = out.text().trim().split('\n');
      expect(lines[0]).toMatch(/^\s*id\s+clinic\s+source\s+event type\s+status\s+attempts\s+failures\s+last error/);
      expect(lines.slice(1)).toHaveLength(2);
      for (const l of lines.slice(1))
        expect(l).toMatch(
          /mb-clinic\s+mindbody\s+mindbody:appointmentBooking\.updated\s+dead\s+\d+\s+\d+\s+provider_unavailable/,
        );
      expect(out.text()).not.toMatch(/appointmentId|Nadia/);

      const err = sink();
      expect(await inboxCommand(['retry'], { REBOOK_DATA_DIR: dataDir }, sink().stream, err.stream)).toBe(2);
      expect(err.text()).toMatch(/retry needs --id, --clinic or --all-dead/);
      const retried = sink();
      expect(
        await inboxCommand(
          ['retry', '--id', String(dead[0]!.id)],
          { REBOOK_DATA_DIR: dataDir },
          retried.stream,
          sink().stream,
        ),
      ).toBe(0);
      expect(retried.text()).toBe(`back to pending (the forwarder retries them): ${dead[0]!.id}\n`);
    } finally {
      database = await openDatabase({ pgliteDir: embeddedDir(dataDir) });
    }
    // The cause fixed: the forwarder processes the revived row.
    vendorUp = true;
    const j = ingest();
    expect(await j.forwardPending()).toBe(1);
    expect(await row(dead[0]!.id)).toMatchObject({ status: 'done', payload: null });
    expect((await row(dead[1]!.id)).status).toBe('dead');
  });
});
