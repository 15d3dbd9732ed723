/**
 * Jane partner webhooks at `POST /webhooks/jane/:clinicId`. Payloads carry no PHI (ids and a
 * topic); the appointment is read from the API when the event is processed.
 * https://developers.janeapp.com/webhooks
 */
import { createHmac } from 'node:crypto';
import type { ClinicConfig } from '../../src/config/schema.js';
import { RebookError } from '../../src/errors.js';
import { constantTimeEqual, credential } from '../shared.js';
import type { WebhookDelivery, WebhookSpec } from '../types.js';
import {
  JANE_SIGNATURE_ENCODING,
  JANE_SIGNATURE_HEADER,
  JANE_SIGNATURE_PREFIX,
  JANE_TIMESTAMP_HEADER,
  JANE_TIMESTAMP_TOLERANCE_MS,
  JANE_TOPICS,
  janeSignedString,
} from './constants.js';
import { webhookSchema } from './schemas.js';

export function janeSignature(secret: string, timestamp: string, rawBody: Buffer): string {
  return (
    JANE_SIGNATURE_PREFIX +
    createHmac('sha256', Buffer.from(secret, 'utf8'))
      .update(janeSignedString(timestamp, rawBody))
      .digest(JANE_SIGNATURE_ENCODING)
  );
}

/** Jane timestamps: unix seconds (unconfirmed) or an ISO instant. */
function timestampMs(t: string): number {
  return /^\d+$/.test(t) ? Number(t) * 1000 : Date.parse(t);
}

export function verifyJane(d: WebhookDelivery, clinic: ClinicConfig, secrets: NodeJS.ProcessEnv, nowMs: number): void {
  const secret = credential(clinic, 'webhookSecret', secrets);
  if (!secret) throw new RebookError('unauthorized', 'webhook secret not configured for this clinic');
  const sig = d.headers[JANE_SIGNATURE_HEADER];
  const ts = d.headers[JANE_TIMESTAMP_HEADER];
  if (typeof sig !== 'string' || typeof ts !== 'string' || !sig || !ts)
    throw new RebookError('unauthorized', 'missing X-Jane-Signature or X-Jane-Timestamp');
  if (!constantTimeEqual(sig.trim(), janeSignature(secret, ts, d.rawBody)))
    throw new RebookError('unauthorized', 'invalid X-Jane-Signature');
  const at = timestampMs(ts);
  if (Number.isNaN(at) || Math.abs(nowMs - at) > JANE_TIMESTAMP_TOLERANCE_MS)
    throw new RebookError('unauthorized', 'X-Jane-Timestamp outside the accepted window');
}

const topics = new Set<string>(JANE_TOPICS);

export const janeWebhook: WebhookSpec = {
  path: '/webhooks/jane/:clinicId',
  verify: verifyJane,
  toInbox(body, clinic) {
    const r = webhookSchema.safeParse(body);
    if (!r.success)
      throw new RebookError('validation_failed', 'not a Jane webhook', {
        issues: r.error.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message })),
      });
    const w = r.data;
    if (w.clinic_guid && clinic.connector?.clinicGuid && w.clinic_guid !== clinic.connector.clinicGuid)
      throw new RebookError('not_found', 'unknown Jane clinic');
    if (!topics.has(w.event_topic)) return { items: [], ignoredType: w.event_topic };
    const t = timestampMs(w.event_timestamp);
    const occurredAt = Number.isNaN(t) ? undefined : new Date(t).toISOString();
    return {
      items: [
        {
          dedupeKey: `jane:${w.event_id}`,
          eventType: `jane:${w.event_topic}`,
          ...(occurredAt ? { occurredAt } : {}),
          vendor: {
            platform: 'jane',
            kind: `webhook.${w.event_topic}`,
            data: { appointmentId: w.appointment_id ?? null, ...(occurredAt ? { occurredAt } : {}) },
          },
        },
      ],
    };
  },
};
