/** Which treatment name a message may carry: discreet SMS, and email through a provider without a BAA. */
import { describe, expect, it } from 'vitest';
import { type ContentClinic, renderStageContent, stageTemplateValues } from '../../src/core/message-content.js';

const clinic: ContentClinic = {
  name: 'Glow',
  bookingUrl: 'https://book.example.com/glow',
  address: '1 Main St',
  timeZone: 'America/New_York',
  discreet: false,
};
const label = (c: Partial<ContentClinic>, channel: 'sms' | 'email') =>
  stageTemplateValues(
    { ...clinic, ...c },
    { channel, firstName: 'Avery', treatmentLabel: 'lip filler', offerExpiresAtMs: Date.UTC(2026, 5, 29, 12) },
  ).treatmentLabel;

describe('treatmentLabel', () => {
  it.each([
    [{}, 'sms', 'lip filler'],
    [{}, 'email', 'lip filler'],
    [{ discreet: true }, 'sms', 'treatment'],
    [{ discreet: true }, 'email', 'lip filler'],
    [{ emailHidesTreatment: true }, 'email', 'treatment'],
    [{ emailHidesTreatment: true }, 'sms', 'lip filler'],
    [{ emailHidesTreatment: false }, 'email', 'lip filler'],
  ] as const)('%o on %s → %s', (c, channel, expected) => {
    expect(label(c, channel)).toBe(expected);
  });
});

describe('renderStageContent', () => {
  it('renders our text, or leaves a SendGrid dynamic template to SendGrid', () => {
    expect(
      renderStageContent(
        { subject: 'Hi {{firstName}}', body: 'Your {{treatmentLabel}}' },
        { firstName: 'Avery', treatmentLabel: 'treatment' },
      ),
    ).toEqual({ subject: 'Hi Avery', body: 'Your treatment' });
    expect(renderStageContent({ templateId: 'd-0123456789abcdef0123456789abcdef' }, { firstName: 'Avery' })).toEqual({
      body: '',
      templateId: 'd-0123456789abcdef0123456789abcdef',
    });
  });
});
