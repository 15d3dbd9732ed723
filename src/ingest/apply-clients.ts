/** Applying client events: contact details and consent, and merged profiles. */
import { and, eq, sql } from 'drizzle-orm';
import { clinicOrThrow } from '../config/load.js';
import { inLockOrder } from '../db/client.js';
import { appointments, clientAliases, clients } from '../db/schema.js';
import {
  applyFirstContacts,
  applyPlatformContact,
  type PlatformContact,
  storedPhone,
} from '../messaging/channel-state.js';
import {
  type AppliedBody,
  type ApplyContext,
  canonicalClientIds,
  clinicRowKey,
  fresher,
  fromIncoming,
} from './apply-context.js';
import { movePlans } from './apply-plans.js';
import { followKeptProfile } from './enroll.js';
import type { ClientUpdated, TreatmentCompleted } from './events.js';

/** The kept client's id when `externalId` was merged into another profile. */
export async function canonicalClientId(ctx: ApplyContext, clinicId: string, externalId: string): Promise<string> {
  return (await canonicalClientIds(ctx, [{ clinicId, clientId: externalId }]))[0]!;
}

/** What the contact step needs after a client row was written (see `applyPlatformContact`). */
const platformContact = (
  { config, now }: ApplyContext,
  clinicId: string,
  clientId: string,
  c: { phone?: string | null; consent?: { sms?: boolean; email?: boolean } },
  at: Date | undefined,
  source: string,
  newClient?: PlatformContact['newClient'],
): PlatformContact => ({
  clinicId,
  clientId,
  defaultCountry: clinicOrThrow(config.current(), clinicId).defaultCountry,
  phoneGiven: c.phone !== undefined,
  ...(c.consent ? { consent: c.consent } : {}),
  source: source === 'import' ? 'import' : 'platform',
  ref: source,
  at: at ?? new Date(now()),
  ...(newClient ? { newClient } : {}),
});

/** After a client row was written: phone as E.164 (or flagged), consent flag changes as consent events. */
const contactState = (
  ctx: ApplyContext,
  clinicId: string,
  clientId: string,
  c: { phone?: string | null; consent?: { sms?: boolean; email?: boolean } },
  at: Date | undefined,
  source: string,
) => applyPlatformContact(ctx.db, platformContact(ctx, clinicId, clientId, c, at, source));

/** The client of a completed treatment, created or brought up to date; returns our id for them. */
export async function upsertClient(
  ctx: ApplyContext,
  clinicId: string,
  e: TreatmentCompleted,
  source: string,
): Promise<string> {
  return (await upsertClients(ctx, [{ clinicId, e, source }]))[0]!;
}

/**
 * The clients of completed treatments (one ingest batch, each client once), created or brought up
 * to date in one statement; returns our id for each, in order. A row whose stored update is newer
 * (by vendor event time) is left as it is and only looked up.
 */
export async function upsertClients(
  ctx: ApplyContext,
  items: { clinicId: string; e: TreatmentCompleted; source: string }[],
): Promise<string[]> {
  const { db, config } = ctx;
  if (items.length === 0) return [];
  const cfg = config.current();
  const now = new Date();
  // A new row gets its phone in stored form at once (its channel state then needs no reads). An
  // existing row gets the same stored form; the contact step still compares its E.164 with the
  // old one (the update leaves phone_e164 alone), so a changed number is noticed.
  const written = items.map(({ clinicId, e }) => {
    const c = e.client;
    return {
      clinicId,
      at: e.occurredAt ? new Date(e.occurredAt) : undefined,
      phone: storedPhone(c.phone, clinicOrThrow(cfg, clinicId).defaultCountry),
    };
  });
  const returned = await db
    .insert(clients)
    .values(
      inLockOrder(
        items.map(({ clinicId, e: { client: c } }, i) => ({
          clinicId,
          externalId: c.id,
          firstName: c.firstName,
          lastName: c.lastName,
          email: c.email ?? null,
          phone: written[i]!.phone.phone,
          phoneE164: written[i]!.phone.phoneE164,
          consentSms: c.consent.sms,
          consentEmail: c.consent.email,
          updatedAt: now,
          sourceUpdatedAt: written[i]!.at ?? null,
        })),
        clinicRowKey,
      ),
    )
    .onConflictDoUpdate({
      target: [clients.clinicId, clients.externalId],
      // An event without a time keeps the last one applied.
      set: fromIncoming(clients, ['firstName', 'lastName', 'email', 'phone', 'consentSms', 'consentEmail']),
      // `fresher`, row by row: an update older than the one applied changes nothing.
      setWhere: sql`(excluded.source_updated_at is null or ${clients.sourceUpdatedAt} is null or ${clients.sourceUpdatedAt} <= excluded.source_updated_at)`,
    })
    // xmax is 0 on a row this statement inserted (PostgreSQL's documented upsert idiom).
    .returning({
      id: clients.id,
      clinicId: clients.clinicId,
      externalId: clients.externalId,
      inserted: sql<boolean>`(xmax = 0)`,
    });
  const key = (clinicId: string, externalId: string) => `${clinicId}\u0000${externalId}`;
  const byKey = new Map(returned.map((r) => [key(r.clinicId, r.externalId), r]));
  const fresh: PlatformContact[] = [];
  const ids: (string | undefined)[] = [];
  for (const [i, { clinicId, e, source }] of items.entries()) {
    const row = byKey.get(key(clinicId, e.client.id));
    ids.push(row?.id);
    if (!row) continue;
    const { at, phone } = written[i]!;
    if (row.inserted)
      fresh.push(platformContact(ctx, clinicId, row.id, e.client, at, source, { phoneCheck: phone.check }));
    else await contactState(ctx, clinicId, row.id, e.client, at, source);
  }
  await applyFirstContacts(db, fresh);
  // A newer contact update was applied already: keep it, only look the client up.
  const missing = items.filter((_, i) => ids[i] === undefined);
  if (missing.length) {
    const existing = await db
      .select({ id: clients.id, clinicId: clients.clinicId, externalId: clients.externalId })
      .from(clients)
      .where(
        sql`(${clients.clinicId}, ${clients.externalId}) in (${sql.join(
          missing.map(({ clinicId, e }) => sql`(${clinicId}, ${e.client.id})`),
          sql`, `,
        )})`,
      );
    const found = new Map(existing.map((r) => [key(r.clinicId, r.externalId), r.id]));
    items.forEach(({ clinicId, e }, i) => {
      ids[i] ??= found.get(key(clinicId, e.client.id));
    });
  }
  return ids.map((id) => id!);
}

