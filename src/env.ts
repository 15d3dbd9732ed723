/** Process environment, parsed once at start (nothing deeper reads process.env). */
import { z } from 'zod';
import { trustProxySchema } from './config/trust-proxy.js';
import { RebookError } from './errors.js';

const port = z.coerce.number().int().min(0).max(65535);

const envSchema = z.object({
  /** The HTTP API (0: any free port; `rebook dev` prints the one it got). */
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** `rebook dev`: the embedded Temporal dev server's frontend (gRPC) and web UI ports (temporal.yaml devServer otherwise). */
  REBOOK_TEMPORAL_PORT: port.min(1).optional(),
  REBOOK_TEMPORAL_UI_PORT: port.min(1).optional(),
  /** A running server for CLI commands that can work through the API (`rebook keys`, `rebook import`). */
  REBOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: z.string().url().optional(),
  REBOOK_CONFIG_DIR: z.string().default('config'),
  REBOOK_DATA_DIR: z.string().default('.data'),
  REBOOK_TEMPORAL_CONFIG: z.string().default('temporal.yaml'),
  REBOOK_API_KEY: z.string().min(16, 'REBOOK_API_KEY must be at least 16 characters').optional(),
  REBOOK_FORWARD_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  /** How long a stopping server waits for the forwarder's pass in flight (Temporal may not answer). */
  REBOOK_SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(10_000),
  /** `rebook worker` serves its own /metrics on this port when set. */
  REBOOK_WORKER_METRICS_PORT: port.optional(),
  /** Requests per minute and client IP on the public webhook and unsubscribe routes (0: off). */
  REBOOK_RATE_LIMIT_WEBHOOKS: z.coerce.number().int().min(0).default(3000),
  REBOOK_RATE_LIMIT_UNSUBSCRIBE: z.coerce.number().int().min(0).default(60),
  /** Requests per minute and API key on the events API (0: off). */
  REBOOK_RATE_LIMIT_EVENTS: z.coerce.number().int().min(0).default(600),
  /** Events-API and webhook requests one server handles at once; beyond it 429 with Retry-After (0: no cap). */
  REBOOK_INGEST_MAX_IN_FLIGHT: z.coerce.number().int().min(0).default(64),
  /** Proxies trusted for the client's address (X-Forwarded-For): see src/config/trust-proxy.ts. */
  REBOOK_TRUST_PROXY: trustProxySchema,
  /**
   * The codec endpoint (/codec) for the Temporal UI and CLI: the operator token that opens it (unset: no
   * endpoint) and the browser origins allowed to call it (the Temporal UI's, comma-separated).
   */
  REBOOK_CODEC_TOKEN: z.string().min(32, 'REBOOK_CODEC_TOKEN must be at least 32 characters').optional(),
  REBOOK_CODEC_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Log lines as JSON or human-readable; unset: readable on a terminal outside production and CI (see src/log.ts). */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  NODE_ENV: z.string().optional(),
  CI: z.string().optional(),
});

export type Env = z.infer<typeof envSchema>;

export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const r = envSchema.safeParse(source);
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new RebookError(
      'config_invalid',
      `invalid environment:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      { field: issues[0]!.path, issues },
    );
  }
  return r.data;
}
