/**
 * `npm run bench:cli`: how long a one-shot command takes to start and answer, spawned as a user
 * runs it (`node bin/rebook.mjs …`), next to `node -e 0` measured in the same run: the three
 * are interleaved round by round, so a busy machine slows them alike. Target: under 0.5 s wall.
 *
 * The data directory is an empty temporary one, so `config validate` has no database to read
 * (with one it also opens it: that is a database read, not start time).
 * Knobs: BENCH_ROUNDS (9, at least 7). Writes bench/RESULTS-cli.md.
 */
import { execSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { writeMarkdown } from './markdown.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TARGET_S = 0.5;
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
if (!Number.isInteger(rounds) || rounds < 7) throw new Error('BENCH_ROUNDS must be a whole number of at least 7');

const date = new Date().toISOString().slice(0, 10);
const cases: { label: string; args: string[] }[] = [
  { label: 'node -e 0', args: ['-e', '0'] },
  { label: 'rebook config validate', args: ['bin/rebook.mjs', 'config', 'validate'] },
  {
    label: `rebook preview --clinic demo-clinic --service "Botox 20u" --date ${date}`,
    args: ['bin/rebook.mjs', 'preview', '--clinic', 'demo-clinic', '--service', 'Botox 20u', '--date', date],
  },
];

const dataDir = mkdtempSync(join(tmpdir(), 'rebook-bench-cli-'));
const { DATABASE_URL: _none, ...env } = process.env;
const times: number[][] = cases.map(() => []);
const load = [loadavg()[0]!];
try {
  // One unmeasured round: tsx's transform cache and the file system cache warm, as for a user's second run.
  for (const c of cases) run(c.args);
  for (let r = 0; r < rounds; r++)
    cases.forEach((c, i) => {
      times[i]!.push(run(c.args));
    });
  load.push(loadavg()[0]!);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

function run(args: string[]): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    env: { ...env, REBOOK_DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const elapsed = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return elapsed;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const baseline = median(times[0]!);
const rows = cases.map((c, i) => {
  const m = median(times[i]!);
  return {
    label: c.label,
    median: m,
    min: Math.min(...times[i]!),
    max: Math.max(...times[i]!),
    ratio: m / baseline,
    overhead: m - baseline,
  };
});

const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const s = (x: number) => `${x.toFixed(3)} s`;
const verdict = rows
  .slice(1)
  .map((r) => `${r.label.split(' ').slice(0, 3).join(' ')}: ${r.median < TARGET_S ? 'under' : 'OVER'} ${TARGET_S} s`)
  .join('; ');
const md = `# CLI start time

Made by \`npm run bench:cli\` (bench/cli.ts) on ${new Date().toISOString()}, commit ${commit}, Node ${process.version},
${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, load average ${load.map((l) => l.toFixed(2)).join(' → ')} (1 min, before → after).

Each command spawned as a user runs it (\`node bin/rebook.mjs …\`), interleaved with \`node -e 0\` round by
round, ${rounds} rounds after one unmeasured warm-up round; wall time from spawn to exit. Empty data directory
(no database to read). Target: under ${TARGET_S} s wall. ${verdict}.

| command | median | min | max | ÷ node -e 0 | over node -e 0 |
| --- | ---: | ---: | ---: | ---: | ---: |
${rows.map((r) => `| \`${r.label}\` | ${s(r.median)} | ${s(r.min)} | ${s(r.max)} | ${r.ratio.toFixed(1)}× | ${s(r.overhead)} |`).join('\n')}

Every run (seconds, in order):

${rows.map((r, i) => `- ${r.label}: ${times[i]!.map((t) => t.toFixed(3)).join(', ')}`).join('\n')}
`;
writeMarkdown(join(ROOT, 'bench', 'RESULTS-cli.md'), md);
process.stdout.write(md);
