/** Message templates: `{{token}}` placeholders filled from a closed set of tokens. */

export const TEMPLATE_TOKENS = [
  'firstName',
  'clinicName',
  'treatmentLabel',
  'providerName',
  'bookingUrl',
  'incentive',
  'expiresOn',
  'unsubscribeUrl',
  'clinicAddress',
] as const;
export type TemplateToken = (typeof TEMPLATE_TOKENS)[number];

const TOKEN_RE = /\{\{\s*([a-zA-Z]+)\s*\}\}/g;

/** Tokens a template uses that are not in the closed set. */
export function unknownTokens(template: string): string[] {
  const known = new Set<string>(TEMPLATE_TOKENS);
  return [...template.matchAll(TOKEN_RE)].map((m) => m[1]!).filter((t) => !known.has(t));
}

export function renderTemplate(template: string, values: Partial<Record<TemplateToken, string>>): string {
  return template.replace(TOKEN_RE, (_, token: string) => values[token as TemplateToken] ?? '').replace(/[ \t]+\n/g, '\n');
}
