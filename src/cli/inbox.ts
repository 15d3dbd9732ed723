/**
 * `rebook inbox`: the webhook/event inbox as operators need it — what is dead-lettered and why,
 * what is still pending — and a retry for dead rows once their cause is fixed. Ids, types, counts
 * and error codes only: never a payload.
 *   rebook inbox [--status dead|pending|rejected|done] [--clinic C] [--limit N]
 *   rebook inbox retry (--id 12,13 | --clinic C | --all-dead)
 */
import { parseArgs } from 'node:util';
import type { Env } from '../env.js';
import { listInbox, retryDead } from '../ingest/dead-letters.js';
import { textTable } from '../text/table.js';
import { argumentError, type CommandContext } from './command.js';
import { openCommandDatabase } from './database.js';

export const INBOX_USAGE = `usage:
  rebook inbox [--status dead|pending|rejected|done] [--clinic C] [--limit N]   (default: dead rows)
  rebook inbox retry (--id 12,13 | --clinic C | --all-dead)

A row is dead when processing kept failing for a reason other than Temporal being unreachable
(a vendor API down for days, a refused credential, a bug) for 72 hours or 100 attempts; its
last error code says why. Fix the cause, then retry: the forwarder processes it again.
`;

const STATUSES = ['dead', 'pending', 'rejected', 'done'] as const;

export const usage = INBOX_USAGE;

export function run(argv: string[], { env }: CommandContext): Promise<number> {
  return inboxCommand(argv, env);
}

export async function inboxCommand(
  argv: string[],
  env: Pick<Env, 'REBOOK_DATA_DIR' | 'DATABASE_URL'>,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const fail = (message: string, code = 2) => {
    err.write(`rebook inbox: ${message}\n`);
    return code;
  };
  const retry = argv[0] === 'retry';
  let values: ReturnType<typeof parseInboxArgs>['values'];
  try {
    values = parseInboxArgs(retry ? argv.slice(1) : argv).values;
  } catch (e) {
    return fail(argumentError('inbox', e));
  }
  const status = values.status as (typeof STATUSES)[number];
  if (!STATUSES.includes(status)) return fail(`--status must be one of ${STATUSES.join(', ')}\n${INBOX_USAGE}`);
  const ids = values.id?.split(',').map((s) => Number(s.trim()));
  if (ids?.some((n) => !Number.isInteger(n) || n <= 0)) return fail('--id takes inbox row ids, comma-separated');
  if (retry && !ids && !values.clinic && !values['all-dead'])
    return fail(`retry needs --id, --clinic or --all-dead\n${INBOX_USAGE}`);

  const opened = await openCommandDatabase(env, retry ? 'write' : 'read');
  if (!opened.database) return fail(opened.why, 1);
  try {
    const db = opened.database.db;
    if (retry) {
      const revived = await retryDead(db, {
        ...(ids ? { ids } : {}),
        ...(values.clinic ? { clinicId: values.clinic } : {}),
      });
      out.write(
        revived.length
          ? `back to pending (the forwarder retries them): ${revived.join(', ')}\n`
          : 'no dead rows matched\n',
      );
      return 0;
    }
    const entries = await listInbox(db, {
      status,
      ...(values.clinic ? { clinicId: values.clinic } : {}),
      limit: Number(values.limit) || 100,
    });
    if (entries.length === 0) {
      out.write(`no ${status} inbox rows${values.clinic ? ` for ${values.clinic}` : ''}\n`);
      return 0;
    }
    const iso = (d: Date | null) => (d ? d.toISOString() : '');
    const table = textTable(
      [
        [
          'id',
          'clinic',
          'source',
          'event type',
          'status',
          'attempts',
          'failures',
          'last error',
          'received',
          'failing since',
        ],
        ...entries.map((e) => [
          String(e.id),
          e.clinicId,
          e.source,
          e.eventType,
          e.status,
          String(e.attempts),
          String(e.failures),
          e.lastError ?? '',
          iso(e.receivedAt),
          iso(e.failingSince),
        ]),
      ],
      ['r', 'l', 'l', 'l', 'l', 'r', 'r', 'l', 'l', 'l'],
    );
    out.write(`${table.join('\n')}\n`);
    return 0;
  } finally {
    await opened.close();
  }
}

function parseInboxArgs(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    options: {
      status: { type: 'string', default: 'dead' },
      clinic: { type: 'string' },
      limit: { type: 'string', default: '100' },
      id: { type: 'string' },
      'all-dead': { type: 'boolean', default: false },
    },
  });
}
