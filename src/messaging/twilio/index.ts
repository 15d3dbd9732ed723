/**
 * SMS through Twilio (10DLC: a clinic's Messaging Service, or a From number). One client per
 * account per process; the status callback URL comes from the configured public base URL and
 * carries our ledger id, so callbacks find their row even if the provider id was never recorded.
 * https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
 */
import twilio from 'twilio';
import type { MessageProvider, OutboundMessage, SendReceipt } from '../types.js';
import { NOT_SENT_NETWORK_CODES, ProviderError } from '../types.js';
import { classifySendFailure } from './errors.js';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  messagingServiceSid?: string;
  from?: string;
  /** Absolute URL of POST /webhooks/twilio/status on our public base URL. */
  statusCallbackUrl?: string;
  /** https.Agent keep-alive (on by default; tests behind nock 14 turn it off). */
  keepAlive?: boolean;
  /** Request timeout; an unanswered create is retried by the activity (default 30 s). */
  timeoutMs?: number;
}

export type TwilioClient = ReturnType<typeof twilio>;

export function createTwilioClient(
  s: Pick<TwilioSettings, 'accountSid' | 'authToken' | 'keepAlive' | 'timeoutMs'>,
): TwilioClient {
  // Retries are ours (Temporal's activity retry), not the SDK's: a retried create could send twice.
  return twilio(s.accountSid, s.authToken, {
    autoRetry: false,
    keepAlive: s.keepAlive ?? true,
    timeout: s.timeoutMs ?? 30_000,
  });
}

export function createTwilioProvider(s: TwilioSettings, client: TwilioClient = createTwilioClient(s)): MessageProvider {
  if (!s.messagingServiceSid && !s.from) throw new Error('twilio: a messagingServiceSid or a from number is required');
  return {
    name: 'twilio',
    async send(m: OutboundMessage): Promise<SendReceipt> {
      const callback = s.statusCallbackUrl
        ? `${s.statusCallbackUrl}${s.statusCallbackUrl.includes('?') ? '&' : '?'}m=${encodeURIComponent(m.messageId)}`
        : undefined;
      let created: Awaited<ReturnType<typeof client.messages.create>>;
      try {
        created = await client.messages.create({
          to: m.to,
          body: m.body,
          ...(s.messagingServiceSid ? { messagingServiceSid: s.messagingServiceSid } : { from: s.from! }),
          ...(callback ? { statusCallback: callback } : {}),
        });
      } catch (err) {
        const e = err as { status?: number; code?: number | string };
        // RestException: Twilio answered with an error; anything else (no response) is retryable.
        if (typeof e.status !== 'number') {
          const net = typeof e.code === 'string' ? e.code : 'network';
          throw new ProviderError(NOT_SENT_NETWORK_CODES.has(net) ? 'retryable' : 'unknown', net);
        }
        throw new ProviderError(classifySendFailure(e.status, e.code), String(e.code ?? e.status));
      }
      return { status: created.status === 'accepted' ? 'accepted' : 'queued', providerMessageId: created.sid };
    },
  };
}
