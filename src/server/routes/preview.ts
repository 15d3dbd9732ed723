/** POST /v1/clinics/:clinicId/preview — the timeline one treatment would produce (no side effects). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { previewClinic } from '../../preview/clinic.js';
import { previewInput, previewRequestSchema } from '../../preview/request.js';
import { previewTimeline } from '../../preview/timeline.js';
import { clinicParams, errorResponses, isoTime, v1Doc } from '../openapi.js';

const localTime = z.object({
  at: isoTime,
  local: z.string().describe('"2026-05-20 Wed 10:00" on the clock the message is timed by'),
});
const channel = z.enum(['email', 'sms']);

const previewStage = z
  .object({
    key: z.string(),
    day: z.number().int(),
    purpose: z.enum(['reminder', 'incentive', 'checkin', 'escalation', 'reactivation', 'care', 'recovery', 'winback']),
    category: z
      .enum(['care', 'marketing'])
      .describe('care touches need no marketing consent, carry no offer and are exempt from caps by default'),
    plannedChannel: z.enum(['email', 'sms', 'staff']).describe('the channel the catalog gives the stage'),
    due: localTime,
    outcome: z.enum(['sent', 'staff_task', 'suppressed', 'skipped', 'config_error']),
    at: localTime.optional().describe('when it goes out (or the staff task is created)'),
    channel: channel.optional(),
    fallback: z.boolean().optional().describe("sent on the other channel because the stage's own is unusable"),
    reason: z.string().optional(),
    holds: z.array(
      z.object({
        reason: z.enum(['send_window', 'capped']),
        from: isoTime,
        until: z.string().describe('ISO 8601 instant, or "never"'),
        rule: z.string().optional().describe('the cap rule that held the message'),
      }),
    ),
    caps: z.enum(['allowed', 'deferred', 'suppressed']).optional(),
    content: z
      .object({
        subject: z.string().optional(),
        body: z.string(),
        sms: z
          .object({ encoding: z.enum(['GSM-7', 'UCS-2']), units: z.number().int(), segments: z.number().int() })
          .optional(),
      })
      .optional(),
  })
  .meta({ id: 'PreviewStage' });

const channelState = z.object({
  usable: z.boolean(),
  reason: z.enum(['no_address', 'no_consent', 'invalid_number']).optional(),
});

const previewView = z
  .object({
    clinicId: z.string(),
    treatmentType: z.string(),
    label: z.string(),
    classification: z
      .object({ service: z.string(), by: z.enum(['service_id', 'synonym', 'type']), synonym: z.string().optional() })
      .optional(),
    completedAt: localTime,
    intervalDays: z.number().int(),
    clinicTimeZone: z.string(),
    sendTimeZone: z.string().describe('the zone the send window is applied in'),
    channels: z.object({ email: channelState, sms: channelState }),
    incentive: z.object({
      kind: z
        .enum(['offer', 'use_credit', 'member_price'])
        .describe('a discount with a code, or wording without one (credits left, a member price)'),
      reason: z
        .enum(['package_credit', 'member_discount', 'loyalty_tier', 'price_tier', 'unknown_price'])
        .describe('why the client gets this offer (the code recorded on the ledger row)'),
      why: z.string().describe('the reason as staff read it'),
      tier: z.string().optional().describe('the loyalty tier reached'),
      offer: z
        .discriminatedUnion('kind', [
          z.object({ kind: z.literal('amount_off'), amountCents: z.number().int() }),
          z.object({ kind: z.literal('percent_off'), percent: z.number() }),
          z.object({ kind: z.literal('gift'), label: z.string() }),
        ])
        .optional(),
      description: z.string(),
      percentOfPrice: z.number(),
      code: z.string().optional().describe("a placeholder of the real code's length (only with a discount)"),
      expiresAt: localTime,
    }),
    stages: z.array(previewStage),
    reactivation: previewStage.describe('the single touch a "not now" reply schedules'),
    windowEndsAt: localTime,
    assumptions: z.array(z.string()),
  })
  .meta({ id: 'Preview' });

export const registerPreviewRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/clinics/:clinicId/preview', {
    config: { role: 'admin' },
    schema: {
      ...v1Doc(
        'preview',
        'The timeline one treatment would produce: stages, send times, channels, caps, rendered text (nothing is stored or sent)',
        'admin',
      ),
      params: clinicParams,
      body: previewRequestSchema,
      response: {
        200: previewView,
        422: errorResponses.default.describe('the service matches no treatment type (`unclassified_service`)'),
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const clinic = app.clinicFor(req);
      return previewTimeline(
        previewClinic(app.deps.config.current(), clinic.id),
        previewInput(req.body, clinic.timeZone),
      );
    },
  });
};
