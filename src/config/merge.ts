/**
 * How configuration layers combine (catalog.yaml < agency < clinic; built-in defaults < agency
 * `defaults` < clinic file): objects merge key by key, everything else — arrays included —
 * replaces what is below it, and `null` (an empty YAML value) removes the inherited value so the
 * built-in default applies again. Arrays replace rather than concatenate so a clinic can shorten
 * an agency's list (stages, caps, send days) and reading one file tells the whole list.
 */

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `over` laid on top of `base`; neither is modified. */
export function mergeLayers(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (over === null) return undefined;
  if (!isPlainObject(over)) return over;
  const out: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(over)) {
    const merged = mergeLayers(out[key], value);
    if (merged === undefined) delete out[key];
    else out[key] = merged;
  }
  return out;
}
