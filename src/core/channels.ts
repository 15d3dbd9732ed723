/** Which channel a client-facing stage goes out on, given contact details and consent. */
import type { Channel } from './types.js';

export interface Reachability {
  email: boolean; // has an address and consented
  sms: boolean; // has a usable mobile number and consented
}

export type ChannelChoice = { channel: Channel; fallback: boolean } | { channel: null; noUsableChannel: boolean };

/** The stage's own channel if reachable, else the other one (SMS ↔ email), else nothing. */
export function chooseChannel(preferred: Channel, reach: Reachability): ChannelChoice {
  if (reach[preferred]) return { channel: preferred, fallback: false };
  const other: Channel = preferred === 'sms' ? 'email' : 'sms';
  if (reach[other]) return { channel: other, fallback: true };
  return { channel: null, noUsableChannel: true };
}
