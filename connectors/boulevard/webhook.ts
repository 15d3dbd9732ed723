/**
 * Boulevard webhooks at `POST /webhooks/boulevard/:clinicId`. A delivery names a resource (an
 * appointment or a client); what it means is read from the Admin API when the event is processed,
 * so a delivery carries no PHI we keep and cannot mislead us about an appointment's state.
 * The signature scheme is (unconfirmed): see constants.ts.
 */
import type { ClinicConfig } from '../../src/config/schema.js';
import { RebookError } from '../../src/errors.js';
import { constantTimeEqual, credential } from '../shared.js';
import type { WebhookDelivery, WebhookSpec } from '../types.js';
import {
  BOULEVARD_APPOINTMENT_EVENTS,
  BOULEVARD_CLIENT_EVENTS,
  BOULEVARD_MEMBERSHIP_EVENTS,
  BOULEVARD_SIGNATURE_HEADER,
  BOULEVARD_TIMESTAMP_TOLERANCE_MS,
  boulevardWebhookSignature,
} from './constants.js';
import { webhookSchema } from './schemas.js';

/** `t=<unix>,v1=<hex>` → its parts; undefined for anything else. */
function parseSignature(header: string): { t: string; v1: string } | undefined {
  const parts = new Map(
    header.split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const;
    }),
  );
  const t = parts.get('t');
  const v1 = parts.get('v1');
  return t && v1 && /^\d+$/.test(t) ? { t, v1 } : undefined;
}

export function verifyBoulevard(
  d: WebhookDelivery,
  clinic: ClinicConfig,
  secrets: NodeJS.ProcessEnv,
  nowMs: number,
): void {
  const secret = credential(clinic, 'webhookSecret', secrets);
  if (!secret) throw new RebookError('unauthorized', 'webhook secret not configured for this clinic');
  const header = d.headers[BOULEVARD_SIGNATURE_HEADER];
  if (typeof header !== 'string' || !header) throw new RebookError('unauthorized', 'missing X-Blvd-Signature');
  const sig = parseSignature(header);
  if (!sig) throw new RebookError('unauthorized', 'unreadable X-Blvd-Signature');
  // The signature first: an unsigned timestamp says nothing about freshness.
  if (!constantTimeEqual(sig.v1.toLowerCase(), boulevardWebhookSignature(secret, sig.t, d.rawBody)))
    throw new RebookError('unauthorized', 'invalid X-Blvd-Signature');
  if (Math.abs(nowMs - Number(sig.t) * 1000) > BOULEVARD_TIMESTAMP_TOLERANCE_MS)
    throw new RebookError('unauthorized', 'X-Blvd-Signature timestamp outside the accepted window');
}

const appointmentEvents = new Set<string>(BOULEVARD_APPOINTMENT_EVENTS);
const clientEvents = new Set<string>(BOULEVARD_CLIENT_EVENTS);
const membershipEvents = new Set<string>(BOULEVARD_MEMBERSHIP_EVENTS);

export const boulevardWebhook: WebhookSpec = {
  path: '/webhooks/boulevard/:clinicId',
  verify: verifyBoulevard,
  toInbox(body, clinic) {
    const r = webhookSchema.safeParse(body);
    if (!r.success)
      throw new RebookError('validation_failed', 'not a Boulevard webhook', {
        issues: r.error.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message })),
      });
    const w = r.data;
    if (w.businessId && w.businessId !== clinic.connector?.businessId)
      throw new RebookError('not_found', 'unknown Boulevard business');
    const kind = appointmentEvents.has(w.event)
      ? 'appointment'
      : clientEvents.has(w.event)
        ? 'client'
        : membershipEvents.has(w.event)
          ? 'membership'
          : undefined;
    if (!kind) return { items: [], ignoredType: w.event };
    const t = Date.parse(w.timestamp);
    if (Number.isNaN(t))
      throw new RebookError('validation_failed', 'unreadable timestamp', { field: 'body.timestamp' });
    const occurredAt = new Date(t).toISOString();
    return {
      items: [
        {
          dedupeKey: `boulevard:${w.id}`,
          eventType: `boulevard:${w.event}`,
          occurredAt,
          vendor: {
            platform: 'boulevard',
            kind: `webhook.${kind}`,
            data: { event: w.event, resourceId: w.resource.id, occurredAt },
          },
        },
      ],
    };
  },
};
