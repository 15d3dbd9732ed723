/**
 * `npm run bench:simulate`: the simulator on a year of a 5,000-client clinic (30,000 treatments,
 * synthetic, seeded), target under 10 s for the whole command. The agency's year of issue 11 §7:
 * `BENCH_TREATMENTS=300000 BENCH_CLIENTS=50000 BENCH_CLINICS=100 npx tsx bench/simulate.ts` — 100
 * clinics' histories (each its own clients and seed) in one file, simulated with the full
 * lifecycle (care touches, cancellations and no-shows, recovery, reactivation, win-back, series).
 *
 *  1. End to end: `npx tsx src/cli/main.ts simulate --clinic demo-clinic --history … --out …` in a
 *     child process, wall time from spawn to exit (process start, config, CSV parsing, the
 *     simulation, the summary and the three output files), plus the CPU time it used.
 *  2. In process: parsing + simulation only, warm, the same history.
 *
 * Knobs: BENCH_CLIENTS (5000), BENCH_TREATMENTS (30000), BENCH_CLINICS (1), BENCH_ROUNDS (3), BENCH_SEED (1).
 * Writes bench/RESULTS-simulate.md and bench/results/simulate-latest.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { DEFAULT_BOOKING_RATES } from '../src/simulator/booking-rates.js';
import { simulationClinic } from '../src/simulator/clinic.js';
import { type SimulationResult, simulate } from '../src/simulator/engine.js';
import { parseHistoryCsv } from '../src/simulator/history-csv.js';
import { generateHistory, historyToCsv } from '../src/simulator/synthetic.js';
import { writeMarkdown } from './markdown.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TARGET_S = 10;

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer (got "${raw}")`);
  return n;
}

const params = {
  clients: intEnv('BENCH_CLIENTS', 5000),
  treatments: intEnv('BENCH_TREATMENTS', 30_000),
  clinics: intEnv('BENCH_CLINICS', 1),
  rounds: intEnv('BENCH_ROUNDS', 3),
  seed: intEnv('BENCH_SEED', 1),
  clinic: 'demo-clinic',
  start: '2026-01-05',
};

/** CPU seconds of waited-for children (Linux /proc: cutime + cstime, in clock ticks of 1/100 s). */
function childCpuSeconds(): number | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command name start at field 3; cutime and cstime are fields 16 and 17.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

