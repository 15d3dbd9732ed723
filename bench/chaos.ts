/**
 * `npm run chaos`: every fault scenario (bench/chaos/scenarios.ts) against real processes, one
 * stack, one after another. Durations and sizes from the environment (defaults: the issue's
 * figures scaled to a 2-core machine); CHAOS_ONLY=name,name runs a subset. Prints each scenario's
 * accepted / lost / duplicated / unconfirmed / recovered-after; exits 1 when anything was lost or
 * sent twice.
 */
import {
  flood,
  formatResult,
  postgresRestart,
  providerOutage,
  type ScenarioResult,
  temporalDown,
  workerKill,
} from './chaos/scenarios.js';
import { sleepingSequences } from './chaos/sleeping.js';
import { startChaosStack } from './chaos/stack.js';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const only = process.env.CHAOS_ONLY?.split(',').map((s) => s.trim());
const CLIENTS = num('CHAOS_CLIENTS', 20);

const scenarios: Record<string, (s: Awaited<ReturnType<typeof startChaosStack>>) => Promise<ScenarioResult>> = {
  'worker-kill': (s) => workerKill(s, { clients: CLIENTS, holdMs: num('CHAOS_HOLD_MS', 5_000) }),
  'temporal-down': (s) => temporalDown(s, { clients: CLIENTS, downMs: num('CHAOS_TEMPORAL_DOWN_MS', 5 * 60_000) }),
  // The same outage with the worker restarted during it (a deploy, a reboot): it waits for the cluster.
  'temporal-down-worker-restart': (s) =>
    temporalDown(s, {
      clients: CLIENTS,
      downMs: num('CHAOS_TEMPORAL_DOWN_MS', 5 * 60_000),
      workerStartsDuringOutage: true,
    }),
  'postgres-restart': (s) => postgresRestart(s, { clients: CLIENTS, downMs: num('CHAOS_PG_DOWN_MS', 30_000) }),
  'provider-5xx': (s) =>
    providerOutage(s, { clients: CLIENTS, outageMs: num('CHAOS_PROVIDER_DOWN_MS', 10 * 60_000), mode: 'fail' }),
  'provider-hang': (s) =>
    providerOutage(s, { clients: CLIENTS, outageMs: num('CHAOS_PROVIDER_HANG_MS', 2 * 60_000), mode: 'hang' }),
  // 10× the webhook benchmark's full rate (about 60/s, bench/RESULTS-webhooks.md) for a minute.
  flood: (s) =>
    flood(s, {
      ratePerSecond: num('CHAOS_FLOOD_RATE', 600),
      durationMs: num('CHAOS_FLOOD_MS', 60_000),
      maxOpen: num('CHAOS_FLOOD_MAX_OPEN', 256),
    }),
  // Issue 12: 20,000 sleeping sequences, worker RSS against a small sticky cache, resume after kill -9.
  sleeping: (s) => {
    const cache = num('CHAOS_SLEEP_CACHE', 200);
    return sleepingSequences(s, {
      sequences: num('CHAOS_SLEEP_SEQUENCES', 20_000),
      batch: num('CHAOS_SLEEP_BATCH', 25),
      concurrency: num('CHAOS_SLEEP_CONCURRENCY', 16),
      tuning: {
        maxCachedWorkflows: cache,
        // The SDK refuses more workflow task slots than cached workflows.
        maxConcurrentWorkflowTaskExecutions: Math.min(cache, num('CHAOS_SLEEP_WFT_SLOTS', 100)),
        maxConcurrentActivityTaskExecutions: num('CHAOS_SLEEP_ACTIVITY_SLOTS', 100),
      },
      loadForMs: num('CHAOS_SLEEP_LOAD_MS', 45 * 60_000),
      maxAhead: num('CHAOS_SLEEP_AHEAD', 1_000),
      observeMs: num('CHAOS_SLEEP_OBSERVE_MS', 5 * 60_000),
      resumeSample: num('CHAOS_SLEEP_SAMPLE', 100),
      progress: (line) => process.stdout.write(`${line}\n`),
    });
  },
};

// CHAOS_TMPDIR=/dev/shm puts the Temporal dev server's SQLite on tmpfs (the sleeping scenario's
// start rate is otherwise its fsyncs'); the default keeps the figures below comparable.
// With the flood, the server logs its answers so their times are also measured inside it.
const stack = await startChaosStack({
  ...(process.env.CHAOS_TMPDIR ? { tmpBase: process.env.CHAOS_TMPDIR } : {}),
  requestLog: !only || only.includes('flood'),
});
const results: ScenarioResult[] = [];
try {
  for (const [name, run] of Object.entries(scenarios)) {
    if (only && !only.includes(name)) continue;
    const t0 = Date.now();
    process.stdout.write(`\n[${new Date().toISOString()}] ${name} …\n`);
    const r = await run(stack);
    results.push(r);
    process.stdout.write(`${formatResult(r)}\n  (scenario took ${Math.round((Date.now() - t0) / 1000)} s)\n`);
  }
} catch (err) {
  process.stdout.write(`${(err as Error).stack}\n${stack.logs()}\n`);
  process.exitCode = 1;
} finally {
  await stack.stop();
}
const bad = results.filter((r) => r.lost > 0 || r.duplicated > 0);
if (bad.length > 0) {
  process.stdout.write(`\nlost or duplicated in: ${bad.map((r) => r.scenario).join('; ')}\n`);
  process.exitCode = 1;
}
