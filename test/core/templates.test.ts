import { describe, expect, it } from 'vitest';
import { renderTemplate, TEMPLATE_TOKENS, type TemplateToken, unknownTokens } from '../../src/core/templates.js';

const values: Partial<Record<TemplateToken, string>> = {
  firstName: 'Ana',
  clinicName: 'Glow Aesthetics',
  treatmentLabel: 'Botox',
  bookingUrl: 'https://book.example.com/glow',
  clinicAddress: '123 Main St',
};

describe('renderTemplate', () => {
  it.each([
    ['Hi {{firstName}}', 'Hi Ana'],
    ['Hi {{ firstName }}, book: {{bookingUrl}}', 'Hi Ana, book: https://book.example.com/glow'],
    ['{{firstName}}{{firstName}}', 'AnaAna'],
    ['{{clinicName}}: your {{treatmentLabel}} window is opening', 'Glow Aesthetics: your Botox window is opening'],
    ['no tokens at all', 'no tokens at all'],
    ['{firstName} and {{{firstName}}}', '{firstName} and {Ana}'],
    // A token with no value renders as nothing, and the space left before a line break goes too.
    ['Hi {{firstName}}, {{incentive}}\nBook', 'Hi Ana,\nBook'],
    ['Code: {{incentive}} \t\nBook', 'Code:\nBook'],
    ['{{expiresOn}}', ''],
    // Whitespace that is not before a line break is left alone.
    ['  Hi {{firstName}}  ', '  Hi Ana  '],
    ['line one\r\nline two', 'line one\r\nline two'],
  ])('%j → %j', (template, expected) => {
    expect(renderTemplate(template, values)).toBe(expected);
  });

  it('does not expand tokens or replacement patterns found inside values', () => {
    const out = renderTemplate('Hi {{firstName}}, {{bookingUrl}}', {
      firstName: '{{bookingUrl}} $& $1 $$',
      bookingUrl: 'https://x.example.com',
    });
    expect(out).toBe('Hi {{bookingUrl}} $& $1 $$, https://x.example.com');
  });

  it('renders every demo-style placeholder when all values are given', () => {
    const all = Object.fromEntries(TEMPLATE_TOKENS.map((t) => [t, `<${t}>`])) as Record<TemplateToken, string>;
    const template = TEMPLATE_TOKENS.map((t) => `{{${t}}}`).join('|');
    expect(renderTemplate(template, all)).toBe(TEMPLATE_TOKENS.map((t) => `<${t}>`).join('|'));
  });
});

describe('unknownTokens', () => {
  it.each([
    ['Hi {{firstName}}', []],
    ['Hi {{ firstName }} at {{clinicName}}, {{bookingUrl}} {{unsubscribeUrl}}', []],
    ['Hi {{firstname}}', ['firstname']], // case matters
    ['Hi {{name}} {{firstName}} {{discount}}', ['name', 'discount']],
    ['{{first_name}}', ['first_name']],
    ['{{booking-url}}', ['booking-url']],
    ['{{ treatment label }}', ['treatment label']],
    ['{{provider.name}}', ['provider.name']],
    ['{{}}', ['']],
    ['{firstName} {{{clinicName}}}', []],
    ['no tokens', []],
  ])('%j → %j', (template, expected) => {
    expect(unknownTokens(template)).toEqual(expected);
  });

  it('every known token is known', () => {
    expect(unknownTokens(TEMPLATE_TOKENS.map((t) => `{{${t}}}`).join(' '))).toEqual([]);
  });
});
