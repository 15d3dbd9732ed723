/** zod schemas for everything under config/: the types are inferred from them. */
import { z } from 'zod';
import { isValidTimeZone } from '../core/zoned-time.js';
import { TEMPLATE_TOKENS, unknownTokens } from '../core/templates.js';

const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, "-" and "_" only');
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24h)');
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (secrets are referenced, never written here)');

export const stageSchema = z.strictObject({
  key: slug,
  day: z.number().int().min(0).max(3650),
  channel: z.enum(['email', 'sms', 'staff']),
  purpose: z.enum(['reminder', 'incentive', 'checkin', 'escalation', 'reactivation', 'care']),
});

export const treatmentTypeSchema = z
  .strictObject({
    label: z.string().min(1),
    intervalDays: z.number().int().min(1).max(3650),
    stages: z.array(stageSchema).min(1),
    synonyms: z.array(z.string().min(1)).default([]),
  })
  .superRefine((t, ctx) => {
    const keys = new Set<string>();
    t.stages.forEach((s, i) => {
      if (keys.has(s.key)) ctx.addIssue({ code: 'custom', path: ['stages', i, 'key'], message: `duplicate stage key "${s.key}"` });
      keys.add(s.key);
      const prev = t.stages[i - 1];
      if (prev && s.day < prev.day) ctx.addIssue({ code: 'custom', path: ['stages', i, 'day'], message: 'stage days must not decrease' });
    });
  });

export const catalogSchema = z.strictObject({
  treatmentTypes: z.record(slug, treatmentTypeSchema),
});

// A placeholder outside the closed token set would reach clients as "Hi ," or as raw braces.
const templateText = z.string().superRefine((text, ctx) => {
  for (const t of unknownTokens(text)) ctx.addIssue({ code: 'custom', message: `unknown placeholder "{{${t}}}" (known: ${TEMPLATE_TOKENS.join(', ')})` });
});
const templateSchema = z.strictObject({ subject: templateText.optional(), body: templateText.min(1) });

export const clinicSchema = z.strictObject({
  id: slug,
  name: z.string().min(1),
  timeZone: z.string().refine(isValidTimeZone, 'not an IANA time zone'),
  bookingUrl: z.url(),
  address: z.string().min(1),
  phone: z.string().optional(),
  platform: z.enum(['generic']).default('generic'),
  apiKeys: z.array(z.strictObject({ name: z.string().min(1), env: envName })).default([]),
  sendTime: clock.default('10:00'),
  /** Treatment types this clinic runs; all catalog types when absent. */
  treatmentTypes: z.array(slug).optional(),
  services: z
    .strictObject({
      synonyms: z.record(slug, z.array(z.string().min(1))).default({}),
      ids: z.record(z.string(), slug).default({}),
    })
    .default({ synonyms: {}, ids: {} }),
  staff: z.strictObject({ notify: z.strictObject({ email: z.email().optional(), sms: z.string().optional() }).default({}) }).default({ notify: {} }),
  templates: z.record(z.string(), z.partialRecord(z.enum(['email', 'sms', 'staff']), templateSchema)).default({}),
});

export type Catalog = z.infer<typeof catalogSchema>;
export type ClinicConfig = z.infer<typeof clinicSchema>;
export type TemplateConfig = z.infer<typeof templateSchema>;
