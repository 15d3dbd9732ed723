/**
 * Booking-platform webhooks: `POST /webhooks/mindbody`, `/webhooks/vagaro/:clinicId`,
 * `/webhooks/jane/:clinicId` (one route per connector that declares a webhook). Registered as an
 * encapsulated plugin with a raw-bytes body parser, because signatures cover the exact bytes.
 *
 * Order: find the clinic (404) → verify (401; nothing stored) → parse (400) → store in the inbox
 * → answer 200 → process. The answer waits for verification and one INSERT only (marked
 * foreground, so on PGlite it goes before queued background queries); processing is queued on
 * the inbox processor and starts after the answer is written. An event answered 200 is durable:
 * if processing fails (Temporal down, vendor API down) the forwarder retries it. Database down →
 * 503, so the vendor retries.
 */
import type { FastifyInstance } from 'fastify';
import { connectors } from '../../../connectors/registry.js';
import type { BookingConnector } from '../../../connectors/types.js';
import type { ClinicConfig } from '../../config/schema.js';
import { foreground } from '../../db/client.js';
import { RebookError } from '../../errors.js';
import { createInboxProcessor } from '../../ingest/processor.js';

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RebookError('invalid_json', 'request body is not valid JSON', { field: 'body' });
  }
}

/** Vendor event type names go to logs; keep them short and plain (no payload text). */
const safeType = (t: string) => t.replace(/[^\w.:-]/g, '_').slice(0, 80);

export async function registerWebhookRoutes(app: FastifyInstance): Promise<void> {
  const { config, ingest, secrets, log } = app.deps;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Processing runs after the answer; closing the app waits for what is queued.
  const processor = createInboxProcessor({ ingest, log });
  app.addHook('onClose', () => processor.drain());

  for (const [platform, connector] of Object.entries(connectors) as [string, BookingConnector][]) {
    const spec = connector.webhook;
    if (!spec) continue;
    // Mindbody checks the URL with a HEAD before activating a subscription.
    if (spec.answersHead) app.head(spec.path, async (_req, reply) => reply.status(200).send());

    app.post(spec.path, async (req, reply) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const clinics = config.current().clinics;
      let clinic: ClinicConfig | undefined;
      let body: unknown;
      const byPath = spec.path.includes(':clinicId');
      if (byPath) {
        clinic = clinics.get((req.params as { clinicId: string }).clinicId);
        if (!clinic || clinic.platform !== platform)
          throw new RebookError('clinic_not_found', 'unknown clinic', { field: 'clinicId' });
        spec.verify({ rawBody: raw, headers: req.headers }, clinic, secrets, Date.now());
        body = parseJson(raw);
      } else {
        body = parseJson(raw);
        clinic = spec.clinicFromBody?.(body, clinics.values());
        if (!clinic) throw new RebookError('clinic_not_found', `unknown ${platform} site`);
        spec.verify({ rawBody: raw, headers: req.headers }, clinic, secrets, Date.now());
      }
      const { items, ignoredType } = spec.toInbox(body, clinic);
      if (ignoredType !== undefined) {
        req.log.info({ platform, clinicId: clinic.id, eventType: safeType(ignoredType) }, 'webhook event type ignored');
        return reply.status(200).send({ status: 'ignored' });
      }
      const { stored, duplicates } = await foreground(() => ingest.store(clinic.id, platform, items));
      processor.enqueue(stored, { platform, clinicId: clinic.id });
      return reply
        .status(200)
        .send({ status: stored.length > 0 ? 'accepted' : 'duplicate', stored: stored.length, duplicates });
    });
  }
}
