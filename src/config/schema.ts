/** zod schemas for everything under config/: the types are inferred from them. */
import { z } from 'zod';
import { TEMPLATE_TOKENS, unknownTokens } from '../core/templates.js';
import { isValidTimeZone } from '../core/zoned-time.js';
import { liftSchema } from './lift.js';
import { messagingFields, offerSchema } from './messaging.js';

const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, "-" and "_" only');
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24h)');
const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (secrets are referenced, never written here)');

export const stageSchema = z.strictObject({
  key: slug,
  day: z.number().int().min(0).max(3650),
  channel: z.enum(['email', 'sms', 'staff']),
  purpose: z.enum(['reminder', 'incentive', 'checkin', 'escalation', 'reactivation', 'care', 'recovery', 'winback']),
});

/** A touch after the window for a client who has not booked (issue 11 §3; src/core/reactivation.ts). */
export const reactivationStageSchema = z.strictObject({
  key: slug,
  afterWindowDays: z.number().int().min(0).max(3650),
  channel: z.enum(['email', 'sms']),
  purpose: z.enum(['reactivation', 'winback']),
  /** Days the touch's own fresh offer lasts (win-back); absent: the sequence's offer. */
  offerDays: z.number().int().min(1).max(365).optional(),
});

/** Errors for stage keys used twice in one list (idempotency keys and templates go by stage key). */
function duplicateStageKeys(stages: { key: string }[], ctx: z.RefinementCtx, path: (string | number)[]) {
  const keys = new Set<string>();
  stages.forEach((s, i) => {
    if (keys.has(s.key))
      ctx.addIssue({ code: 'custom', path: [...path, i, 'key'], message: `duplicate stage key "${s.key}"` });
    keys.add(s.key);
  });
}

/**
 * A course of sessions (issue 11): between sessions these stages remind for the next one; after
 * the last, the type's own stages and interval are the maintenance cadence. See core/series.ts.
 */
export const seriesSchema = z
  .strictObject({
    sessions: z.number().int().min(2).max(50),
    intervalDays: z.number().int().min(1).max(3650),
    /** A session more than this many days after the previous starts a new course; default interval + 30. */
    windowDays: z.number().int().min(1).max(3650).optional(),
    stages: z.array(stageSchema).min(1),
  })
  .superRefine((s, ctx) => {
    duplicateStageKeys(s.stages, ctx, ['stages']);
    // A reminder for the next session of a course the client already committed to: no discount.
    s.stages.forEach((st, i) => {
      if (st.purpose === 'incentive')
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i, 'purpose'],
          message: 'series stages carry no offer: use reminder, checkin, care or escalation',
        });
    });
  });

export const treatmentTypeSchema = z
  .strictObject({
    label: z.string().min(1),
    intervalDays: z.number().int().min(1).max(3650),
    stages: z.array(stageSchema).min(1),
    synonyms: z.array(z.string().min(1)).default([]),
    /** Non-responder touches after the staff stage; absent: the core's default; `[]`: none. */
    reactivation: z.array(reactivationStageSchema).optional(),
    series: seriesSchema.optional(),
  })
  .superRefine((t, ctx) => {
    // Stage days out of order are only a warning (the planner runs stages in day order); see load.ts.
    duplicateStageKeys(t.stages, ctx, ['stages']);
    const keys = new Set(t.stages.map((s) => s.key));
    (t.reactivation ?? []).forEach((s, i) => {
      if (keys.has(s.key))
        ctx.addIssue({ code: 'custom', path: ['reactivation', i, 'key'], message: `duplicate stage key "${s.key}"` });
      keys.add(s.key);
    });
  });

export const catalogSchema = z.strictObject({
  treatmentTypes: z.record(slug, treatmentTypeSchema),
});

/**
 * Catalog changes laid over catalog.yaml by an agency or a clinic: a new treatment type in full,
 * or only the fields that change (objects merge, arrays replace, null removes; see merge.ts). The
 * merged catalog is validated with `catalogSchema`.
 */
export const catalogOverridesSchema = z.strictObject({
  treatmentTypes: z.record(slug, z.unknown()),
});

/** Keys of a clinic file an agency's `defaults` cannot set: they name the clinic itself. */
export const clinicIdentityKeys = ['id', 'name', 'agency'] as const;

/**
 * An agency's console rules. `requireTotp`: every user of the agency (its admins, and anyone who
 * sees one of its clinics) signs in with a password and an authenticator code; one without a
 * second factor yet is sent to set it up and can open nothing else until done.
 */
