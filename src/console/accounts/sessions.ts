/**
 * Server-side sessions. The cookie carries 256 random bits; the row keeps only their SHA-256, so
 * a database read does not hand out live sessions. Each row has its own CSRF token, an idle limit
 * (last request + idle) and an absolute one (creation + absolute); logging in always makes a new
 * row (the id is never carried over from before the login).
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { consoleSessions, consoleUsers } from '../../db/schema.js';
import type { ConsoleUser } from './users.js';

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleMs: 15 * 60_000, absoluteMs: 12 * 3_600_000 };

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
export const randomToken = () => randomBytes(32).toString('base64url');

export interface Session {
  idHash: string;
  csrfToken: string;
  clinicId: string | null;
  user: ConsoleUser;
}

/** A new session for the user; returns the cookie value. */
export async function createSession(
  db: Db,
  userId: string,
  now: Date,
  limits: SessionLimits,
  clinicId: string | null = null,
): Promise<string> {
  const id = randomToken();
  await db.insert(consoleSessions).values({
    idHash: sha256(id),
    userId,
    csrfToken: randomToken(),
    clinicId,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + limits.absoluteMs),
  });
  return id;
}

/**
 * The live session behind a cookie value, touched (idle clock restarted); undefined when unknown,
 * revoked, idle too long, past its absolute limit, or its user revoked.
 */
export async function resumeSession(
  db: Db,
  cookie: string,
  now: Date,
  limits: SessionLimits,
): Promise<Session | undefined> {
  const idHash = sha256(cookie);
  const [row] = await db
    .select({ s: consoleSessions, u: consoleUsers })
    .from(consoleSessions)
    .innerJoin(consoleUsers, eq(consoleUsers.id, consoleSessions.userId))
    .where(and(eq(consoleSessions.idHash, idHash), isNull(consoleSessions.revokedAt)));
  if (!row || row.u.revokedAt) return undefined;
  const t = now.getTime();
  if (t >= row.s.expiresAt.getTime() || t - row.s.lastSeenAt.getTime() >= limits.idleMs) {
    await revokeSession(db, idHash, now);
    return undefined;
  }
  // At most one write a minute per session: the idle limit does not need finer grain.
  if (t - row.s.lastSeenAt.getTime() > 60_000)
    await db.update(consoleSessions).set({ lastSeenAt: now }).where(eq(consoleSessions.idHash, idHash));
  return { idHash, csrfToken: row.s.csrfToken, clinicId: row.s.clinicId, user: row.u };
}

export async function revokeSession(db: Db, idHash: string, now: Date): Promise<void> {
  await db
    .update(consoleSessions)
    .set({ revokedAt: now })
    .where(and(eq(consoleSessions.idHash, idHash), isNull(consoleSessions.revokedAt)));
}

export async function setSessionClinic(db: Db, idHash: string, clinicId: string | null): Promise<void> {
  await db.update(consoleSessions).set({ clinicId }).where(eq(consoleSessions.idHash, idHash));
}
