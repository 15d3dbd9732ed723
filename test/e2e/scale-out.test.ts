/**
 * Scale-out, proven: two `rebook server` and two `rebook worker` processes (started through the
 * bin, as production starts them) on one PostgreSQL and one Temporal. Treatments posted to both
 * servers (each one delivered to both, as a retried webhook is) enrol exactly once; bookings close
 * their sequences wherever they land; no stage is sent twice; the poll claim holds across
 * processes. Prints the figures it measured.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { POLL_LOCK_NAMESPACE } from '../../connectors/poller.js';
import { type Database, openDatabase, rows } from '../../src/db/client.js';
import { claimStamp } from '../../src/db/connector-store.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { callApi, until } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLINIC = 'demo-clinic';
const KEY = 'scale-out-api-key-0123456789';
const CLIENTS = 40;
const BOOKED = 20;
const TZ = 'America/New_York';
/** src/core/send-window.ts LEGAL_WINDOW: the widest a clinic may configure. */
const SEND_WINDOW = { start: '08:00', end: '20:00' };
/** Not a timing assertion: a ceiling no healthy run approaches (two loaded cores, four Node processes). */
const CEILING_MS = 120_000;

let dir: string;
let cluster: TestCluster;
let database: Database;
let databaseUrl: string;
const servers: string[] = [];
const children: { name: string; child: ChildProcess; output: () => string }[] = [];

function start(name: string, args: string[], extra: NodeJS.ProcessEnv) {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [join(ROOT, 'bin/rebook.mjs'), ...args], {
    cwd: ROOT,
    env: {
      ...inherited,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: cluster.temporal.address,
      REBOOK_API_KEY: KEY,
      REBOOK_UNSUBSCRIBE_SECRET: 'scale-out-unsubscribe-secret-0123456789',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      REBOOK_CONFIG_DIR: join(dir, 'config'),
      REBOOK_FORWARD_INTERVAL_MS: '500',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  children.push({ name, child, output: () => out });
}

const logs = () => children.map((c) => `--- ${c.name}\n${c.output().slice(-3000)}`).join('\n');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-scale-out-'));
  cluster = await startTestCluster(dir);
  databaseUrl = cluster.pg.createDatabase('rebook_scale_out');
  // The demo clinic with the widest send window the law allows, so sends happen while the test runs.
  cpSync(join(ROOT, 'config'), join(dir, 'config'), { recursive: true });
  const clinicFile = join(dir, 'config/clinics/demo-clinic.yaml');
  const widened = readFileSync(clinicFile, 'utf8').replace(/^sendWindow: .*$/m, (line) =>
    line
      .replace(/start: "[\d:]+"/, `start: "${SEND_WINDOW.start}"`)
      .replace(/end: "[\d:]+"/, `end: "${SEND_WINDOW.end}"`),
  );
  expect(widened).toContain(`start: "${SEND_WINDOW.start}", end: "${SEND_WINDOW.end}"`);
  writeFileSync(clinicFile, widened);
  // Migrated once here, so the four processes start on the same schema without racing to create it.
  database = await openDatabase({ url: databaseUrl });
  for (const i of [1, 2]) {
    const port = await freePort();
    servers.push(`http://127.0.0.1:${port}`);
    start(`server ${i}`, ['server'], { PORT: String(port) });
    start(`worker ${i}`, ['worker'], {});
  }
  await Promise.all(
    servers.map((base) =>
      until(
        'both servers to be ready',
        async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok,
        180_000,
      ),
    ),
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${logs()}`);
  });
  // Both workers poll the task queue before any work is sent, so both can take it.
  const connection = await Connection.connect({ address: cluster.temporal.address });
  try {
    await until(
      'both workers to poll the task queue',
      async () => {
        const { pollers } = await connection.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: 'rebook-sequences' },
          taskQueueType: 1,
        });
        return new Set(pollers?.map((p) => p.identity)).size >= 2;
      },
      180_000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${logs()}`);
  } finally {
    await connection.close();
  }
}, 420_000);

afterAll(async () => {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const t = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 20_000);
          child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
        }),
    ),
  );
  await database?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

const dateOf = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(ms);
const offsetOf = (ms: number) =>
  new Intl.DateTimeFormat('en-US', { timeZone: TZ, timeZoneName: 'longOffset' })
    .formatToParts(ms)
    .find((p) => p.type === 'timeZoneName')!
    .value.slice(3) || '+00:00';
const localTime = (date: string, time: string) =>
  Date.parse(`${date}T${time}${offsetOf(Date.parse(`${date}T15:00:00Z`))}`);

/**
 * A Botox treatment whose day-80 email (10:00 in the clinic) fell due within the last day, as
 * .ci/run seeds it: the workflow sends it at once (or defers it to the next send window), so
 * the ledger is written while the test runs.
 */
