/**
 * Proof of lift end to end (issue 13): 240 Botox clients through the real ingest, workflows and
 * activities on the time-skipping server, half held out by the keyed hash. Synthetic booking
 * behaviour stands in for the program's effect: a treated client books (and comes in a week later)
 * with probability 0.7, a held-out one with 0.3, each decided by a fixed draw per client. The lift
 * report read through the HTTP API must count exactly those visits per arm and recover the
 * configured 40-point lift within its 95% interval (240 clients: enough finished sequences in each
 * arm for the report to measure a 20-point lift rather than refuse as too small).
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { createLogger } from '../../src/log.js';
import { buildApp } from '../../src/server/app.js';
import { createSequenceSignals } from '../../src/temporal/sequence-signals.js';
import { treatmentSlot } from '../helpers/clinic-time.js';
import {
  booking,
  CLINIC_ID,
  DAY_MS,
  type Engine,
  iso,
  perWorkflow,
  startEngine,
  treatment,
} from '../helpers/engine.js';

const SECRET = 'lift-e2e-holdout-secret-0123456789';
const API_KEY = 'lift-e2e-api-key-0123456789abcdef';
const RATE = { treated: 0.7, holdout: 0.3 };
let e: Engine;
let app: FastifyInstance;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-lift-e2e-'));
  cpSync('config', dir, { recursive: true });
  const file = join(dir, 'clinics', 'demo-clinic.yaml');
  writeFileSync(file, `${readFileSync(file, 'utf8')}\nlift: { holdout: 0.5, averagePrice: { neuromodulator: 450 } }\n`);
  e = await startEngine({ configDir: dir, holdoutSecret: SECRET });
  app = await buildApp({
    db: e.database.db,
    config: createConfigStore(dir),
    ingest: e.ingest,
    log: createLogger({ level: 'silent' }),
    secrets: { REBOOK_API_KEY: API_KEY } as NodeJS.ProcessEnv,
    signals: createSequenceSignals(e.client),
    now: () => e.now(),
  });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await e?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
const { rowOf } = perWorkflow(() => e);

/** A fixed uniform draw per client, independent of the holdout's keyed hash. */
const draw = (id: string) => createHash('sha256').update(`books:${id}`).digest().readUInt32BE(0) / 2 ** 32;

it('recovers the configured lift: exact visits per arm, and 40 points inside the interval of the difference', async () => {
  const t0 = await treatmentSlot(e);
  const at = (days: number) => t0 + days * DAY_MS;
  const ids = Array.from({ length: 240 }, (_, i) => `lift-${i}`);
  const res = await e.send(
    ...ids.map((id, i) =>
      treatment({ clientId: id, appointmentId: `${id}-1`, completedAt: iso(t0), email: `l${i}@example.com` }),
    ),
  );
  expect(res.every((r) => r.status === 'accepted')).toBe(true);
  const clients = await Promise.all(
    ids.map(async (id) => {
      const arm = (await rowOf(await e.workflowIdFor(id)))!.arm as 'treated' | 'holdout';
      return { id, arm, books: draw(id) < RATE[arm] };
    }),
  );
  const bookers = clients.filter((c) => c.books);

  // Day 85: they book for day 92 (the held-out ones on their own); day 92: the visit happens.
  await e.sleepUntil(at(85));
  await e.send(...bookers.map((c) => booking(c.id, `${c.id}-2`, at(92))));
  await e.sleepUntil(at(92) + 3_600_000);
  await e.send(
    ...bookers.map((c) => treatment({ clientId: c.id, appointmentId: `${c.id}-2`, completedAt: iso(at(92)) })),
  );
  // Past the last win-back offer: every first run has ended, attended or churned.
  await e.sleepUntil(at(245));

  const period = `from=${encodeURIComponent(iso(t0 - DAY_MS))}&to=${encodeURIComponent(iso(t0 + DAY_MS))}`;
  const r = await app.inject({
    method: 'GET',
    url: `/v1/clinics/${CLINIC_ID}/reports/lift?${period}`,
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  expect(r.statusCode).toBe(200);
  const botox = r.json().types.find((t: { treatmentType: string }) => t.treatmentType === 'neuromodulator');
  const arm = (a: 'treated' | 'holdout') => ({
    enrolled: clients.filter((c) => c.arm === a).length,
    finished: clients.filter((c) => c.arm === a).length,
    rebooked: bookers.filter((c) => c.arm === a).length,
  });
  expect(botox.treated).toMatchObject(arm('treated'));
  expect(botox.holdout).toMatchObject(arm('holdout'));
  expect(arm('treated').enrolled).toBeGreaterThan(90);
  expect(arm('holdout').enrolled).toBeGreaterThan(90);
  expect(botox.status).toBe('measured');
  const observed =
    arm('treated').rebooked / arm('treated').finished - arm('holdout').rebooked / arm('holdout').finished;
  expect(botox.difference.estimate).toBeCloseTo(observed, 10);
  // The configured effect lies in the interval, and the interval excludes no effect at all.
  expect(botox.difference.lower).toBeLessThan(RATE.treated - RATE.holdout);
  expect(botox.difference.upper).toBeGreaterThan(RATE.treated - RATE.holdout);
  expect(botox.significant).toBe(true);
  expect(botox.priceSource).toBe('configured');
}, 600_000);
