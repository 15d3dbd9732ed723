/**
 * Clinic configuration for messaging and compliance: providers (secrets by env-var name),
 * frequency caps, send window, incentives, discreet wording, reply handling. The zod fields are
 * spread into the clinic schema; the checks run at load time and report errors (a template that
 * would break the law) and warnings (caps the clinic's own sequence can never satisfy, SMS
 * segment counts).
 */
import { z } from 'zod';
import {
  type CapRule,
  DEFAULT_CAP_RULES,
  describeRule,
  effectiveRules,
  parseWindow,
  stagesBlockedByOwnCaps,
} from '../core/caps.js';
import {
  DEFAULT_INCENTIVE_TIERS,
  type IncentiveTier,
  MAX_PERCENT_OFF,
  type Offer,
  UNKNOWN_PRICE_OFFER,
} from '../core/incentives.js';
import { isCareTouch, OFFER_TOKENS } from '../core/message-category.js';
import type { LoyaltyTier } from '../core/offers.js';
import { localDayAt } from '../core/plan.js';
import { DEFAULT_SEND_WINDOW, LEGAL_WINDOW, type SendWindow, WEEKDAY_NAMES } from '../core/send-window.js';
import { smsSegments } from '../core/sms-segments.js';
import { renderTemplate } from '../core/templates.js';
import type { Channel, TreatmentTypeDefinition } from '../core/types.js';

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24h)');
const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (secrets are referenced, never written here)');
const windowText = z.string().refine((w) => {
  try {
    return parseWindow(w) > 0;
  } catch {
    return false;
  }
}, 'expected a window such as 30d, 24h or 90m');

const capRuleSchema = z.strictObject({
  max: z.number().int().min(0).max(100),
  window: windowText,
  channel: z.enum(['sms', 'email']).optional(),
});

const sendWindowSchema = z
  .strictObject({
    days: z.array(z.enum(WEEKDAY_NAMES)).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri', 'sat']),
    start: clock.default(DEFAULT_SEND_WINDOW.start),
    end: clock.default(DEFAULT_SEND_WINDOW.end),
  })
  .superRefine((w, ctx) => {
    // Florida, Oklahoma and Maryland allow 08:00–20:00 only; we do not know every client's state.
    if (w.start < LEGAL_WINDOW.start)
      ctx.addIssue({ code: 'custom', path: ['start'], message: `must not be before ${LEGAL_WINDOW.start}` });
    if (w.end > LEGAL_WINDOW.end)
      ctx.addIssue({ code: 'custom', path: ['end'], message: `must not be after ${LEGAL_WINDOW.end}` });
    if (w.start >= w.end) ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be after start' });
  });

/** An offer as configured (dollars): one of percentOff (≤ 20), amountOff or gift. */
export const offerSchema = z.union([
  z.strictObject({ percentOff: z.number().positive().max(MAX_PERCENT_OFF, `never above ${MAX_PERCENT_OFF}% off`) }),
  z.strictObject({ amountOff: z.number().positive().max(10_000) }),
  z.strictObject({ gift: z.string().min(1).max(80) }),
]);
const tierSchema = z
  .strictObject({
    /** Treatment price (dollars) below which this tier applies; the last tier may leave it out. */
    below: z.number().positive().optional(),
    percentOff: z.number().positive().max(MAX_PERCENT_OFF, `never above ${MAX_PERCENT_OFF}% off`).optional(),
    amountOff: z.number().positive().max(10_000).optional(),
    gift: z.string().min(1).max(80).optional(),
  })
  .refine((t) => [t.percentOff, t.amountOff, t.gift].filter((v) => v !== undefined).length === 1, {
    message: 'set exactly one of percentOff, amountOff or gift',
  });

/**
 * A loyalty tier (issue 14 §3): reached with at least `minVisits` completed visits or `minSpend`
 * dollars over the last 12 months; its offer replaces the price tier's (e.g. VIP: a complimentary
 * add-on instead of a percentage). Listed best first: the first tier a client reaches is theirs.
 */
const loyaltyTierSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(40),
    minVisits: z.number().int().positive().max(1000).optional(),
    minSpend: z.number().positive().max(10_000_000).optional(),
    percentOff: z.number().positive().max(MAX_PERCENT_OFF, `never above ${MAX_PERCENT_OFF}% off`).optional(),
    amountOff: z.number().positive().max(10_000).optional(),
    gift: z.string().min(1).max(80).optional(),
  })
  .refine((t) => t.minVisits !== undefined || t.minSpend !== undefined, {
    message: 'set minVisits, minSpend or both',
    path: ['minVisits'],
  })
  .refine((t) => [t.percentOff, t.amountOff, t.gift].filter((v) => v !== undefined).length === 1, {
    message: 'set exactly one of percentOff, amountOff or gift',
  });

