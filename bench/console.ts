/**
 * `npm run bench:console`: server-side time of the console's pages on a clinic with 20,000
 * clients, 60,000 messages and 2,000 open tasks (PGlite in this process by default; PostgreSQL
 * when BENCH_DATABASE_URL is set, in a clinic id of its own so reruns do not collide).
 *
 * Each entry is one page's server work, measured round-robin with a trivial baseline (the app's
 * static /healthz) in the same run, so the machine's load weighs on both. The call list and the
 * client page are the real console routes answered by the real app (fastify inject, a signed-in
 * front-desk session; the dashboard with a clinic manager's: session check, queries, audit rows,
 * render, security headers). The dashboard serves its facts from the per-day rollup (migration
 * 0014): the warm-up rounds fill it, and the bench also times a view after a write made one day
 * stale (a new message: one day read again). The agency overview and the conversation threads
 * are their loaders (and render).
 *
 * Knobs: BENCH_RUNS (60), BENCH_CLIENTS (20000), BENCH_MESSAGES (60000), BENCH_TASKS (2000).
 * Writes bench/RESULTS-console.md.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { h } from 'preact';
import { render } from 'preact-render-to-string';
import { type LoadedConfig, loadConfig } from '../src/config/load.js';
import { createSession, DEFAULT_SESSION_LIMITS } from '../src/console/accounts/sessions.js';
import { createUser } from '../src/console/accounts/users.js';
import { loadAgencyOverview } from '../src/console/data/agency-overview.js';
import { loadClinicDashboard } from '../src/console/data/clinic-dashboard.js';
import { loadConversationThreads } from '../src/console/data/conversations.js';
import { AgencyBody } from '../src/console/pages/agency-body.js';
import { DashboardBody } from '../src/console/pages/dashboard-body.js';
import { openDatabase, rows } from '../src/db/client.js';
import type { Ingest } from '../src/ingest/inbox.js';
import { createLogger } from '../src/log.js';
import { parsePeriod } from '../src/reports/query.js';
import { buildApp } from '../src/server/app.js';
import { seedConsoleClinic } from '../test/helpers/console-seed.js';
import { writeMarkdown } from './markdown.js';

const TARGET_P95_MS = 100;

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer (got "${raw}")`);
  return n;
}

const params = {
  runs: Math.max(50, intEnv('BENCH_RUNS', 60)),
  clients: intEnv('BENCH_CLIENTS', 20_000),
  messages: intEnv('BENCH_MESSAGES', 60_000),
  tasks: intEnv('BENCH_TASKS', 2_000),
};

interface Page {
  name: string;
  /** One page's server work: its queries and its render to HTML. Returns the HTML (its size is reported). */
  run(): Promise<string>;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

