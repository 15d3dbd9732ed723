/**
 * Mindbody webhooks: one subscription per developer account delivers every site's events to
 * `POST /webhooks/mindbody`; the clinic is found by `eventData.siteId`. Each delivery is signed
 * with the subscription's `messageSignatureKey` over the raw body.
 * https://developers.mindbodyonline.com/WebhooksDocumentation
 */
import { createHmac } from 'node:crypto';
import type { ClinicConfig } from '../../src/config/schema.js';
import { RebookError } from '../../src/errors.js';
import type { InboxItem } from '../../src/ingest/inbox.js';
import { constantTimeEqual, credential, vendorInstant } from '../shared.js';
import type { WebhookDelivery, WebhookSpec } from '../types.js';
import {
  MINDBODY_EVENT_TYPES,
  MINDBODY_SIGNATURE_HEADER,
  MINDBODY_SIGNATURE_KEY_ENCODING,
  MINDBODY_SIGNATURE_PREFIX,
} from './constants.js';
import {
  appointmentEventDataSchema,
  clientEventDataSchema,
  mergerEventDataSchema,
  webhookEnvelopeSchema,
} from './schemas.js';

/** `sha256=` + base64 HMAC-SHA256 of the raw body (key encoding: MINDBODY_SIGNATURE_KEY_ENCODING). */
export function mindbodySignature(
  rawBody: Buffer | string,
  key: string,
  encoding: 'utf8' | 'base64' = MINDBODY_SIGNATURE_KEY_ENCODING,
): string {
  return MINDBODY_SIGNATURE_PREFIX + createHmac('sha256', Buffer.from(key, encoding)).update(rawBody).digest('base64');
}

export function verifyMindbody(d: WebhookDelivery, clinic: ClinicConfig, secrets: NodeJS.ProcessEnv): void {
  const key = credential(clinic, 'webhookSignatureKey', secrets);
  // No key configured authorizes nothing: verification is never skipped.
  if (!key) throw new RebookError('unauthorized', 'webhook signature key not configured for this site');
  const header = d.headers[MINDBODY_SIGNATURE_HEADER];
  if (typeof header !== 'string' || header.length === 0)
    throw new RebookError('unauthorized', 'missing X-Mindbody-Signature');
  if (!constantTimeEqual(header.trim(), mindbodySignature(d.rawBody, key)))
    throw new RebookError('unauthorized', 'invalid X-Mindbody-Signature');
}

type EventType = (typeof MINDBODY_EVENT_TYPES)[number];

function envelopeError(e: { issues: { path: PropertyKey[]; message: string }[] }): RebookError {
  return new RebookError('validation_failed', 'not a Mindbody webhook envelope', {
    issues: e.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message })),
  });
}
const known = new Set<string>(MINDBODY_EVENT_TYPES);

/** The fields each event needs downstream, and nothing else (names and contact only for client events). */
function extract(type: EventType, eventData: unknown): Record<string, unknown> {
  if (type.startsWith('appointmentBooking.')) {
    const r = appointmentEventDataSchema.safeParse(eventData);
    if (!r.success) return { invalid: r.error.issues.map((i) => i.path.join('.')) };
    const { appointmentId, status, startDateTime, endDateTime, clientId, clientUniqueId, sessionTypeId } = r.data;
    return { appointmentId, status, startDateTime, endDateTime, clientId, clientUniqueId, sessionTypeId };
  }
  if (type === 'clientProfileMerger.created') {
    const r = mergerEventDataSchema.safeParse(eventData);
    if (!r.success) return { invalid: r.error.issues.map((i) => i.path.join('.')) };
    return {
      keptClientId: r.data.keptClientId,
      keptClientUniqueId: r.data.keptClientUniqueId,
      removedClientUniqueId: r.data.removedClientUniqueId,
    };
  }
  const r = clientEventDataSchema.safeParse(eventData);
  if (!r.success) return { invalid: r.error.issues.map((i) => i.path.join('.')) };
  return { ...r.data, siteId: undefined };
}

export const mindbodyWebhook: WebhookSpec = {
  path: '/webhooks/mindbody',
  answersHead: true,
  clinicFromBody(body, clinics) {
    const r = webhookEnvelopeSchema.safeParse(body);
    if (!r.success) throw envelopeError(r.error);
    const siteId = r.data.eventData.siteId;
    for (const c of clinics) if (c.platform === 'mindbody' && c.connector?.siteId === siteId) return c;
    return undefined;
  },
  verify: (d, clinic, secrets) => verifyMindbody(d, clinic, secrets),
  toInbox(body, clinic) {
    const r = webhookEnvelopeSchema.safeParse(body);
    if (!r.success) throw envelopeError(r.error);
    const env = r.data;
    if (!known.has(env.eventId)) return { items: [], ignoredType: env.eventId };
    const occurredAt = vendorInstant(env.eventInstanceOriginationDateTime, clinic.timeZone);
    const item: InboxItem = {
      // Mindbody redelivers the same messageId: the inbox keeps one.
      dedupeKey: `mindbody:${env.messageId}`,
      eventType: `mindbody:${env.eventId}`,
      occurredAt,
      vendor: {
        platform: 'mindbody',
        kind: env.eventId,
        data: { ...extract(env.eventId as EventType, env.eventData), occurredAt },
      },
    };
    return { items: [item] };
  },
};