function completedAtForDueStage(now: number): string {
  const due = [dateOf(now), dateOf(now - 86_400_000)].find(
    (d) => now - localTime(d, '10:00:00') >= 5_000 && now - localTime(d, '10:00:00') <= 86_400_000 - 60_000,
  );
  // Just before 10:00 in the clinic neither day qualifies: yesterday's stage is then a day late, still planned.
  const dueDate = due ?? dateOf(now - 86_400_000);
  const treated = dateOf(Date.parse(`${dueDate}T12:00:00Z`) - 80 * 86_400_000);
  return `${treated}T12:00:00${offsetOf(Date.parse(`${treated}T12:00:00Z`))}`;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

it('two servers and two workers: each treatment enrolled once, bookings stop marketing, visits end runs attended, nothing sent twice', async () => {
  const t0 = Date.now();
  const completedAt = completedAtForDueStage(t0);
  const treatment = (i: number) => ({
    type: 'treatment.completed',
    eventId: `scale-treatment-${i}`,
    client: {
      id: `scale-client-${i}`,
      firstName: 'Sam',
      lastName: `Example${i}`,
      email: `sam${i}@example.com`,
      phone: '+12125550123',
      consent: { sms: false, email: true },
    },
    appointmentId: `scale-appt-${i}`,
    service: { name: 'Botox 20u' },
    completedAt,
  });

  // Each treatment to one server and at the same time to the other: a retried delivery racing
  // the first across processes.
  const answers = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const [a, b] = [servers[i % 2]!, servers[(i + 1) % 2]!];
      return Promise.all(
        [a, b].map((base) => callApi(base, KEY, 'POST', `/v1/clinics/${CLINIC}/events`, treatment(i))),
      );
    }),
  );
  const results = answers.flat().map((r) => {
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    return r.body.results[0] as { status: string; enrolled?: boolean; sequenceId?: string };
  });
  const accepted = results.filter((r) => r.status !== 'duplicate').length;
  const duplicates = results.filter((r) => r.status === 'duplicate').length;

  // Every treatment has its sequence row and its workflow, once.
  const sequenceRows = async () =>
    rows<{ workflow_id: string; client: string; outcome: string; running: boolean; next_stage: string | null }>(
      await database.db.execute(
        sql`select s.workflow_id, c.external_id as client, s.outcome, s.running, s.next_stage
            from sequences s join clients c on c.id = s.client_id where s.clinic_id = ${CLINIC}`,
      ),
    );
  await until('a sequence for every treatment', async () => (await sequenceRows()).length >= CLIENTS, CEILING_MS);
  const enrolled = await sequenceRows();
  expect(enrolled).toHaveLength(CLIENTS);
  expect(new Set(enrolled.map((s) => s.client)).size).toBe(CLIENTS);

  const connection = await Connection.connect({ address: cluster.temporal.address });
  const temporal = new Client({ connection });
  try {
    const runs: string[] = [];
    await until(
      'every workflow to be visible',
      async () => {
        runs.length = 0;
        for await (const w of temporal.workflow.list({ query: `WorkflowType = 'rebookSequence'` }))
          runs.push(w.workflowId);
        return runs.length >= CLIENTS;
      },
      CEILING_MS,
    );
    expect(runs).toHaveLength(CLIENTS);
    expect(new Set(runs)).toEqual(new Set(enrolled.map((s) => s.workflow_id)));
  } finally {
    await connection.close();
  }

  // Book half of them, alternating servers; time each booking until its sequence is booked. A
  // booking no longer ends the run (issue 11): marketing stops and the run watches the booked
  // appointment. The slot is a minute away so its visit can be reported below in real time.
  const startAt = new Date(Date.now() + 60_000).toISOString();
  const latencies = await Promise.all(
    Array.from({ length: BOOKED }, async (_, i) => {
      const t0 = Date.now();
      const r = await callApi(servers[i % 2]!, KEY, 'POST', `/v1/clinics/${CLINIC}/events`, {
        type: 'appointment.booked',
        eventId: `scale-booking-${i}`,
        clientId: `scale-client-${i}`,
        appointmentId: `scale-next-${i}`,
        startAt,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      await until(
        'the booked sequence to stop marketing and watch the booking',
        async () => {
          const s = (await sequenceRows()).find((r) => r.client === `scale-client-${i}`);
          return s?.outcome === 'booked' && s.running && s.next_stage === 'visit_check';
        },
        CEILING_MS,
      );
      return Date.now() - t0;
    }),
  );

  const after = await sequenceRows();
  const bookedClients = new Set(Array.from({ length: BOOKED }, (_, i) => `scale-client-${i}`));
  for (const s of after) if (!bookedClients.has(s.client)) expect(s.outcome).not.toBe('booked');
  const unbooked = new Set(after.filter((s) => !bookedClients.has(s.client)).map((s) => s.workflow_id));

  // The visits happen, each reported to the other server than its booking: the run each ends is
  // attended (what the reports count as rebooked) and the same workflow starts the next cycle.
  const runsOf = async () =>
    rows<{ workflow_id: string; run_key: string; outcome: string; running: boolean }>(
      await database.db.execute(
        sql`select workflow_id, run_key, outcome, running from sequence_runs where clinic_id = ${CLINIC}`,
      ),
    );
  const visitLatencies = await Promise.all(
    Array.from({ length: BOOKED }, async (_, i) => {
      const t0 = Date.now();
      const r = await callApi(servers[(i + 1) % 2]!, KEY, 'POST', `/v1/clinics/${CLINIC}/events`, {
        ...treatment(i),
        eventId: `scale-visit-${i}`,
        appointmentId: `scale-next-${i}`,
        completedAt: new Date().toISOString(),
      });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      await until(
        'the visited run to end attended and the next cycle to run',
        async () => {
          const runs = await runsOf();
          const first = runs.find((x) => x.run_key === `scale-appt-${i}`);
          const next = runs.find((x) => x.run_key === `scale-next-${i}`);
          return first?.outcome === 'attended' && !first.running && next?.running === true;
        },
        CEILING_MS,
      );
      return Date.now() - t0;
    }),
  );
  const cycles = await sequenceRows();
  for (const s of cycles)
    if (bookedClients.has(s.client)) expect(s).toMatchObject({ outcome: 'running', running: true });
  const attended = (await runsOf()).filter((r) => r.outcome === 'attended');
  expect(attended).toHaveLength(BOOKED);

  // Inside the clinic's send window (with a few minutes' margin) the due stage of every sequence
  // still running goes out: wait for those sends, so the ledger check below sees them.
  const local = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit' }).format(t0);
  const inWindow = local >= '08:05' && local <= '19:50';
  if (inWindow)
    await until(
      'the due stage of every unbooked sequence to be sent',
      async () => {
        const sent = rows<{ workflow_id: string }>(
          await database.db.execute(sql`select distinct workflow_id from messages where clinic_id = ${CLINIC}`),
        );
        return sent.filter((m) => unbooked.has(m.workflow_id)).length >= CLIENTS - BOOKED;
      },
      CEILING_MS,
    );

  // The ledger: at most one message per sequence and stage, whichever worker ran the activity.
  const ledger = rows<{ workflow_id: string; stage: string; n: number }>(
    await database.db.execute(
      sql`select workflow_id, stage, count(*)::int as n from messages where clinic_id = ${CLINIC} group by workflow_id, stage`,
    ),
  );
  const twice = ledger.filter((m) => Number(m.n) > 1);
  expect(twice).toEqual([]);
  const sent = ledger.reduce((n, m) => n + Number(m.n), 0);

  const sorted = [...latencies].sort((a, b) => a - b);
  const visits = [...visitLatencies].sort((a, b) => a - b);
  const figures = {
    'treatment deliveries': results.length,
    accepted,
    'answered duplicate': duplicates,
    'sequences (enrolled)': after.length,
    'messages in the ledger': sent,
    'sends awaited (in window)': inWindow ? 1 : 0,
    'ledger duplicates': twice.length,
    booked: BOOKED,
    'booking → booked p50 (ms)': pct(sorted, 50),
    'booking → booked p99 (ms)': pct(sorted, 99),
    'visit → attended p50 (ms)': pct(visits, 50),
    'visit → attended p99 (ms)': pct(visits, 99),
  };
  console.log(`scale-out (2 servers, 2 workers, PostgreSQL, Temporal dev server)\n${table(figures)}`);
  expect(accepted).toBe(CLIENTS);
  expect(duplicates).toBe(CLIENTS);
  expect(Math.max(...latencies, ...visitLatencies)).toBeLessThan(CEILING_MS);
}, 600_000);

it('the poll claim holds across processes: of many claims at once from two pools, one wins', async () => {
  // config/ has no polling clinic (the demo clinic is generic), so the claim every poller takes
  // before polling is raced directly, from two handles as two processes would.
  const other = await openDatabase({ url: databaseUrl });
  try {
    const now = Date.now();
    const claim = (db: Database) =>
      claimStamp(db.db, {
        lockNamespace: POLL_LOCK_NAMESPACE,
        clinicId: 'scale-poll-clinic',
        platform: 'mindbody',
        key: 'scale_out_poll_claim',
        now,
        intervalMs: 60_000,
      });
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => claim(i % 2 ? other : database)));
    expect(outcomes.filter((o) => o.claimed)).toHaveLength(1);
    expect((await claim(other)).claimed).toBe(false);
  } finally {
    await other.close();
  }
}, 60_000);

function table(figures: Record<string, number>): string {
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  return Object.entries(figures)
    .map(([k, v]) => `  ${k.padEnd(width)}  ${String(v).padStart(7)}`)
    .join('\n');
}
