/**
 * Two-step sign-in: a user's TOTP secret at rest, enrolment (a pending secret confirmed by its
 * first code), the code check with replay protection, and the short-lived step between a right
 * password and the code. Secrets are sealed with the connector secrets' AES-256-GCM helper
 * (REBOOK_SECRETS_KEY, or the payload keys), bound to the user's row: a database dump does not
 * hand out second factors, and no key means no enrolment (a secret is never stored in the clear).
 */
import { and, eq, gt, isNull, lt, or } from 'drizzle-orm';
import { openSecret, sealSecret } from '../../../connectors/sealed-state.js';
import type { LoadedConfig } from '../../config/load.js';
import type { Db } from '../../db/client.js';
import { consoleSignInSteps, consoleUsers } from '../../db/schema.js';
import { randomToken, sha256 } from './sessions.js';
import { generateTotpSecret, matchTotp } from './totp.js';
import { type ConsoleUser, clinicsOf } from './users.js';

export interface TwoStepDeps {
  db: Db;
  /** Where the sealing key is read (process.env in processes, a map in tests). */
  secrets: NodeJS.ProcessEnv;
}

/** How long a right password waits for its code. */
export const SIGN_IN_STEP_TTL_MS = 5 * 60_000;

const aadOf = (userId: string) => `console_users/${userId}/totp`;

/** Whether a secret can be stored at all (a sealing key is configured). */
export function canStoreTotp(secrets: NodeJS.ProcessEnv): boolean {
  try {
    sealSecret('probe', 'probe', secrets);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the user must sign in with a code: their agency, or the agency of any clinic they see,
 * says `console.requireTotp`.
 */
export function totpRequired(user: ConsoleUser, config: LoadedConfig): boolean {
  const agencies = new Set(clinicsOf(user, config).flatMap((c) => (c.agency ? [c.agency] : [])));
  if (user.agencyId) agencies.add(user.agencyId);
  return [...agencies].some((a) => config.agencies.get(a)?.console?.requireTotp === true);
}

/** The secret being enrolled: the stored pending one, or a new one stored now (a reload shows the same). */
export async function pendingTotpSecret(deps: TwoStepDeps, user: ConsoleUser): Promise<string> {
  if (user.totpPendingSecret) return openSecret(user.totpPendingSecret, aadOf(user.id), deps.secrets);
  const secret = generateTotpSecret();
  const [row] = await deps.db
    .update(consoleUsers)
    .set({ totpPendingSecret: sealSecret(secret, aadOf(user.id), deps.secrets) })
    .where(and(eq(consoleUsers.id, user.id), isNull(consoleUsers.totpPendingSecret)))
    .returning({ id: consoleUsers.id });
  if (row) return secret;
  // Another tab stored one first: show that one, so the app and the row agree.
  const [stored] = await deps.db
    .select({ pending: consoleUsers.totpPendingSecret })
    .from(consoleUsers)
    .where(eq(consoleUsers.id, user.id));
  return openSecret(stored!.pending!, aadOf(user.id), deps.secrets);
}

/** Activates the pending secret when `code` is its current code; false otherwise. */
export async function confirmTotp(deps: TwoStepDeps, user: ConsoleUser, code: string, now: Date): Promise<boolean> {
  if (!user.totpPendingSecret) return false;
  const step = matchTotp(openSecret(user.totpPendingSecret, aadOf(user.id), deps.secrets), code, now.getTime());
  if (step === undefined) return false;
  const rows = await deps.db
    .update(consoleUsers)
    .set({ totpSecret: user.totpPendingSecret, totpPendingSecret: null, totpLastStep: step })
    .where(and(eq(consoleUsers.id, user.id), eq(consoleUsers.totpPendingSecret, user.totpPendingSecret)))
    .returning({ id: consoleUsers.id });
  return rows.length > 0;
}

/**
 * Whether `code` is the user's current code, not used before. The step it matched is recorded in
 * the same statement that checks it is newer than the last one, so a code seen over someone's
 * shoulder (or sent twice at once) works only for the first request.
 */
export async function verifyTotp(deps: TwoStepDeps, user: ConsoleUser, code: string, now: Date): Promise<boolean> {
  if (!user.totpSecret) return false;
  const secret = openSecret(user.totpSecret, aadOf(user.id), deps.secrets);
  const step = matchTotp(secret, code, now.getTime(), user.totpLastStep);
  if (step === undefined) return false;
  const rows = await deps.db
    .update(consoleUsers)
    .set({ totpLastStep: step })
    .where(
      and(
        eq(consoleUsers.id, user.id),
        eq(consoleUsers.totpSecret, user.totpSecret),
        or(isNull(consoleUsers.totpLastStep), lt(consoleUsers.totpLastStep, step)),
      ),
    )
    .returning({ id: consoleUsers.id });
  return rows.length > 0;
}

/** Removes the second factor (after the user's own code, or by an admin for a lost phone). */
export async function removeTotp(db: Db, userId: string): Promise<void> {
  await db
    .update(consoleUsers)
    .set({ totpSecret: null, totpPendingSecret: null, totpLastStep: null })
    .where(eq(consoleUsers.id, userId));
}

/** A right password for a user with a second factor: the cookie token for the code form. */
export async function startSignInStep(db: Db, userId: string, now: Date): Promise<string> {
  const token = randomToken();
  await db.insert(consoleSignInSteps).values({
    tokenHash: sha256(token),
    userId,
    createdAt: now,
    expiresAt: new Date(now.getTime() + SIGN_IN_STEP_TTL_MS),
  });
  return token;
}

/** The user id behind a live (unspent, unexpired) step token. */
export async function peekSignInStep(db: Db, token: string | undefined, now: Date): Promise<string | undefined> {
  if (!token) return undefined;
  const [row] = await db
    .select({ userId: consoleSignInSteps.userId })
    .from(consoleSignInSteps)
    .where(
      and(
        eq(consoleSignInSteps.tokenHash, sha256(token)),
        isNull(consoleSignInSteps.usedAt),
        gt(consoleSignInSteps.expiresAt, now),
      ),
    );
  return row?.userId;
}

/** Spends the step: only the first caller succeeds. */
export async function spendSignInStep(db: Db, token: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(consoleSignInSteps)
    .set({ usedAt: now })
    .where(
      and(
        eq(consoleSignInSteps.tokenHash, sha256(token)),
        isNull(consoleSignInSteps.usedAt),
        gt(consoleSignInSteps.expiresAt, now),
      ),
    )
    .returning({ userId: consoleSignInSteps.userId });
  return rows.length > 0;
}
