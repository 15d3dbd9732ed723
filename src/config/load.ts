/**
 * Reads config/ once at start: the treatment catalog and one file per clinic. Every problem in
 * every file is collected and reported together with its file, line and path.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, parseDocument, isMap, isNode, isScalar, isSeq, type Document } from 'yaml';
import type { z } from 'zod';
import { catalogSchema, clinicSchema, type Catalog, type ClinicConfig } from './schema.js';
import type { TreatmentTypeDefinition } from '../core/types.js';
import type { ClassificationRules } from '../core/classify.js';
import { RebookError } from '../errors.js';
import { messagingErrors, messagingWarnings } from './messaging.js';

export interface ConfigProblem {
  file: string;
  line?: number;
  path: string;
  message: string;
}

export interface LoadedConfig {
  dir: string;
  catalog: Catalog;
  clinics: Map<string, ClinicConfig>;
  /** Problems that do not stop the load (SMS segment counts, caps a sequence can never meet). */
  warnings: ConfigProblem[];
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.file}${p.line ? `:${p.line}` : ''} ${p.path || '(root)'}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function nodeLine(node: unknown, lc: LineCounter): number | undefined {
  return isNode(node) && node.range ? lc.linePos(node.range[0]).line : undefined;
}

/** Line of the entry at `path`: the key's line for a map entry (its value may start lines later), else the nearest enclosing node's. */
function lineOf(doc: Document, lc: LineCounter, path: (string | number)[]): number | undefined {
  for (let n = path.length; n > 0; n--) {
    const parent = doc.getIn(path.slice(0, n - 1), true);
    const seg = path[n - 1];
    let line: number | undefined;
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      line = nodeLine(pair?.key, lc);
    } else if (isSeq(parent) && typeof seg === 'number') {
      line = nodeLine(parent.items[seg], lc);
    }
    if (line !== undefined) return line;
  }
  return nodeLine(doc.contents, lc);
}

interface ParsedFile<T> {
  rel: string;
  /** The validated value, when the file is valid. */
  data?: T;
  /** The plain value, when the file is YAML at all (valid or not). */
  raw?: unknown;
  lineOf(path: (string | number)[]): number | undefined;
}

function parseFile<S extends z.ZodType>(file: string, schema: S, problems: ConfigProblem[]): ParsedFile<z.infer<S>> {
  const rel = relative(process.cwd(), file) || file;
  const lc = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lc, prettyErrors: false });
  const out: ParsedFile<z.infer<S>> = { rel, lineOf: (path) => lineOf(doc, lc, path) };
  if (doc.errors.length > 0) {
    // linePos is only filled in with prettyErrors, so the line comes from the offset.
    for (const e of doc.errors) problems.push({ file: rel, line: lc.linePos(e.pos[0]).line, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
    return out;
  }
  out.raw = doc.toJS();
  const result = schema.safeParse(out.raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
      if (issue.code === 'unrecognized_keys') {
        // One problem per key, at the key's own line rather than its parent's.
        for (const key of issue.keys) problems.push({ file: rel, line: lineOf(doc, lc, [...path, key]), path: [...path, key].join('.'), message: `unknown key "${key}"` });
        continue;
      }
      problems.push({ file: rel, line: lineOf(doc, lc, path), path: path.join('.'), message: issue.message });
    }
    return out;
  }
  out.data = result.data;
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function loadConfig(dir: string): LoadedConfig {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const catalogFile = join(dir, 'catalog.yaml');
  let catalog: Catalog | undefined;
  // Type keys clinics may reference; taken from the raw file when the catalog itself has problems,
  // so a clinic's bad references are reported in the same run.
  let knownTypes: Set<string> | undefined;
  if (!existsSync(catalogFile)) problems.push({ file: catalogFile, path: '', message: 'missing treatment catalog' });
  else {
    const parsed = parseFile(catalogFile, catalogSchema, problems);
    catalog = parsed.data;
    const types = catalog?.treatmentTypes ?? (isPlainObject(parsed.raw) ? parsed.raw.treatmentTypes : undefined);
    if (isPlainObject(types)) knownTypes = new Set(Object.keys(types));
  }

  const clinics = new Map<string, ClinicConfig>();
  const clinicsDir = join(dir, 'clinics');
  const files = existsSync(clinicsDir) ? readdirSync(clinicsDir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  for (const f of files) {
    const { data: clinic, rel, lineOf: lineAt } = parseFile(join(clinicsDir, f), clinicSchema, problems);
    if (!clinic) continue;
    if (clinics.has(clinic.id)) problems.push({ file: rel, line: lineAt(['id']), path: 'id', message: `duplicate clinic id "${clinic.id}"` });
    if (knownTypes) {
      const refs: [(string | number)[], string][] = [
        ...(clinic.treatmentTypes ?? []).map((t, i) => [['treatmentTypes', i], t] as [(string | number)[], string]),
        ...Object.keys(clinic.services.synonyms).map((t) => [['services', 'synonyms', t], t] as [(string | number)[], string]),
        ...Object.entries(clinic.services.ids).map(([id, t]) => [['services', 'ids', id], t] as [(string | number)[], string]),
      ];
      for (const [path, t] of refs) {
        if (!knownTypes.has(t)) problems.push({ file: rel, line: lineAt(path), path: path.join('.'), message: `unknown treatment type "${t}"` });
      }
    }
    for (const m of messagingErrors(clinic)) problems.push({ file: rel, line: lineAt(m.path), path: m.path.join('.'), message: m.message });
    if (catalog) {
      const types = treatmentTypesFor({ dir, catalog, clinics, warnings }, clinic);
      for (const m of messagingWarnings(clinic, types)) warnings.push({ file: rel, line: lineAt(m.path), path: m.path.join('.'), message: m.message });
    }
    clinics.set(clinic.id, clinic);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { dir, catalog: catalog!, clinics, warnings };
}

/** The treatment types a clinic runs, as the pure core wants them. */
export function treatmentTypesFor(config: LoadedConfig, clinic: ClinicConfig): Map<string, TreatmentTypeDefinition> {
  const out = new Map<string, TreatmentTypeDefinition>();
  for (const [key, t] of Object.entries(config.catalog.treatmentTypes)) {
    if (clinic.treatmentTypes && !clinic.treatmentTypes.includes(key)) continue;
    out.set(key, { key, label: t.label, intervalDays: t.intervalDays, stages: t.stages, synonyms: [...t.synonyms, ...(clinic.services.synonyms[key] ?? [])] });
  }
  return out;
}

export function classificationRulesFor(config: LoadedConfig, clinic: ClinicConfig): ClassificationRules {
  const synonyms: Record<string, string[]> = {};
  for (const [key, t] of treatmentTypesFor(config, clinic)) synonyms[key] = t.synonyms;
  return { synonyms, serviceIds: clinic.services.ids };
}

export function clinicOrThrow(config: LoadedConfig, clinicId: string): ClinicConfig {
  const clinic = config.clinics.get(clinicId);
  if (!clinic) throw new RebookError('clinic_not_found', 'unknown clinic', { field: 'clinicId' });
  return clinic;
}
