/**
 * The shape every `rebook` command has, and the wording of argument errors. Light on purpose:
 * src/cli/main.ts imports it before it knows which command runs.
 */
import { parseArgs } from 'node:util';
import type { Env } from '../env.js';

/** What a command gets from main: the parsed environment and the raw one (secrets are read by name). */
export interface CommandContext {
  env: Env;
  secrets: NodeJS.ProcessEnv;
}

/** What a command module exports: its help text and its entry point, which answers an exit code. */
export interface CommandModule {
  usage: string;
  run(argv: string[], ctx: CommandContext): Promise<number>;
}

/** One entry of the dispatch table: a line for `rebook help`, and the module, loaded only when the command runs. */
export interface CommandSpec {
  summary: string;
  load(): Promise<CommandModule>;
}

/**
 * The message for an argument node's parseArgs refused, ending with where help is. Its own text
 * suggests `--` for option-like positionals, which is not what a mistyped option needs.
 */
export function argumentError(command: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  const quoted = /'([^']+)'/.exec(message)?.[1];
  const what =
    code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted
      ? `unknown option '${quoted}'`
      : code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && quoted
        ? `unexpected argument '${quoted}'`
        : message.replace(/\.$/, '').replace(/^./, (c) => c.toLowerCase());
  return `${what}. See 'rebook ${command} --help'.`;
}

/** `--help` or `-h` before any `--`: the command's usage is all that is wanted. */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** For commands that take no arguments: false (and the message on `err`) when some were given. */
export function takesNoArguments(
  command: string,
  argv: string[],
  err: NodeJS.WritableStream = process.stderr,
): boolean {
  try {
    parseArgs({ args: argv, strict: true, allowPositionals: false, options: {} });
    return true;
  } catch (e) {
    err.write(`rebook ${command}: ${argumentError(command, e)}\n`);
    return false;
  }
}