async function main() {
  const url = process.env.BENCH_DATABASE_URL;
  const database = await openDatabase(url ? { url } : { pgliteMemory: true });
  const nowMs = Date.now();
  const clinicId = url ? `bench-${randomBytes(4).toString('hex')}` : 'demo-clinic';
  const base = loadConfig('config');
  const demo = base.clinics.get('demo-clinic')!;
  const clinic = { ...demo, id: clinicId, agency: 'bench-agency' };
  const config: LoadedConfig = {
    ...base,
    clinics: new Map([[clinicId, clinic]]),
    catalogs: new Map([[clinicId, base.catalogs.get('demo-clinic') ?? base.catalog]]),
    agencies: new Map([['bench-agency', { id: 'bench-agency', name: 'Bench agency', file: 'agencies/bench.yaml' }]]),
  };

  const seedStart = performance.now();
  await seedConsoleClinic(database.db, {
    clinicId,
    clients: params.clients,
    messages: params.messages,
    openTasks: params.tasks,
    days: 365,
    nowMs,
    replies: 2_000,
    platform: 'generic',
  });
  const seedMs = performance.now() - seedStart;
  // Fresh statistics, as autovacuum would have after a bulk load of this size.
  await database.db.execute(sql`analyze`);

  const app = await buildApp({
    db: database.db,
    config: { current: () => config, reload: () => config },
    ingest: {} as Ingest,
    log: createLogger({ level: 'silent' }),
    secrets: {},
  });
  await app.ready();
  const desk = await createUser(database.db, config, {
    email: `desk-${clinicId}@example.com`,
    name: 'Desk',
    role: 'front_desk',
    clinicIds: [clinicId],
  });
  const session = await createSession(database.db, desk.id, new Date(), DEFAULT_SESSION_LIMITS, clinicId);
  const manager = await createUser(database.db, config, {
    email: `manager-${clinicId}@example.com`,
    name: 'Manager',
    role: 'clinic_manager',
    clinicIds: [clinicId],
  });
  const managerSession = await createSession(database.db, manager.id, new Date(), DEFAULT_SESSION_LIMITS, clinicId);
  // A client with a full history: treatment, sequence, three messages, an open task, a reply.
  const [{ id: clientId }] = rows<{ id: string }>(
    await database.db.execute(sql`select id from clients where clinic_id = ${clinicId} and external_id = 'c-1'`),
  ) as [{ id: string }];
  // One of that client's messages (its treatment two days ago: inside the 90-day period).
  const [{ id: messageId }] = rows<{ id: string }>(
    await database.db.execute(
      sql`select m.id from messages m join clients c on c.id = m.client_id where c.clinic_id = ${clinicId} and c.external_id = 'c-1' limit 1`,
    ),
  ) as [{ id: string }];
  const page = async (url: string, as = session) => {
    const r = await app.inject({ url, headers: { cookie: `rebook_session=${as}` } });
    if (r.statusCode !== 200) throw new Error(`${url} answered ${r.statusCode}`);
    return r.body;
  };

  const period90 = parsePeriod({}, clinic.timeZone, nowMs);
  const pages: Page[] = [
    { name: 'baseline: static /healthz (inject)', run: async () => (await app.inject({ url: '/healthz' })).body },
    { name: 'GET /app/calls (route: call list, 200 due tasks)', run: () => page('/app/calls') },
    { name: 'GET /app/clients/:id (route: client page)', run: () => page(`/app/clients/${clientId}`) },
    {
      name: 'GET /app/dashboard (route: 90 days, manager)',
      run: () => page(`/app/dashboard?clinic=${clinicId}`, managerSession),
    },
    {
      name: 'GET /app/dashboard (route: 90 days, after a new message)',
      run: async () => {
        // A write the ledger would make: one message's status changes, so its day is stale and read again.
        await database.db.execute(sql`update messages set status = case when status = 'delivered' then 'read' else 'delivered' end
          where id = ${messageId}`);
        return page(`/app/dashboard?clinic=${clinicId}`, managerSession);
      },
    },
    {
      name: 'dashboard loader, 90 days, direct read (as before the rollup; + render)',
      run: async () =>
        render(
          h(DashboardBody, {
            data: await loadClinicDashboard(database.db, config, clinic, period90, nowMs, 'direct'),
            nowMs,
            mapServiceAction: '/app/map',
          }),
        ),
    },
    {
      name: 'GET /app/dashboard (route: 12 months, manager)',
      run: () => page(`/app/dashboard?clinic=${clinicId}&range=365`, managerSession),
    },
    {
      name: 'agency overview (1 clinic), 90 days',
      run: async () =>
        render(
          h(AgencyBody, {
            data: await loadAgencyOverview(database.db, config, 'bench-agency', period90, nowMs),
            clinicHref: (id: string) => `/app/clinics/${id}`,
          }),
        ),
    },
    {
      name: 'conversation threads (50 newest, data only)',
      run: async () => JSON.stringify(await loadConversationThreads(database.db, clinicId, { limit: 50 })),
    },
  ];

  const times = pages.map(() => [] as number[]);
  const sizes = pages.map(() => 0);
  for (let round = -3; round < params.runs; round++)
    for (const [i, p] of pages.entries()) {
      const t0 = performance.now();
      const html = await p.run();
      const ms = performance.now() - t0;
      if (round >= 0) times[i]!.push(ms);
      sizes[i] = html.length;
    }
  await app.close();
  await database.close();

  const results = pages.map((p, i) => {
    const sorted = [...times[i]!].sort((a, b) => a - b);
    return {
      name: p.name,
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      max: sorted.at(-1)!,
      size: sizes[i]!,
    };
  });
  const fmt = (ms: number) => ms.toFixed(ms < 10 ? 2 : 1);
  const load = loadavg().map((l) => l.toFixed(2));
  const engine = url ? 'PostgreSQL (BENCH_DATABASE_URL)' : 'PGlite (in process, memory)';
  const pass = results.slice(1).every((r) => r.p95 < TARGET_P95_MS);
  const table = [
    '| page (server work) | p50 ms | p95 ms | max ms | HTML bytes |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...results.map((r) => `| ${r.name} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.max)} | ${r.size} |`),
  ].join('\n');
  const md = `# Console benchmark

Command: \`${url ? 'BENCH_DATABASE_URL=postgres://… ' : ''}npm run bench:console\` (bench/console.ts), ${new Date(nowMs).toISOString()}.

Data: one clinic with ${params.clients.toLocaleString('en-US')} clients (one treatment each over the last 365 days),
${params.messages.toLocaleString('en-US')} ledger messages, ${params.tasks.toLocaleString('en-US')} open staff tasks, 2,000 inbound replies,
${params.clients.toLocaleString('en-US')} inbox rows (seeded in ${(seedMs / 1000).toFixed(1)} s). Engine: ${engine}.
Machine: ${availableParallelism()} × ${cpus()[0]?.model ?? 'cpu'}, load average ${load.join(' / ')} at the end (shared machine).

${params.runs} measured runs per page after 3 warm-up rounds, round-robin with the baseline so load weighs on all alike.
Times are server-side. Routes (\`GET /app/…\`): the whole request through the real app by fastify inject (session
check, queries, audit rows, render, headers; no network); the dashboard as a signed-in clinic manager, its facts
from the per-day rollup (filled by the warm-up rounds; "after a new message" times a view whose day a ledger write
has just made stale, write included). "direct read" is the dashboard's loader without the rollup (what the page did
before it) and the body's render. The agency overview and the conversations are their loaders (and render).

${table}

Target: p95 < ${TARGET_P95_MS} ms for every page: ${pass ? '✔' : '✘'}.
`;
  writeMarkdown(new URL('./RESULTS-console.md', import.meta.url), md);
  process.stdout.write(`${md}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
