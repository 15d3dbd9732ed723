/**
 * What the activities record for reports, next to what they already write: every sequence run
 * (the `sequences` row keeps only the latest one) and every stage held back or not sent. Both
 * are idempotent (a retried activity writes the same row), and use workflow time.
 */
import { Context } from '@temporalio/activity';
import { sql } from 'drizzle-orm';
import type { DeliveryResult, SequenceRef } from '../activities/types.js';
import type { SequenceOutcome } from '../core/types.js';
import type { Db } from '../db/client.js';
import { deliveryHolds, sequenceRuns } from '../db/schema.js';

/** When the workflow asked for the running activity (server time, so time-skipping tests agree); wall time outside one. */
export function activityTimeMs(): number {
  try {
    return Context.current().info.scheduledTimestampMs;
  } catch {
    return Date.now();
  }
}

/**
 * The statement recording a sequence run (inserted at its first progress, then kept up to date);
 * recordProgress sends it with the `sequences` row in one round trip.
 */
export function runUpsert(
  db: Db,
  ref: SequenceRef,
  p: { anchorAt?: string; outcome: SequenceOutcome; outcomeStage?: string; running: boolean },
  atMs: number,
) {
  const at = new Date(atMs);
  const set = {
    ...(p.anchorAt ? { anchorAt: new Date(p.anchorAt) } : {}),
    outcome: p.outcome,
    outcomeStage: p.outcomeStage ?? null,
    running: p.running,
    endedAt: p.running ? null : at,
    updatedAt: sql`now()`,
  };
  return db
    .insert(sequenceRuns)
    .values({
      workflowId: ref.workflowId,
      runKey: ref.runKey,
      clinicId: ref.clinicId,
      clientId: ref.clientId,
      treatmentType: ref.treatmentType,
      startedAt: at,
      // The arm recorded at enrolment, copied once: what the lift report counts the run under.
      arm: sql`(select arm from sequences where workflow_id = ${ref.workflowId})`,
      ...set,
    })
    .onConflictDoUpdate({ target: [sequenceRuns.workflowId, sequenceRuns.runKey], set })
    .returning({ workflowId: sequenceRuns.workflowId });
}

/** Records a sequence run on its own (`runUpsert`, awaited). */
export async function recordRun(...args: Parameters<typeof runUpsert>): Promise<void> {
  await runUpsert(...args);
}

/** Records a deferral or suppression (first occurrence per run, stage, kind and reason). */
export async function recordHold(
  db: Db,
  ref: SequenceRef,
  stage: string,
  result: Exclude<DeliveryResult, { status: 'sent' }>,
  atMs: number,
): Promise<void> {
  await db
    .insert(deliveryHolds)
    .values({
      clinicId: ref.clinicId,
      workflowId: ref.workflowId,
      runKey: ref.runKey,
      treatmentType: ref.treatmentType,
      stage,
      kind: result.status,
      reason: result.reason,
      occurredAt: new Date(atMs),
      until: result.status === 'deferred' ? new Date(result.until) : null,
    })
    .onConflictDoNothing();
}
