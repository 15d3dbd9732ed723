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
  // A series' between-session stages: the session reminded for, and the course's length ("session 3 of 6").
  'session',
  'sessions',
] as const;
export type TemplateToken = (typeof TEMPLATE_TOKENS)[number];

const TOKEN_RE = /\{\{\s*([a-zA-Z]+)\s*\}\}/g;
// Any `{{…}}`, so a misspelt placeholder ("{{first_name}}") is reported rather than sent as is.
const PLACEHOLDER_RE = /\{\{([^{}]*)\}\}/g;

/** Placeholders a template uses that are not in the closed set of tokens. */
export function unknownTokens(template: string): string[] {
  const known = new Set<string>(TEMPLATE_TOKENS);
  return [...template.matchAll(PLACEHOLDER_RE)].map((m) => m[1]!.trim()).filter((t) => !known.has(t));
}

export function renderTemplate(template: string, values: Partial<Record<TemplateToken, string>>): string {
  return template
    .replace(TOKEN_RE, (_, token: string) => values[token as TemplateToken] ?? '')
    .replace(/[ \t]+\n/g, '\n');
}
