/**
 * The HTTP app. Everything is injected so `app.inject` tests, `rebook server` and `rebook dev`
 * build the same thing. One error handler maps every failure to a coded JSON error.
 */
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import type { AgencyConfig } from '../config/load.js';
import type { ClinicConfig } from '../config/schema.js';
import type { ConfigStore } from '../config/store.js';
import type { TrustProxy } from '../config/trust-proxy.js';
import { type ConsoleOptions, registerConsole } from '../console/routes.js';
import type { Db } from '../db/client.js';
import { RebookError } from '../errors.js';
import type { Ingest } from '../ingest/inbox.js';
import type { Logger } from '../log.js';
import { createInbound } from '../messaging/inbound.js';
import { createOutboxProvider } from '../messaging/outbox/index.js';
import { SENDGRID_EVENTS_PATH, TWILIO_INBOUND_PATH, TWILIO_STATUS_PATH } from '../messaging/registry.js';
import type { ProviderSet } from '../messaging/types.js';
import { metricsPlugin } from '../metrics/index.js';
import type { SequenceSignals } from '../temporal/sequence-signals.js';
import type { SequenceStatusLookup } from '../temporal/sequence-status.js';
import { registerAccessControl } from './auth.js';
import { registerOpenApi } from './openapi.js';
import { registerApiKeyRoutes } from './routes/api-keys.js';
import { registerClientRoutes } from './routes/clients.js';
import { registerClinicRoutes } from './routes/clinics.js';
import { type CodecOptions, codecRoutes } from './routes/codec.js';
import { registerEventRoutes } from './routes/events.js';
import { registerPreviewRoutes } from './routes/preview.js';
import { registerReadRoutes } from './routes/reads.js';
import { registerReportRoutes } from './routes/reports.js';
import { registerSequenceRoutes } from './routes/sequences.js';
import { registerServiceRoutes } from './routes/services.js';
import { registerStaffWorkRoutes } from './routes/staff-work.js';
import { unsubscribeRoutes } from './routes/unsubscribe.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import { sendgridWebhooks } from './routes/webhooks-sendgrid.js';
import { twilioWebhooks } from './routes/webhooks-twilio.js';
import { nulCharacterPaths, validationError } from './validate.js';

export interface AppDeps {
  db: Db;
  config: ConfigStore;
  ingest: Ingest;
  log: Logger;
  /** Where API-key variables are read from (process.env in processes, a map in tests). */
  secrets: NodeJS.ProcessEnv;
  /** Readiness probes: each resolves when its dependency answers. */
  readiness?: Record<string, () => Promise<void>>;
  /** Signals to running sequences (replies, staff outcomes); without it those answer 503. */
  signals?: SequenceSignals;
  /** Per-clinic providers for staff alerts raised by webhooks (the outbox by default). */
  clinicProviders?: (clinicId: string) => Partial<ProviderSet> | undefined;
  /** Injected clock (tests drive it with the time-skipping server's time). */
  now?: () => number;
  /** Live status of a sequence (the workflow's `status` query); without it the API says unavailable. */
  sequenceStatus?: SequenceStatusLookup;
  /** Requests per minute and client IP on the public routes; 0 turns a limit off. */
  rateLimits?: RateLimits;
  /** Proxies trusted for the client's address, which the rate limits key on (REBOOK_TRUST_PROXY); none by default. */
  trustProxy?: TrustProxy;
  /** The console under /app (session limits, sign-in throttle); defaults apply when unset. */
  console?: ConsoleOptions;
  /** The codec endpoint for the Temporal UI and CLI (routes/codec.ts); absent: no such routes. */
  codec?: CodecOptions;
}

export interface RateLimits {
  webhooksPerMinute: number;
  unsubscribePerMinute: number;
  /** Requests per minute and API key on the events API (POST /v1/clinics/:clinicId/events); 0: off. */
  eventsPerMinute?: number;
  /**
   * Ingestion requests (events API and webhooks) handled at once by this process; beyond it the
   * next answers 429 at once instead of queueing behind the others (0: no cap).
   */
  ingestInFlight?: number;
}

/**
 * Vendors deliver every clinic's webhooks from a few addresses (Mindbody: one subscription for
 * all sites), so that limit is generous; an unsubscribe link is clicked once by a person. The
 * events API is keyed by API key: a connector or `rebook import` sends batches of up to 500
 * events, one after another, far below 600 requests a minute; a runaway client is held to it.
 * In flight: a request waiting behind 64 others on two cores answers in seconds; refusing it
 * keeps the answers bounded and tells the sender to come back (Retry-After) while nothing is stored.
 */
export const DEFAULT_RATE_LIMITS: Required<RateLimits> = {
  webhooksPerMinute: 3000,
  unsubscribePerMinute: 60,
  eventsPerMinute: 600,
  ingestInFlight: 64,
};

