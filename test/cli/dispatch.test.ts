/**
 * The dispatch table: every command answers `--help` (and `-h`) with its usage and exit 0; an
 * unknown option exits 2 naming the command's help; `rebook`, `rebook --help` and `rebook help`
 * list every command; an unknown command names `rebook --help`. In process through main(), and
 * once through bin/rebook.mjs as a user runs it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CommandName, commands, main } from '../../src/cli/main.js';
import { sink } from '../helpers/sink.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const names = Object.keys(commands) as CommandName[];

/** main() with its own streams, and what the command wrote to the process's stderr. */
async function run(argv: string[]) {
  const out = sink();
  const err = sink();
  const stderr: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
  try {
    const code = await main(argv, { out: out.stream, err: err.stream });
    return { code, out: out.text(), err: err.text() + stderr.join('') };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('every command of the dispatch table', () => {
  it.each(names)('%s --help and -h print its usage and exit 0', async (name) => {
    for (const flag of ['--help', '-h']) {
      const r = await run([...name.split(' '), flag]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^usage:/);
      expect(r.out).toContain(`rebook ${name}`);
      expect(r.err).toBe('');
    }
  });

  it.each(names)('%s with an unknown option exits 2 naming its help', async (name) => {
    const r = await run([...name.split(' '), '--no-such-option']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`rebook ${name}: unknown option '--no-such-option'. See 'rebook ${name} --help'.`);
    expect(r.out).toBe('');
  });

  it('`rebook help <command>` is the command’s --help', async () => {
    expect(await run(['help', 'config', 'validate'])).toEqual(await run(['config', 'validate', '--help']));
  });
});

describe('the command list', () => {
  it.each([[[]], [['--help']], [['-h']], [['help']]])(
    'rebook %j lists every command with one line, exit 0',
    async (argv) => {
      const r = await run(argv);
      expect(r.code).toBe(0);
      for (const name of names)
        expect(r.out.split('\n').filter((l) => l.trimStart().startsWith(`${name} `))).toHaveLength(1);
    },
  );

  it('an unknown command, or a group without its subcommand, exits 2 naming rebook --help', async () => {
    expect(await run(['frobnicate'])).toMatchObject({
      code: 2,
      out: '',
      err: "rebook: unknown command 'frobnicate'. See 'rebook --help'.\n",
    });
    const group = await run(['config']);
    expect(group.code).toBe(2);
    expect(group.err).toMatch(
      /^rebook config: needs a subcommand \('rebook config validate'\)\. See 'rebook --help'\./,
    );
    expect((await run(['help', 'frobnicate'])).code).toBe(2);
  });
});

describe('bin/rebook.mjs', () => {
  const bin = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bin/rebook.mjs', ...args], { cwd: ROOT }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('answers --help with exit 0 and a mistyped option with exit 2, as a user runs it', async () => {
    const help = await bin(['import', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: rebook import /);
    const typo = await bin(['import', '--frmat', 'jane', 'x.csv']);
    expect(typo).toEqual({
      code: 2,
      stdout: '',
      stderr: "rebook import: unknown option '--frmat'. See 'rebook import --help'.\n",
    });
  });
});
