/**
 * Prometheus metrics (`GET /metrics`, text exposition). Two kinds:
 *   - counted in this process: webhooks received and rejected per platform and reason (a hook on
 *     the webhook routes), vendor API calls (the connectors' ApiCallCounter of every runtime this
 *     process built, see `watchApiCalls`);
 *   - read from the database at scrape time (cached briefly), so they hold across processes and
 *     restarts: the inbox backlog and the age of its oldest pending row, sequence runs started and
 *     ended per outcome, ledger messages per channel and status, stages held back (cap deferrals).
 * Labels are platforms, clinic slugs, channels, statuses, outcomes and reason codes: never a
 * client, a phone, an address or free text.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { sql } from 'drizzle-orm';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ApiCallCounter } from '../../connectors/http.js';
import { type Db, rows } from '../db/client.js';
import { RebookError } from '../errors.js';

/** The connectors' call counters of this process (server and worker runtimes alike). */
const apiCallSources = new Set<ApiCallCounter>();

/** Adds a runtime's vendor API call counter to this process's metrics. */
export function watchApiCalls(counter: ApiCallCounter): void {
  apiCallSources.add(counter);
}

/** How long database-derived values are reused between scrapes. */
export const DB_METRICS_TTL_MS = 10_000;

interface DbSnapshot {
  inbox: { source: string; pending: number; oldestAgeSeconds: number }[];
  started: { treatmentType: string; n: number }[];
  ended: { treatmentType: string; outcome: string; n: number }[];
  messages: { channel: string; status: string; n: number }[];
  holds: { kind: string; reason: string; n: number }[];
}

async function readSnapshot(db: Db): Promise<DbSnapshot> {
  const q = async <T>(query: ReturnType<typeof sql>) => rows<T>(await db.execute(query));
  const [inbox, started, ended, messages, holds] = await Promise.all([
    q<{ source: string; pending: string; age: string | null }>(
      sql`select source, count(*) as pending, extract(epoch from now() - min(received_at)) as age from inbox_events where status = 'pending' group by source`,
    ),
    q<{ treatment_type: string; n: string }>(
      sql`select treatment_type, count(*) as n from sequence_runs group by treatment_type`,
    ),
    q<{ treatment_type: string; outcome: string; n: string }>(
      sql`select treatment_type, outcome, count(*) as n from sequence_runs where not running group by treatment_type, outcome`,
    ),
    q<{ channel: string; status: string; n: string }>(
      sql`select channel, status, count(*) as n from messages group by channel, status`,
    ),
    q<{ kind: string; reason: string; n: string }>(
      sql`select kind, reason, count(*) as n from delivery_holds group by kind, reason`,
    ),
  ]);
  return {
    inbox: inbox.map((r) => ({
      source: r.source,
      pending: Number(r.pending),
      oldestAgeSeconds: Math.max(0, Number(r.age ?? 0)),
    })),
    started: started.map((r) => ({ treatmentType: r.treatment_type, n: Number(r.n) })),
    ended: ended.map((r) => ({ treatmentType: r.treatment_type, outcome: r.outcome, n: Number(r.n) })),
    messages: messages.map((r) => ({ channel: r.channel, status: r.status, n: Number(r.n) })),
    holds: holds.map((r) => ({ kind: r.kind, reason: r.reason, n: Number(r.n) })),
  };
}

/** Webhook routes are `/webhooks/<platform>/…`: the platform is the path's second segment. */
function webhookPlatform(req: FastifyRequest): string | undefined {
  const route = req.routeOptions?.url;
  if (route?.startsWith('/webhooks/')) return route.split('/')[2];
  // No route matched (an unknown platform): counted, under one label.
  if (!route && req.url.startsWith('/webhooks/')) return 'unknown';
  return undefined;
}

function reasonOf(reply: FastifyReply, err: unknown): string {
  if (err instanceof RebookError) return err.code;
  switch (reply.statusCode) {
    case 400:
      return 'invalid_json';
    case 401:
      return 'unauthorized';
    case 404:
      return 'not_found';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    default:
      return reply.statusCode >= 500 ? 'server_error' : `http_${reply.statusCode}`;
  }
}

