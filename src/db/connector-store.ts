/**
 * What booking-platform connectors may read and write in our database, and nothing else: their
 * own state (cursors, sealed tokens, the poll claim), their client references, and the few facts
 * about clients, appointments and the inbox that save a vendor API call. Connectors import this
 * module, never the tables (.dependency-cruiser.cjs enforces it), so the schema can change without
 * touching every vendor folder.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Db, rows } from './client.js';
import {
  appointments,
  clients,
  connectorClientRefs,
  connectorErrors,
  connectorState,
  inboxEvents,
  vendorApiCalls,
} from './schema.js';

export interface BookedAppointment {
  /** The platform's appointment id. */
  externalId: string;
  startAt: Date;
}

/**
 * The client's earliest appointment booked to start after `after`, other than the treatment that
 * anchors a sequence. The generic connector's booking check and enrolment (a booking that arrived
 * before its treatment) both ask this.
 */
export async function nextBookedAppointment(
  db: Db,
  q: { clinicId: string; clientExternalId: string; after: Date; excludeAppointmentId: string },
): Promise<BookedAppointment | undefined> {
  return (await nextBookedAppointments(db, [q]))[0];
}

/** `nextBookedAppointment` for many clients in one round trip (an ingest batch); answers in the order asked. */
export async function nextBookedAppointments(
  db: Db,
  qs: { clinicId: string; clientExternalId: string; after: Date; excludeAppointmentId: string }[],
): Promise<(BookedAppointment | undefined)[]> {
  if (qs.length === 0) return [];
  const asked = sql.join(
    qs.map(
      (q, i) =>
        sql`(${i}::int, ${q.clinicId}::text, ${q.clientExternalId}::text, ${q.after.toISOString()}::timestamptz, ${q.excludeAppointmentId}::text)`,
    ),
    sql`, `,
  );
  const found = rows<{ i: number; external_id: string; start_at: Date | string }>(
    await db.execute(sql`
      select distinct on (q.i) q.i, a.external_id, a.start_at
      from (values ${asked}) as q (i, clinic_id, client_external_id, after_at, exclude_id)
      join ${appointments} a on a.clinic_id = q.clinic_id and a.client_external_id = q.client_external_id
      where a.status = 'booked' and a.start_at > q.after_at and a.external_id <> q.exclude_id
      order by q.i, a.start_at asc`),
  );
  const out = new Array<BookedAppointment | undefined>(qs.length);
  for (const r of found) out[Number(r.i)] = { externalId: r.external_id, startAt: new Date(r.start_at) };
  return out;
}

/** The client an appointment we hold belongs to (their platform id). */
export async function appointmentClient(
  db: Db,
  clinicId: string,
  appointmentExternalId: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ client: appointments.clientExternalId })
    .from(appointments)
    .where(and(eq(appointments.clinicId, clinicId), eq(appointments.externalId, appointmentExternalId)));
  return row?.client;
}

/** The appointments among `externalIds` that we hold, as we hold them. */
export async function heldAppointments(
  db: Db,
  clinicId: string,
  externalIds: string[],
): Promise<
  { id: string; status: 'booked' | 'cancelled' | 'completed' | 'no_show'; startAt: Date | null; clientId: string }[]
> {
  if (externalIds.length === 0) return [];
  return db
    .select({
      id: appointments.externalId,
      status: appointments.status,
      startAt: appointments.startAt,
      clientId: appointments.clientExternalId,
    })
    .from(appointments)
    .where(and(eq(appointments.clinicId, clinicId), inArray(appointments.externalId, externalIds)));
}

/** Those of `externalIds` we already hold as completed (a poll skips them). */
export async function completedAppointmentIds(db: Db, clinicId: string, externalIds: string[]): Promise<Set<string>> {
  if (externalIds.length === 0) return new Set();
  const done = await db
    .select({ id: appointments.externalId })
    .from(appointments)
    .where(
      and(
        eq(appointments.clinicId, clinicId),
        inArray(appointments.externalId, externalIds),
        eq(appointments.status, 'completed'),
      ),
    );
  return new Set(done.map((r) => r.id));
}

