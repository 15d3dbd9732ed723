/**
 * Activities: the I/O around the pure core. Built from injected dependencies so tests and
 * processes wire them the same way; every failure leaves through `toActivityFailure`.
 */
import { and, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import { createBookingChecker } from '../../connectors/registry.js';
import { createConnectorRuntime } from '../../connectors/shared.js';
import { clinicOrThrow, treatmentTypesFor } from '../config/load.js';
import { capRulesFor } from '../config/messaging.js';
import { holdoutSuppresses } from '../core/holdout.js';
import { messageCategory } from '../core/message-category.js';
import { planSequence } from '../core/plan.js';
import { capSpacingMs, DEFAULT_REACTIVATION, planReactivation } from '../core/reactivation.js';
import { type CompletedSession, completedSession } from '../core/series.js';
import type { SeriesDefinition } from '../core/types.js';
import { appointments, clients, messages, sequences } from '../db/schema.js';
import { RebookError } from '../errors.js';
import { createStaffTask, type StaffTaskReason } from '../messaging/staff-tasks.js';
import { activityTimeMs, recordHold, runUpsert } from '../reports/record.js';
import { createDelivery, type DeliveryDeps, providerFor, sequenceArm } from './deliver.js';
import { toActivityFailure } from './failure.js';
import { createStageActivities } from './send-stage.js';
import type { SequenceActivities, StageActivities } from './types.js';

export interface ActivityDeps extends DeliveryDeps {
  /** The booking check through the clinic's connector (built with the process's secrets); generic-only default. */
  checkBooking?: ReturnType<typeof createBookingChecker>;
}

function guarded<T extends object>(impl: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl)) {
    out[name] = async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (err) {
        throw toActivityFailure(err);
      }
    };
  }
  return out as T;
}

