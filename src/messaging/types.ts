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
  /** Email: the one-click unsubscribe URL (List-Unsubscribe, RFC 8058). */
  unsubscribeUrl?: string;
  /** Reporting tags without client data (clinic, stage purpose). */
  categories?: string[];
  /**
   * Email: a template kept at the provider (SendGrid dynamic template) filled with these token
   * values, instead of `subject`/`body`. A provider without templates must refuse it (`rejected`).
   */
  template?: { id: string; data: Record<string, string> };
}

export interface SendReceipt {
  /**
   * `outbox`: recorded for a human to see, nothing left the building. `queued`/`accepted`: the
   * provider took it; delivery arrives later through its callbacks.
   */
  status: 'sent' | 'queued' | 'accepted' | 'outbox';
  providerMessageId: string;
}

/**
 * What a failed send means for us, decided by the provider from its own error codes:
 * - `undeliverable`: this address/number can never work (invalid, landline): fall back for good;
 * - `opted_out`: the recipient opted out at the provider (Twilio 21610): record it, no retry;
 * - `retryable`: nothing was sent and a later attempt may work (429, 5xx, network);
 * - `rejected`: nothing was sent and retrying will not help (bad request, account problem);
 * - `unknown`: no answer after the request left (timeout, reset): it may have been sent. The
 *   ledger treats it as the crash window and does not send again (at most once).
 */
export type ProviderFailure = 'undeliverable' | 'opted_out' | 'retryable' | 'rejected' | 'unknown';

/** Connection errors that happen before a request reaches the provider: safe to retry. */
export const NOT_SENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/** A failed send and what it means. Messages carry codes only, never recipient data. */
export class ProviderError extends Error {
  constructor(
    readonly failure: ProviderFailure,
    /** The vendor's code (Twilio error code, HTTP status), as a string. */
    readonly code: string,
  ) {
    super(`provider refused the message (${failure}, code ${code})`);
    this.name = 'ProviderError';
  }
}

export interface MessageProvider {
  readonly name: string;
  /** Resolves when the provider accepted the message; throws ProviderError when it definitely did not. */
  send(message: OutboundMessage): Promise<SendReceipt>;
}

/** The provider of each client channel: the default set, or a clinic's own accounts. */
export interface ProviderSet {
  sms: MessageProvider;
  email: MessageProvider;
}
