/**
 * One poller per clinic per interval across `rebook server` replicas: two pollers on one database
 * make one set of vendor calls (nock fails on a second set). Runs on PGlite and, when
 * TEST_DATABASE_URL is set, on PostgreSQL with each poller on a pool of its own (true concurrency).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ConfigStore, createConfigStore } from '../src/config/store.js';
import { type Database, openDatabase } from '../src/db/client.js';
import { createIngest } from '../src/ingest/inbox.js';
import { createLogger } from '../src/log.js';
import { engines, type ScratchDatabase } from '../test/db/engines.js';
import { SECRETS } from '../test/helpers/connector-stack.js';
import { ApiCallCounter } from './http.js';
import { siteLocal } from './mindbody/index.js';
import { claimPoll, createPoller, POLL_LOCK_NAMESPACE } from './poller.js';
import { vendorResolver } from './registry.js';
import { createConnectorRuntime } from './shared.js';

const API = 'https://api.mindbody.test';
const TZ = 'America/Los_Angeles';
const log = createLogger({ level: 'silent' });
const page = (items: unknown[]) => ({
  PaginationResponse: { RequestedLimit: 100, RequestedOffset: 0, PageSize: items.length, TotalResults: items.length },
  Appointments: items,
});
const noTemporal = {} as Client;

let configDir: string;
let config: ConfigStore;

beforeAll(() => {
  nock.disableNetConnect();
  // The catalog and the one Mindbody test clinic: only its vendor calls are expected.
  configDir = mkdtempSync(join(tmpdir(), 'rebook-poller-config-'));
  mkdirSync(join(configDir, 'clinics'));
  copyFileSync('config/catalog.yaml', join(configDir, 'catalog.yaml'));
  copyFileSync('test/fixtures/connector-clinics/mindbody.yaml', join(configDir, 'clinics', 'mindbody.yaml'));
  config = createConfigStore(configDir);
});
afterEach(() => nock.cleanAll());
afterAll(() => {
  rmSync(configDir, { recursive: true, force: true });
  nock.enableNetConnect();
});

describe.each(engines)('poll election on $name', (engine) => {
  let scratch: ScratchDatabase;
  let first: Database;
  let second: Database;
  beforeEach(async () => {
    scratch = await engine.create();
    first = await openDatabase(scratch.options);
    // PGlite is one process's database: both replicas share the handle. PostgreSQL: a pool each.
    second = engine.name === 'postgres' ? await openDatabase(scratch.options) : first;
  });
  afterEach(async () => {
    if (second !== first) await second.close();
    await first.close();
    await scratch.drop();
  });

  it('two pollers ticking together make one set of vendor calls; a tick within the interval makes none; the next interval one set again', async () => {
    let now = Date.parse('2026-11-20T20:00:00Z');
    const replica = (database: Database) => {
      const counter = new ApiCallCounter();
      const runtime = {
        ...createConnectorRuntime({ secrets: SECRETS, log, counter, now: () => now, sleep: async () => undefined }),
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      };
      const ingest = createIngest({
        db: database.db,
        config,
        temporal: noTemporal,
        taskQueue: 'unused',
        log,
        now: () => now,
        resolveVendorEvent: vendorResolver(database.db, runtime),
      });
      return { counter, poller: createPoller({ db: database.db, config, ingest, runtime, log }) };
    };
    const a = replica(first);
    const b = replica(second);
    const calls = () => a.counter.get('mindbody') + b.counter.get('mindbody');
    // Whichever replica wins needs a staff token (each has its own in memory).
    const token = () =>
      nock(API).post('/public/v6/usertoken/issue').optionally().times(2).reply(200, { AccessToken: 'tok' });

    // First interval: the window listing and the deep scan, exactly once.
    token();
    nock(API)
      .get('/public/v6/appointment/staffappointments')
      .query((q) => q['request.endDate'] === siteLocal(now + 3 * 86_400_000, TZ))
      .once()
      .reply(200, page([]));
    nock(API)
      .get('/public/v6/appointment/staffappointments')
      .query((q) => q['request.endDate'] === siteLocal(now + 120 * 86_400_000, TZ))
      .once()
      .reply(200, page([]));
    await Promise.all([a.poller.tick(), b.poller.tick()]);
    expect(nock.pendingMocks().filter((m) => !m.includes('usertoken'))).toEqual([]);
    // One replica made token + 2 listings; the other made none.
    expect([a.counter.get('mindbody'), b.counter.get('mindbody')].sort()).toEqual([0, 3]);
    const firstSet = calls();

    // A minute later (each replica's own timer fires at its own moment): nobody polls.
    now += 60_000;
    await a.poller.tick();
    await b.poller.tick();
    expect(calls()).toBe(firstSet);

    // The next interval: one set again (the window listing and the modified clients; no deep scan yet).
    now += 15 * 60_000;
    token();
    nock(API).get('/public/v6/appointment/staffappointments').query(true).once().reply(200, page([]));
    nock(API)
      .get('/public/v6/client/clients')
      .query(true)
      .once()
      .reply(200, { PaginationResponse: { TotalResults: 0 }, Clients: [] });
    const [a0, b0] = [a.counter.get('mindbody'), b.counter.get('mindbody')];
    await Promise.all([b.poller.tick(), a.poller.tick()]);
    expect(nock.pendingMocks().filter((m) => !m.includes('usertoken'))).toEqual([]);
    const made = [a.counter.get('mindbody') - a0, b.counter.get('mindbody') - b0].sort();
    // One replica only: 2 calls, or 3 if it is the one that had no token yet.
    expect(made[0]).toBe(0);
    expect([2, 3]).toContain(made[1]);
  });

  it('the claim stamp holds for the interval; force (tests, benchmarks) ignores the stamp', async () => {
    const now = Date.parse('2026-11-20T20:00:00Z');
    const o = { clinicId: 'mb-clinic', platform: 'mindbody', intervalMs: 15 * 60_000 };
    expect(await claimPoll(first.db, { ...o, now })).toEqual({ claimed: true });
    expect(await claimPoll(second.db, { ...o, now: now + 14 * 60_000 })).toEqual({ claimed: false, claimedAt: now });
    expect(await claimPoll(second.db, { ...o, now: now + 14 * 60_000, force: true })).toEqual({ claimed: true });
    expect(await claimPoll(first.db, { ...o, now: now + 30 * 60_000 })).toEqual({ claimed: true });
    // Another clinic's claim is its own.
    expect(await claimPoll(first.db, { ...o, clinicId: 'other', now: now + 30 * 60_000 })).toEqual({ claimed: true });
  });
});

for (const engine of engines.filter((e) => e.name === 'postgres')) {
  describe(`poll election lock on ${engine.name}`, () => {
    it('a claimer finding the advisory lock held skips at once rather than waiting for it', async () => {
      const scratch = await engine.create();
      const holder = await openDatabase(scratch.options);
      const claimer = await openDatabase(scratch.options);
      try {
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let locked!: () => void;
        const isLocked = new Promise<void>((r) => (locked = r));
        const holding = holder.db.transaction(async (tx) => {
          await tx.execute(
            sql`select pg_advisory_xact_lock(${POLL_LOCK_NAMESPACE}, hashtext(${'mb-clinic/mindbody'}))`,
          );
          locked();
          await held;
        });
        await isLocked;
        const t0 = Date.now();
        expect(
          await claimPoll(claimer.db, {
            clinicId: 'mb-clinic',
            platform: 'mindbody',
            now: Date.now(),
            intervalMs: 900_000,
          }),
        ).toEqual({ claimed: false });
        expect(Date.now() - t0).toBeLessThan(2_000);
        release();
        await holding;
        expect(
          await claimPoll(claimer.db, {
            clinicId: 'mb-clinic',
            platform: 'mindbody',
            now: Date.now(),
            intervalMs: 900_000,
          }),
        ).toEqual({ claimed: true });
      } finally {
        await claimer.close();
        await holder.close();
        await scratch.drop();
      }
    });
  });
}