interface RunEntry {
  date: string;
  commit: string;
  load1: number;
  rounds: number;
  treatments: number;
  clinics?: number;
  wallS: number;
  cpuS?: number;
  startupCpuS?: number;
  simulateCpuS: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s2 = (n: number) => n.toFixed(2);

const work = mkdtempSync(join(tmpdir(), 'rebook-bench-simulate-'));
try {
  const config = loadConfig(join(ROOT, 'config'));
  const clinic = simulationClinic(config, params.clinic);
  const genStart = performance.now();
  // One history per clinic (its own clients, appointments and seed), the agency's year in one file.
  const rows = Array.from({ length: params.clinics }, (_, k) => {
    const share = (n: number) => Math.floor(n / params.clinics) + (k < n % params.clinics ? 1 : 0);
    const prefix = params.clinics > 1 ? `K${String(k + 1).padStart(3, '0')}-` : '';
    return generateHistory({
      clients: share(params.clients),
      treatments: share(params.treatments),
      start: params.start,
      seed: params.seed + k,
      timeZone: clinic.timeZone,
    }).map((r) => ({ ...r, client_id: prefix + r.client_id, appointment_id: prefix + r.appointment_id }));
  }).flat();
  const historyFile = join(work, 'history.csv');
  writeFileSync(historyFile, historyToCsv(rows));
  process.stdout.write(
    `generated ${rows.length.toLocaleString('en-US')} treatments for ${params.clients.toLocaleString('en-US')} clients of ${params.clinics} clinic(s) in ${s2((performance.now() - genStart) / 1000)} s\n`,
  );

  const command = [
    'npx',
    'tsx',
    'src/cli/main.ts',
    'simulate',
    '--clinic',
    params.clinic,
    '--history',
    historyFile,
    '--out',
    join(work, 'out'),
  ];
  const loadBefore = loadavg();
  const endToEnd: { wallS: number; cpuS?: number; reportedS?: number }[] = [];
  for (let i = 0; i < params.rounds; i++) {
    const cpu0 = childCpuSeconds();
    const t0 = performance.now();
    const r = spawnSync(command[0]!, command.slice(1), { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const wallS = (performance.now() - t0) / 1000;
    const cpu1 = childCpuSeconds();
    if (r.status !== 0) throw new Error(`simulate exited with ${r.status}: ${r.stderr}`);
    const reported = /simulated [\d,]+ rows in ([\d.]+) s/.exec(r.stderr)?.[1];
    endToEnd.push({
      wallS,
      ...(cpu0 !== undefined && cpu1 !== undefined ? { cpuS: cpu1 - cpu0 } : {}),
      ...(reported ? { reportedS: Number(reported) } : {}),
    });
    process.stdout.write(
      `end to end, round ${i + 1}: ${s2(wallS)} s wall${endToEnd.at(-1)!.cpuS !== undefined ? `, ${s2(endToEnd.at(-1)!.cpuS!)} s CPU` : ''}${reported ? ` (parse + simulate ${reported} s)` : ''}\n`,
    );
  }

  // What starting the command costs before it reads anything: npx, tsx and the CLI's modules.
  const startup: { wallS: number; cpuS?: number }[] = [];
  for (let i = 0; i < params.rounds; i++) {
    const cpu0 = childCpuSeconds();
    const t0 = performance.now();
    const r = spawnSync(command[0]!, [...command.slice(1, 4), '--help'], { cwd: ROOT, encoding: 'utf8' });
    const wallS = (performance.now() - t0) / 1000;
    const cpu1 = childCpuSeconds();
    if (r.status !== 0) throw new Error(`simulate --help exited with ${r.status}: ${r.stderr}`);
    startup.push({ wallS, ...(cpu0 !== undefined && cpu1 !== undefined ? { cpuS: cpu1 - cpu0 } : {}) });
  }
  const startupCpu = startup.flatMap((r) => (r.cpuS !== undefined ? [r.cpuS] : []));

  const text = readFileSync(historyFile, 'utf8');
  const inProcess: number[] = [];
  const inProcessCpu: number[] = [];
  let result: SimulationResult | undefined;
  for (let i = 0; i < params.rounds; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const parsed = parseHistoryCsv(text, clinic.timeZone);
    result = simulate(parsed.rows, clinic, { months: 12, seed: 1, rates: DEFAULT_BOOKING_RATES, leadDays: 14 });
    const c1 = process.cpuUsage(c0);
    inProcess.push((performance.now() - t0) / 1000);
    inProcessCpu.push((c1.user + c1.system) / 1e6);
  }
  const loadAfter = loadavg();
  const s = result!.summary;

  const wall = endToEnd.map((r) => r.wallS);
  const cpu = endToEnd.flatMap((r) => (r.cpuS !== undefined ? [r.cpuS] : []));
  const figures = {
    date: new Date().toISOString(),
    node: process.version,
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    loadAverage: {
      before: loadBefore.map((x) => Number(x.toFixed(2))),
      after: loadAfter.map((x) => Number(x.toFixed(2))),
    },
    params,
    command: `npm run bench:simulate  (runs: ${command.join(' ').replace(historyFile, '<history.csv>').replace(join(work, 'out'), '<tmp>')})`,
    endToEnd: {
      medianWallS: Number(s2(median(wall))),
      minWallS: Number(s2(Math.min(...wall))),
      maxWallS: Number(s2(Math.max(...wall))),
      ...(cpu.length ? { medianCpuS: Number(s2(median(cpu))) } : {}),
      rounds: endToEnd,
    },
    startup: {
      medianWallS: Number(s2(median(startup.map((r) => r.wallS)))),
      ...(startupCpu.length ? { medianCpuS: Number(s2(median(startupCpu))) } : {}),
    },
    inProcess: {
      medianS: Number(s2(median(inProcess))),
      minS: Number(s2(Math.min(...inProcess))),
      medianCpuS: Number(s2(median(inProcessCpu))),
      rounds: inProcess.map((x) => Number(s2(x))),
    },
    targetS: TARGET_S,
    meetsTarget: median(wall) < TARGET_S,
    simulation: {
      rows: s.input.rows,
      clients: s.input.clients,
      messages: s.messages.total,
      staffTasks: s.staffTasks.total,
      rebookings: s.rebookings.simulated,
      weeks: result!.weekly.length,
    },
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'simulate-latest.json'), `${JSON.stringify(figures, null, 2)}\n`);

  // Every run is kept: on a shared machine one run says more about the neighbours than the code.
  const commit =
    spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() || 'unknown';
  const runsFile = join(ROOT, 'bench', 'results', 'simulate-runs.jsonl');
  const entry: RunEntry = {
    date: figures.date,
    commit,
    load1: figures.loadAverage.before[0]!,
    rounds: params.rounds,
    treatments: params.treatments,
    clinics: params.clinics,
    wallS: figures.endToEnd.medianWallS,
    ...(cpu.length ? { cpuS: figures.endToEnd.medianCpuS } : {}),
    ...(startupCpu.length ? { startupCpuS: Number(s2(median(startupCpu))) } : {}),
    simulateCpuS: figures.inProcess.medianCpuS,
  };
  const previous = existsSync(runsFile)
    ? readFileSync(runsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as RunEntry)
    : [];
  writeFileSync(runsFile, `${[...previous, entry].map((e) => JSON.stringify(e)).join('\n')}\n`);
  const runs = [...previous, entry];

  const md = `# Simulator benchmark

\`npm run bench:simulate\` (bench/simulate.ts): \`rebook simulate\` on a synthetic year of
${params.clinics === 1 ? `a ${params.clients.toLocaleString('en-US')}-client clinic` : `${params.clinics} clinics, ${params.clients.toLocaleString('en-US')} clients in all`} — ${params.treatments.toLocaleString('en-US')} treatments (\`generateHistory\`, seed ${params.seed}${params.clinics > 1 ? ' + clinic number' : ''}), configuration of \`${params.clinic}\`,
default booking and lifecycle rates (the whole lifecycle: care touches, cancellations and no-shows,
recovery, reactivation, win-back, series), 12 months. Target: under ${TARGET_S} s for the whole command.
The agency's year (issue 11 §7): \`BENCH_TREATMENTS=300000 BENCH_CLIENTS=50000 BENCH_CLINICS=100 npx tsx bench/simulate.ts\`.

| | |
|---|---|
| date | ${figures.date} |
| machine | ${figures.nproc} CPUs (\`nproc\`), ${figures.cpu} |
| node | ${figures.node} |
| load average (1/5/15 min) before → after | ${figures.loadAverage.before.join(' / ')} → ${figures.loadAverage.after.join(' / ')} |
| command | \`${command.join(' ').replace(historyFile, '<history.csv>').replace(join(work, 'out'), '<tmp>')}\` |

| measure | median | min | max |
|---|---|---|---|
| end to end, wall (process start to exit, ${params.rounds} runs) | **${s2(median(wall))} s** | ${s2(Math.min(...wall))} s | ${s2(Math.max(...wall))} s |
${cpu.length ? `| end to end, CPU time (user + sys of the process tree) | ${s2(median(cpu))} s | ${s2(Math.min(...cpu))} s | ${s2(Math.max(...cpu))} s |\n` : ''}| of which process start (\`simulate --help\`: npx, tsx, the CLI's modules), wall | ${s2(median(startup.map((r) => r.wallS)))} s | ${s2(Math.min(...startup.map((r) => r.wallS)))} s | ${s2(Math.max(...startup.map((r) => r.wallS)))} s |
${startupCpu.length ? `| of which process start, CPU | ${s2(median(startupCpu))} s | ${s2(Math.min(...startupCpu))} s | ${s2(Math.max(...startupCpu))} s |\n` : ''}| in process: CSV parsing + simulation, warm, wall | ${s2(median(inProcess))} s | ${s2(Math.min(...inProcess))} s | ${s2(Math.max(...inProcess))} s |
| in process: CSV parsing + simulation, warm, CPU | ${s2(median(inProcessCpu))} s | ${s2(Math.min(...inProcessCpu))} s | ${s2(Math.max(...inProcessCpu))} s |

Target ${figures.meetsTarget ? 'met' : '**not met**'}: median end-to-end wall time ${s2(median(wall))} s ${figures.meetsTarget ? '<' : '≥'} ${TARGET_S} s.
The end-to-end figure includes starting Node and tsx and loading the CLI's modules (the
Temporal SDK among them). On a shared machine the wall time follows the load average above; the
CPU time is the steadier figure.

What the run simulated: ${s.input.rows.toLocaleString('en-US')} rows, ${s.input.clients.toLocaleString('en-US')} clients,
${result!.weekly.length} weeks, ${s.messages.total.toLocaleString('en-US')} client messages, ${s.staffTasks.total.toLocaleString('en-US')} staff tasks,
${s.rebookings.simulated.toLocaleString('en-US')} simulated rebookings.

## All recorded runs

Medians per run (bench/results/simulate-runs.jsonl). \`load\` is the 1-minute load average when
the run started, on ${figures.nproc} CPUs.

| date (UTC) | commit | load | treatments (clinics) | end to end, wall | end to end, CPU | process start, CPU | parse + simulate, CPU |
|---|---|---|---|---|---|---|---|
${runs.map((r) => `| ${r.date.slice(0, 16).replace('T', ' ')} | ${r.commit} | ${r.load1} | ${r.treatments.toLocaleString('en-US')} (${r.clinics ?? 1}) | ${s2(r.wallS)} s | ${r.cpuS !== undefined ? `${s2(r.cpuS)} s` : '–'} | ${r.startupCpuS !== undefined ? `${s2(r.startupCpuS)} s` : '–'} | ${s2(r.simulateCpuS)} s |`).join('\n')}

Raw figures of the latest run: bench/results/simulate-latest.json.
`;
  writeMarkdown(join(ROOT, 'bench', 'RESULTS-simulate.md'), md);
  process.stdout.write(
    `\nmedian end to end ${s2(median(wall))} s wall${cpu.length ? `, ${s2(median(cpu))} s CPU` : ''}; in process ${s2(median(inProcess))} s wall, ${s2(median(inProcessCpu))} s CPU; target < ${TARGET_S} s ${figures.meetsTarget ? 'met' : 'NOT met'}\nwrote bench/RESULTS-simulate.md\n`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