/** Those of `dedupeKeys` already in the clinic's inbox (stored, whatever their state). */
export async function storedDedupeKeys(db: Db, clinicId: string, dedupeKeys: string[]): Promise<string[]> {
  if (dedupeKeys.length === 0) return [];
  const found = await db
    .select({ key: inboxEvents.dedupeKey })
    .from(inboxEvents)
    .where(and(eq(inboxEvents.clinicId, clinicId), inArray(inboxEvents.dedupeKey, dedupeKeys)));
  return found.map((r) => r.key);
}

/** Contact and consent of a client we hold, by their platform id. */
export async function knownClient(
  db: Db,
  clinicId: string,
  externalId: string,
): Promise<
  | {
      firstName: string;
      lastName: string;
      email: string | null;
      phone: string | null;
      consentSms: boolean;
      consentEmail: boolean;
    }
  | undefined
> {
  const [row] = await db
    .select({
      firstName: clients.firstName,
      lastName: clients.lastName,
      email: clients.email,
      phone: clients.phone,
      consentSms: clients.consentSms,
      consentEmail: clients.consentEmail,
    })
    .from(clients)
    .where(and(eq(clients.clinicId, clinicId), eq(clients.externalId, externalId)));
  return row;
}

export async function readState(db: Db, clinicId: string, platform: string, key: string): Promise<string | undefined> {
  const [row] = await db
    .select({ value: connectorState.value })
    .from(connectorState)
    .where(
      and(eq(connectorState.clinicId, clinicId), eq(connectorState.platform, platform), eq(connectorState.key, key)),
    );
  return row?.value;
}

export async function writeState(
  db: Db,
  clinicId: string,
  platform: string,
  key: string,
  value: string,
): Promise<void> {
  await db
    .insert(connectorState)
    .values({ clinicId, platform, key, value })
    .onConflictDoUpdate({
      target: [connectorState.clinicId, connectorState.platform, connectorState.key],
      set: { value, updatedAt: sql`now()` },
    });
}

/**
 * Sets the state `key` to `now` unless it holds a stamp less than `intervalMs` old (or `force`).
 * The check-and-set runs under a transaction-level advisory lock taken without waiting, so
 * concurrent claimers never both pass (the loser skips at once instead of queueing). Returns
 * whether this caller claimed, or the stamp that stands.
 */
export async function claimStamp(
  db: Db,
  o: {
    lockNamespace: number;
    clinicId: string;
    platform: string;
    key: string;
    now: number;
    intervalMs: number;
    force?: boolean;
  },
): Promise<{ claimed: true } | { claimed: false; claimedAt?: number }> {
  return db.transaction(async (tx) => {
    const lock = await tx.execute(
      sql`select pg_try_advisory_xact_lock(${o.lockNamespace}, hashtext(${`${o.clinicId}/${o.platform}`})) as locked`,
    );
    if (!rows<{ locked: boolean }>(lock)[0]?.locked) return { claimed: false };
    const [row] = await tx
      .select({ value: connectorState.value })
      .from(connectorState)
      .where(
        and(
          eq(connectorState.clinicId, o.clinicId),
          eq(connectorState.platform, o.platform),
          eq(connectorState.key, o.key),
        ),
      );
    const last = row ? Date.parse(row.value) : undefined;
    if (!o.force && last !== undefined && o.now - last < o.intervalMs) return { claimed: false, claimedAt: last };
    const value = new Date(o.now).toISOString();
    await tx
      .insert(connectorState)
      .values({ clinicId: o.clinicId, platform: o.platform, key: o.key, value })
      .onConflictDoUpdate({
        target: [connectorState.clinicId, connectorState.platform, connectorState.key],
        set: { value, updatedAt: sql`now()` },
      });
    return { claimed: true };
  });
}

