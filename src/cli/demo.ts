/** `rebook demo`: the story is src/demo/; this is its entry in the command table. */
import { parseArgs } from 'node:util';
import { demoCommand } from '../demo/run.js';
import { DEMO_DAYS } from '../demo/story.js';
import { argumentError } from './command.js';

export const usage = `usage: rebook demo [--config DIR]

Plays the demo clinic's first ${DEMO_DAYS} days in about a minute: Temporal's time-skipping test
server, the real worker and activities, a throwaway database and the outbox (nothing is sent).
Six demo clients are treated on day 0; the day-by-day story that follows is read back from the
message ledger, the staff tasks and the sequence workflows. The same run prints the same story.

  --config DIR   configuration directory (default $REBOOK_CONFIG_DIR, else config)
  --help         this text
`;

export async function run(argv: string[]): Promise<number> {
  let config: string | undefined;
  try {
    ({
      values: { config },
    } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { config: { type: 'string' } } }));
  } catch (err) {
    process.stderr.write(`rebook demo: ${argumentError('demo', err)}\n`);
    return 2;
  }
  return demoCommand({ configDir: config }, { stdout: process.stdout, stderr: process.stderr });
}
