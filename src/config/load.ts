/**
 * Reads config/ once at start: the treatment catalog and one file per clinic. Every problem in
 * every file is collected and reported together with its file, line and path.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { catalogSchema, clinicSchema, type Catalog, type ClinicConfig } from './schema.js';
import type { TreatmentTypeDefinition } from '../core/types.js';
import type { ClassificationRules } from '../core/classify.js';
import { RebookError } from '../errors.js';

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
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.file}${p.line ? `:${p.line}` : ''} ${p.path || '(root)'}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function lineOf(doc: Document, lc: LineCounter, path: (string | number)[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

function parseFile<S extends z.ZodType>(dir: string, file: string, schema: S, problems: ConfigProblem[]): z.infer<S> | undefined {
  const rel = relative(process.cwd(), file) || file;
  const lc = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) problems.push({ file: rel, line: e.linePos?.[0]?.line, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
    return undefined;
  }
  const result = schema.safeParse(doc.toJS());
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
      problems.push({ file: rel, line: lineOf(doc, lc, path), path: path.join('.'), message: issue.message });
    }
    return undefined;
  }
  void dir;
  return result.data;
}

export function loadConfig(dir: string): LoadedConfig {
  const problems: ConfigProblem[] = [];
  const catalogFile = join(dir, 'catalog.yaml');
  let catalog: Catalog | undefined;
  if (!existsSync(catalogFile)) problems.push({ file: catalogFile, path: '', message: 'missing treatment catalog' });
  else catalog = parseFile(dir, catalogFile, catalogSchema, problems);

  const clinics = new Map<string, ClinicConfig>();
  const clinicsDir = join(dir, 'clinics');
  const files = existsSync(clinicsDir) ? readdirSync(clinicsDir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  for (const f of files) {
    const file = join(clinicsDir, f);
    const clinic = parseFile(dir, file, clinicSchema, problems);
    if (!clinic) continue;
    const rel = relative(process.cwd(), file) || file;
    if (clinics.has(clinic.id)) problems.push({ file: rel, path: 'id', message: `duplicate clinic id "${clinic.id}"` });
    if (catalog) {
      const known = new Set(Object.keys(catalog.treatmentTypes));
      const refs: [string, string][] = [
        ...(clinic.treatmentTypes ?? []).map((t, i) => [`treatmentTypes.${i}`, t] as [string, string]),
        ...Object.keys(clinic.services.synonyms).map((t) => [`services.synonyms.${t}`, t] as [string, string]),
        ...Object.entries(clinic.services.ids).map(([id, t]) => [`services.ids.${id}`, t] as [string, string]),
      ];
      for (const [path, t] of refs) if (!known.has(t)) problems.push({ file: rel, path, message: `unknown treatment type "${t}"` });
    }
    clinics.set(clinic.id, clinic);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { dir, catalog: catalog!, clinics };
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
