/**
 * `rebook report` as a child process: straight from an embedded database (REBOOK_DATA_DIR) in
 * table, CSV and JSON, two clinics rolled up, an agency's clinics (with each clinic's totals), and
 * through a running server with --url/--key.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createConfigStore } from '../../src/config/store.js';
import { type Db, openDatabase } from '../../src/db/client.js';
import { clients, messages, sequenceRuns } from '../../src/db/schema.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { createLogger } from '../../src/log.js';
import { agencyRebookingReport, clinicRebookingReport } from '../../src/reports/query.js';
import { REPORT_CSV_COLUMNS } from '../../src/reports/render.js';
import { createApiKey } from '../../src/server/api-keys.js';
import { buildApp } from '../../src/server/app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const API_KEY = 'report-cli-api-key-0123456789';
const FROM = '2026-01-01';
const TO = '2026-01-31';
let dir: string;
let configDir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function rebook(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const { DATABASE_URL: _ignored, ...rest } = process.env;
    execFile(
      'npx',
      ['tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...rest, LOG_LEVEL: 'silent', REBOOK_CONFIG_DIR: configDir, REBOOK_DATA_DIR: dir, ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Two Botox runs in January for `clinicId`: one booked after the reminder, one churned. */
async function seed(db: Db, clinicId: string) {
  for (const [i, outcome, stage] of [
    [1, 'booked', 'reminder'],
    [2, 'churned', 'staff_escalation'],
  ] as const) {
    const [c] = await db
      .insert(clients)
      .values({ clinicId, externalId: `c${i}`, firstName: 'Sam', lastName: 'Lee', consentEmail: true })
      .returning();
    const wf = `rebook/${clinicId}/${c!.id}/neuromodulator`;
    const anchor = new Date(`2026-01-1${i}T15:00:00Z`);
    await db.insert(sequenceRuns).values({
      workflowId: wf,
      runKey: `a${i}`,
      clinicId,
      clientId: c!.id,
      treatmentType: 'neuromodulator',
      anchorAt: anchor,
      outcome,
      outcomeStage: stage,
      running: false,
      startedAt: anchor,
      endedAt: new Date(anchor.getTime() + 85 * 86_400_000),
    });
    await db.insert(messages).values({
      idempotencyKey: `${wf}|a${i}|reminder`,
      clinicId,
      clientId: c!.id,
      workflowId: wf,
      treatmentType: 'neuromodulator',
      stage: 'reminder',
      channel: 'email',
      status: 'outbox',
      provider: 'outbox',
      dueAt: anchor,
    });
  }
}

let table: Run,
  csv: Run,
  json: Run,
  both: Run,
  viaUrl: Run,
  noDb: Run,
  snapshot: Run,
  agency: Run,
  agencyTable: Run,
  agencyViaUrl: Run;
