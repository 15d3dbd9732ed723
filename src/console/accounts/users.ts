/**
 * Console users: who they are, what they see, their passwords (argon2id) and lockout. A user's
 * scope becomes an API `Principal`, so pages are authorized by the very rule the API uses
 * (`authorize` in src/server/auth.ts): another tenant's clinic answers 404.
 */
import { hash, verify } from '@node-rs/argon2';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { LoadedConfig } from '../../config/load.js';
import type { ClinicConfig } from '../../config/schema.js';
import type { Db } from '../../db/client.js';
import { type ConsoleRole, consoleSessions, consoleUsers } from '../../db/schema.js';
import { RebookError } from '../../errors.js';
import type { Principal } from '../../server/auth.js';

export type ConsoleUser = typeof consoleUsers.$inferSelect;

/** Wrong passwords in a row before the account locks, and for how long. */
export const LOCKOUT_AFTER = 5;
export const LOCKOUT_MS = 15 * 60_000;
export const MIN_PASSWORD_LENGTH = 12;

// @node-rs/argon2's Algorithm is a const enum (not importable under isolatedModules): 2 is Argon2id.
const ARGON2ID = 2;

export const hashPassword = (password: string) => hash(password, { algorithm: ARGON2ID });

export const roleLabels: Record<ConsoleRole, string> = {
  agency_admin: 'Agency admin',
  clinic_manager: 'Clinic manager',
  front_desk: 'Front desk',
};