export async function applyClientUpdate(
  ctx: ApplyContext,
  clinicId: string,
  e: ClientUpdated,
  source: string,
): Promise<AppliedBody> {
  const { db } = ctx;
  const c = e.client;
  const at = e.occurredAt ? new Date(e.occurredAt) : undefined;
  const set = {
    ...(c.firstName !== undefined ? { firstName: c.firstName } : {}),
    ...(c.lastName !== undefined ? { lastName: c.lastName } : {}),
    ...(c.email !== undefined ? { email: c.email } : {}),
    ...(c.phone !== undefined ? { phone: c.phone } : {}),
    ...(c.consent?.sms !== undefined ? { consentSms: c.consent.sms } : {}),
    ...(c.consent?.email !== undefined ? { consentEmail: c.consent.email } : {}),
    ...(at ? { sourceUpdatedAt: at } : {}),
    updatedAt: new Date(),
  };
  // Known clients only, unless asked: a treatment event brings the full record for new ones
  // (and we keep no contact data of people who never had a treatment).
  if (e.createIfMissing && c.firstName) {
    await db
      .insert(clients)
      .values({
        clinicId,
        externalId: c.id,
        firstName: c.firstName,
        lastName: c.lastName ?? '',
        email: c.email ?? null,
        phone: c.phone ?? null,
        consentSms: c.consent?.sms ?? false,
        consentEmail: c.consent?.email ?? false,
        sourceUpdatedAt: at ?? null,
      })
      .onConflictDoNothing();
  }
  const updated = await db
    .update(clients)
    .set(set)
    .where(and(eq(clients.clinicId, clinicId), eq(clients.externalId, c.id), fresher(clients.sourceUpdatedAt, at)))
    .returning({ id: clients.id });
  for (const u of updated) await contactState(ctx, clinicId, u.id, c, at, source);
  return { status: 'accepted', clientsUpdated: updated.length };
}

/** `removed` was merged into `kept` on the platform: later events about either reach the kept profile. */
export async function applyMerge(
  ctx: ApplyContext,
  clinicId: string,
  kept: string,
  removed: string,
): Promise<AppliedBody> {
  const { db } = ctx;
  await db
    .insert(clientAliases)
    .values({ clinicId, aliasExternalId: removed, externalId: kept })
    .onConflictDoUpdate({
      target: [clientAliases.clinicId, clientAliases.aliasExternalId],
      set: { externalId: kept },
    });
  // Earlier aliases of the removed profile now point at the kept one too.
  await db
    .update(clientAliases)
    .set({ externalId: kept })
    .where(and(eq(clientAliases.clinicId, clinicId), eq(clientAliases.externalId, removed)));
  await db
    .update(appointments)
    .set({ clientExternalId: kept })
    .where(and(eq(appointments.clinicId, clinicId), eq(appointments.clientExternalId, removed)));
  await movePlans(ctx, clinicId, kept, removed);
  const [keptRow] = await db
    .select({ id: clients.id })
    .from(clients)
    .where(and(eq(clients.clinicId, clinicId), eq(clients.externalId, kept)));
  if (keptRow) {
    const [removedRow] = await db
      .select({ id: clients.id })
      .from(clients)
      .where(and(eq(clients.clinicId, clinicId), eq(clients.externalId, removed)));
    if (removedRow && removedRow.id !== keptRow.id)
      await followKeptProfile(ctx, clinicId, removedRow.id, { id: keptRow.id, externalId: kept });
    return { status: 'accepted', clientsUpdated: 0 };
  }
  // The kept id is new to us: the removed profile's row (and its sequences) becomes the kept one.
  const renamed = await db
    .update(clients)
    .set({ externalId: kept, updatedAt: new Date() })
    .where(and(eq(clients.clinicId, clinicId), eq(clients.externalId, removed)))
    .returning({ id: clients.id });
  return { status: 'accepted', clientsUpdated: renamed.length };
}
