/**
 * The `rebook` command: one dispatch table, one entry per command. A command's module is loaded
 * only when that command runs, so a one-shot command (config validate, preview, …) does not pay
 * for the Temporal SDK the long-running ones need. Adding a command: a module exporting `usage`
 * and `run` (src/cli/command.ts), and one entry below.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnv } from '../env.js';
import { type CommandModule, type CommandSpec, wantsHelp } from './command.js';

export const commands = {
  dev: {
    summary: 'the whole product on this machine: embedded Temporal, database, worker and HTTP API',
    load: () => import('./dev.js'),
  },
  demo: {
    summary:
      "the demo clinic's first 130 days in a minute: every message, reply and booking, on a time-skipping server",
    load: () => import('./demo.js'),
  },
  server: {
    summary: 'the HTTP API and inbox forwarder (DATABASE_URL, a Temporal cluster)',
    load: () => import('./server.js'),
  },
  worker: {
    summary: 'the sequence worker (DATABASE_URL, a Temporal cluster)',
    load: () => import('./worker.js'),
  },
  'config validate': {
    summary: 'check the configuration: every error with file and line, then the warnings',
    load: () => import('./config-validate.js'),
  },
  preview: {
    summary: 'the timeline one treatment would produce, from the configuration alone',
    load: () => import('./preview.js'),
  },
  simulate: {
    summary: 'a year of sequences over a treatment history CSV, with the pure engine',
    load: () => import('./simulate.js'),
  },
  report: {
    summary: 'the rebooking report of a clinic, several clinics or an agency',
    load: () => import('./report.js'),
  },
  import: {
    summary: "enroll a booking platform's CSV export through the running server",
    load: () => import('./import.js'),
  },
  keys: {
    summary: 'create, list and revoke API keys',
    load: () => import('./keys.js'),
  },
  users: {
    summary: 'console accounts: create (a one-time link), list, revoke, reset-link',
    load: () => import('./users.js'),
  },
  inbox: {
    summary: 'the event inbox: dead-lettered and pending rows, and retries',
    load: () => import('./inbox.js'),
  },
  'connect jane': {
    summary: "a Jane clinic's first OAuth authorization",
    load: () => import('./connect-jane.js'),
  },
  'mindbody subscriptions': {
    summary: "the Mindbody developer account's webhook subscriptions",
    load: () => import('./mindbody-subscriptions.js'),
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof commands;

const names = Object.keys(commands) as CommandName[];

/** `rebook help`: every command with its line. */
export function overview(): string {
  const width = Math.max(...names.map((n) => n.length));
  return [
    'usage: rebook <command> [options]',
    '',
    ...names.map((n) => `  ${n.padEnd(width)}   ${commands[n].summary}`),
    '',
    "'rebook <command> --help' shows a command's options.",
    '',
  ].join('\n');
}

/** The command named by the first words of argv (a table key may be two words), and the rest. */
function lookUp(argv: readonly string[]): { name: CommandName; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    if ((names as string[]).includes(name)) return { name: name as CommandName, rest: argv.slice(words) };
  }
  return undefined;
}

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Runs one command line and answers its exit code (2: a usage error, named on `io.err`). */
export async function main(
  argv: readonly string[],
  io: Io = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const [first, ...after] = argv;
  if (first === undefined || first === '--help' || first === '-h' || (first === 'help' && after.length === 0)) {
    io.out.write(overview());
    return 0;
  }
  if (first === 'help') {
    const found = lookUp(after);
    if (!found) return unknownCommand(after, io);
    io.out.write((await commands[found.name].load()).usage);
    return 0;
  }
  const found = lookUp(argv);
  if (!found) return unknownCommand(argv, io);
  const command: CommandModule = await commands[found.name].load();
  if (wantsHelp(found.rest)) {
    io.out.write(command.usage);
    return 0;
  }
  return command.run(found.rest, { env: parseEnv(), secrets: process.env });
}

function unknownCommand(argv: readonly string[], io: Io): number {
  const [first = '', second] = argv;
  // `rebook config` alone, or `rebook connect vagaro`: name what the group has.
  const group = names.filter((n) => n.startsWith(`${first} `));
  if (group.length > 0) {
    const what = second === undefined || second.startsWith('-') ? 'needs a subcommand' : `has no '${second}'`;
    io.err.write(`rebook ${first}: ${what} (${group.map((n) => `'rebook ${n}'`).join(', ')}). See 'rebook --help'.\n`);
    return 2;
  }
  io.err.write(`rebook: unknown command '${first}'. See 'rebook --help'.\n`);
  return 2;
}

/** Runs the process's command line: bin/rebook.mjs, or this file as the entry script. */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // `rebook … | head`: the reader has gone, nothing more to say (not a crash with a stack).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  try {
    process.exitCode = await main(argv);
  } catch (err) {
    process.stderr.write(`rebook: ${err instanceof Error ? err.message : String(err)}\n`);
    // Exit now: a long-running command that failed while starting may already hold handles (the
    // Temporal runtime, a watcher) that would keep the process alive with nothing to do.
    process.exit(1);
  }
}

function isEntryScript(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryScript()) await runCli();