/** The clinics a user sees, in id order: the API's rule applied to the user's principal. */
export function clinicsOf(user: ConsoleUser, config: LoadedConfig): ClinicConfig[] {
  const listed = new Set(user.clinicIds);
  return [...config.clinics.values()]
    .filter((c) => listed.has(c.id) || (user.role === 'agency_admin' && !!user.agencyId && c.agency === user.agencyId))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The user as an API principal: exactly the clinics above (as a config key's clinic set), admin
 * for managers and agency admins, staff for the front desk.
 */
export function principalOf(user: ConsoleUser, config: LoadedConfig): Principal {
  return {
    keyId: `user:${user.id}`,
    role: user.role === 'front_desk' ? 'staff' : 'admin',
    agencyId: user.agencyId,
    clinicId: null,
    configClinics: new Set(clinicsOf(user, config).map((c) => c.id)),
  };
}

export interface NewUser {
  email: string;
  name: string;
  role: ConsoleRole;
  agencyId?: string | null;
  clinicIds: string[];
}

/** Checks the scope against the configuration and stores a user without a password. */
export async function createUser(db: Db, config: LoadedConfig, u: NewUser): Promise<ConsoleUser> {
  const email = u.email.trim().toLowerCase();
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
    throw new RebookError('validation_failed', 'enter an email address like name@example.com', { field: 'email' });
  if (!u.name.trim()) throw new RebookError('validation_failed', 'enter the person’s name', { field: 'name' });
  if (u.agencyId && !config.agencies.has(u.agencyId))
    throw new RebookError('validation_failed', `unknown agency "${u.agencyId}"`, { field: 'agency' });
  for (const id of u.clinicIds)
    if (!config.clinics.has(id))
      throw new RebookError('validation_failed', `unknown clinic "${id}"`, { field: 'clinics' });
  if (u.role !== 'agency_admin' && u.clinicIds.length === 0)
    throw new RebookError('validation_failed', 'choose at least one clinic', { field: 'clinics' });
  if (u.role === 'agency_admin' && !u.agencyId && u.clinicIds.length === 0)
    throw new RebookError('validation_failed', 'an agency admin needs an agency or clinics', { field: 'clinics' });
  const [existing] = await db
    .select({ id: consoleUsers.id })
    .from(consoleUsers)
    .where(sql`lower(${consoleUsers.email}) = ${email}`);
  if (existing) throw new RebookError('conflict', 'a user with this email already exists', { field: 'email' });
  const [row] = await db
    .insert(consoleUsers)
    .values({
      email,
      name: u.name.trim(),
      role: u.role,
      agencyId: u.agencyId ?? null,
      clinicIds: [...new Set(u.clinicIds)].sort(),
    })
    .returning();
  return row!;
}

export async function findUserByEmail(db: Db, email: string): Promise<ConsoleUser | undefined> {
  const [row] = await db
    .select()
    .from(consoleUsers)
    .where(sql`lower(${consoleUsers.email}) = ${email.trim().toLowerCase()}`);
  return row;
}

export async function findUser(db: Db, id: string): Promise<ConsoleUser | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const [row] = await db.select().from(consoleUsers).where(eq(consoleUsers.id, id));
  return row;
}

export async function listUsers(db: Db, filter: { includeRevoked?: boolean } = {}): Promise<ConsoleUser[]> {
  return db
    .select()
    .from(consoleUsers)
    .where(filter.includeRevoked ? undefined : isNull(consoleUsers.revokedAt))
    .orderBy(asc(consoleUsers.createdAt), asc(consoleUsers.email));
}

/** Revokes the user and every session of theirs; false when there is no such live user. */
export async function revokeUser(db: Db, id: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(consoleUsers)
    .set({ revokedAt: now })
    .where(and(eq(consoleUsers.id, id), isNull(consoleUsers.revokedAt)))
    .returning({ id: consoleUsers.id });
  if (rows.length === 0) return false;
  await db
    .update(consoleSessions)
    .set({ revokedAt: now })
    .where(and(eq(consoleSessions.userId, id), isNull(consoleSessions.revokedAt)));
  return true;
}

export async function setPassword(db: Db, userId: string, password: string): Promise<void> {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new RebookError('validation_failed', `use at least ${MIN_PASSWORD_LENGTH} characters`, {
      field: 'password',
    });
  await db
    .update(consoleUsers)
    .set({ passwordHash: await hashPassword(password), failedLogins: 0, lockedUntil: null })
    .where(eq(consoleUsers.id, userId));
}

export type LoginCheck = { ok: true; user: ConsoleUser } | { ok: false; reason: 'invalid' | 'locked' };

// Verifying against a real hash when the email is unknown keeps the answer time the same.
let decoyHash: Promise<string> | undefined;

/**
 * Email and password, with lockout: after LOCKOUT_AFTER wrong passwords in a row the account
 * refuses every password (even the right one) until LOCKOUT_MS have passed.
 */
export async function checkPassword(db: Db, email: string, password: string, now: Date): Promise<LoginCheck> {
  const user = await findUserByEmail(db, email);
  if (!user || user.revokedAt || !user.passwordHash) {
    decoyHash ??= hashPassword('decoy password for timing');
    await verify(await decoyHash, password).catch(() => false);
    return { ok: false, reason: 'invalid' };
  }
  if (isLocked(user, now)) return { ok: false, reason: 'locked' };
  const good = await verify(user.passwordHash, password).catch(() => false);
  if (good) {
    // With a second factor the count runs on through the code step: a right password must not
    // wipe the wrong codes tried before it, or codes could be guessed five at a time forever.
    if (!user.totpSecret) await clearFailedLogins(db, user);
    return { ok: true, user };
  }
  return { ok: false, reason: await recordFailedLogin(db, user.id, now) };
}

export const isLocked = (user: ConsoleUser, now: Date) =>
  !!user.lockedUntil && user.lockedUntil.getTime() > now.getTime();

/** One more wrong password or code; the LOCKOUT_AFTERth in a row locks the account for LOCKOUT_MS. */
export async function recordFailedLogin(db: Db, userId: string, now: Date): Promise<'invalid' | 'locked'> {
  // One statement, so two wrong attempts at the same moment both count.
  const [row] = await db
    .update(consoleUsers)
    .set({ failedLogins: sql`${consoleUsers.failedLogins} + 1` })
    .where(eq(consoleUsers.id, userId))
    .returning({ failed: consoleUsers.failedLogins });
  if (!row || row.failed < LOCKOUT_AFTER) return 'invalid';
  await db
    .update(consoleUsers)
    .set({ failedLogins: 0, lockedUntil: new Date(now.getTime() + LOCKOUT_MS) })
    .where(eq(consoleUsers.id, userId));
  return 'locked';
}

/** A complete sign-in (password, and the code when the user has one) starts the count again. */
export async function clearFailedLogins(db: Db, user: ConsoleUser): Promise<void> {
  if (user.failedLogins > 0 || user.lockedUntil)
    await db.update(consoleUsers).set({ failedLogins: 0, lockedUntil: null }).where(eq(consoleUsers.id, user.id));
}
