/**
 * The preview shows stage variants as delivery sends them (issue 13 §2): the variants and their
 * shares, the first one by default or the one the request names, with its channel, send time,
 * wording and offer; an unknown variant is a coded error naming the field.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { stageVariantsFor } from '../../src/config/variants.js';
import { RebookError } from '../../src/errors.js';
import { previewClinic } from '../../src/preview/clinic.js';
import { type PreviewInput, previewTimeline } from '../../src/preview/timeline.js';
import { localTimeOnDay } from '../helpers/clinic-time.js';

const config = loadConfig('config');
const base = previewClinic(config, 'demo-clinic');
const clinic = {
  ...base,
  variants: stageVariantsFor({
    variants: {
      incentive: [
        { name: 'pct15', weight: 3, offer: { percentOff: 15 } },
        { name: 'usd25', weight: 1, offer: { amountOff: 25 }, sendTime: '15:00' },
      ],
      reminder: [
        { name: 'email-copy', weight: 1 },
        {
          name: 'sms-copy',
          weight: 1,
          channel: 'sms',
          templates: {
            sms: { body: '{{clinicName}}: time for your next visit {{bookingUrl}} Reply STOP to opt out.' },
          },
        },
      ],
    },
  }),
};
/** Sunday 2026-03-01, 12:00 in New York. */
const T0 = Date.parse('2026-03-01T17:00:00Z');
const input = (over: Partial<PreviewInput> = {}): PreviewInput => ({
  treatmentType: 'neuromodulator',
  completedAtMs: T0,
  client: { firstName: 'Dana', email: 'dana@example.com', phone: '+12125550123', consent: { sms: true, email: true } },
  priceCents: 40_000,
  ...over,
});
const stage = (r: ReturnType<typeof previewTimeline>, key: string) => r.stages.find((s) => s.key === key)!;

describe('preview with variants', () => {
  it('shows the first variant by default, and lists every variant with its share', () => {
    const r = previewTimeline(clinic, input());
    const inc = stage(r, 'incentive');
    expect(inc.variant).toBe('pct15');
    expect(inc.variants).toEqual([
      { name: 'pct15', share: 0.75 },
      { name: 'usd25', share: 0.25 },
    ]);
    expect(inc.content?.body).toContain('15% off');
    expect(stage(r, 'reminder')).toMatchObject({ variant: 'email-copy', channel: 'email' });
    expect(stage(r, 'results_checkin').variant).toBeUndefined();
  });

  it('shows a named variant with its channel, wording, offer and send time', () => {
    const r = previewTimeline(clinic, input({ variants: { incentive: 'usd25', reminder: 'sms-copy' } }));
    const inc = stage(r, 'incentive');
    expect(inc.content?.body).toContain('$25 off');
    expect(inc.at?.at).toBe(new Date(localTimeOnDay(T0, 90, '15:00', 'America/New_York')).toISOString());
    const rem = stage(r, 'reminder');
    expect(rem).toMatchObject({ variant: 'sms-copy', channel: 'sms' });
    expect(rem.content?.body).toContain('time for your next visit');
  });

  it('refuses an unknown variant with a coded error naming the field', () => {
    try {
      previewTimeline(clinic, input({ variants: { incentive: 'nope' } }));
      throw new Error('expected a RebookError');
    } catch (err) {
      expect(err).toBeInstanceOf(RebookError);
      expect((err as RebookError).code).toBe('validation_failed');
      expect(JSON.stringify((err as RebookError).details)).toContain('body.variants.incentive');
    }
  });
});

it('the terminal report names the variant shown and the shares', async () => {
  const { renderPreview } = await import('../../src/preview/render.js');
  expect(renderPreview(previewTimeline(clinic, input()))).toContain('— variant pct15 (of pct15 75%, usd25 25%)');
});
