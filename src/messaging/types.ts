/** The small interface every outbound provider implements: one folder per provider. */
import type { Channel } from '../core/types.js';

export interface OutboundMessage {
  /** Our ledger id: echoed back by providers in callbacks, never client data. */
  messageId: string;
  clinicId: string;
  channel: Channel | 'staff_email' | 'staff_sms';
  to: string;
  subject?: string;
  body: string;
}

export interface SendReceipt {
  /** `outbox`: recorded for a human to see, nothing left the building. */
  status: 'sent' | 'outbox';
  providerMessageId: string;
}

export interface MessageProvider {
  readonly name: string;
  send(message: OutboundMessage): Promise<SendReceipt>;
}
