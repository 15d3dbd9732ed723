/**
 * The one logger. Redaction is a safety net, not the policy: the policy is that log calls pass
 * ids and codes only, never names, phones, emails or message bodies (pino does not scan the
 * message string, and `*.x` paths match one level only, hence the explicit list).
 */
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

export function createLogger(opts: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { service: 'rebook' },
    },
    opts.destination,
  );
}

export type { Logger };
