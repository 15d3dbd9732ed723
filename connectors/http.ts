/**
 * The HTTP layer every vendor API client shares: one axios instance per clinic, a request budget
 * (a rate limiter, shared by every process: connectors/rate-budget.ts), retries with backoff on 5xx / network errors, Retry-After on 429, and a count of
 * every call made (each one may cost the clinic money on Mindbody).
 */
import axios, { type AxiosInstance, type AxiosRequestConfig } from 'axios';
import type { z } from 'zod';
import { RebookError } from '../src/errors.js';
import type { Logger } from '../src/log.js';

/** Counts vendor API calls per platform and clinic (every attempt, retries included). */
export class ApiCallCounter {
  private readonly counts = new Map<string, number>();
  /** Calls not yet written to the database (see connectors/api-call-log.ts). */
  private unrecorded = new Map<string, { platform: string; clinicId: string; calls: number }>();
  add(platform: string, clinicId: string): void {
    const key = `${platform}/${clinicId}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const u = this.unrecorded.get(key);
    if (u) u.calls++;
    else this.unrecorded.set(key, { platform, clinicId, calls: 1 });
  }
  /** The calls made since the last drain, per platform and clinic; the caller records them. */
  drain(): { platform: string; clinicId: string; calls: number }[] {
    const out = [...this.unrecorded.values()];
    this.unrecorded = new Map();
    return out;
  }
  get(platform: string, clinicId?: string): number {
    let n = 0;
    for (const [k, v] of this.counts)
      if (k === `${platform}/${clinicId}` || (clinicId === undefined && k.startsWith(`${platform}/`))) n += v;
    return n;
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/** Where a call waits for its slot in the vendor's budget before it is made. */
export interface CallBudget {
  /** `weight`: what the call is expected to cost where the vendor budgets by cost (Boulevard); 1 otherwise. */
  take(weight?: number): Promise<unknown>;
}

/**
 * At most `limit` requests per `windowMs` (sliding window) within this process. Callers wait for a
 * slot instead of being refused: the budget is the vendor's, and a 429 costs a call too. Vendor
 * clients use the shared one (connectors/rate-budget.ts), which holds across processes.
 */
export class RateLimiter implements CallBudget {
  private readonly stamps: number[] = [];
  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}
  async take(): Promise<void> {
    for (;;) {
      const t = this.now();
      while (this.stamps.length && this.stamps[0]! <= t - this.windowMs) this.stamps.shift();
      if (this.stamps.length < this.limit) {
        this.stamps.push(t);
        return;
      }
      await this.sleep(this.stamps[0]! + this.windowMs - t);
    }
  }
}

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Within one activity attempt: a few quick retries; Temporal's own retry takes over after that. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Delay before retry `attempt` (1-based): exponential with full jitter, capped. */
export function backoffDelay(attempt: number, p: RetryPolicy, random: () => number = Math.random): number {
  return Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + random() / 2);
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: unknown, now: number = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface VendorHttpOptions {
  platform: string;
  clinicId: string;
  baseURL: string;
  counter: ApiCallCounter;
  log: Logger;
  limiter?: CallBudget;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  /** Per-request headers (auth); called before every attempt so a refreshed token is used. */
  headers?: () => Promise<Record<string, string>>;
  /** Called on a 401: refresh credentials and return true to retry once. */
  onUnauthorized?: () => Promise<boolean>;
  timeoutMs?: number;
  /**
   * Sees every answer (status, headers, body) before it is judged: where the vendor reports what
   * a call cost or what budget is left (Boulevard), the budget follows it.
   */
  onResponse?(r: { status: number; headers: Record<string, unknown>; data: unknown }): void | Promise<void>;
}

/** Per-call options: `cost`, the call's expected weight in the budget (see CallBudget.take). */
export interface RequestOptions {
  allow404?: boolean;
  cost?: number;
}

export interface VendorHttp {
  /** One vendor call, validated with `schema`. 404 → `undefined` when `allow404`. */
  request<S extends z.ZodType>(cfg: AxiosRequestConfig, schema: S, opts?: { cost?: number }): Promise<z.infer<S>>;
  request<S extends z.ZodType>(
    cfg: AxiosRequestConfig,
    schema: S,
    opts: { allow404: true; cost?: number },
  ): Promise<z.infer<S> | undefined>;
  readonly axios: AxiosInstance;
}

/**
 * Every failure leaves as a coded error with our own message: vendor bodies and URLs may quote
 * client data, so neither reaches a log line or a Temporal failure.
 */
export function createVendorHttp(o: VendorHttpOptions): VendorHttp {
  // Repeated keys for arrays (a=1&a=2): the form vendor APIs (Mindbody's request.clientIDs) expect.
  const instance = axios.create({
    baseURL: o.baseURL,
    timeout: o.timeoutMs ?? 15_000,
    validateStatus: () => true,
    paramsSerializer: { indexes: null },
  });
  const retry = o.retry ?? DEFAULT_RETRY;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  async function request(cfg: AxiosRequestConfig, schema: z.ZodType, opts: RequestOptions = {}): Promise<unknown> {
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      await o.limiter?.take(opts.cost);
      const headers = {
        ...(cfg.headers as Record<string, string> | undefined),
        ...(o.headers ? await o.headers() : {}),
      };
      o.counter.add(o.platform, o.clinicId);
      let status: number;
      let data: unknown;
      let retryAfter: number | undefined;
      try {
        const res = await instance.request({ ...cfg, headers });
        status = res.status;
        data = res.data;
        retryAfter = retryAfterMs(res.headers['retry-after']);
        await o.onResponse?.({ status, headers: res.headers as Record<string, unknown>, data });
      } catch (err) {
        // Network failure or timeout: retryable.
        status = 0;
        o.log.warn(
          { platform: o.platform, clinicId: o.clinicId, attempt, errorCode: (err as { code?: string }).code },
          'vendor API unreachable',
        );
      }
      if (status >= 200 && status < 300) {
        const parsed = schema.safeParse(data);
        if (parsed.success) return parsed.data;
        o.log.error(
          {
            platform: o.platform,
            clinicId: o.clinicId,
            paths: parsed.error.issues.slice(0, 5).map((i) => i.path.join('.')),
          },
          'vendor API answered an unexpected shape',
        );
        throw new RebookError('provider_unavailable', `${o.platform} API answered an unexpected shape`);
      }
      if (status === 404 && opts.allow404) return undefined;
      if (status === 401 && !refreshed && o.onUnauthorized) {
        refreshed = true;
        if (await o.onUnauthorized()) continue;
      }
      const retryable = status === 0 || status === 429 || status >= 500;
      // Refusals stay retryable for Temporal: a stage waits for a fixed credential rather than being sent blind.
      if (!retryable)
        throw new RebookError('provider_unavailable', `${o.platform} API refused the request (HTTP ${status})`);
      if (attempt >= retry.attempts)
        throw new RebookError(
          'provider_unavailable',
          `${o.platform} API unavailable (HTTP ${status || 'no answer'}) after ${attempt} attempts`,
        );
      const wait =
        status === 429 && retryAfter !== undefined
          ? Math.min(retryAfter, retry.maxDelayMs * 4)
          : backoffDelay(attempt, retry);
      o.log.warn(
        { platform: o.platform, clinicId: o.clinicId, status, attempt, waitMs: Math.round(wait) },
        'vendor API retry',
      );
      await sleep(wait);
    }
  }
  return { request: request as VendorHttp['request'], axios: instance };
}
