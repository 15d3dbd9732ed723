/**
 * SendGrid's signed Event Webhook: ECDSA over the timestamp header and the raw body, exactly as
 * received, against each configured clinic's public key. No key configured → 401, never skipped.
 * Duplicates happen: each sg_event_id is applied once.
 * https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RebookError } from '../../errors.js';
import type { Inbound } from '../../messaging/inbound.js';
import { SENDGRID_EVENTS_PATH } from '../../messaging/registry.js';
import { MESSAGE_ID_ARG } from '../../messaging/sendgrid/index.js';
import {
  isFreshTimestamp,
  SIGNATURE_HEADER,
  sendgridPublicKey,
  TIMESTAMP_HEADER,
  verifySendgridSignature,
} from '../../messaging/sendgrid/signature.js';
import { parseOr400 } from '../validate.js';

const eventSchema = z.looseObject({
  event: z.string().min(1),
  sg_event_id: z.string().min(1),
  sg_message_id: z.string().optional(),
  timestamp: z.number().int(),
  [MESSAGE_ID_ARG]: z.string().optional(),
});
const eventsSchema = z.array(eventSchema).max(10_000);

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export function sendgridWebhooks(inbound: Inbound) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    app.post(SENDGRID_EVENTS_PATH, async (req, reply) => {
      const raw = req.body as Buffer;
      const sig = header(req.headers[SIGNATURE_HEADER]);
      const ts = header(req.headers[TIMESTAMP_HEADER]);
      let verified = false;
      let fresh = false;
      for (const clinic of app.deps.config.current().clinics.values()) {
        const env = clinic.providers.sendgrid?.webhookPublicKeyEnv;
        const key = env ? app.deps.secrets[env] : undefined;
        if (!key) continue;
        let k: ReturnType<typeof sendgridPublicKey>;
        try {
          k = sendgridPublicKey(key);
        } catch {
          continue;
        }
        if (verifySendgridSignature(k, sig, ts, raw)) {
          verified = true;
          // Wall time on purpose: the vendor signs with its wall clock, whatever clock the engine runs on.
          fresh = isFreshTimestamp(ts, Date.now(), clinic.providers.sendgrid?.webhookMaxAgeSeconds ?? 600);
          break;
        }
      }
      if (!verified)
        throw new RebookError('unauthorized', 'invalid or missing SendGrid event signature', {
          field: SIGNATURE_HEADER,
        });
      if (!fresh)
        throw new RebookError('unauthorized', 'SendGrid event timestamp outside the freshness window', {
          field: TIMESTAMP_HEADER,
        });
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new RebookError('invalid_json', 'request body is not valid JSON', { field: 'body' });
      }
      const events = parseOr400(eventsSchema, body, 'body');
      const counts = { applied: 0, duplicate: 0, unknown: 0 };
      for (const e of events) counts[await inbound.sendgridEvent(e)]++;
      return reply.status(200).send(counts);
    });
  };
}