export const agencyConsoleSchema = z.strictObject({ requireTotp: z.boolean().default(false) });
export type AgencyConsole = z.infer<typeof agencyConsoleSchema>;

/**
 * config/agencies/<agency>.yaml: what an agency's clinics share. `defaults` holds any clinic
 * setting except the identity keys; it is merged under each clinic file that names the agency,
 * and the merged result is validated as a clinic.
 */
export const agencySchema = z.strictObject({
  name: z.string().min(1),
  catalog: catalogOverridesSchema.optional(),
  defaults: z.record(z.string(), z.unknown()).optional(),
  /** How the agency's people use the console. */
  console: agencyConsoleSchema.prefault({}),
});

// A placeholder outside the closed token set would reach clients as "Hi ," or as raw braces.
const templateText = z.string().superRefine((text, ctx) => {
  for (const t of unknownTokens(text))
    ctx.addIssue({ code: 'custom', message: `unknown placeholder "{{${t}}}" (known: ${TEMPLATE_TOKENS.join(', ')})` });
});
const templateSchema = z.strictObject({ subject: templateText.optional(), body: templateText.min(1) });

/**
 * A SendGrid dynamic template id (unconfirmed format: "d-" and 32 hex digits, as the ids shown in
 * the SendGrid console). https://www.twilio.com/docs/sendgrid/ui/sending-email/how-to-send-an-email-with-dynamic-templates
 */
export const SENDGRID_TEMPLATE_ID = /^d-[0-9a-f]{32}$/;

/**
 * Email: our own text, or a SendGrid dynamic template (`templateId`) that SendGrid fills with the
 * same tokens (dynamic_template_data); its subject then lives in the SendGrid template too.
 */
const emailTemplateSchema = z
  .strictObject({
    subject: templateText.optional(),
    body: templateText.min(1).optional(),
    templateId: z
      .string()
      .regex(SENDGRID_TEMPLATE_ID, 'a SendGrid dynamic template id: "d-" and 32 hex digits')
      .optional(),
  })
  .superRefine((t, ctx) => {
    if (!t.body === !t.templateId)
      ctx.addIssue({
        code: 'custom',
        path: ['body'],
        message: 'set exactly one of body or templateId (a SendGrid dynamic template)',
      });
    if (t.templateId && t.subject !== undefined)
      ctx.addIssue({ code: 'custom', path: ['subject'], message: 'a SendGrid dynamic template sets its own subject' });
  });

/**
 * Versions of one stage (issue 13 §2): wording, channel, send time or offer, with weights. The
 * stage is named by key or purpose, as templates are; cross-checks against the catalog, the
 * templates, the caps and the send window are in variants.ts (they need the clinic's types).
 */
