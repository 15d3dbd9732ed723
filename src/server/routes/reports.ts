/**
 * The rebooking report (src/reports): one clinic's, and an agency's clinics rolled up with each
 * clinic's totals beside the roll-up.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { agencyRebookingReport, clinicLiftReport, clinicRebookingReport } from '../../reports/query.js';
import { agencyParams, clinicParams, errorResponses, isoTime, v1Doc } from '../openapi.js';

// The shape only (documented, so generated requests match it); parsePeriod checks the calendar.
const periodBound = z
  .string()
  .trim()
  .max(40)
  .regex(/^\d{4}-\d{2}-\d{2}(T.+)?$/, 'expected a date YYYY-MM-DD or an ISO 8601 instant');

const reportQuery = z.strictObject({
  from: periodBound
    .optional()
    .describe(
      "first treatment date counted: YYYY-MM-DD on the clinic's calendar, or an ISO instant (default: 90 days before `to`)",
    ),
  to: periodBound
    .optional()
    .describe('last treatment date counted, inclusive (or an ISO instant, exclusive); default now'),
  treatmentType: z.string().trim().min(1).max(100).optional().describe('one treatment type only'),
});

const count = z.number().int().nonnegative();
// Not bounded by 1: bookings are attributed to a stage's last touch, which a run may have reached without a sent message.
const rate = z.number().nonnegative().nullable();
const heldBack = z.object({
  sendWindow: count,
  capsDeferred: count,
  capsSuppressed: count,
  consent: count,
  other: count,
});
const messageCounts = {
  sent: z.object({ email: count, sms: count, total: count }),
  delivered: count,
  failed: count,
  opened: count,
  clicked: count,
};
const totals = z
  .object({
    ...messageCounts,
    enrolled: count,
    running: count,
    finished: count,
    booked: count,
    bookedOnTime: count,
    attended: count,
    awaitingVisit: count,
    churned: count,
    notInterested: count,
    cancelled: count,
    snoozed: count,
    escalated: count,
    staffConverted: count,
    revenueCents: count,
    bookingsWithPrice: count,
    bookingsWithoutPrice: count,
    heldBack,
    rebookingRate: rate,
    staffConversionRate: rate,
    churnRate: rate,
    deliveryRate: rate,
    openRate: rate,
    clickRate: rate,
  })
  .meta({ id: 'ReportTotals' });
const stageRow = z.object({
  ...messageCounts,
  stage: z.string(),
  purpose: z.string().nullable(),
  plannedChannel: z.string().nullable(),
  reached: count,
  bookings: count,
  bookingRate: rate,
  escalated: count,
  staffConverted: count,
  heldBack,
});
const reportFields = {
  clinics: z.array(z.string()),
  from: isoTime,
  to: isoTime,
  treatmentType: z.string().nullable(),
  totals,
  types: z.array(
    totals.extend({
      treatmentType: z.string(),
      label: z.string(),
      intervalDays: z.number().int().nullable(),
      stages: z.array(stageRow),
    }),
  ),
};

export const reportView = z.object(reportFields).meta({ id: 'RebookingReport' });

const share = z.number().min(0).max(1);
const interval = z.object({ lower: share, upper: share }).nullable();
const range = z.object({ estimate: z.number(), lower: z.number(), upper: z.number() }).nullable();
const armStats = z.object({
  enrolled: count,
  finished: count,
  rebooked: count,
  rate: share.nullable().describe('rebooked / finished sequences'),
  interval: interval.describe('95% Wilson score interval of the rate'),
});
export const liftRowView = z
  .object({
    treatmentType: z.string(),
    label: z.string(),
    treated: armStats,
    holdout: armStats,
    status: z
      .enum(['no_holdout', 'too_small', 'measured'])
      .describe(
        '`too_small`: fewer finished sequences than a 20-point lift needs at 95% confidence and 80% power (see `needed`); no lift is given',
      ),
    difference: z
      .object({ estimate: z.number(), lower: z.number(), upper: z.number() })
      .nullable()
      .describe('treated − held-out rate, 95% Newcombe hybrid score interval'),
    significant: z.boolean().describe('the interval of the difference excludes zero'),
    needed: z.object({
      baselineRate: share,
      treated: count,
      holdout: count,
      moreTreated: count,
      moreHoldout: count,
    }),
    priceCents: count.nullable(),
    priceSource: z.enum(['platform', 'configured']).nullable(),
    visits: range.describe('extra rebooked visits among treated clients (difference × treated finished)'),
    revenueCents: range,
  })
  .meta({ id: 'LiftRow' });

const variantStats = z.object({
  variant: z.string(),
  sends: count.describe('runs the variant reached'),
  bookings: count.describe('runs booked with this stage as the last touch'),
  rate: share.nullable().describe('bookings / sends'),
  interval: interval.describe('95% Wilson score interval of the rate'),
});
export const variantRowView = z
  .object({
    stage: z.string(),
    variants: z.array(variantStats).describe('best conversion first'),
    status: z
      .enum(['too_small', 'measured'])
      .describe(
        '`too_small`: a variant has fewer sends than a 10-point difference needs at 95% confidence and 80% power; no winner is called',
      ),
    difference: z
      .object({ estimate: z.number(), lower: z.number(), upper: z.number() })
      .nullable()
      .describe('leader − runner-up conversion, 95% Newcombe hybrid score interval'),
    better: z
      .string()
      .nullable()
      .describe('the variant whose lead over every other has a 95% interval excluding zero; null otherwise'),
    needed: z.object({ perVariant: count, more: count, baselineRate: share }),
  })
  .meta({ id: 'VariantRow' });

export const liftView = z
  .object({
    clinics: z.array(z.string()),
    from: isoTime,
    to: isoTime,
    treatmentType: z.string().nullable(),
    totals: liftRowView,
    types: z.array(liftRowView),
    variants: z
      .array(variantRowView)
      .describe('per stage with variants (issue 13 §2): sends, bookings attributed and conversion per variant'),
  })
  .meta({ id: 'LiftReport' });

export const agencyReportView = z
  .object({
    agency: z.string(),
    ...reportFields,
    byClinic: z
      .array(z.object({ clinicId: z.string(), name: z.string(), totals, lift: liftRowView }))
      .describe("each clinic's totals, in id order"),
  })
  .meta({ id: 'AgencyRebookingReport' });

export const registerReportRoutes: FastifyPluginAsyncZod = async (app) => {
  const nowMs = () => (app.deps.now ? app.deps.now() : Date.now());

  app.get('/v1/clinics/:clinicId/reports/rebooking', {
    config: { role: 'admin' },
    schema: {
      ...v1Doc(
        'reports',
        "The clinic's rebooking report per treatment type and stage, for the treatments completed in the period",
        'admin',
      ),
      params: clinicParams,
      querystring: reportQuery,
      response: { 200: reportView, ...errorResponses },
    },
    handler: async (req) =>
      clinicRebookingReport(app.deps.db, app.deps.config.current(), app.clinicFor(req), req.query, nowMs()),
  });

  app.get('/v1/clinics/:clinicId/reports/lift', {
    config: { role: 'admin' },
    schema: {
      ...v1Doc(
        'reports',
        'Proof of lift: the rebook rate of treated against held-out clients per treatment type, with 95% intervals, for the treatments completed in the period',
        'admin',
      ),
      params: clinicParams,
      querystring: reportQuery,
      response: { 200: liftView, ...errorResponses },
    },
    handler: async (req) =>
      clinicLiftReport(app.deps.db, app.deps.config.current(), app.clinicFor(req), req.query, nowMs()),
  });

  app.get('/v1/agencies/:agencyId/reports/rebooking', {
    config: { role: 'admin' },
    schema: {
      ...v1Doc(
        'reports',
        "The rebooking report of every clinic of the agency, rolled up (rates recomputed from the sums), with each clinic's totals",
        'admin',
      ),
      description:
        'Needs an admin key scoped to the whole agency (a clinic-scoped key of it gets 403; another agency answers 404).',
      params: agencyParams,
      querystring: reportQuery,
      response: { 200: agencyReportView, ...errorResponses },
    },
    handler: async (req) =>
      agencyRebookingReport(app.deps.db, app.deps.config.current(), app.agencyFor(req).id, req.query, nowMs()),
  });
};