/** Stores the platform's own id for a client (`vendorRef`) next to ours (`externalId`). */
export async function writeClientRef(
  db: Db,
  clinicId: string,
  platform: string,
  externalId: string,
  vendorRef: string,
): Promise<void> {
  await db
    .insert(connectorClientRefs)
    .values({ clinicId, platform, externalId, vendorRef })
    .onConflictDoUpdate({
      target: [connectorClientRefs.clinicId, connectorClientRefs.platform, connectorClientRefs.externalId],
      set: { vendorRef, updatedAt: sql`now()` },
    });
}

export async function clientRef(
  db: Db,
  clinicId: string,
  platform: string,
  externalId: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ ref: connectorClientRefs.vendorRef })
    .from(connectorClientRefs)
    .where(
      and(
        eq(connectorClientRefs.clinicId, clinicId),
        eq(connectorClientRefs.platform, platform),
        eq(connectorClientRefs.externalId, externalId),
      ),
    );
  return row?.ref;
}

/** Our ids of the clients whose platform ids are among `vendorRefs`. */
export async function clientsByRef(
  db: Db,
  clinicId: string,
  platform: string,
  vendorRefs: string[],
): Promise<{ externalId: string; vendorRef: string }[]> {
  if (vendorRefs.length === 0) return [];
  return db
    .select({ externalId: connectorClientRefs.externalId, vendorRef: connectorClientRefs.vendorRef })
    .from(connectorClientRefs)
    .where(
      and(
        eq(connectorClientRefs.clinicId, clinicId),
        eq(connectorClientRefs.platform, platform),
        inArray(connectorClientRefs.vendorRef, vendorRefs),
      ),
    );
}

/** A connector failure, by code only (no vendor text, which may carry client data): the console's connector health reads them. */
export async function recordConnectorError(
  db: Db,
  e: { clinicId: string; platform: string; source: 'poll' | 'webhook'; code: string; occurredAt: Date },
): Promise<void> {
  await db.insert(connectorErrors).values(e);
}

/** Adds calls to a UTC day's count per clinic and platform (one upsert per batch, however many replicas). */
export async function addVendorApiCalls(
  db: Db,
  day: string,
  batch: readonly { clinicId: string; platform: string; calls: number }[],
): Promise<void> {
  if (batch.length === 0) return;
  await db
    .insert(vendorApiCalls)
    .values(batch.map((b) => ({ clinicId: b.clinicId, platform: b.platform, day, calls: b.calls })))
    .onConflictDoUpdate({
      target: [vendorApiCalls.clinicId, vendorApiCalls.platform, vendorApiCalls.day],
      set: { calls: sql`${vendorApiCalls.calls} + excluded.calls` },
    });
}

/**
 * Takes one call from the shared budget of `limit` calls per `windowMs` for a clinic, platform and
 * scope, or says how long until the oldest call in the window leaves it. One statement checks and
 * takes: the upsert locks the row, so concurrent takers from any process are serialized and the
 * WHERE refuses once the window is full. `now` is the caller's clock (every process's, assumed
 * NTP-synced: a skew of a few ms against a window of seconds or minutes is noise).
 */
export async function takeVendorCall(
  db: Db,
  o: { clinicId: string; platform: string; scope: string; limit: number; windowMs: number; now: number },
): Promise<{ granted: true } | { granted: false; waitMs: number }> {
  const since = o.now - o.windowMs;
  const taken = await db.execute(sql`
    insert into vendor_rate_buckets as b (clinic_id, platform, scope, call_times)
    values (${o.clinicId}, ${o.platform}, ${o.scope}, array[${o.now}::bigint])
    on conflict (clinic_id, platform, scope) do update
      set call_times = array(select t from unnest(b.call_times) t where t > ${since}::bigint order by t) || ${o.now}::bigint,
          updated_at = now()
      where (select count(*) from unnest(b.call_times) t where t > ${since}::bigint) < ${o.limit}::int
    returning 1 as granted`);
  if (rows(taken).length > 0) return { granted: true };
  const oldest = await db.execute(sql`
    select min(t) as oldest from vendor_rate_buckets b, unnest(b.call_times) t
    where b.clinic_id = ${o.clinicId} and b.platform = ${o.platform} and b.scope = ${o.scope} and t > ${since}::bigint`);
  const at = rows<{ oldest: string | number | bigint | null }>(oldest)[0]?.oldest;
  return { granted: false, waitMs: Math.max(1, (at == null ? o.now : Number(at)) + o.windowMs - o.now) };
}

