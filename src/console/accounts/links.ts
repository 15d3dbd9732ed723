/**
 * One-time links: an invitation, a password reset, or the first admin's setup. The link carries
 * a random token (never a user id or an email); the row keeps its SHA-256 and is spent on use.
 */
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { consoleLinks } from '../../db/schema.js';
import { randomToken, sha256 } from './sessions.js';

export type LinkPurpose = 'invite' | 'reset' | 'setup';

export const LINK_TTL_MS: Record<LinkPurpose, number> = {
  invite: 7 * 86_400_000,
  reset: 60 * 60_000,
  setup: 24 * 3_600_000,
};

/** A new link token for the user (earlier unused links of theirs stay valid until they expire). */
export async function createLink(db: Db, userId: string, purpose: LinkPurpose, now: Date): Promise<string> {
  const token = randomToken();
  await db.insert(consoleLinks).values({
    tokenHash: sha256(token),
    userId,
    purpose,
    createdAt: now,
    expiresAt: new Date(now.getTime() + LINK_TTL_MS[purpose]),
  });
  return token;
}

/** The link's user when the token is live (unused, unexpired); does not spend it. */
export async function peekLink(db: Db, token: string, now: Date) {
  const [row] = await db
    .select()
    .from(consoleLinks)
    .where(
      and(eq(consoleLinks.tokenHash, sha256(token)), isNull(consoleLinks.usedAt), gt(consoleLinks.expiresAt, now)),
    );
  return row;
}

/** Spends the link: only the first caller gets its row back. */
export async function spendLink(db: Db, token: string, now: Date) {
  const [row] = await db
    .update(consoleLinks)
    .set({ usedAt: now })
    .where(and(eq(consoleLinks.tokenHash, sha256(token)), isNull(consoleLinks.usedAt), gt(consoleLinks.expiresAt, now)))
    .returning();
  return row;
}

export const linkPath = (token: string) => `/app/link/${token}`;
