/** Read side for integrations and staff: the message ledger and staff tasks. */
import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clients, messages, staffTasks } from '../../db/schema.js';
import { clinicParams, errorResponses, isoTime, v1Doc } from '../openapi.js';
import { armField } from './sequences.js';

const limit = z.coerce.number().int().min(1).max(500).default(100);
const messageQuery = z.strictObject({
  clientId: z.string().min(1).max(200).optional().describe("the booking platform's client id"),
  status: z.string().min(1).max(40).optional().describe('outbox, sending, sent, delivered, failed, …'),
  channel: z.enum(['email', 'sms', 'staff']).optional(),
  limit,
});
const taskQuery = z.strictObject({ status: z.enum(['open', 'claimed', 'resolved']).optional(), limit });

const messageView = z
  .object({
    id: z.string(),
    clientId: z.string(),
    sequenceId: z.string(),
    treatmentType: z.string(),
    stage: z.string(),
    channel: z.string(),
    status: z.string(),
    provider: z.string(),
    recipient: z.string().nullable(),
    subject: z.string().nullable(),
    body: z.string().nullable(),
    dueAt: isoTime.nullable(),
    sentAt: isoTime.nullable(),
    arm: armField,
    variant: z
      .string()
      .nullable()
      .describe('the stage variant this message was sent as (null: the stage has no variants)'),
  })
  .meta({ id: 'Message' });

const taskView = z
  .object({
    id: z.string(),
    sequenceId: z.string().nullable(),
    treatmentType: z.string().nullable(),
    reason: z.string(),
    status: z.string(),
    client: z.object({
      id: z.string(),
      firstName: z.string(),
      lastName: z.string(),
      phone: z.string().nullable(),
      email: z.string().nullable(),
    }),
    details: z.unknown(),
    dueAt: isoTime.nullable(),
    createdAt: isoTime.nullable(),
  })
  .meta({ id: 'StaffTask' });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const registerReadRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps;

  app.get('/v1/clinics/:clinicId/messages', {
    config: { role: 'staff' },
    schema: {
      ...v1Doc('messages', 'The message ledger (workflow times)', 'staff'),
      params: clinicParams,
      querystring: messageQuery,
      response: { 200: z.object({ messages: z.array(messageView) }), ...errorResponses },
    },
    handler: async (req) => {
      const clinic = app.clinicFor(req);
      const q = req.query;
      const where: SQL[] = [eq(messages.clinicId, clinic.id)];
      if (q.clientId) where.push(eq(clients.externalId, q.clientId));
      if (q.status) where.push(eq(messages.status, q.status));
      if (q.channel) where.push(eq(messages.channel, q.channel));
      const rows = await db
        .select({ m: messages, clientExternalId: clients.externalId })
        .from(messages)
        .innerJoin(clients, eq(clients.id, messages.clientId))
        .where(and(...where))
        .orderBy(desc(messages.dueAt), desc(messages.id))
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
          arm: m.arm ?? 'treated',
          variant: m.variant,
        })),
      };
    },
  });

  app.get('/v1/clinics/:clinicId/tasks', {
    config: { role: 'staff' },
    schema: {
      ...v1Doc('tasks', "Staff tasks with the client's contact details", 'staff'),
      params: clinicParams,
      querystring: taskQuery,
      response: { 200: z.object({ tasks: z.array(taskView) }), ...errorResponses },
    },
    handler: async (req) => {
      const clinic = app.clinicFor(req);
      const q = req.query;
      const where: SQL[] = [eq(staffTasks.clinicId, clinic.id)];
      if (q.status) where.push(eq(staffTasks.status, q.status));
      const rows = await db
        .select({
          t: staffTasks,
          c: {
            id: clients.externalId,
            firstName: clients.firstName,
            lastName: clients.lastName,
            phone: clients.phone,
            email: clients.email,
          },
        })
        .from(staffTasks)
        .innerJoin(clients, eq(clients.id, staffTasks.clientId))
        .where(and(...where))
        .orderBy(desc(staffTasks.createdAt), desc(staffTasks.id))
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
    },
  });
};
