/**
 * The outbox: the provider used when no SMS/email credentials are configured. The message is
 * already in the ledger (status `outbox`, visible through the API); this only logs that it
 * happened, by id, so a developer watching the console sees the sequence work.
 */
import type { Logger } from '../../log.js';
import type { MessageProvider, OutboundMessage, SendReceipt } from '../types.js';

export function createOutboxProvider(log: Logger): MessageProvider {
  return {
    name: 'outbox',
    async send(message: OutboundMessage): Promise<SendReceipt> {
      log.info(
        { messageId: message.messageId, clinicId: message.clinicId, channel: message.channel },
        'message held in outbox',
      );
      return { status: 'outbox', providerMessageId: `outbox-${message.messageId}` };
    },
  };
}
