/** Read side for integrations and staff: sequences, the message ledger, staff tasks. */
import type { FastifyInstance } from 'fastify';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { clients, messages, sequences, staffTasks } from '../../db/schema.js';
import { parseOr400 } from '../validate.js';

const byClient = z.strictObject({ clientId: z.string().min(1).max(200).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) });
const taskQuery = z.strictObject({ status: z.enum(['open', 'claimed', 'resolved']).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function registerReadRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.deps;

  app.get('/v1/clinics/:clinicId/sequences', async (req) => {
    const clinic = app.clinicFor(req);
    const q = parseOr400(byClient, req.query, 'query');
    const where: SQL[] = [eq(sequences.clinicId, clinic.id)];
    if (q.clientId) where.push(eq(clients.externalId, q.clientId));
    const rows = await db
      .select({ s: sequences, clientExternalId: clients.externalId })
      .from(sequences)
      .innerJoin(clients, eq(clients.id, sequences.clientId))
      .where(and(...where))
      .orderBy(desc(sequences.updatedAt))
      .limit(q.limit);
    return {
      sequences: rows.map(({ s, clientExternalId }) => ({
        id: s.workflowId,
        clientId: clientExternalId,
        treatmentType: s.treatmentType,
        anchorAppointmentId: s.anchorAppointmentId,
        anchorAt: iso(s.anchorAt),
        stage: s.stage,
        nextActionAt: iso(s.nextActionAt),
        outcome: s.outcome,
        outcomeStage: s.outcomeStage,
        running: s.running,
      })),
    };
  });

  app.get('/v1/clinics/:clinicId/messages', async (req) => {
    const clinic = app.clinicFor(req);
    const q = parseOr400(byClient, req.query, 'query');
    const where: SQL[] = [eq(messages.clinicId, clinic.id)];
    if (q.clientId) where.push(eq(clients.externalId, q.clientId));
    const rows = await db
      .select({ m: messages, clientExternalId: clients.externalId })
      .from(messages)
      .innerJoin(clients, eq(clients.id, messages.clientId))
      .where(and(...where))
      .orderBy(desc(messages.dueAt))
      .limit(q.limit);
    return {
      messages: rows.map(({ m, clientExternalId }) => ({
        id: m.id,
        clientId: clientExternalId,
        sequenceId: m.workflowId,
        treatmentType: m.treatmentType,
        stage: m.stage,
        channel: m.channel,
        status: m.status,
        provider: m.provider,
        recipient: m.recipient,
        subject: m.subject,
        body: m.body,
        dueAt: iso(m.dueAt),
        sentAt: iso(m.sentAt),
      })),
    };
  });

  app.get('/v1/clinics/:clinicId/tasks', async (req) => {
    const clinic = app.clinicFor(req);
    const q = parseOr400(taskQuery, req.query, 'query');
    const where: SQL[] = [eq(staffTasks.clinicId, clinic.id)];
    if (q.status) where.push(eq(staffTasks.status, q.status));
    const rows = await db
      .select({ t: staffTasks, c: { id: clients.externalId, firstName: clients.firstName, lastName: clients.lastName, phone: clients.phone, email: clients.email } })
      .from(staffTasks)
      .innerJoin(clients, eq(clients.id, staffTasks.clientId))
      .where(and(...where))
      .orderBy(desc(staffTasks.createdAt))
      .limit(q.limit);
    return {
      tasks: rows.map(({ t, c }) => ({
        id: t.id,
        sequenceId: t.workflowId,
        treatmentType: t.treatmentType,
        reason: t.reason,
        status: t.status,
        client: c,
        details: t.details,
        dueAt: iso(t.dueAt),
        createdAt: iso(t.createdAt),
      })),
    };
  });
}
