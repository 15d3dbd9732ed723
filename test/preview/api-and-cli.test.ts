/**
 * The preview from outside: POST /v1/clinics/:clinicId/preview through the real app (app.inject,
 * PGlite, a lazy Temporal client nothing reaches) and `rebook preview` as a child process.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { previewClinic } from '../../src/preview/clinic.js';
import { previewTimeline } from '../../src/preview/timeline.js';
import { buildApp } from '../../src/server/app.js';
import { demoDue } from '../helpers/clinic-time.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const API_KEY = 'preview-test-api-key-0123456789';
const T0 = Date.parse('2026-03-01T17:00:00Z'); // 2026-03-01, noon in New York
const iso = (ms: number) => new Date(ms).toISOString();
let database: Database;
let app: FastifyInstance;

beforeAll(async () => {
  database = await openDatabase({ pgliteMemory: true });
  const config = createConfigStore('config');
  const log = createLogger({ level: 'silent' });
  const ingest = createIngest({ db: database.db, config, temporal: new Client(), taskQueue: 'unused', log });
  app = await buildApp({
    db: database.db,
    config,
    ingest,
    log,
    secrets: { REBOOK_API_KEY: API_KEY } as NodeJS.ProcessEnv,
  });
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

const post = (body: unknown, key = API_KEY, clinic = 'demo-clinic') =>
  app.inject({
    method: 'POST',
    url: `/v1/clinics/${clinic}/preview`,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });

describe('POST /v1/clinics/:clinicId/preview', () => {
  it('returns the timeline of the pure preview for a service name and a date (local noon)', async () => {
    const body = {
      service: 'Botox 20u',
      date: '2026-03-01',
      price: 450,
      client: {
        firstName: 'Dana',
        email: 'dana@example.com',
        phone: '+12125550123',
        consent: { sms: true, email: true },
      },
    };
    const res = await post(body);
    expect(res.statusCode).toBe(200);
    const json = res.json();
    expect(json.completedAt.at).toBe(iso(T0));
    expect(
      json.stages.map((s: { key: string; outcome: string; at?: { at: string } }) => [s.key, s.outcome, s.at?.at]),
    ).toEqual([
      ['care_checkin', 'sent', iso(demoDue(T0, 1))],
      ['care_results', 'sent', iso(demoDue(T0, 12))],
      ['reminder', 'sent', iso(demoDue(T0, 80))],
      ['incentive', 'sent', iso(demoDue(T0, 90))],
      ['results_checkin', 'sent', iso(demoDue(T0, 95))],
      ['staff_escalation', 'staff_task', iso(demoDue(T0, 100))],
      ['reactivation', 'sent', iso(demoDue(T0, 120))],
      ['winback_1', 'sent', iso(demoDue(T0, 180))],
      ['winback_2', 'sent', iso(demoDue(T0, 210))],
    ]);
    expect(json.incentive.description).toBe('15% off');
    expect(json.stages[3].content.body).toContain('Hi Dana');
    const pure = previewTimeline(previewClinic(loadConfig('config'), 'demo-clinic'), {
      service: { name: 'Botox 20u' },
      completedAtMs: T0,
      client: body.client,
      priceCents: 45_000,
    });
    expect(json).toEqual(JSON.parse(JSON.stringify(pure)));
  });

  it('takes a treatment type and an instant; without a client, a sample client reachable on both channels', async () => {
    const res = await post({ treatmentType: 'kybella', completedAt: '2026-03-01T12:00:00-05:00' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      treatmentType: 'kybella',
      channels: { email: { usable: true }, sms: { usable: true } },
    });
    expect(res.json().stages[0].at.at).toBe(iso(demoDue(T0, 35)));
  });

  it('shows why the client gets their offer; a member with credits gets no code (issue 14 §3)', async () => {
    const res = await post({
      treatmentType: 'neuromodulator',
      date: '2026-03-01',
      price: 450,
      offerFacts: { creditsLeft: 2, visits12m: 8 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().incentive).toMatchObject({
      kind: 'use_credit',
      reason: 'package_credit',
      description: 'your 2 credits are waiting',
      percentOfPrice: 0,
    });
    expect(res.json().incentive.code).toBeUndefined();
    const bad = await post({
      treatmentType: 'neuromodulator',
      date: '2026-03-01',
      offerFacts: { creditsLeft: -1, memberPercentOff: 'ten' },
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .error.issues.map((i: { path: string }) => i.path)
        .sort(),
    ).toEqual(['body.offerFacts.creditsLeft', 'body.offerFacts.memberPercentOff']);
  });

  it('answers bad input with coded errors and the failing paths', async () => {
    expect((await post({ service: 'Botox' }, 'wrong-key-0123456789')).statusCode).toBe(401);
    expect((await post({ service: 'Botox', date: '2026-03-01' }, API_KEY, 'nope')).statusCode).toBe(404);
    const both = await post({ service: 'Botox', treatmentType: 'neuromodulator', date: '2026-03-01', extra: 1 });
    expect(both.statusCode).toBe(400);
    expect(both.json().error.issues.map((i: { path: string }) => i.path)).toEqual(
      expect.arrayContaining(['body.extra', 'body.treatmentType']),
    );
    const badDate = await post({ service: 'Botox', date: '2026-02-30' });
    expect(badDate.statusCode).toBe(400);
    expect(badDate.json().error.issues[0].path).toBe('body.date');
    const badZone = await post({
      service: 'Botox',
      date: '2026-03-01',
      client: { consent: { sms: true, email: false }, timeZone: 'Mars/Olympus' },
    });
    expect(badZone.json().error.issues[0].path).toBe('body.client.timeZone');
    const unknown = await post({ service: 'Consultation', date: '2026-03-01' });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().error.code).toBe('unclassified_service');
  });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function rebook(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('rebook preview', () => {
  let table: Run, json: Run, unknown: Run, missing: Run;
  beforeAll(async () => {
    [table, json, unknown, missing] = await Promise.all([
      rebook([
        'preview',
        '--clinic',
        'demo-clinic',
        '--service',
        'Botox 20u',
        '--date',
        '2026-03-01',
        '--phone',
        '+12125550123',
        '--email',
        'a@example.com',
        '--consent',
        'sms',
        '--price',
        '450',
      ]),
      rebook(['preview', '--clinic', 'demo-clinic', '--service', 'Botox 20u', '--date', '2026-03-01', '--json']),
      rebook(['preview', '--clinic', 'demo-clinic', '--service', 'Consultation', '--date', '2026-03-01']),
      rebook(['preview', '--clinic', 'demo-clinic', '--date', '2026-03-01']),
    ]);
  }, 120_000);

  it('prints a readable table: each stage, when it goes out, on which channel, and the text', () => {
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(
      'Rebook preview: demo-clinic — Botox (neuromodulator, every 90 days), "Botox 20u" matched by synonym "botox"',
    );
    expect(table.stdout).toContain('Channels    email not usable (no_consent), SMS usable');
    expect(table.stdout).toMatch(/^reminder\s+80\s+2026-05-20 Wed 10:00\s+—\s+—\s+—\s+suppressed: email_no_consent$/m);
    expect(table.stdout).toMatch(/^incentive\s+90\s+2026-05-30 Sat 10:00\s+2026-05-30 Sat 10:00\s+SMS\s+—\s+sent$/m);
    expect(table.stdout).toMatch(
      /^staff_escalation\s+100\s+2026-06-09 Tue 10:00\s+2026-06-09 Tue 10:00\s+staff\s+—\s+staff task \(no_response\)$/m,
    );
    expect(table.stdout).toMatch(/^reactivation\s+120\s+2026-06-29 Mon 10:00/m);
    expect(table.stdout).toMatch(/^winback_2\s+210\s+/m);
    expect(table.stdout).toMatch(/^snooze_reactivation \*\s+120\s+2026-06-29 Mon 10:00/m);
    expect(table.stdout).toContain('15% off with code XXXX-XXXX-XXXX-XXXX, valid until Jun 29.');
  });

  it('--json prints what the API returns', () => {
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    const pure = previewTimeline(previewClinic(loadConfig('config'), 'demo-clinic'), {
      service: { name: 'Botox 20u' },
      completedAtMs: T0,
      client: {
        firstName: 'Alex',
        email: 'alex@example.com',
        phone: '+12125550123',
        consent: { sms: true, email: true },
      },
      priceCents: null,
    });
    expect(parsed).toEqual(JSON.parse(JSON.stringify(pure)));
  });

  it('exits non-zero with a message for an unknown service or missing options', () => {
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('rebook preview: the service matches no treatment type');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--service or --type are required');
  });
});