const EVENTS_ROUTE = '/v1/clinics/:clinicId/events';

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
    /** The :clinicId of a /v1 route, already checked against the key (see auth.ts). */
    clinicFor(req: FastifyRequest): ClinicConfig;
    /** The :agencyId of a /v1 route, already checked against the key (see auth.ts). */
    agencyFor(req: FastifyRequest): AgencyConfig;
  }
}

export const BODY_LIMIT_BYTES = 1024 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's own type is narrower than fastify's base logger type; the instance is the same.
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // req.ip (the rate limits' key) is the socket's address unless the operator names the proxies.
    trustProxy: deps.trustProxy ?? false,
    // Long enough for URL-encoded sequence ids; longer values reach the route schemas (400).
    routerOptions: { maxParamLength: 500 },
    // Malformed URLs and over-long parameters answer in our error shape too.
    frameworkErrors: (err, _req, reply) => {
      const e = new RebookError(
        'validation_failed',
        err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is too long' : 'malformed URL',
        { field: 'url' },
      );
      void (reply as FastifyReply).status(e.status).send(e.toJSON());
    },
  }) as unknown as FastifyInstance;
  app.decorate('deps', deps);
  // The API speaks JSON only (text bodies would reach the schemas as strings); 415 otherwise.
  app.removeContentTypeParser('text/plain');
  await registerOpenApi(app);
  registerAccessControl(app);
  const limits = { ...DEFAULT_RATE_LIMITS, ...deps.rateLimits };
  // Per client IP on the public routes, per API key on the events API (the key is known by then:
  // the access check's onRequest hook runs before the route's); set on the route before the plugin reads it.
  app.addHook('onRoute', (route) => {
    if (route.url === EVENTS_ROUTE && limits.eventsPerMinute > 0) {
      route.config = {
        ...route.config,
        rateLimit: {
          max: limits.eventsPerMinute,
          timeWindow: 60_000,
          keyGenerator: (req: FastifyRequest) => (req.principal ? `key:${req.principal.keyId}` : `ip:${req.ip}`),
        },
      };
      return;
    }
    const perMinute = route.url.startsWith('/webhooks/')
      ? limits.webhooksPerMinute
      : route.url.startsWith('/unsubscribe/')
        ? limits.unsubscribePerMinute
        : 0;
    if (perMinute > 0) route.config = { ...route.config, rateLimit: { max: perMinute, timeWindow: 60_000 } };
  });
  await app.register(rateLimit, { global: false });
  registerIngestBackpressure(app, limits.ingestInFlight);
  app.addHook('preValidation', async (req) => {
    if (!req.routeOptions.url?.startsWith('/v1/')) return;
    const paths = [
      ...nulCharacterPaths(req.params, 'params'),
      ...nulCharacterPaths(req.query, 'query'),
      ...nulCharacterPaths(req.body, 'body'),
    ];
    if (paths.length > 0)
      throw new RebookError('validation_failed', 'text must not contain NUL characters', {
        issues: paths.map((path) => ({ path, message: 'contains a NUL character' })),
      });
  });

  app.setErrorHandler((err, req, reply) => {
    let e: RebookError;
    if (err instanceof RebookError) e = err;
    else if (hasZodFastifySchemaValidationErrors(err))
      e = validationError(err as Parameters<typeof validationError>[0]);
    else if ((err as { statusCode?: number }).statusCode === 429)
      e = new RebookError('rate_limited', 'too many requests, retry later');
    else if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      e = new RebookError('payload_too_large', `body exceeds ${BODY_LIMIT_BYTES} bytes`);
    else if ((err as { code?: string }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      e = new RebookError('unsupported_media_type', 'send application/json');
    else if (
      (err as { code?: string }).code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      (err as { statusCode?: number }).statusCode === 400
    )
      e = new RebookError('invalid_json', 'request body is not valid JSON', { field: 'body' });
    else {
      // Unknown failures: log the class only (messages from drivers may quote client data); for
      // an answer that does not match its schema, the failing paths (never the values).
      const responsePaths =
        (err as { code?: string }).code === 'FST_ERR_RESPONSE_SERIALIZATION' &&
        isResponseSerializationError(err as never)
          ? ((err as { cause?: { issues?: { path: PropertyKey[] }[] } }).cause?.issues ?? []).map((i) =>
              i.path.map(String).join('.'),
            )
          : undefined;
      req.log.error(
        {
          errorName: (err as Error).name,
          code: (err as { code?: string }).code,
          ...(responsePaths ? { responsePaths } : {}),
        },
        'unhandled error',
      );
      const name = (err as Error).name;
      e =
        isDatabaseUnavailable(err) ||
        /Connection|ECONNREFUSED|pg|PGlite/i.test(String((err as { code?: string }).code ?? name))
          ? new RebookError('database_unavailable', 'database unavailable, retry later')
          : new RebookError('internal', 'internal error');
    }
    // The rate limiter sets its own Retry-After (seconds until the window resets).
    if (e.retryable && !reply.hasHeader('retry-after')) reply.header('retry-after', '30');
    return reply.status(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(new RebookError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`).toJSON()),
  );

  // Before the routes: its hooks count the webhook requests of every route registered after it.
  await app.register(
    metricsPlugin({
      db: deps.db,
      ...(deps.secrets.REBOOK_METRICS_TOKEN ? { token: deps.secrets.REBOOK_METRICS_TOKEN } : {}),
    }),
  );
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {};
    let ok = true;
    for (const [name, probe] of Object.entries(deps.readiness ?? {})) {
      try {
        await probe();
        checks[name] = 'ok';
      } catch {
        checks[name] = 'unavailable';
        ok = false;
      }
    }
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
  });

  await app.register(registerEventRoutes);
  // Encapsulated: webhook routes parse raw bytes (signatures cover them); /v1 keeps its JSON parser.
  await app.register(registerWebhookRoutes);
  await app.register(registerReadRoutes);
  await app.register(registerClinicRoutes);
  await app.register(registerClientRoutes);
  await app.register(registerSequenceRoutes);
  await app.register(registerServiceRoutes);
  // Messaging (issue 4): provider webhooks and unsubscribe parse raw bodies in their own scopes.
  const outbox = createOutboxProvider(deps.log);
  const inbound = createInbound({
    db: deps.db,
    log: deps.log,
    ...(deps.now ? { now: () => new Date(deps.now!()) } : {}),
    ...(deps.signals ? { signals: deps.signals } : {}),
    provider: (clinicId, channel) => deps.clinicProviders?.(clinicId)?.[channel] ?? outbox,
  });
  await app.register(twilioWebhooks(inbound));
  await app.register(sendgridWebhooks(inbound));
  await app.register(unsubscribeRoutes(inbound));
  await app.register(registerStaffWorkRoutes);
  await app.register(registerPreviewRoutes);
  await app.register(registerReportRoutes);
  await app.register(registerApiKeyRoutes);
  if (deps.codec) await app.register(codecRoutes(deps.codec));
  // The console (issue 10): HTML pages under /app, in a scope of their own (cookies, form bodies, HTML errors).
  await app.register(async (scope) => registerConsole(scope, deps.console));
  return app;
}

/**
 * True when a failure means the database cannot be reached (so the caller should retry: 503).
 * Drizzle wraps driver errors, so the cause chain is walked: node-postgres reports socket codes
 * and SQLSTATE class 08 / 57P0x; PGlite reports a closed instance by message only.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 6; depth++, e = (e as { cause?: unknown }).cause) {
    const code = String((e as { code?: unknown }).code ?? '');
    const message = String((e as { message?: unknown }).message ?? '');
    if (
      /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)$/.test(code) ||
      /^(08\w{3}|57P0[1-3]|53300)$/.test(code)
    )
      return true;
    if (
      /^(PGlite is closed|Connection terminated|Client has encountered a connection error|Cannot use a pool after calling end)/i.test(
        message,
      )
    )
      return true;
  }
  return false;
}

/**
 * Backpressure on ingestion: beyond `max` events-API and booking-platform webhook requests in flight, the next is
 * answered 429 (Retry-After: 1) before its body is read, so nothing is stored for it and the
 * sender retries; the ones taken keep answering in bounded time instead of queueing on the event
 * loop and the database pool. Counted from the request to its answer (or its abort).
 */
function registerIngestBackpressure(app: FastifyInstance, max: number): void {
  if (max <= 0) return;
  let inFlight = 0;
  const counted = new WeakSet<FastifyRequest>();
  // Booking-platform deliveries only: those vendors retry a 429. Twilio and SendGrid callbacks are
  // left out: Twilio does not retry an inbound SMS (a STOP reply refused would be lost).
  const providerCallbacks = new Set([TWILIO_STATUS_PATH, TWILIO_INBOUND_PATH, SENDGRID_EVENTS_PATH]);
  const isIngest = (url: string | undefined) =>
    url === EVENTS_ROUTE || (url?.startsWith('/webhooks/') === true && !providerCallbacks.has(url));
  app.addHook('onRequest', async (req, reply) => {
    if (!isIngest(req.routeOptions.url)) return;
    if (inFlight >= max) {
      reply.header('retry-after', '1');
      throw new RebookError('rate_limited', 'server busy, retry later');
    }
    inFlight++;
    counted.add(req);
  });
  const release = async (req: FastifyRequest) => {
    if (counted.delete(req)) inFlight--;
  };
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);
}
