/**
 * Twilio webhooks: delivery statuses and inbound replies. Every request is verified with
 * X-Twilio-Signature against the URL Twilio called, rebuilt from the clinic's configured public
 * base URL; with no Twilio credentials configured nothing is accepted (401), never skipped.
 * https://www.twilio.com/docs/usage/webhooks/webhooks-security
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ClinicConfig } from '../../config/schema.js';
import { RebookError } from '../../errors.js';
import type { Inbound } from '../../messaging/inbound.js';
import { publicUrl, TWILIO_INBOUND_PATH, TWILIO_STATUS_PATH, twilioAccountOf } from '../../messaging/registry.js';
import {
  firstValues,
  parseTwilioForm,
  type TwilioParams,
  verifyTwilioSignature,
} from '../../messaging/twilio/signature.js';

/** The clinics sharing the Twilio account that signed this request (at least one, or 401). */
function verifiedClinics(app: FastifyInstance, req: FastifyRequest, params: TwilioParams): ClinicConfig[] {
  const signature = req.headers['x-twilio-signature'];
  const sig = Array.isArray(signature) ? signature[0] : signature;
  const ok: ClinicConfig[] = [];
  const accountSid = firstValues(params).AccountSid;
  for (const clinic of app.deps.config.current().clinics.values()) {
    const account = twilioAccountOf(clinic, app.deps.secrets);
    if (!account || account.accountSid !== accountSid) continue;
    const url = publicUrl(clinic, req.url);
    if (url && verifyTwilioSignature(account.authToken, sig, url, params)) ok.push(clinic);
  }
  if (ok.length === 0)
    throw new RebookError('unauthorized', 'invalid or missing Twilio signature', { field: 'x-twilio-signature' });
  return ok;
}

const xml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

export function twilioWebhooks(inbound: Inbound) {
  return async function register(app: FastifyInstance): Promise<void> {
    // Twilio posts application/x-www-form-urlencoded; the signature covers the decoded params.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    app.post(TWILIO_STATUS_PATH, async (req, reply) => {
      const form = parseTwilioForm(String(req.body ?? ''));
      const clinics = verifiedClinics(app, req, form);
      const params = firstValues(form);
      const ledgerId = new URL(req.url, 'http://local').searchParams.get('m');
      for (const clinic of clinics)
        await inbound.twilioStatus(clinic, {
          ledgerId,
          MessageSid: params.MessageSid,
          MessageStatus: params.MessageStatus,
          ErrorCode: params.ErrorCode,
        });
      return reply.status(204).send();
    });

    app.post(TWILIO_INBOUND_PATH, async (req, reply) => {
      const form = parseTwilioForm(String(req.body ?? ''));
      const candidates = verifiedClinics(app, req, form);
      const params = firstValues(form);
      // The clinic whose Messaging Service or number received the reply.
      const clinic =
        candidates.find(
          (c) =>
            (params.MessagingServiceSid && c.providers.twilio?.messagingServiceSid === params.MessagingServiceSid) ||
            (params.To && c.providers.twilio?.from === params.To),
        ) ?? (candidates.length === 1 ? candidates[0] : undefined);
      let answer: string | undefined;
      if (clinic && params.MessageSid && params.From) {
        answer = await inbound.twilioInbound(clinic, {
          MessageSid: params.MessageSid,
          From: params.From,
          Body: params.Body ?? '',
          ...(params.OptOutType ? { OptOutType: params.OptOutType } : {}),
        });
      } else {
        app.log.warn({ messageSid: params.MessageSid }, 'inbound SMS for no known clinic');
      }
      return reply
        .type('text/xml')
        .send(
          `<?xml version="1.0" encoding="UTF-8"?><Response>${answer ? `<Message>${xml(answer)}</Message>` : ''}</Response>`,
        );
    });
  };
}
