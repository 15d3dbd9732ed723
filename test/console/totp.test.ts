/**
 * TOTP against the RFCs' own test vectors: RFC 4226 Appendix D (HOTP, 6 digits) and RFC 6238
 * Appendix B (TOTP, SHA-1, 8 digits). The 6-digit TOTP codes are the same truncated 31-bit
 * values mod 10^6, i.e. the last six digits of the 8-digit vectors. Then the ±1 step window, the
 * replay rule and base32 round trips.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  generateTotpSecret,
  groupedSecret,
  hotp,
  matchTotp,
  otpauthUri,
  totpCode,
  totpStep,
} from '../../src/console/accounts/totp.js';

// Both RFCs use the ASCII string "12345678901234567890" as the SHA-1 key.
const RFC_KEY = Buffer.from('12345678901234567890', 'ascii');
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('HOTP (RFC 4226 Appendix D)', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  it.each(expected.map((code, counter) => ({ counter, code })))('counter $counter gives $code', ({ counter, code }) => {
    expect(hotp(RFC_KEY, counter)).toBe(code);
  });
});

describe('TOTP SHA-1 (RFC 6238 Appendix B)', () => {
  const vectors = [
    { seconds: 59, step: 1, eight: '94287082' },
    { seconds: 1111111109, step: 0x23523ec, eight: '07081804' },
    { seconds: 1111111111, step: 0x23523ed, eight: '14050471' },
    { seconds: 1234567890, step: 0x273ef07, eight: '89005924' },
    { seconds: 2000000000, step: 0x3f940aa, eight: '69279037' },
    { seconds: 20000000000, step: 0x27bc86aa, eight: '65353130' },
  ];
  it('reads the RFC key from its base32 form', () => {
    expect(base32Encode(RFC_KEY)).toBe(RFC_SECRET);
    expect(base32Decode(RFC_SECRET)).toEqual(RFC_KEY);
  });
  it.each(vectors)('at $seconds s: step $step, $eight (8 digits) and its last six', ({ seconds, step, eight }) => {
    expect(totpStep(seconds * 1000)).toBe(step);
    expect(totpCode(RFC_SECRET, seconds * 1000, 8)).toBe(eight);
    expect(totpCode(RFC_SECRET, seconds * 1000)).toBe(eight.slice(2));
  });
});

describe('matchTotp', () => {
  const at = 1234567890_000;
  const step = totpStep(at);
  it('accepts the current code and the ones a step either side, nothing further', () => {
    expect(matchTotp(RFC_SECRET, '005924', at)).toBe(step);
    expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, at - 30_000), at)).toBe(step - 1);
    expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, at + 30_000), at)).toBe(step + 1);
    expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, at - 60_000), at)).toBeUndefined();
    expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, at + 60_000), at)).toBeUndefined();
  });
  it('refuses a step already spent, and any earlier one', () => {
    expect(matchTotp(RFC_SECRET, '005924', at, step)).toBeUndefined();
    expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, at - 30_000), at, step)).toBeUndefined();
    expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, at + 30_000), at, step)).toBe(step + 1);
  });
  it('refuses anything that is not six digits, and a wrong code', () => {
    for (const code of ['', '00592', '0059244', 'abcdef', '005924x'])
      expect(matchTotp(RFC_SECRET, code, at)).toBe(undefined);
    expect(matchTotp(RFC_SECRET, '005925', at)).toBeUndefined();
    expect(matchTotp(RFC_SECRET, '005 924', at)).toBe(step);
  });
});

describe('secrets', () => {
  it('are 160 random bits in 32 base32 characters, shown in groups of four', () => {
    const a = generateTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(a)).toHaveLength(20);
    expect(generateTotpSecret()).not.toBe(a);
    expect(groupedSecret(RFC_SECRET)).toBe('GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ');
  });
  it('round-trip through base32 in any case, with spaces', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const text = base32Encode(bytes);
        expect(base32Decode(groupedSecret(text).toLowerCase())).toEqual(Buffer.from(bytes));
      }),
    );
    expect(() => base32Decode('ABC1')).toThrow();
  });
  it('go into an otpauth URI with the issuer and the defaults spelled out', () => {
    const uri = new URL(otpauthUri({ secret: RFC_SECRET, account: 'desk@example.com', issuer: 'Rebook' }));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Rebook:desk@example.com');
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret: RFC_SECRET,
      issuer: 'Rebook',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });
});
