/**
 * Zenoti webhooks at `POST /webhooks/zenoti`: one URL for a whole organisation, each delivery
 * routed to the clinic whose `connector.centerId` is the event's `data.center_id` (a center is a
 * clinic). A center-level webhook uses the same URL. Deliveries name appointments and guests; both
 * are re-read from the API when processed. The signature scheme is (unconfirmed): constants.ts.
 */
import type { ClinicConfig } from '../../src/config/schema.js';
import { RebookError } from '../../src/errors.js';
import { constantTimeEqual, credential } from '../shared.js';
import type { WebhookDelivery, WebhookSpec } from '../types.js';
import {
  ZENOTI_APPOINTMENT_EVENTS,
  ZENOTI_GUEST_EVENTS,
  ZENOTI_MAX_EVENT_AGE_MS,
  ZENOTI_MAX_FUTURE_SKEW_MS,
  ZENOTI_PLAN_EVENTS,
  ZENOTI_SIGNATURE_HEADER,
  zenotiWebhookSignature,
} from './constants.js';
import { webhookSchema } from './schemas.js';

const issues = (e: { issues: { path: PropertyKey[]; message: string }[] }) =>
  e.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message }));

function parse(body: unknown) {
  const r = webhookSchema.safeParse(body);
  if (!r.success) throw new RebookError('validation_failed', 'not a Zenoti webhook', { issues: issues(r.error) });
  return r.data;
}

export function verifyZenoti(
  d: WebhookDelivery,
  clinic: ClinicConfig,
  secrets: NodeJS.ProcessEnv,
  nowMs: number,
): void {
  const secret = credential(clinic, 'webhookSecret', secrets);
  if (!secret) throw new RebookError('unauthorized', 'webhook secret not configured for this clinic');
  const sig = d.headers[ZENOTI_SIGNATURE_HEADER];
  if (typeof sig !== 'string' || !sig) throw new RebookError('unauthorized', 'missing X-Zenoti-Signature');
  if (!constantTimeEqual(sig.trim().toLowerCase(), zenotiWebhookSignature(secret, d.rawBody)))
    throw new RebookError('unauthorized', 'invalid X-Zenoti-Signature');
  // The timestamp is inside the signed body: once the signature holds, it is Zenoti's.
  let at = Number.NaN;
  try {
    at = Date.parse((JSON.parse(d.rawBody.toString('utf8')) as { event_timestamp?: string }).event_timestamp ?? '');
  } catch {
    // unreadable JSON: refused below as having no timestamp
  }
  if (Number.isNaN(at) || nowMs - at > ZENOTI_MAX_EVENT_AGE_MS || at - nowMs > ZENOTI_MAX_FUTURE_SKEW_MS)
    throw new RebookError('unauthorized', 'event_timestamp outside the accepted window');
}

const appointmentEvents = new Set<string>(ZENOTI_APPOINTMENT_EVENTS);
const guestEvents = new Set<string>(ZENOTI_GUEST_EVENTS);
const planEvents = new Set<string>(ZENOTI_PLAN_EVENTS);

export const zenotiWebhook: WebhookSpec = {
  path: '/webhooks/zenoti',
  clinicFromBody(body, clinics) {
    const centerId = parse(body).data.center_id;
    if (!centerId) return undefined;
    for (const c of clinics) if (c.platform === 'zenoti' && c.connector?.centerId === centerId) return c;
    return undefined;
  },
  verify: verifyZenoti,
  toInbox(body, clinic) {
    const w = parse(body);
    if (w.data.center_id && w.data.center_id !== clinic.connector?.centerId)
      throw new RebookError('not_found', 'unknown Zenoti center');
    const t = Date.parse(w.event_timestamp);
    if (Number.isNaN(t))
      throw new RebookError('validation_failed', 'unreadable event_timestamp', { field: 'body.event_timestamp' });
    const occurredAt = new Date(t).toISOString();
    const base = { dedupeKey: `zenoti:${w.id}`, eventType: `zenoti:${w.event_type}`, occurredAt };
    if (appointmentEvents.has(w.event_type)) {
      const ids = [
        ...new Set([
          ...(w.data.appointment_id ? [w.data.appointment_id] : []),
          ...(w.data.appointments ?? []).map((a) => a.appointment_id),
        ]),
      ];
      if (ids.length === 0)
        throw new RebookError('validation_failed', 'no appointment id in the event', {
          field: 'body.data.appointment_id',
        });
      return {
        items: [
          {
            ...base,
            vendor: { platform: 'zenoti', kind: 'webhook.appointment', data: { appointmentIds: ids, occurredAt } },
          },
        ],
      };
    }
    if (guestEvents.has(w.event_type)) {
      if (!w.data.guest_id)
        throw new RebookError('validation_failed', 'no guest id in the event', { field: 'body.data.guest_id' });
      return {
        items: [
          {
            ...base,
            vendor: {
              platform: 'zenoti',
              kind: 'webhook.guest',
              data: { guestId: w.data.guest_id, created: w.event_type === 'Guest.Created', occurredAt },
            },
          },
        ],
      };
    }
    if (planEvents.has(w.event_type)) {
      if (!w.data.guest_id)
        throw new RebookError('validation_failed', 'no guest id in the event', { field: 'body.data.guest_id' });
      return {
        items: [
          {
            ...base,
            vendor: { platform: 'zenoti', kind: 'webhook.plans', data: { guestId: w.data.guest_id, occurredAt } },
          },
        ],
      };
    }
    return { items: [], ignoredType: w.event_type };
  },
};
