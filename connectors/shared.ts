/** Pieces every connector uses: secrets by reference, constant-time comparison, vendor time, state. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ClinicConfig } from '../src/config/schema.js';
import { fromLocal } from '../src/core/zoned-time.js';
import type { Db } from '../src/db/client.js';
import { writeClientRef } from '../src/db/connector-store.js';
import { RebookError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { ApiCallCounter } from './http.js';
import type { ConnectorRuntime } from './types.js';

/** The value of the clinic's credential `name`, or undefined when unnamed or unset. */
export function credential(clinic: ClinicConfig, name: string, secrets: NodeJS.ProcessEnv): string | undefined {
  const envName = clinic.connector?.credentials[name];
  const v = envName ? secrets[envName] : undefined;
  return v && v.length > 0 ? v : undefined;
}

export function requireCredential(clinic: ClinicConfig, name: string, secrets: NodeJS.ProcessEnv): string {
  const v = credential(clinic, name, secrets);
  if (!v)
    throw new RebookError(
      'config_invalid',
      `credential "${name}" for platform ${clinic.platform} is not set (see connector.credentials in the clinic config)`,
    );
  return v;
}

/** Equal-length digests first, so neither the content nor the length leaks through timing. */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?$/;

/**
 * A vendor timestamp as an ISO instant. With an offset or `Z` it is taken as is; without one
 * it is wall-clock time in `timeZone` (Mindbody API v6 returns site-local times).
 */
export function vendorInstant(value: string, timeZone: string): string {
  const m = LOCAL.exec(value.trim());
  if (m) {
    const ms =
      fromLocal({ year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]! }, timeZone) +
      Number(m[6] ?? 0) * 1000;
    return new Date(ms).toISOString();
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new RebookError('validation_failed', 'unreadable vendor timestamp');
  return new Date(t).toISOString();
}

/**
 * The refs this process wrote last, per database (bounded): every webhook of a known client
 * carries the same ref again, and is not rewritten. Another process changing a ref (a merge) is
 * not seen here; we would only skip writing back a value the vendor reported before that change.
 */
const writtenRefs = new WeakMap<Db, Map<string, string>>();
const WRITTEN_REFS_MAX = 10_000;

export async function saveClientRef(
  db: Db,
  clinicId: string,
  platform: string,
  externalId: string,
  vendorRef: string,
): Promise<void> {
  let written = writtenRefs.get(db);
  if (!written) {
    written = new Map();
    writtenRefs.set(db, written);
  }
  const key = `${clinicId}\u0000${platform}\u0000${externalId}`;
  if (written.get(key) === vendorRef) return;
  await writeClientRef(db, clinicId, platform, externalId, vendorRef);
  written.delete(key);
  written.set(key, vendorRef);
  if (written.size > WRITTEN_REFS_MAX) written.delete(written.keys().next().value!);
}

/** The runtime processes build once: secrets, logger, call counter, memoized API clients. */
export function createConnectorRuntime(o: {
  secrets: NodeJS.ProcessEnv;
  log: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  counter?: ApiCallCounter;
}): ConnectorRuntime {
  const memo = new Map<string, unknown>();
  return {
    secrets: o.secrets,
    log: o.log,
    counter: o.counter ?? new ApiCallCounter(),
    now: o.now ?? Date.now,
    sleep: o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    memo<T>(key: string, build: () => T): T {
      if (!memo.has(key)) memo.set(key, build());
      return memo.get(key) as T;
    },
  };
}
