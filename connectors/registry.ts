/** Every booking platform Rebook speaks to. Adding one is one folder and one line here. */
import type { ClinicConfig } from '../src/config/schema.js';
import type { Db } from '../src/db/client.js';
import type { CanonicalEvent } from '../src/ingest/events.js';
import type { VendorEvent } from '../src/ingest/inbox.js';
import { boulevardConnector } from './boulevard/index.js';
import { genericConnector } from './generic/index.js';
import { janeConnector } from './jane/index.js';
import { mindbodyConnector } from './mindbody/index.js';
import type { BookingCheck, BookingConnector, ConnectorRuntime } from './types.js';
import { vagaroConnector } from './vagaro/index.js';
import { zenotiConnector } from './zenoti/index.js';

export const connectors = {
  generic: genericConnector,
  mindbody: mindbodyConnector,
  vagaro: vagaroConnector,
  jane: janeConnector,
  boulevard: boulevardConnector,
  zenoti: zenotiConnector,
} satisfies Record<ClinicConfig['platform'], BookingConnector>;

export type Platform = keyof typeof connectors;

export function connectorFor(clinic: ClinicConfig): BookingConnector {
  return connectors[clinic.platform];
}

/** For `createIngest({ resolveVendorEvent })`: a stored vendor event → canonical events. */
export function vendorResolver(db: Db, runtime: ConnectorRuntime) {
  return async (clinic: ClinicConfig, e: VendorEvent): Promise<CanonicalEvent[]> => {
    const c = connectors[clinic.platform] as BookingConnector;
    if (!c.resolve || e.platform !== clinic.platform) return [];
    return c.resolve({ db, clinic, runtime }, e);
  };
}

/** How long a booking-check answer is reused for the same client (several stages due at once, retries). */
export const BOOKING_CHECK_TTL_MS = 60_000;

/**
 * The booking check before each send, through the clinic's connector, with a short per-client
 * cache. A platform that cannot answer throws: the activity retries, nothing is sent blind.
 */
export function createBookingChecker(runtime: ConnectorRuntime, ttlMs = BOOKING_CHECK_TTL_MS) {
  const cache = new Map<string, { at: number; answer: BookingCheck }>();
  return async (
    ctx: { db: Db; clinic: ClinicConfig },
    q: { clientExternalId: string; after: string; excludeAppointmentId: string },
  ): Promise<BookingCheck> => {
    const connector: BookingConnector = connectors[ctx.clinic.platform];
    // Database reads are cheap and always current: only vendor API answers are cached.
    if (!connector.remoteBookingCheck) return connector.hasUpcomingAppointment({ ...ctx, runtime }, q);
    const key = `${ctx.clinic.id}|${q.clientExternalId}|${q.after}|${q.excludeAppointmentId}`;
    const now = runtime.now();
    const hit = cache.get(key);
    if (hit && now - hit.at < ttlMs) return hit.answer;
    const answer = await connector.hasUpcomingAppointment({ ...ctx, runtime }, q);
    cache.set(key, { at: now, answer });
    if (cache.size > 10_000) for (const [k, v] of cache) if (now - v.at >= ttlMs) cache.delete(k);
    return answer;
  };
}
