/**
 * Maps free-text booking-platform service names ("BTX 20u", "Juvederm – Lips") to treatment
 * types. Booking data names one treatment many ways, so matching is on normalized words and
 * the most specific (longest) synonym wins: "Juvederm Voluma" is cheek filler, not lip filler.
 */

export interface ClassificationRules {
  /** Treatment type → synonym phrases. */
  synonyms: Record<string, readonly string[]>;
  /** Exact vendor service id → treatment type; beats any name match. */
  serviceIds?: Record<string, string>;
}

export type Classification =
  | { matched: true; treatmentType: string; by: 'service_id' | 'synonym'; synonym?: string }
  | { matched: false };

/** Lowercases, folds accents and turns everything but letters and digits into single spaces. */
export function normalizeServiceName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

function words(s: string): string[] {
  const n = normalizeServiceName(s);
  return n ? n.split(' ') : [];
}

/** True when `phrase` occurs in `haystack` as a run of whole words (a word may carry a digit suffix: "btx20"). */
function containsPhrase(haystack: string[], phrase: string[]): boolean {
  if (phrase.length === 0 || phrase.length > haystack.length) return false;
  outer: for (let i = 0; i + phrase.length <= haystack.length; i++) {
    for (let j = 0; j < phrase.length; j++) {
      const w = haystack[i + j]!;
      const p = phrase[j]!;
      const last = j === phrase.length - 1;
      if (w !== p && !(last && w.startsWith(p) && /^\d+[a-z]*$/.test(w.slice(p.length)))) continue outer;
    }
    return true;
  }
  return false;
}

export function classifyService(
  service: { id?: string | null; name: string },
  rules: ClassificationRules,
): Classification {
  if (service.id != null && rules.serviceIds?.[service.id]) {
    return { matched: true, treatmentType: rules.serviceIds[service.id]!, by: 'service_id' };
  }
  const hay = words(service.name);
  let best: { type: string; synonym: string; score: number } | undefined;
  for (const [type, synonyms] of Object.entries(rules.synonyms)) {
    for (const synonym of synonyms) {
      const phrase = words(synonym);
      if (!containsPhrase(hay, phrase)) continue;
      const score = phrase.join(' ').length;
      // Ties go to the type listed first, so classification is deterministic.
      if (!best || score > best.score) best = { type, synonym, score };
    }
  }
  return best ? { matched: true, treatmentType: best.type, by: 'synonym', synonym: best.synonym } : { matched: false };
}