const variantSchema = z.strictObject({
  name: slug,
  /** Relative weight: a variant's share is its weight over the stage's total. */
  weight: z.number().positive('must be more than 0').max(1000).default(1),
  channel: z.enum(['email', 'sms']).optional(),
  /** Clinic-local time on the stage's day, at or after the clinic's sendTime. */
  sendTime: clock.optional(),
  offer: offerSchema.optional(),
  templates: z.strictObject({ email: emailTemplateSchema.optional(), sms: templateSchema.optional() }).optional(),
});
export const stageVariantsSchema = z.record(
  slug,
  z
    .array(variantSchema)
    .min(2, 'a stage needs two or more variants')
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((v, i) => {
        if (seen.has(v.name))
          ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate variant name "${v.name}"` });
        seen.add(v.name);
      });
    }),
);
export type StageVariantsConfig = z.infer<typeof stageVariantsSchema>;

/** Booking platforms with a connector (connectors/registry.ts is typed against this list). */
export const platforms = ['generic', 'mindbody', 'vagaro', 'jane', 'boulevard', 'zenoti'] as const;

/**
 * How Rebook reaches the clinic's booking platform. Secrets are env-var names; which names a
 * platform needs is listed in its connector's README section (`credentials` keys).
 */
export const connectorSettingsSchema = z.strictObject({
  /** Mindbody site id (webhooks are routed by it). */
  siteId: z
    .string()
    .regex(/^-?\d+$/, 'a Mindbody site id, e.g. "123456" (sandbox "-99")')
    .optional(),
  /** Vagaro or Boulevard business id (checked against webhook payloads; Boulevard signs requests with it) and Vagaro's API region. */
  businessId: z.string().min(1).optional(),
  /** Boulevard location (`urn:blvd:Location:…`) whose appointments this clinic is; unset: the whole business. */
  locationId: z.string().min(1).optional(),
  /** Zenoti center id: one Zenoti center is one Rebook clinic (webhooks and API reads are per center). */
  centerId: z.string().min(1).optional(),
  region: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .optional(),
  /** Jane clinic guid (checked against webhook payloads). */
  clinicGuid: z.string().min(1).optional(),
  /** Overrides the vendor API base URL (sandboxes, tests; Jane's per-clinic https://{clinic}.janeapp.com/api/…). */
  apiBaseUrl: z.url().optional(),
  credentials: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/), envName).default({}),
  pollIntervalMinutes: z.number().int().min(1).max(1440).default(15),
  /** Consent assumed when the platform has no marketing-consent flag (Vagaro, CSV imports). */
  assumedConsent: z
    .strictObject({ sms: z.boolean().default(false), email: z.boolean().default(true) })
    .default({ sms: false, email: true }),
});

export const clinicSchema = z
  .strictObject({
    id: slug,
    name: z.string().min(1),
    /** The agency whose config/agencies/<agency>.yaml this clinic inherits from; none for a standalone clinic. */
    agency: slug.optional(),
    timeZone: z.string().refine(isValidTimeZone, 'not an IANA time zone'),
    bookingUrl: z.url(),
    address: z.string().min(1),
    phone: z.string().optional(),
    platform: z.enum(platforms).default('generic'),
    connector: connectorSettingsSchema.optional(),
    apiKeys: z.array(z.strictObject({ name: z.string().min(1), env: envName })).default([]),
    sendTime: clock.default('10:00'),
    /**
     * Days a cancelled booking may be replaced before the client goes back into follow-up with a
     * recovery touch (issue 11); 0: at once.
     */
    cancelRebookGraceDays: z.number().int().min(0).max(30).default(2),
    /** Treatment types this clinic runs; all catalog types when absent. */
    treatmentTypes: z.array(slug).optional(),
    services: z
      .strictObject({
        synonyms: z.record(slug, z.array(z.string().min(1))).default({}),
        ids: z.record(z.string(), slug).default({}),
      })
      .default({ synonyms: {}, ids: {} }),
    staff: z
      .strictObject({ notify: z.strictObject({ email: z.email().optional(), sms: z.string().optional() }).default({}) })
      .default({ notify: {} }),
    templates: z
      .record(
        z.string(),
        z.strictObject({
          email: emailTemplateSchema.optional(),
          sms: templateSchema.optional(),
          staff: templateSchema.optional(),
        }),
      )
      .default({}),
    /** Messaging and compliance (issue 4): providers, caps, send window, incentives, discreet mode. */
    ...messagingFields,
    /** Proof of lift (issue 13): holdout shares and average prices per treatment type. */
    lift: liftSchema.optional(),
    /** Stage variants (issue 13 §2), keyed by stage key or purpose. */
    variants: stageVariantsSchema.optional(),
  })
  .superRefine((c, ctx) => {
    // What each platform needs to route webhooks and reach its API (secrets by env-var name).
    const need: Record<(typeof platforms)[number], string[]> = {
      generic: [],
      mindbody: ['siteId', 'credentials.apiKey', 'credentials.webhookSignatureKey'],
      vagaro: ['businessId', 'credentials.webhookToken'],
      jane: ['apiBaseUrl', 'credentials.clientId', 'credentials.refreshToken', 'credentials.webhookSecret'],
      boulevard: ['businessId', 'credentials.apiKey', 'credentials.apiSecret', 'credentials.webhookSecret'],
      zenoti: ['centerId', 'credentials.apiKey', 'credentials.webhookSecret'],
    };
    for (const field of need[c.platform]) {
      const [a, b] = field.split('.') as [string, string | undefined];
      const v = (c.connector as Record<string, unknown> | undefined)?.[a];
      if (v === undefined || (b && (v as Record<string, unknown>)[b] === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['connector', ...field.split('.')],
          message: `required for platform "${c.platform}"`,
        });
      }
    }
  });

export type Catalog = z.infer<typeof catalogSchema>;
export type ClinicConfig = z.infer<typeof clinicSchema>;
export type TemplateConfig = z.infer<typeof templateSchema>;
export type EmailTemplateConfig = z.infer<typeof emailTemplateSchema>;
export type ConnectorSettings = z.infer<typeof connectorSettingsSchema>;
