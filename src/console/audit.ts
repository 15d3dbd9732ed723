/**
 * The audit log: every view of a client's data and every action taken in the console, by ids
 * only (who, role, clinic, client, action, target). The table refuses updates and deletes.
 */
import { and, desc, eq, gte, inArray, isNull, lt, or, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { auditLog } from '../db/schema.js';

export type AuditEntry = typeof auditLog.$inferSelect;

export interface AuditWrite {
  userId: string | null;
  role: string;
  clinicId?: string | null;
  clientId?: string | null;
  action: string;
  /** An opaque id of what was acted on (task, message, sequence, user, key), never client data. */
  target?: string | null;
  at: Date;
}

export async function audit(db: Db, e: AuditWrite): Promise<void> {
  await db.insert(auditLog).values({
    at: e.at,
    userId: e.userId,
    role: e.role,
    clinicId: e.clinicId ?? null,
    clientId: e.clientId ?? null,
    action: e.action,
    target: e.target ?? null,
  });
}

export interface AuditFilter {
  clinicIds: readonly string[];
  /** Whose clinic-less entries (sign-ins, user and key changes) the reader sees. */
  userIds: readonly string[];
  userId?: string;
  clientId?: string;
  action?: string;
  from?: Date;
  to?: Date;
  limit: number;
}

/** Entries of the given clinics (and the clinic-less ones of these users), newest first. */
export async function queryAudit(db: Db, f: AuditFilter): Promise<AuditEntry[]> {
  const scope = [
    ...(f.clinicIds.length ? [inArray(auditLog.clinicId, [...f.clinicIds])] : []),
    ...(f.userIds.length ? [and(isNull(auditLog.clinicId), inArray(auditLog.userId, [...f.userIds]))!] : []),
  ];
  if (scope.length === 0) return [];
  const where: SQL[] = [or(...scope)!];
  if (f.userId) where.push(eq(auditLog.userId, f.userId));
  if (f.clientId) where.push(eq(auditLog.clientId, f.clientId));
  if (f.action) where.push(eq(auditLog.action, f.action));
  if (f.from) where.push(gte(auditLog.at, f.from));
  if (f.to) where.push(lt(auditLog.at, f.to));
  return db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(f.limit);
}

const csvCell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export function auditCsv(rows: AuditEntry[]): string {
  const head = ['at', 'user_id', 'role', 'clinic_id', 'client_id', 'action', 'target'];
  const lines = rows.map((r) =>
    [r.at.toISOString(), r.userId ?? '', r.role, r.clinicId ?? '', r.clientId ?? '', r.action, r.target ?? '']
      .map(csvCell)
      .join(','),
  );
  return `${[head.join(','), ...lines].join('\n')}\n`;
}
