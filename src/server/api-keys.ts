/**
 * Admin API keys: `rbk_<id>_<secret>`, 256 random bits of secret, shown once at creation and
 * stored as SHA-256 (a fast hash is enough for a high-entropy key; there is nothing to brute
 * force). The public `id` finds the row; revocation is immediate. A key's scope is an agency (all
 * its clinics), one clinic of an agency, or one clinic without agency; its role is admin or staff.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, isNull, lt, or, type SQL } from 'drizzle-orm';
import type { LoadedConfig } from '../config/load.js';
import type { Db } from '../db/client.js';
import { apiKeys } from '../db/schema.js';
import { RebookError } from '../errors.js';

export const roles = ['admin', 'staff'] as const;
export type Role = (typeof roles)[number];

export interface ApiKeyRecord {
  id: string;
  agencyId: string | null;
  clinicId: string | null;
  role: Role;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const KEY_FORMAT = /^rbk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** A new key and what is stored of it. */
export function generateKey(): { id: string; key: string; hash: string } {
  const id = randomBytes(6).toString('hex');
  const key = `rbk_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, key, hash: hashKey(key) };
}

/** The key's id when the token has the shape of a Rebook key. */
export function keyIdOf(token: string): string | undefined {
  return KEY_FORMAT.exec(token)?.[1];
}

const record = (r: typeof apiKeys.$inferSelect): ApiKeyRecord => ({
  id: r.id,
  agencyId: r.agencyId,
  clinicId: r.clinicId,
  role: r.role,
  label: r.label,
  createdAt: r.createdAt,
  revokedAt: r.revokedAt,
  lastUsedAt: r.lastUsedAt,
});

/**
 * Checks the scope against the configuration (the agency exists; the clinic exists and belongs
 * to it; a clinic without agency takes a clinic-only key) and stores a new key.
 */
export async function createApiKey(
  db: Db,
  config: LoadedConfig,
  scope: { agencyId?: string; clinicId?: string; role: Role; label?: string },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const { agencyId, clinicId } = scope;
  if (!agencyId && !clinicId)
    throw new RebookError('validation_failed', 'a key needs an agency, a clinic, or both', { field: 'agency' });
  if (agencyId && !config.agencies.has(agencyId))
    throw new RebookError('validation_failed', `unknown agency "${agencyId}" (no agencies/${agencyId}.yaml)`, {
      field: 'agency',
    });
  if (clinicId) {
    const clinic = config.clinics.get(clinicId);
    if (!clinic) throw new RebookError('validation_failed', `unknown clinic "${clinicId}"`, { field: 'clinic' });
    if ((clinic.agency ?? undefined) !== agencyId) {
      throw new RebookError(
        'validation_failed',
        clinic.agency
          ? `clinic "${clinicId}" belongs to agency "${clinic.agency}"`
          : `clinic "${clinicId}" has no agency: create the key with --clinic only`,
        { field: 'clinic' },
      );
    }
  }
  const { id, key, hash } = generateKey();
  const [row] = await db
    .insert(apiKeys)
    .values({
      id,
      keyHash: hash,
      agencyId: agencyId ?? null,
      clinicId: clinicId ?? null,
      role: scope.role,
      label: scope.label ?? null,
    })
    .returning();
  return { key, record: record(row!) };
}

export async function listApiKeys(
  db: Db,
  filter: { agencyId?: string; clinicId?: string; includeRevoked?: boolean } = {},
): Promise<ApiKeyRecord[]> {
  const where: SQL[] = [];
  if (filter.agencyId) where.push(eq(apiKeys.agencyId, filter.agencyId));
  if (filter.clinicId) where.push(eq(apiKeys.clinicId, filter.clinicId));
  if (!filter.includeRevoked) where.push(isNull(apiKeys.revokedAt));
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(...where))
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
  return rows.map(record);
}

/** A key by its public id, live or revoked. */
export async function getApiKey(db: Db, id: string): Promise<ApiKeyRecord | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return row ? record(row) : undefined;
}

/** True when a key was revoked now; false when there is no such key or it was revoked already. */
export async function revokeApiKey(db: Db, id: string, now = new Date()): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}

/** The live key this token is, or undefined. Constant-time comparison of the hashes. */
export async function findApiKey(db: Db, token: string): Promise<ApiKeyRecord | undefined> {
  const id = keyIdOf(token);
  if (!id) return undefined;
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
  if (!row) return undefined;
  const presented = Buffer.from(hashKey(token), 'hex');
  const stored = Buffer.from(row.keyHash, 'hex');
  if (presented.length !== stored.length || !timingSafeEqual(presented, stored)) return undefined;
  return record(row);
}

/** How often a key's last use is recorded, at most. */
const TOUCH_EVERY_MS = 5 * 60_000;

/**
 * Whether a key read with this `lastUsedAt` needs its use recorded: the row read to authenticate
 * already says, so a request within the interval sends no UPDATE at all (one statement, not two,
 * per request on a database key). touchApiKey keeps its own check for concurrent requests.
 */
export const touchDue = (lastUsedAt: Date | null, now = new Date()): boolean =>
  !lastUsedAt || lastUsedAt.getTime() < now.getTime() - TOUCH_EVERY_MS;

/** Records use at most every few minutes (a write per request would be wasteful). */
export async function touchApiKey(db: Db, id: string, now = new Date()): Promise<void> {
  const stale = new Date(now.getTime() - TOUCH_EVERY_MS);
  await db
    .update(apiKeys)
    .set({ lastUsedAt: now })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, stale))));
}