let expected: unknown;
let expectedAgency: unknown;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-report-'));
  configDir = join(dir, 'config');
  mkdirSync(join(configDir, 'clinics'), { recursive: true });
  copyFileSync('config/catalog.yaml', join(configDir, 'catalog.yaml'));
  const demo = readFileSync('config/clinics/demo-clinic.yaml', 'utf8');
  writeFileSync(join(configDir, 'clinics', 'demo-clinic.yaml'), demo);
  writeFileSync(
    join(configDir, 'clinics', 'second-clinic.yaml'),
    demo.replace(/^id: demo-clinic$/m, 'id: second-clinic'),
  );
  // An agency of two clinics, the first with an extra run, so each clinic's totals differ.
  mkdirSync(join(configDir, 'agencies'));
  writeFileSync(join(configDir, 'agencies', 'glow.yaml'), 'name: Glow Group\n');
  for (const id of ['glow-east', 'glow-west'])
    writeFileSync(
      join(configDir, 'clinics', `${id}.yaml`),
      demo.replace(/^id: demo-clinic$/m, `id: ${id}\nagency: glow`).replace(/^apiKeys:\n( {2}- .*\n)+/m, ''),
    );
  const database = await openDatabase({ pgliteDir: join(dir, 'pglite') });
  await seed(database.db, 'demo-clinic');
  await seed(database.db, 'second-clinic');
  await seed(database.db, 'glow-east');
  await seed(database.db, 'glow-west');
  const [extra] = await database.db
    .insert(clients)
    .values({ clinicId: 'glow-east', externalId: 'c3', firstName: 'Sam', lastName: 'Lee' })
    .returning();
  await database.db.insert(sequenceRuns).values({
    workflowId: `rebook/glow-east/${extra!.id}/neuromodulator`,
    runKey: 'a3',
    clinicId: 'glow-east',
    clientId: extra!.id,
    treatmentType: 'neuromodulator',
    anchorAt: new Date('2026-01-20T15:00:00Z'),
    startedAt: new Date('2026-01-20T15:00:00Z'),
  });
  const config = loadConfig(configDir);
  expected = JSON.parse(
    JSON.stringify(
      await clinicRebookingReport(
        database.db,
        config,
        config.clinics.get('demo-clinic')!,
        { from: FROM, to: TO },
        Date.now(),
      ),
    ),
  );
  expectedAgency = JSON.parse(
    JSON.stringify(await agencyRebookingReport(database.db, config, 'glow', { from: FROM, to: TO }, Date.now())),
  );
  const agencyKey = (await createApiKey(database.db, config, { agencyId: 'glow', role: 'admin' })).key;
  await database.close();

  // PGlite is one process's database: the direct reads run one after another, with it closed here.
  noDb = await rebook(['report', '--clinic', 'demo-clinic'], { REBOOK_DATA_DIR: join(dir, 'empty') });
  table = await rebook(['report', '--clinic', 'demo-clinic', '--from', FROM, '--to', TO]);
  csv = await rebook(['report', '--clinic', 'demo-clinic', '--from', FROM, '--to', TO, '--format', 'csv']);
  json = await rebook(['report', '--clinic', 'demo-clinic', '--from', FROM, '--to', TO, '--format', 'json']);
  both = await rebook([
    'report',
    '--clinics',
    'demo-clinic,second-clinic',
    '--from',
    FROM,
    '--to',
    TO,
    '--format',
    'json',
  ]);
  agency = await rebook(['report', '--agency', 'glow', '--from', FROM, '--to', TO, '--format', 'json']);
  agencyTable = await rebook(['report', '--agency', 'glow', '--from', FROM, '--to', TO]);

  const served = await openDatabase({ pgliteDir: join(dir, 'pglite') });
  const store = createConfigStore(configDir);
  const log = createLogger({ level: 'silent' });
  const app = await buildApp({
    db: served.db,
    config: store,
    ingest: createIngest({ db: served.db, config: store, temporal: new Client(), taskQueue: 'unused', log }),
    log,
    secrets: { REBOOK_API_KEY: API_KEY } as NodeJS.ProcessEnv,
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    viaUrl = await rebook([
      'report',
      '--clinic',
      'demo-clinic',
      '--from',
      FROM,
      '--to',
      TO,
      '--format',
      'json',
      '--url',
      url,
      '--key',
      API_KEY,
    ]);
    agencyViaUrl = await rebook([
      'report',
      '--agency',
      'glow',
      '--from',
      FROM,
      '--to',
      TO,
      '--format',
      'json',
      '--url',
      url,
      '--key',
      agencyKey,
    ]);
    // This process holds the database open, as `rebook dev` would (and says so): the command reads a snapshot.
    writeFileSync(join(dir, 'dev.pid'), String(process.pid));
    snapshot = await rebook(['report', '--clinic', 'demo-clinic', '--from', FROM, '--to', TO, '--format', 'json']);
  } finally {
    await app.close();
    await served.close();
  }
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rebook report', () => {
  it('prints the table per treatment type and stage', () => {
    expect(table.stderr).not.toMatch(/rebook( report)?:/);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(
      'Rebooking report: demo-clinic — treatments completed 2026-01-01 05:00 to 2026-02-01 05:00 UTC',
    );
    expect(table.stdout).toContain('Botox (neuromodulator, every 90 days)');
    expect(table.stdout).toContain('2 enrolled, 2 finished, 0 running (0 snoozed, 0 booked with the visit ahead)');
    expect(table.stdout).toContain(
      '1 rebooked on time (50.0% of finished), 1 booked in all (0 visits attended), 1 churned',
    );
    expect(table.stdout).toMatch(/^ {2}reminder\s+2\s+2\s+0\s+0\s+0\s+0\s+1\s+50\.0%/m);
  });

  it('CSV: a row per type and per stage, with the documented columns', () => {
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe(REPORT_CSV_COLUMNS.join(','));
    // The type's row, then its stages: the two care touches (issue 11) and the four rebooking stages.
    expect(lines).toHaveLength(1 + 1 + 6);
    const all = Object.fromEntries(REPORT_CSV_COLUMNS.map((c, i) => [c, lines[1]!.split(',')[i]]));
    expect(all).toMatchObject({
      clinics: 'demo-clinic',
      treatment_type: 'neuromodulator',
      stage: 'all',
      enrolled: '2',
      booked_on_time: '1',
      rebooking_rate: '0.5',
      churned: '1',
      sent_email: '2',
    });
    const reminder = Object.fromEntries(REPORT_CSV_COLUMNS.map((c, i) => [c, lines[4]!.split(',')[i]]));
    expect(reminder).toMatchObject({
      stage: 'reminder',
      reached: '2',
      bookings: '1',
      booking_rate: '0.5',
      enrolled: '',
    });
  });

  it('JSON is the report the library computes: directly, through the server, from a snapshot while the database is held', () => {
    expect(JSON.parse(json.stdout)).toEqual(expected);
    expect(viaUrl.stderr).not.toMatch(/rebook( report)?:/);
    expect(JSON.parse(viaUrl.stdout)).toEqual(expected);
    expect(JSON.parse(snapshot.stdout)).toEqual(expected);
  });

  it('rolls several clinics up', () => {
    const r = JSON.parse(both.stdout);
    expect(r.clinics).toEqual(['demo-clinic', 'second-clinic']);
    expect(r.totals).toMatchObject({ enrolled: 4, bookedOnTime: 2, churned: 2, rebookingRate: 0.5 });
  });

  it("rolls an agency's clinics up, with each clinic's totals: directly and through the server", () => {
    expect(agency.stderr).not.toMatch(/rebook( report)?:/);
    const r = JSON.parse(agency.stdout);
    expect(r).toEqual(expectedAgency);
    expect(r.clinics).toEqual(['glow-east', 'glow-west']);
    expect(r.totals).toMatchObject({ enrolled: 5, running: 1, bookedOnTime: 2 });
    expect(
      r.byClinic.map((c: { clinicId: string; totals: { enrolled: number } }) => [c.clinicId, c.totals.enrolled]),
    ).toEqual([
      ['glow-east', 3],
      ['glow-west', 2],
    ]);
    expect(agencyViaUrl.stderr).not.toMatch(/rebook( report)?:/);
    expect(JSON.parse(agencyViaUrl.stdout)).toEqual(expectedAgency);
    expect(agencyTable.stdout).toMatch(/^By clinic$/m);
    expect(agencyTable.stdout).toMatch(/^ {2}glow-east\s+3\s+2\s+1\s+50\.0%/m);
  });

  it('says how to reach a database when there is none', () => {
    expect(noDb.code).toBe(1);
    expect(noDb.stderr).toContain('no database: set DATABASE_URL');
  });
});
