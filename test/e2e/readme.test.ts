/**
 * Every shell block a user is meant to copy from the README and docs/ runs, in document order,
 * against a real `rebook dev` (Temporal dev server, PGlite, worker, HTTP server) started on free
 * ports with a throwaway data directory. A block that must not run here carries
 * `<!-- not-run: reason -->` just above it. Blocks run with `set -euo pipefail` and their curls
 * use `-f`, so a 4xx or 5xx answer fails the block.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalBinaries } from '../helpers/binaries.js';
import { freePort } from '../helpers/ports.js';
import { type ShellBlock, shellBlocks } from '../helpers/shell-blocks.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const blocks = FILES.flatMap((f) => shellBlocks(f, readFileSync(join(ROOT, f), 'utf8')));
const runnable = blocks.filter((b) => b.notRun === undefined);

/**
 * Blocks per file, run and not run. Adding or marking a block changes these on purpose: decide
 * whether the new block runs here (it should, unless it needs something this machine lacks).
 */
const EXPECTED: Record<string, { run: number; notRun: number }> = {
  'README.md': { run: 7, notRun: 2 },
  'docs/api.md': { run: 1, notRun: 1 },
  'docs/benchmarks.md': { run: 0, notRun: 1 },
  'docs/booking-platforms.md': { run: 1, notRun: 2 },
  'docs/configuration.md': { run: 1, notRun: 0 },
  'docs/csv-format.md': { run: 1, notRun: 1 },
  'docs/operations.md': { run: 0, notRun: 2 },
  'docs/preview.md': { run: 1, notRun: 0 },
  'docs/reports.md': { run: 2, notRun: 0 },
  'docs/simulator.md': { run: 1, notRun: 0 },
};

const where = (b: ShellBlock) => `${b.file}:${b.line}`;

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    else if (!fenced && /^#{1,6} /.test(line))
      out.add(
        line
          .replace(/^#+ /, '')
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replaceAll(' ', '-'),
      );
  }
  return out;
}

describe('the shell blocks of the README and docs/', () => {
  it('are counted, and every block left out says why', () => {
    const counts: Record<string, { run: number; notRun: number }> = {};
    for (const b of blocks) {
      counts[b.file] ??= { run: 0, notRun: 0 };
      counts[b.file]![b.notRun === undefined ? 'run' : 'notRun']++;
    }
    expect(counts).toEqual(EXPECTED);
    expect(blocks.filter((b) => b.notRun === '').map(where), 'not-run without a reason').toEqual([]);
  });

  it('use curl -f, so an error answer fails the block', () => {
    const lax = runnable.filter((b) => /\bcurl\b(?![^\n]*\s-[a-zA-Z]*f)/.test(b.script)).map(where);
    expect(lax).toEqual([]);
  });

  it('link to files and headings that exist', () => {
    const broken: string[] = [];
    for (const file of FILES) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const [, link] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(link!)) continue;
        const [path, anchor] = link!.split('#') as [string, string | undefined];
        const target = path ? posix.normalize(posix.join(posix.dirname(file), path)) : file;
        if (!existsSync(join(ROOT, target))) broken.push(`${file}: ${link}`);
        else if (anchor && target.endsWith('.md') && !anchorsOf(readFileSync(join(ROOT, target), 'utf8')).has(anchor))
          broken.push(`${file}: ${link}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('are found by the extraction as a reader sees them', () => {
    const md = [
      '<!-- not-run: needs a cluster -->',
      '',
      '```bash',
      'echo skipped',
      '```',
      '```text',
      '<!-- not-run: inside another block: text, not a marker -->',
      '```',
      '<!-- not-run -->',
      '```bash',
      'echo no reason',
      '```',
      '<!-- not-run: a reason -->',
      'a paragraph, so the comment is not just above the block',
      '```bash',
      'echo runs',
      '```',
      '```yaml',
      'a: 1',
      '```',
    ].join('\n');
    expect(shellBlocks('x.md', md)).toEqual([
      { file: 'x.md', line: 3, script: 'echo skipped', notRun: 'needs a cluster' },
      { file: 'x.md', line: 10, script: 'echo no reason', notRun: '' },
      { file: 'x.md', line: 15, script: 'echo runs' },
    ]);
  });
});

describe('run against a started rebook dev', () => {
  let dataDir: string;
  let child: ChildProcess;
  let output = '';
  let exited: Promise<unknown>;
  let env: NodeJS.ProcessEnv;
  let address: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rebook-readme-'));
    const [port, uiPort] = [await freePort(), await freePort()];
    const temporalYaml = join(dataDir, 'temporal.yaml');
    writeFileSync(
      temporalYaml,
      readFileSync(join(ROOT, 'temporal.yaml'), 'utf8')
        .replace(/^(\s+)port: \d+/m, `$1port: ${port}`)
        .replace(/^(\s+)uiPort: \d+/m, `$1uiPort: ${uiPort}`),
    );
    // A user's shell: no database URL, no chosen key (the README reads the generated one).
    const { DATABASE_URL: _db, REBOOK_API_KEY: _key, REBOOK_CONFIG_DIR: _config, ...base } = process.env;
    const stackEnv = {
      ...base,
      REBOOK_DATA_DIR: dataDir,
      REBOOK_TEMPORAL_CONFIG: temporalYaml,
      TEMPORAL_CLI_PATH: temporalBinaries().cli,
      PORT: '0',
      LOG_LEVEL: 'warn',
    };
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dev'], {
      cwd: ROOT,
      env: stackEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    exited = new Promise((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 90_000;
    const api = /API\s+http:\/\/(\S+?)\/v1\//;
    while (!api.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`rebook dev did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    address = api.exec(output)![1]!;
    const key = JSON.parse(readFileSync(join(dataDir, 'dev-secrets.json'), 'utf8')).apiKey as string;
    // What a user's second terminal has: the dev server's port and data directory, and KEY for
    // blocks that use it without setting it (the README sets it in its first block).
    env = { ...stackEnv, PORT: address.split(':')[1], HOST: '127.0.0.1', KEY: key, LOG_LEVEL: 'warn' };
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  for (const block of runnable) {
    it(`${where(block)} exits 0`, async () => {
      const script = `set -euo pipefail\n${block.script.replaceAll('localhost:3000', address)}\n`;
      const result = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile(
          'bash',
          ['-c', script],
          { cwd: ROOT, env, timeout: 120_000, maxBuffer: 8 << 20 },
          (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
        );
      });
      expect(result.code, `${where(block)}:\n${script}\n--- output:\n${result.out}`).toBe(0);
    }, 150_000);
  }
});
