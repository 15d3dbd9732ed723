import { describe, expect, it } from 'vitest';
// classifyReply is measured on the labelled corpus in reply-corpus.test.ts.
import { helpText } from '../../src/core/reply-intent.js';

describe('helpText', () => {
  it('names the clinic, a contact, the frequency, rates and how to stop', () => {
    const text = helpText({
      name: 'Glow Aesthetics',
      phone: '+12125550100',
      bookingUrl: 'https://book.example.com/glow',
    });
    expect(text).toBe(
      'Glow Aesthetics: treatment reminders, up to 2 msgs/month. For help call +12125550100. Msg & data rates may apply. Reply STOP to opt out.',
    );
    expect(helpText({ name: 'Glow', bookingUrl: 'https://b.example' })).toContain('visit https://b.example');
  });
});