const twilioSchema = z
  .strictObject({
    accountSidEnv: envName,
    authTokenEnv: envName,
    /** 10DLC: each clinic is a brand whose SMS goes out through its Messaging Service. */
    messagingServiceSid: z
      .string()
      .regex(/^MG[0-9a-fA-F]{32}$/, 'a Messaging Service SID (MG…)')
      .optional(),
    from: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number')
      .optional(),
    /** Twilio Advanced Opt-Out answers HELP itself: we must not answer too. */
    advancedOptOut: z.boolean().default(false),
  })
  .refine((t) => !!t.messagingServiceSid !== !!t.from, {
    message: 'set exactly one of messagingServiceSid or from',
    path: ['messagingServiceSid'],
  });

const sendgridSchema = z.strictObject({
  apiKeyEnv: envName,
  from: z.email(),
  fromName: z.string().min(1).optional(),
  /** Base64 SPKI public key of the signed event webhook. */
  webhookPublicKeyEnv: envName,
  /**
   * Signed events older (or further in the future) than this are refused: the signature covers the
   * timestamp, so the age check is what stops a captured post from being replayed later.
   */
  webhookMaxAgeSeconds: z.number().int().min(60).max(86_400).default(600),
  unsubscribeGroupId: z.number().int().positive().optional(),
  /** SendGrid sandbox mode: accepted and validated, never delivered. */
  sandbox: z.boolean().default(false),
  /**
   * SendGrid's API host: `https://api.eu.sendgrid.com` for an EU-pinned subuser, or a relay of the
   * operator's; https://api.sendgrid.com when unset. https://www.twilio.com/docs/sendgrid/for-developers/sending-email/data-residency-eu
   */
  apiBaseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * SendGrid signs no HIPAA BAA: its emails say "treatment" instead of the treatment's name
   * ({{treatmentLabel}}) unless the clinic accepts naming it here.
   */
  treatmentDetails: z.boolean().default(false),
});