/** The level of a cost bucket row now: its stored level plus the refill since, capped. */
const costLevel = (now: number) =>
  sql`least(b.capacity, b.available + greatest(0, ${now}::bigint - b.at_ms) / 1000.0 * b.restore_per_second)`;

/**
 * Spends `cost` points of the clinic's shared cost bucket if it holds them now (a cost above the
 * capacity waits for a full bucket); else says how long until it will. The first call creates the
 * bucket full at the given rate. One statement: two processes never spend the same points.
 */
export async function takeVendorCost(
  db: Db,
  o: { clinicId: string; platform: string; cost: number; capacity: number; restorePerSecond: number; now: number },
): Promise<{ granted: true } | { granted: false; waitMs: number }> {
  const taken = await db.execute(sql`
    insert into vendor_cost_buckets as b (clinic_id, platform, available, capacity, restore_per_second, at_ms)
    values (${o.clinicId}, ${o.platform}, ${o.capacity} - least(${o.cost}::float8, ${o.capacity}::float8),
            ${o.capacity}, ${o.restorePerSecond}, ${o.now})
    on conflict (clinic_id, platform) do update
      set available = ${costLevel(o.now)} - least(${o.cost}::float8, b.capacity),
          at_ms = greatest(b.at_ms, ${o.now}::bigint),
          updated_at = now()
      where ${costLevel(o.now)} >= least(${o.cost}::float8, b.capacity)
    returning 1 as granted`);
  if (rows(taken).length > 0) return { granted: true };
  const r = await db.execute(sql`
    select ${costLevel(o.now)} as level, least(${o.cost}::float8, b.capacity) as need, b.restore_per_second as rate
    from vendor_cost_buckets b where b.clinic_id = ${o.clinicId} and b.platform = ${o.platform}`);
  const row = rows<{ level: number | string; need: number | string; rate: number | string }>(r)[0];
  if (!row) return { granted: false, waitMs: 1 };
  return {
    granted: false,
    waitMs: Math.max(1, Math.ceil(((Number(row.need) - Number(row.level)) / Number(row.rate)) * 1000)),
  };
}

/** What the vendor reported after a call replaces our reckoning (absent figures keep theirs). */
export async function observeVendorCost(
  db: Db,
  o: {
    clinicId: string;
    platform: string;
    available?: number;
    capacity?: number;
    restorePerSecond?: number;
    defaults: { capacity: number; restorePerSecond: number };
    now: number;
  },
): Promise<void> {
  const capacity = o.capacity ?? null;
  const rate = o.restorePerSecond ?? null;
  const available = o.available ?? null;
  await db.execute(sql`
    insert into vendor_cost_buckets as b (clinic_id, platform, available, capacity, restore_per_second, at_ms)
    values (${o.clinicId}, ${o.platform},
            least(coalesce(${available}::float8, ${o.defaults.capacity}::float8), coalesce(${capacity}::float8, ${o.defaults.capacity}::float8)),
            coalesce(${capacity}::float8, ${o.defaults.capacity}::float8),
            coalesce(${rate}::float8, ${o.defaults.restorePerSecond}::float8), ${o.now})
    on conflict (clinic_id, platform) do update
      set available = greatest(0, least(coalesce(${capacity}::float8, b.capacity),
                                        coalesce(${available}::float8, ${costLevel(o.now)}))),
          capacity = coalesce(${capacity}::float8, b.capacity),
          restore_per_second = coalesce(${rate}::float8, b.restore_per_second),
          at_ms = greatest(b.at_ms, ${o.now}::bigint),
          updated_at = now()`);
}
