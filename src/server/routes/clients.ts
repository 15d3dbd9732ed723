/**
 * A client looked up by the booking platform's id (a merged profile's old id finds the kept
 * one): contact, consent and channel state, and the client's sequences. Nothing else of the
 * record (no treatment history): what the front desk needs to act, no more.
 */
import { and, desc, eq } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientAliases, clients, sequences } from '../../db/schema.js';
import { RebookError } from '../../errors.js';
import { channelFlags } from '../../messaging/channel-state.js';
import { clinicParams, errorResponses, isoTime, v1Doc } from '../openapi.js';
import { armField } from './sequences.js';

const channelState = z.object({ consent: z.boolean(), optedOut: z.boolean(), undeliverable: z.boolean() });

const clientView = z
  .object({
    id: z.string().describe("the booking platform's client id"),
    firstName: z.string(),
    lastName: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    channels: z.object({ sms: channelState, email: channelState }),
    sequences: z.array(
      z.object({
        id: z.string(),
        treatmentType: z.string(),
        outcome: z.string(),
        running: z.boolean(),
        arm: armField,
        nextStage: z.string().nullable().describe('the stage due at `nextActionAt`'),
        nextActionAt: isoTime.nullable(),
      }),
    ),
  })
  .meta({ id: 'Client' });

export const registerClientRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps;

  app.get('/v1/clinics/:clinicId/clients/:clientId', {
    config: { role: 'staff' },
    schema: {
      ...v1Doc('clients', "A client by the booking platform's id", 'staff'),
      params: clinicParams.extend({ clientId: z.string().min(1).max(200) }),
      response: { 200: clientView, ...errorResponses },
    },
    handler: async (req) => {
      const clinic = app.clinicFor(req);
      const [alias] = await db
        .select({ id: clientAliases.externalId })
        .from(clientAliases)
        .where(and(eq(clientAliases.clinicId, clinic.id), eq(clientAliases.aliasExternalId, req.params.clientId)));
      const externalId = alias?.id ?? req.params.clientId;
      const [c] = await db
        .select()
        .from(clients)
        .where(and(eq(clients.clinicId, clinic.id), eq(clients.externalId, externalId)));
      if (!c) throw new RebookError('not_found', 'unknown client', { field: 'clientId' });
      const flags = await channelFlags(db, c.id);
      const seqs = await db
        .select()
        .from(sequences)
        .where(and(eq(sequences.clinicId, clinic.id), eq(sequences.clientId, c.id)))
        .orderBy(desc(sequences.updatedAt));
      return {
        id: c.externalId,
        firstName: c.firstName,
        lastName: c.lastName,
        email: c.email,
        phone: c.phone,
        channels: { sms: { consent: c.consentSms, ...flags.sms }, email: { consent: c.consentEmail, ...flags.email } },
        sequences: seqs.map((s) => ({
          id: s.workflowId,
          treatmentType: s.treatmentType,
          outcome: s.outcome,
          running: s.running,
          arm: s.arm ?? 'treated',
          nextStage: s.nextStage,
          nextActionAt: s.nextActionAt?.toISOString() ?? null,
        })),
      };
    },
  });
};
