/**
 * Vagaro webhooks at `POST /webhooks/vagaro/:clinicId`. Vagaro does not sign deliveries: it
 * sends the static token configured with the webhook in `X-Vagaro-Signature`. Vagaro retries 5
 * times over ~15 minutes and never after 400/401/403/404/406, so whatever we answer 2xx must be
 * kept durably by us. https://docs.vagaro.com/public/docs/webhooks-overview
 */
import type { ClinicConfig } from '../../src/config/schema.js';
import { RebookError } from '../../src/errors.js';
import { constantTimeEqual, credential, vendorInstant } from '../shared.js';
import type { WebhookDelivery, WebhookSpec } from '../types.js';
import { VAGARO_NAIVE_TIME_ZONE, VAGARO_SIGNATURE_HEADER } from './constants.js';
import { appointmentPayloadSchema, customerPayloadSchema, webhookEnvelopeSchema } from './schemas.js';

export function verifyVagaro(d: WebhookDelivery, clinic: ClinicConfig, secrets: NodeJS.ProcessEnv): void {
  const token = credential(clinic, 'webhookToken', secrets);
  if (!token) throw new RebookError('unauthorized', 'webhook token not configured for this clinic');
  const header = d.headers[VAGARO_SIGNATURE_HEADER];
  if (typeof header !== 'string' || header.length === 0)
    throw new RebookError('unauthorized', 'missing X-Vagaro-Signature');
  if (!constantTimeEqual(header, token)) throw new RebookError('unauthorized', 'invalid X-Vagaro-Signature');
}

const issues = (e: { issues: { path: PropertyKey[]; message: string }[] }) =>
  e.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message }));

export const vagaroWebhook: WebhookSpec = {
  path: '/webhooks/vagaro/:clinicId',
  verify: (d, clinic, secrets) => verifyVagaro(d, clinic, secrets),
  toInbox(body, clinic) {
    const r = webhookEnvelopeSchema.safeParse(body);
    if (!r.success)
      throw new RebookError('validation_failed', 'not a Vagaro webhook envelope', { issues: issues(r.error) });
    const env = r.data;
    let occurredAt: string;
    try {
      occurredAt = vendorInstant((env.createdDate ?? env.createdAt)!, VAGARO_NAIVE_TIME_ZONE);
    } catch {
      throw new RebookError('validation_failed', 'unreadable createdDate', { field: 'body.createdDate' });
    }
    const base = { dedupeKey: `vagaro:${env.id}`, eventType: `vagaro:${env.type}.${env.action}`, occurredAt };
    const businessId = clinic.connector?.businessId;
    if (env.type === 'appointment') {
      const p = appointmentPayloadSchema.safeParse(env.payload);
      if (!p.success)
        throw new RebookError('validation_failed', 'invalid Vagaro appointment payload', { issues: issues(p.error) });
      if (p.data.businessId && p.data.businessId !== businessId)
        throw new RebookError('not_found', 'unknown Vagaro business');
      const { appointmentId, customerId, startTime, endTime, bookingStatus, serviceTitle, serviceId, amount } = p.data;
      return {
        items: [
          {
            ...base,
            vendor: {
              platform: 'vagaro',
              kind: `appointment.${env.action}`,
              data: {
                appointmentId,
                customerId,
                startTime,
                endTime,
                bookingStatus,
                serviceTitle,
                serviceId,
                amount,
                occurredAt,
              },
            },
          },
        ],
      };
    }
    if (env.type === 'customer') {
      const p = customerPayloadSchema.safeParse(env.payload);
      if (!p.success)
        throw new RebookError('validation_failed', 'invalid Vagaro customer payload', { issues: issues(p.error) });
      if (p.data.businessIds?.length && businessId && !p.data.businessIds.includes(businessId))
        throw new RebookError('not_found', 'unknown Vagaro business');
      return {
        items: [
          {
            ...base,
            vendor: {
              platform: 'vagaro',
              kind: `customer.${env.action}`,
              data: { ...p.data, businessIds: undefined, occurredAt },
            },
          },
        ],
      };
    }
    return { items: [], ignoredType: `${env.type}.${env.action}` };
  },
};
