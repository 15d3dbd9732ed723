import { describe, expect, it } from 'vitest';
import { smsSegments } from '../../src/core/sms-segments.js';

describe('smsSegments', () => {
  it.each([
    ['', 'GSM-7', 0, 0],
    ['a'.repeat(160), 'GSM-7', 160, 1],
    ['a'.repeat(161), 'GSM-7', 161, 2],
    ['a'.repeat(306), 'GSM-7', 306, 2],
    ['a'.repeat(307), 'GSM-7', 307, 3],
    ['€'.repeat(80), 'GSM-7', 160, 1], // extension characters take two septets
    ['[x]'.repeat(40), 'GSM-7', 200, 2],
    ['Hi Zoë, save 15% — book now', 'UCS-2', 27, 1], // em dash is not GSM
    ['é'.repeat(160), 'GSM-7', 160, 1], // é is in the GSM alphabet
    [`${'ñ'.repeat(70)}ç`, 'UCS-2', 71, 2], // lower-case ç is not (only Ç)
    ['😀'.repeat(35), 'UCS-2', 70, 1],
    ['😀'.repeat(36), 'UCS-2', 72, 2],
    [`${'x'.repeat(134)}’`, 'UCS-2', 135, 3], // a curly apostrophe turns 135 chars into 3 parts
  ])('%#: %j', (text, encoding, units, segments) => {
    expect(smsSegments(text)).toEqual({ encoding, units, segments });
  });
});
