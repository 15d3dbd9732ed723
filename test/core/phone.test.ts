import { describe, expect, it } from 'vitest';
import { normalizePhone } from '../../src/core/phone.js';

describe('normalizePhone', () => {
  it.each([
    ['+12125550123', 'US', { ok: true, e164: '+12125550123' }],
    ['(212) 555-0123', 'US', { ok: true, e164: '+12125550123' }],
    ['212.555.0123', 'US', { ok: true, e164: '+12125550123' }],
    ['1-305-555-0142', 'US', { ok: true, e164: '+13055550142' }],
    ['416 555 0199', 'CA', { ok: true, e164: '+14165550199' }],
    ['07400 123456', 'GB', { ok: true, e164: '+447400123456' }],
    ['020 7183 8750', 'GB', { ok: false, reason: 'not_mobile', e164: '+442071838750' }], // a London landline
    ['12345', 'US', { ok: false, reason: 'invalid_number' }],
    ['555-0123', 'US', { ok: false, reason: 'invalid_number' }],
    ['call me', 'US', { ok: false, reason: 'invalid_number' }],
    ['+1 800 555 0199', 'US', { ok: false, reason: 'not_mobile', e164: '+18005550199' }], // toll free
  ])('%s (%s)', (input, country, expected) => {
    expect(normalizePhone(input, country)).toEqual(expected);
  });
});