export function createActivities(deps: ActivityDeps): SequenceActivities & StageActivities {
  const { db, config, log } = deps;
  const { deliverStage } = createDelivery(deps);
  const bookingCheck = deps.checkBooking ?? createBookingChecker(createConnectorRuntime({ secrets: {}, log }));

  async function loadClient(ref: { clinicId: string; clientId: string }) {
    const [client] = await db
      .select()
      .from(clients)
      .where(and(eq(clients.id, ref.clientId), eq(clients.clinicId, ref.clinicId)));
    if (!client) throw new RebookError('not_found', 'client not found for sequence', { field: 'clientId' });
    return client;
  }

  /**
   * Which session of a series the anchor treatment was: the platform's number where the connector
   * read one (stored on the appointment), else counted from the client's completed appointments
   * of the type up to the anchor (core/series.ts decides).
   */
  async function sessionOf(
    treatmentType: string,
    series: SeriesDefinition,
    q: { clinicId: string; clientId: string; appointmentId: string; completedAt: string },
  ): Promise<CompletedSession> {
    const client = await loadClient(q);
    const anchorMs = Date.parse(q.completedAt);
    const rows = await db
      .select({
        externalId: appointments.externalId,
        startAt: appointments.startAt,
        session: appointments.seriesSession,
        sessions: appointments.seriesSessions,
      })
      .from(appointments)
      .where(
        and(
          eq(appointments.clinicId, q.clinicId),
          eq(appointments.clientExternalId, client.externalId),
          eq(appointments.treatmentType, treatmentType),
          eq(appointments.status, 'completed'),
          lte(appointments.startAt, new Date(anchorMs)),
        ),
      );
    const anchor = rows.find((r) => r.externalId === q.appointmentId);
    const earlier = rows
      .filter((r) => r.externalId !== q.appointmentId && r.startAt)
      .map((r) => ({ atMs: r.startAt!.getTime(), session: r.session, sessions: r.sessions }));
    return completedSession(
      earlier,
      anchorMs,
      series,
      anchor ? { session: anchor.session, sessions: anchor.sessions } : undefined,
    );
  }

  const base: SequenceActivities = {
    async planSequence({ clinicId, treatmentType, completedAt, clientId, appointmentId }) {
      const cfg = config.current();
      const clinic = clinicOrThrow(cfg, clinicId);
      const type = treatmentTypesFor(cfg, clinic).get(treatmentType);
      if (!type)
        throw new RebookError('config_invalid', `treatment type "${treatmentType}" is not configured for the clinic`);
      const session =
        type.series && clientId && appointmentId
          ? await sessionOf(type.key, type.series, { clinicId, clientId, appointmentId, completedAt })
          : undefined;
      const opts = { timeZone: clinic.timeZone, sendTime: clinic.sendTime };
      const plan = planSequence(type, completedAt, { ...opts, ...(session ? { session } : {}) });
      // The non-responder touches (issue 11 §3) travel with the plan: runs made before them ignore the field.
      const reactivation = planReactivation(plan, type.reactivation ?? DEFAULT_REACTIVATION, {
        ...opts,
        spacingMs: capSpacingMs(capRulesFor(clinic)),
      });
      return { ...plan, reactivation, cancelRebookGraceMs: clinic.cancelRebookGraceDays * 86_400_000 };
    },

    async checkBooking({ clinicId, clientId, after, excludeAppointmentId }) {
      const clinic = clinicOrThrow(config.current(), clinicId);
      const client = await loadClient({ clinicId, clientId });
      return bookingCheck({ db, clinic }, { clientExternalId: client.externalId, after, excludeAppointmentId });
    },

    async checkAppointment({ clinicId, clientId, appointmentId, now }) {
      const clinic = clinicOrThrow(config.current(), clinicId);
      const client = await loadClient({ clinicId, clientId });
      const [row] = await db
        .select({ status: appointments.status })
        .from(appointments)
        .where(and(eq(appointments.clinicId, clinicId), eq(appointments.externalId, appointmentId)));
      const status = (row?.status ?? 'unknown') as 'booked' | 'cancelled' | 'completed' | 'no_show' | 'unknown';
      if (status === 'completed') return { status };
      const next = await bookingCheck(
        { db, clinic },
        { clientExternalId: client.externalId, after: now, excludeAppointmentId: appointmentId },
      );
      return next.booked && next.appointmentId && next.startAt
        ? { status, nextBooking: { appointmentId: next.appointmentId, startAt: next.startAt } }
        : { status };
    },

    deliverStage,

    async escalateToStaff({ ref, stage, now, anchorAt, reason, touches }) {
      const clinic = clinicOrThrow(config.current(), ref.clinicId);
      // No front-desk call for a held-out client (the call is part of the program being measured).
      const arm = await sequenceArm(db, ref.workflowId);
      if (holdoutSuppresses(arm, messageCategory(stage))) {
        await recordHold(db, ref, stage.key, { status: 'suppressed', reason: 'holdout' }, Date.parse(now));
        return { taskId: null, suppressed: 'holdout' };
      }
      const template = clinic.templates.escalation?.staff;
      const [last] = await db
        .select({ id: messages.id })
        .from(messages)
        .where(and(eq(messages.workflowId, ref.workflowId), inArray(messages.channel, ['sms', 'email'])))
        .orderBy(desc(messages.dueAt))
        .limit(1);
      const taskId = await createStaffTask(
        { db, log, provider: (clinicId, channel) => providerFor(deps, clinicId, channel) },
        clinic,
        {
          idempotencyKey: `${ref.workflowId}|${ref.runKey}|escalation`,
          clinicId: ref.clinicId,
          clientId: ref.clientId,
          workflowId: ref.workflowId,
          treatmentType: ref.treatmentType,
          reason: reason as StaffTaskReason,
          details: {
            lastTreatmentAt: anchorAt,
            appointmentId: ref.runKey,
            touches,
            stage: stage.key,
            // A series' staff call: the session the client has not booked ("session 3 of 6").
            ...(stage.series ? { series: stage.series } : {}),
          },
          dueAt: new Date(now),
          messageId: last?.id ?? null,
        },
        {
          subject: template?.subject,
          body: template?.body,
          stage: stage.key,
          now: new Date(now),
          dueAt: new Date(stage.dueAt),
          arm,
        },
      );
      return { taskId };
    },

    async recordProgress({ ref, anchorAt, stage, nextActionAt, nextStage, outcome, outcomeStage, running }) {
      const values = {
        anchorAppointmentId: ref.runKey,
        anchorAt: anchorAt ? new Date(anchorAt) : null,
        stage,
        nextActionAt: nextActionAt ? new Date(nextActionAt) : null,
        nextStage: nextActionAt ? (nextStage ?? null) : null,
        outcome,
        outcomeStage: outcomeStage ?? null,
        running,
        updatedAt: sql`now()`,
      };
      // The run's row rides along as a data-modifying CTE: one round trip for both. (Its arm
      // subquery reads `sequences` as before this statement; recordProgress never sets the arm.)
      const run = runUpsert(
        db,
        ref,
        { ...(anchorAt ? { anchorAt } : {}), outcome, ...(outcomeStage ? { outcomeStage } : {}), running },
        activityTimeMs(),
      );
      await db
        .with(db.$with('run').as(run))
        .insert(sequences)
        .values({
          workflowId: ref.workflowId,
          clinicId: ref.clinicId,
          clientId: ref.clientId,
          treatmentType: ref.treatmentType,
          ...values,
        })
        .onConflictDoUpdate({ target: sequences.workflowId, set: values });
    },
  };
  return guarded({ ...base, ...createStageActivities(base, { db, log }) });
}