/** Fields spread into the clinic schema. */
export const messagingFields = {
  /** Where Twilio and SendGrid reach us and where unsubscribe links point (proxies change scheme/host). */
  publicBaseUrl: z.url().optional(),
  /** Region for phone numbers written without a country code. */
  defaultCountry: z
    .string()
    .regex(/^[A-Z]{2}$/, 'an ISO 3166 country code, e.g. US')
    .default('US'),
  /** Keeps treatment names out of SMS (lock screens). */
  discreet: z.boolean().default(false),
  caps: z.array(capRuleSchema).optional(),
  /** Care touches count toward the caps (and are held by them) too; by default they do not. */
  capsIncludeCare: z.boolean().default(false),
  sendWindow: sendWindowSchema.optional(),
  incentives: z
    .strictObject({
      tiers: z.array(tierSchema).min(1).optional(),
      unknownPrice: offerSchema.optional(),
      /** Loyalty tiers from the client's last 12 months (best first); see docs/offers.md. */
      loyalty: z
        .array(loyaltyTierSchema)
        .max(10)
        .superRefine((tiers, ctx) => {
          const names = new Set<string>();
          tiers.forEach((t, i) => {
            if (names.has(t.name))
              ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate tier name "${t.name}"` });
            names.add(t.name);
          });
        })
        .optional(),
    })
    .optional(),
  /** Where a stage goes when its own channel cannot be used. */
  fallback: z
    .strictObject({ sms: z.enum(['email', 'none']).default('email'), email: z.enum(['sms', 'none']).default('sms') })
    .default({ sms: 'email', email: 'sms' }),
  providers: z.strictObject({ twilio: twilioSchema.optional(), sendgrid: sendgridSchema.optional() }).default({}),
};

const messagingObject = z.object(messagingFields);
export type MessagingConfig = z.infer<typeof messagingObject>;

/** A configured offer (dollars) as the core's Offer (cents). */
export const toOffer = (o: { percentOff?: number; amountOff?: number; gift?: string }): Offer =>
  o.percentOff !== undefined
    ? { kind: 'percent_off', percent: o.percentOff }
    : o.amountOff !== undefined
      ? { kind: 'amount_off', amountCents: Math.round(o.amountOff * 100) }
      : { kind: 'gift', label: o.gift ?? '' };

/** The clinic's cap rules (defaults when unset) plus the state-law rule. */
export function capRulesFor(c: Pick<MessagingConfig, 'caps'>): CapRule[] {
  const configured = c.caps
    ? c.caps.map((r) => ({ max: r.max, windowMs: parseWindow(r.window), ...(r.channel ? { channel: r.channel } : {}) }))
    : DEFAULT_CAP_RULES;
  return effectiveRules(configured);
}

/** Whether the clinic's emails must not name the treatment (they go through SendGrid, no BAA). */
export function emailHidesTreatment(c: Pick<MessagingConfig, 'providers'>): boolean {
  return !!c.providers.sendgrid && !c.providers.sendgrid.treatmentDetails;
}

export function sendWindowFor(c: Pick<MessagingConfig, 'sendWindow'>): SendWindow {
  if (!c.sendWindow) return DEFAULT_SEND_WINDOW;
  return {
    days: c.sendWindow.days.map((d) => WEEKDAY_NAMES.indexOf(d)),
    start: c.sendWindow.start,
    end: c.sendWindow.end,
  };
}

export function incentiveTiersFor(c: Pick<MessagingConfig, 'incentives'>): { tiers: IncentiveTier[]; unknown: Offer } {
  const tiers = c.incentives?.tiers?.map((t) => ({
    ...(t.below !== undefined ? { belowCents: Math.round(t.below * 100) } : {}),
    offer: toOffer(t),
  }));
  return {
    tiers: tiers ?? DEFAULT_INCENTIVE_TIERS,
    unknown: c.incentives?.unknownPrice ? toOffer(c.incentives.unknownPrice) : UNKNOWN_PRICE_OFFER,
  };
}

/** The clinic's loyalty tiers, best first (none when unset). */
export function loyaltyTiersFor(c: Pick<MessagingConfig, 'incentives'>): LoyaltyTier[] {
  return (c.incentives?.loyalty ?? []).map((t) => ({
    name: t.name,
    ...(t.minVisits !== undefined ? { minVisits: t.minVisits } : {}),
    ...(t.minSpend !== undefined ? { minSpendCents: Math.round(t.minSpend * 100) } : {}),
    offer: toOffer(t),
  }));
}

export interface MessagingCheck {
  path: (string | number)[];
  message: string;
}

type TextTemplate = { subject?: string; body: string };
/** Email templates carry a body, or name a SendGrid dynamic template instead. */
type Templates = Record<
  string,
  { email?: { subject?: string; body?: string; templateId?: string }; sms?: TextTemplate; staff?: TextTemplate }
>;

/** Sample values for measuring SMS length: long-ish real values, not empty strings. */
export const SAMPLE: Record<string, string> = {
  firstName: 'Alexandra',
  treatmentLabel: 'lip filler',
  providerName: 'Dr. Nguyen',
  incentive: '15% off with code K7M2-Q9XP-2D4T-8HVA',
  expiresOn: 'Dec 31',
  unsubscribeUrl: 'https://rebook.example.com/unsubscribe/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
};

/**
 * Errors: an email template without the clinic's address or an unsubscribe link (CAN-SPAM,
 * Gmail/Yahoo bulk rules); a SendGrid dynamic template without SendGrid as the clinic's provider.
 */
export function messagingErrors(c: {
  templates: Templates;
  publicBaseUrl?: string;
  providers?: { sendgrid?: unknown };
}): MessagingCheck[] {
  const out: MessagingCheck[] = [];
  for (const [purpose, byChannel] of Object.entries(c.templates)) {
    const email = byChannel.email;
    if (!email) continue;
    if (email.templateId) {
      if (!c.providers?.sendgrid)
        out.push({
          path: ['templates', purpose, 'email', 'templateId'],
          message: 'a SendGrid dynamic template needs providers.sendgrid',
        });
      continue;
    }
    if (!email.body) continue; // reported by the schema
    if (!/\{\{\s*clinicAddress\s*\}\}/.test(email.body))
      out.push({
        path: ['templates', purpose, 'email', 'body'],
        message: 'email must include the clinic address ({{clinicAddress}}, CAN-SPAM)',
      });
    if (!/\{\{\s*unsubscribeUrl\s*\}\}/.test(email.body))
      out.push({
        path: ['templates', purpose, 'email', 'body'],
        message: 'email must include an unsubscribe link ({{unsubscribeUrl}})',
      });
  }
  return out;
}

/**
 * Errors: a care template (the `care` purpose, or the key of a care stage of one of the clinic's
 * treatment types) that carries an offer. A care touch is informational: see core/message-category.ts.
 */
export function careTemplateErrors(
  c: { templates: Templates },
  types: Map<string, TreatmentTypeDefinition>,
): MessagingCheck[] {
  const careKeys = new Set(['care']);
  for (const t of types.values())
    for (const s of [...t.stages, ...(t.series?.stages ?? [])]) if (isCareTouch(s)) careKeys.add(s.key);
  const out: MessagingCheck[] = [];
  for (const [key, byChannel] of Object.entries(c.templates)) {
    if (!careKeys.has(key)) continue;
    for (const [channel, t] of Object.entries(byChannel)) {
      for (const field of ['subject', 'body'] as const) {
        const text = (t as { subject?: string; body?: string } | undefined)?.[field];
        if (!text) continue;
        const offer = OFFER_TOKENS.find((tok) => new RegExp(`\\{\\{\\s*${tok}\\s*\\}\\}`).test(text));
        if (offer)
          out.push({
            path: ['templates', key, channel, field],
            message: `a care template never carries an offer: remove {{${offer}}}`,
          });
      }
    }
  }
  return out;
}

/**
 * Warnings: SMS segment counts (what each message costs), treatment names written literally in
 * an SMS of a discreet clinic, and stages the clinic's own caps can never let out.
 */
export function messagingWarnings(
  c: {
    name: string;
    timeZone: string;
    sendTime: string;
    discreet: boolean;
    caps?: MessagingConfig['caps'];
    capsIncludeCare?: boolean;
    templates: Templates;
    address: string;
    bookingUrl: string;
    providers?: MessagingConfig['providers'];
  },
  types: Map<string, TreatmentTypeDefinition>,
): MessagingCheck[] {
  const out: MessagingCheck[] = [];
  const hideInEmail = c.providers ? emailHidesTreatment({ providers: c.providers }) : false;
  for (const [purpose, byChannel] of Object.entries(c.templates)) {
    // {{treatmentLabel}} is replaced, but a name written in the text would still reach SendGrid.
    const email = byChannel.email;
    if (hideInEmail && email?.body) {
      const text = `${email.subject ?? ''}\n${email.body}`.toLowerCase();
      for (const t of types.values()) {
        if (text.includes(t.label.toLowerCase()))
          out.push({
            path: ['templates', purpose, 'email', 'body'],
            message: `email through SendGrid (no BAA) names the treatment "${t.label}": remove it, or set providers.sendgrid.treatmentDetails`,
          });
      }
    }
    // The text lives at SendGrid: we pass the tokens, SendGrid must show them.
    if (byChannel.email?.templateId) {
      out.push({
        path: ['templates', purpose, 'email', 'templateId'],
        message: `SendGrid template ${byChannel.email.templateId} is not checked here: it must show {{clinicAddress}} and {{unsubscribeUrl}} (CAN-SPAM, one-click unsubscribe)`,
      });
    }
    const sms = byChannel.sms;
    if (!sms) continue;
    const rendered = renderTemplate(sms.body, {
      ...SAMPLE,
      clinicName: c.name,
      bookingUrl: c.bookingUrl,
      clinicAddress: c.address,
    });
    const seg = smsSegments(rendered);
    out.push({
      path: ['templates', purpose, 'sms', 'body'],
      message: `about ${seg.units} ${seg.encoding === 'GSM-7' ? 'characters' : 'UCS-2 units'} → ${seg.segments} ${seg.encoding} segment(s) per message`,
    });
    if (c.discreet) {
      for (const t of types.values()) {
        if (sms.body.toLowerCase().includes(t.label.toLowerCase()))
          out.push({
            path: ['templates', purpose, 'sms', 'body'],
            message: `discreet clinic: the SMS names the treatment "${t.label}"`,
          });
      }
    }
  }
  const rules = capRulesFor(c);
  const anchor = Date.UTC(2026, 0, 5, 15);
  for (const type of types.values()) {
    const at = (day: number) => localDayAt(anchor, day, c.sendTime, c.timeZone);
    const sorted = [...type.stages].sort((a, b) => a.day - b.day);
    // Care touches are not counted by the caps (unless the clinic says so): they do not compete.
    const countCare = !!c.capsIncludeCare;
    const marketing = sorted.filter((s) => countCare || !isCareTouch(s));
    const nominal = marketing.flatMap((s, i) =>
      s.channel === 'staff'
        ? []
        : [
            {
              key: s.key,
              offsetMs: at(s.day),
              channel: s.channel as Channel,
              expiresMs: marketing[i + 1] ? at(marketing[i + 1]!.day) : at(type.intervalDays + 30),
            },
          ],
    );
    for (const b of stagesBlockedByOwnCaps(rules, nominal)) {
      out.push({
        path: ['caps'],
        message: `${type.key} stage "${b.key}" can never be sent: ${describeRule(b.rule)} always holds it past the next stage`,
      });
    }
  }
  return out;
}
