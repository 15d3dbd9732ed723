/**
 * The one logger. Redaction is a safety net, not the policy: the policy is that log calls pass
 * ids and codes only, never names, phones, emails or message bodies (pino does not scan the
 * message string, and `*.x` paths match one level only, hence the explicit list).
 */
import { createRequire } from 'node:module';
import { type Logger, pino } from 'pino';

const PHI_KEYS = [
  'firstName',
  'lastName',
  'email',
  'phone',
  'mobilePhone',
  'body',
  'subject',
  'recipient',
  'to',
  'name',
  'client',
  'payload',
  'authorization',
  'apiKey',
];

export const redactPaths = [
  ...PHI_KEYS,
  ...PHI_KEYS.map((k) => `*.${k}`),
  ...PHI_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
];

export type LogFormat = 'json' | 'pretty';

/**
 * JSON for machines (production, CI, a pipe or a file), readable lines for a person at a terminal;
 * LOG_FORMAT decides when set.
 */
export function logFormatFor(o: { LOG_FORMAT?: LogFormat; NODE_ENV?: string; CI?: string }, isTty: boolean): LogFormat {
  if (o.LOG_FORMAT) return o.LOG_FORMAT;
  const ci = o.CI !== undefined && o.CI !== '' && o.CI !== 'false' && o.CI !== '0';
  return isTty && o.NODE_ENV !== 'production' && !ci ? 'pretty' : 'json';
}

/**
 * pino-pretty as a stream in this thread (no transport worker: the last lines before an exit are
 * not lost). Redaction happens before a line reaches it. Loaded only when asked for, so one-shot
 * commands and production processes never load it.
 */
function prettyStream(): pino.DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as (o: object) => pino.DestinationStream;
  return pretty({ sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' });
}

export function createLogger(
  opts: { level?: string; destination?: pino.DestinationStream; format?: LogFormat } = {},
): Logger {
  return pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { service: 'rebook' },
    },
    opts.destination ?? (opts.format === 'pretty' ? prettyStream() : undefined),
  );
}

export type { Logger };
