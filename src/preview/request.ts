/**
 * The preview request as the API and the CLI take it (zod), turned into the pure timeline's input
 * on the clinic's clock. A date alone is the clinic's local noon; a wall time without offset is
 * the clinic's clock (the simulator's history CSV reads dates the same way).
 */
import { z } from 'zod';
import { isValidTimeZone } from '../core/zoned-time.js';
import { RebookError } from '../errors.js';
import { parseCompletedAt } from '../simulator/history-csv.js';
import type { PreviewInput } from './timeline.js';

/** Who the sample client is when the request names no channel: reachable on both, consenting. */
export const SAMPLE_CLIENT = {
  firstName: 'Alex',
  email: 'alex@example.com',
  phone: '+12125550123',
  consent: { sms: true, email: true },
} as const;

export const previewRequestSchema = z
  .strictObject({
    treatmentType: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .describe('a configured treatment type (or give `service`)'),
    service: z
      .union([
        z.string().trim().min(1).max(200),
        z.strictObject({ id: z.string().trim().min(1).max(200).optional(), name: z.string().trim().min(1).max(200) }),
      ])
      .optional()
      .describe(
        'a service name ("Botox 20u") or `{ id?, name }` as the booking platform sends it, classified as at enrollment (or give `treatmentType`)',
      ),
    completedAt: z
      .string()
      .trim()
      .min(1)
      .max(40)
      .optional()
      .describe('an ISO 8601 instant, a clinic-local "YYYY-MM-DD HH:MM", or a date alone (local noon); or give `date`'),
    date: z.string().trim().min(1).max(40).optional().describe('alias of completedAt'),
    client: z
      .strictObject({
        firstName: z.string().trim().min(1).max(100).optional(),
        email: z.email().max(254).nullish(),
        phone: z.string().trim().min(5).max(32).nullish(),
        consent: z.strictObject({ sms: z.boolean(), email: z.boolean() }),
        timeZone: z.string().refine(isValidTimeZone, 'not an IANA time zone').nullish(),
      })
      .optional()
      .describe('without it: a sample client reachable and consenting on both channels'),
    price: z
      .number()
      .nonnegative()
      .max(1_000_000)
      .nullish()
      .describe('treatment price in dollars (chooses the incentive tier)'),
    session: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe('for a series type: which session the treatment was (2: the preview reminds for session 3)'),
    sessions: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe("the course's length when not the catalog's (a package of 4); needs `session`"),
    offerFacts: z
      .strictObject({
        creditsLeft: z.number().int().min(0).max(1000).optional().describe('package credits left for the treatment'),
        memberPercentOff: z
          .number()
          .min(0)
          .max(100)
          .optional()
          .describe("percent off the client's membership gives on the treatment"),
        membershipName: z.string().trim().min(1).max(100).optional(),
        visits12m: z.number().int().min(0).max(10_000).optional().describe('completed visits over the last 12 months'),
        spend12m: z.number().min(0).max(10_000_000).optional().describe('dollars spent over the last 12 months'),
      })
      .optional()
      .describe("what the client's memberships, packages and last 12 months would say (chooses the offer)"),
    variants: z
      .record(z.string().trim().min(1).max(100), z.string().trim().min(1).max(100))
      .optional()
      .describe('stage key → the variant to show, for stages with variants (default: the first)'),
  })
  .superRefine((b, ctx) => {
    if (!b.treatmentType === !b.service)
      ctx.addIssue({
        code: 'custom',
        path: ['treatmentType'],
        message: 'give exactly one of treatmentType or service',
      });
    if (!b.completedAt === !b.date)
      ctx.addIssue({ code: 'custom', path: ['completedAt'], message: 'give exactly one of completedAt or date' });
    if (b.sessions !== undefined && (b.session === undefined || b.session > b.sessions))
      ctx.addIssue({ code: 'custom', path: ['sessions'], message: 'give session too, at most sessions' });
  });

export type PreviewRequest = z.infer<typeof previewRequestSchema>;

export function previewInput(req: PreviewRequest, clinicTimeZone: string): PreviewInput {
  const raw = (req.completedAt ?? req.date)!;
  const completedAtMs = parseCompletedAt(raw, clinicTimeZone);
  if (completedAtMs === undefined) {
    throw new RebookError('validation_failed', 'invalid request body', {
      issues: [
        {
          path: `body.${req.completedAt ? 'completedAt' : 'date'}`,
          message: 'expected an ISO 8601 instant, a local "YYYY-MM-DD HH:MM" or a date YYYY-MM-DD (local noon)',
        },
      ],
    });
  }
  const service = typeof req.service === 'string' ? { name: req.service } : req.service;
  return {
    ...(req.treatmentType ? { treatmentType: req.treatmentType } : {}),
    ...(service ? { service: { ...(service.id ? { id: service.id } : {}), name: service.name } } : {}),
    completedAtMs,
    client: req.client ?? SAMPLE_CLIENT,
    priceCents: req.price != null ? Math.round(req.price * 100) : null,
    ...(req.session
      ? { session: { completed: req.session, ...(req.sessions ? { sessions: req.sessions } : {}) } }
      : {}),
    ...(req.offerFacts ? { offerFacts: offerFactsOf(req.offerFacts) } : {}),
    ...(req.variants ? { variants: req.variants } : {}),
  };
}

function offerFactsOf(f: NonNullable<PreviewRequest['offerFacts']>): NonNullable<PreviewInput['offerFacts']> {
  const facts = {
    ...(f.creditsLeft !== undefined ? { creditsLeft: f.creditsLeft } : {}),
    ...(f.memberPercentOff !== undefined ? { memberDiscountPercent: f.memberPercentOff } : {}),
    ...(f.membershipName ? { membershipName: f.membershipName } : {}),
  };
  const given = f.visits12m !== undefined || f.spend12m !== undefined;
  return {
    facts,
    ...(given ? { history: { visits12m: f.visits12m ?? 0, spend12mCents: Math.round((f.spend12m ?? 0) * 100) } } : {}),
  };
}
