import { describe, expect, it } from 'vitest';
import { type ChannelChoice, chooseChannel } from '../../src/core/channels.js';
import type { Channel } from '../../src/core/types.js';

describe('chooseChannel', () => {
  it.each<[Channel, boolean, boolean, ChannelChoice]>([
    // preferred, email reachable, sms reachable → choice
    ['email', true, true, { channel: 'email', fallback: false }],
    ['email', true, false, { channel: 'email', fallback: false }],
    ['email', false, true, { channel: 'sms', fallback: true }],
    ['email', false, false, { channel: null, noUsableChannel: true }],
    ['sms', true, true, { channel: 'sms', fallback: false }],
    ['sms', false, true, { channel: 'sms', fallback: false }],
    ['sms', true, false, { channel: 'email', fallback: true }],
    ['sms', false, false, { channel: null, noUsableChannel: true }],
  ])('prefers %s, email=%s sms=%s', (preferred, email, sms, expected) => {
    expect(chooseChannel(preferred, { email, sms })).toEqual(expected);
  });

  it('never picks a channel the client cannot be reached on', () => {
    for (const preferred of ['email', 'sms'] as const) {
      for (const email of [true, false]) {
        for (const sms of [true, false]) {
          const choice = chooseChannel(preferred, { email, sms });
          if (choice.channel === 'email') expect(email).toBe(true);
          if (choice.channel === 'sms') expect(sms).toBe(true);
          if (choice.channel === null) expect(email || sms).toBe(false);
        }
      }
    }
  });
});