/** Figures read from the database at scrape time (the same for every process that reports them). */
function registerDatabaseMetrics(registry: Registry, db: Db): void {
  let cached: { at: number; value: Promise<DbSnapshot> } | undefined;
  const snapshot = () => {
    const now = Date.now();
    if (!cached || now - cached.at > DB_METRICS_TTL_MS) {
      cached = { at: now, value: readSnapshot(db) };
      // A failed read is not cached: the next scrape tries again.
      cached.value.catch(() => (cached = undefined));
    }
    return cached.value;
  };
  new Gauge({
    name: 'rebook_inbox_pending',
    help: 'Inbox events accepted but not yet applied, by source',
    labelNames: ['source'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await snapshot()).inbox) this.set({ source: r.source }, r.pending);
    },
  });
  new Gauge({
    name: 'rebook_inbox_oldest_pending_age_seconds',
    help: 'Age of the oldest pending inbox event, 0 when none is pending',
    registers: [registry],
    async collect() {
      this.set((await snapshot()).inbox.reduce((m, r) => Math.max(m, r.oldestAgeSeconds), 0));
    },
  });
  new Counter({
    name: 'rebook_sequences_started_total',
    help: 'Sequence runs started (one per completed treatment enrolled), by treatment type',
    labelNames: ['treatment_type'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await snapshot()).started) this.inc({ treatment_type: r.treatmentType }, r.n);
    },
  });
  new Counter({
    name: 'rebook_sequences_ended_total',
    help: 'Sequence runs ended, by treatment type and outcome',
    labelNames: ['treatment_type', 'outcome'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await snapshot()).ended) this.inc({ treatment_type: r.treatmentType, outcome: r.outcome }, r.n);
    },
  });
  new Gauge({
    name: 'rebook_messages',
    help: 'Ledger messages by channel and current status (staff alerts: staff_email, staff_sms)',
    labelNames: ['channel', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await snapshot()).messages) this.set({ channel: r.channel, status: r.status }, r.n);
    },
  });
  new Counter({
    name: 'rebook_delivery_holds_total',
    help: 'Stages held back: deferred (send_window, capped) or suppressed (capped, consent, no usable channel, …), once per stage and reason',
    labelNames: ['kind', 'reason'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await snapshot()).holds) this.inc({ kind: r.kind, reason: r.reason }, r.n);
    },
  });
  new Counter({
    name: 'rebook_cap_deferrals_total',
    help: 'Stages a frequency cap deferred (sent later or, past the next stage, suppressed)',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc(
        (await snapshot()).holds
          .filter((r) => r.reason === 'capped' && r.kind === 'deferred')
          .reduce((n, r) => n + r.n, 0),
      );
    },
  });
}

export interface MetricsOptions {
  /** The database the backlog, sequence, message and hold figures are read from; without it only this process's counters. */
  db?: Db;
  /** When set, /metrics wants `authorization: Bearer <token>`. */
  token?: string;
  /** Process metrics (CPU, memory, event loop) as well; default true. */
  processMetrics?: boolean;
}

/**
 * Registers the webhook hooks and `GET /metrics` on the root instance (skip-override: hooks must
 * see every route). Register it before the routes it counts.
 */
export function metricsPlugin(opts: MetricsOptions) {
  async function plugin(app: FastifyInstance): Promise<void> {
    const registry = new Registry();
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'rebook_' });
    const received = new Counter({
      name: 'rebook_webhooks_received_total',
      help: 'Webhook requests answered 2xx/3xx, by platform',
      labelNames: ['platform'],
      registers: [registry],
    });
    const rejected = new Counter({
      name: 'rebook_webhooks_rejected_total',
      help: 'Webhook requests refused (4xx/5xx), by platform and reason code',
      labelNames: ['platform', 'reason'],
      registers: [registry],
    });
    new Counter({
      name: 'rebook_vendor_api_calls_total',
      help: 'Booking-platform API calls made by this process, by platform and clinic',
      labelNames: ['platform', 'clinic'],
      registers: [registry],
      collect() {
        this.reset();
        for (const source of apiCallSources) {
          for (const [key, n] of Object.entries(source.snapshot())) {
            const [platform, clinic] = key.split('/') as [string, string];
            this.inc({ platform, clinic }, n);
          }
        }
      },
    });
    if (opts.db) registerDatabaseMetrics(registry, opts.db);

    const errors = new WeakMap<FastifyRequest, unknown>();
    app.addHook('onError', async (req, _reply, err) => {
      errors.set(req, err);
    });
    app.addHook('onResponse', async (req, reply) => {
      const platform = webhookPlatform(req);
      if (!platform || req.method === 'HEAD') return;
      if (reply.statusCode < 400) received.inc({ platform });
      else rejected.inc({ platform, reason: reasonOf(reply, errors.get(req)) });
    });

    app.get('/metrics', async (req, reply) => {
      if (opts.token) {
        const digest = (v: string) => createHash('sha256').update(v).digest();
        if (!timingSafeEqual(digest(req.headers.authorization ?? ''), digest(`Bearer ${opts.token}`)))
          throw new RebookError('unauthorized', 'metrics need the metrics token', { field: 'authorization' });
      }
      const text = await registry.metrics();
      return reply.header('content-type', registry.contentType).send(text);
    });
  }
  // fastify-plugin's marker: the hooks apply to the whole app, not to an encapsulated child.
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}

/**
 * A standalone worker's own `/metrics` (no database figures: the servers report those): its vendor
 * API calls (booking checks) and process metrics.
 */
export async function serveWorkerMetrics(o: {
  port: number;
  host: string;
}): Promise<{ url: string; stop(): Promise<void> }> {
  const app = Fastify({ logger: false });
  await app.register(metricsPlugin({}));
  const url = await app.listen({ port: o.port, host: o.host });
  return { url, stop: () => app.close() };
}
