/**
 * Email through SendGrid's v3 Mail Send. Our ledger id goes in custom_args (echoed on every
 * event), categories carry no client data, and every message has one-click unsubscribe headers
 * (Gmail/Yahoo bulk sender rules, RFC 8058). SendGrid signs no BAA: keep treatment details out of
 * its templates unless the clinic decides otherwise; an SMTP provider would be one more folder.
 * https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
 */
import { MailService } from '@sendgrid/mail';
import type { MessageProvider, OutboundMessage, SendReceipt } from '../types.js';
import { NOT_SENT_NETWORK_CODES, ProviderError } from '../types.js';

export interface SendgridSettings {
  apiKey: string;
  from: string;
  fromName?: string;
  unsubscribeGroupId?: number;
  sandbox?: boolean;
  /** The API host (EU data residency, a relay); SendGrid's default when unset. */
  apiBaseUrl?: string;
  /** Request timeout (default 30 s): the SDK has none, so a request left unanswered held its activity slot for good. */
  timeoutMs?: number;
}

/** The custom_args key holding our ledger id. */
export const MESSAGE_ID_ARG = 'rebook_message_id';

export function createSendgridProvider(s: SendgridSettings): MessageProvider {
  const mail = new MailService();
  mail.setApiKey(s.apiKey);
  mail.setTimeout(s.timeoutMs ?? 30_000);
  // MailService's typings omit its client; setDefaultRequest is the SDK's documented way to change the host.
  if (s.apiBaseUrl)
    (mail as unknown as { client: { setDefaultRequest(k: string, v: string): void } }).client.setDefaultRequest(
      'baseUrl',
      s.apiBaseUrl,
    );
  return {
    name: 'sendgrid',
    async send(m: OutboundMessage): Promise<SendReceipt> {
      try {
        const [response] = await mail.send({
          to: m.to,
          from: s.fromName ? { email: s.from, name: s.fromName } : s.from,
          // A dynamic template brings its own subject and content; SendGrid fills it with our tokens.
          ...(m.template
            ? { templateId: m.template.id, dynamicTemplateData: m.template.data }
            : { subject: m.subject ?? '', text: m.body }),
          customArgs: { [MESSAGE_ID_ARG]: m.messageId },
          categories: m.categories ?? [],
          ...(m.unsubscribeUrl
            ? {
                headers: {
                  'List-Unsubscribe': `<${m.unsubscribeUrl}>`,
                  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
                },
              }
            : {}),
          ...(s.unsubscribeGroupId ? { asm: { groupId: s.unsubscribeGroupId } } : {}),
          ...(s.sandbox ? { mailSettings: { sandboxMode: { enable: true } } } : {}),
        });
        const id = response.headers['x-message-id'];
        return { status: 'accepted', providerMessageId: typeof id === 'string' ? id : `sendgrid-${m.messageId}` };
      } catch (err) {
        const status = (err as { code?: number | string }).code;
        if (typeof status !== 'number') {
          const net = typeof status === 'string' ? status : 'network';
          throw new ProviderError(NOT_SENT_NETWORK_CODES.has(net) ? 'retryable' : 'unknown', net);
        }
        throw new ProviderError(status === 429 || status >= 500 ? 'retryable' : 'rejected', String(status));
      }
    },
  };
}
