/**
 * Reads config/ once at start (and on reload): the treatment catalog, the agencies and one file
 * per clinic. Layers merge in this order (merge.ts: objects merge, arrays replace, null removes):
 *
 *   treatment types   catalog.yaml  <  agencies/<a>.yaml `catalog`   <  clinics/<c>.yaml `catalog`
 *   clinic settings   built-in defaults  <  agencies/<a>.yaml `defaults`  <  clinics/<c>.yaml
 *
 * A clinic without `agency:` is the plain single-file format. Every problem in every file is
 * collected and reported together, each at the file and line that holds the offending value
 * (the clinic's file, or the agency's when the value is inherited from it).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { type Document, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { ClassificationRules } from '../core/classify.js';
import { REBOOK_GRACE_DAYS, type TreatmentTypeDefinition } from '../core/types.js';
import { RebookError } from '../errors.js';
import { isPlainObject, mergeLayers } from './merge.js';
import { careTemplateErrors, messagingErrors, messagingWarnings } from './messaging.js';
import {
  type AgencyConsole,
  agencySchema,
  type Catalog,
  type ClinicConfig,
  catalogOverridesSchema,
  catalogSchema,
  clinicIdentityKeys,
  clinicSchema,
} from './schema.js';
import { variantErrors } from './variants.js';

export interface ConfigProblem {
  file: string;
  line?: number;
  path: string;
  message: string;
}

/** An agency: the clinics that name it inherit its catalog changes and defaults. */
export interface AgencyConfig {
  id: string;
  name: string;
  file: string;
  /** Always set by the loader; optional for configurations built by hand (nothing required then). */
  console?: AgencyConsole;
}

export interface LoadedConfig {
  dir: string;
  /** catalog.yaml as written (no agency or clinic changes). */
  catalog: Catalog;
  clinics: Map<string, ClinicConfig>;
  agencies: Map<string, AgencyConfig>;
  /** Each clinic's effective catalog (catalog.yaml < agency < clinic). */
  catalogs: Map<string, Catalog>;
  /** The file each clinic was read from (relative to the working directory). */
  clinicFiles: Map<string, string>;
  /** Problems that do not stop the load (SMS segment counts, caps a sequence can never meet, stage order). */
  warnings: ConfigProblem[];
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `invalid configuration:\n${problems.map((p) => `  ${p.file}${p.line ? `:${p.line}` : ''} ${p.path || '(root)'}: ${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

type Path = (string | number)[];

/** One YAML file with what is needed to point at its lines. */
interface Source {
  rel: string;
  doc: Document;
  lc: LineCounter;
}

function nodeLine(node: unknown, lc: LineCounter): number | undefined {
  return isNode(node) && node.range ? lc.linePos(node.range[0]).line : undefined;
}

/**
 * Walks `path` down the file: how much of it the file has (0: none), the line of the deepest
 * entry it has (the key's line for a map entry: its value may start lines later) and that node.
 */
function walk(src: Source, path: Path): { depth: number; line: number | undefined; node: unknown } {
  let node: unknown = src.doc.contents;
  let line = nodeLine(node, src.lc);
  let depth = 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      line = nodeLine(pair.key, src.lc) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      line = nodeLine(node, src.lc) ?? line;
    } else break;
    depth++;
  }
  return { depth, line, node };
}

/** A file that contributes to a merged value, with where in that file the value's tree starts. */
interface Layer {
  src: Source;
  prefix: Path;
}

/**
 * The file, line and path of a problem in a merged value, following the merge rules: at each
 * step the most specific layer holding the key owns it, and below an array or a scalar only that
 * layer counts (arrays replace). `complete`: the file holds the whole path (the value is there).
 */
function attribute(
  path: Path,
  layers: Layer[],
): { layer: Layer; file: string; line: number | undefined; path: string; complete: boolean } {
  const has = (l: Layer, n: number) => walk(l.src, [...l.prefix, ...path.slice(0, n)]);
  let active = layers.filter((l) => has(l, 0).depth === l.prefix.length);
  let owner = active[0] ?? layers[0]!;
  let depth = 0;
  for (let n = 1; n <= path.length; n++) {
    let hit: Layer | undefined;
    let node: unknown;
    for (const l of active) {
      const w = has(l, n);
      if (w.depth === l.prefix.length + n) {
        hit = l;
        node = w.node;
        break;
      }
    }
    if (!hit) break;
    owner = hit;
    depth = n;
    if (!isMap(node)) active = [hit];
  }
  // A value missing from the merged result is the most specific file's to give (a clinic
  // supplies what its agency leaves out), so it is reported there.
  if (depth < path.length) owner = layers[0]!;
  const full = [...owner.prefix, ...path];
  return {
    layer: owner,
    file: owner.src.rel,
    line: walk(owner.src, full).line,
    path: full.join('.'),
    complete: depth === path.length,
  };
}

function readSource(file: string, problems: ConfigProblem[]): { src: Source; raw?: unknown } {
  const rel = relative(process.cwd(), file) || file;
  const lc = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lc, prettyErrors: false });
  const src = { rel, doc, lc };
  if (doc.errors.length > 0) {
    // linePos is only filled in with prettyErrors, so the line comes from the offset.
    for (const e of doc.errors)
      problems.push({
        file: rel,
        line: lc.linePos(e.pos[0]).line,
        path: '',
        message: `YAML: ${e.message.split('\n')[0]}`,
      });
    return { src };
  }
  return { src, raw: doc.toJS() };
}

/** Validates a (merged) value; each issue becomes a problem at the layer that holds it. */
function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  layers: Layer[],
  report: (p: ConfigProblem, complete: boolean) => void,
): z.infer<S> | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      // One problem per key, at the key's own line rather than its parent's.
      for (const key of issue.keys) {
        const at = attribute([...path, key], layers);
        report({ file: at.file, line: at.line, path: at.path, message: `unknown key "${key}"` }, at.complete);
      }
      continue;
    }
    const at = attribute(path, layers);
    report({ file: at.file, line: at.line, path: at.path, message: issue.message }, at.complete);
  }
  return undefined;
}

/** Problems collected once each: an agency's mistake reached through several clinics is one problem. */
class Problems {
  readonly list: ConfigProblem[] = [];
  private readonly seen = new Set<string>();
  add(p: ConfigProblem): void {
    const key = `${p.file}\0${p.line}\0${p.path}\0${p.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(p);
  }
}

/** Warnings for stages written out of day order: the planner runs them by day, which may not be what the author meant. */
function stageOrderWarnings(catalog: Catalog): { path: Path; message: string }[] {
  const out: { path: Path; message: string }[] = [];
  for (const [key, t] of Object.entries(catalog.treatmentTypes)) {
    t.stages.forEach((s, i) => {
      const prev = t.stages[i - 1];
      if (prev && s.day < prev.day)
        out.push({
          path: ['treatmentTypes', key, 'stages', i, 'day'],
          message: `stage days out of order: "${s.key}" (day ${s.day}) is listed after "${prev.key}" (day ${prev.day}); stages run in day order`,
        });
    });
  }
  return out;
}

interface ParsedAgency {
  id: string;
  src: Source;
  name?: string;
  console?: AgencyConsole;
  /** Raw catalog changes and clinic defaults (validated through the merges). */
  catalog?: Record<string, unknown>;
  defaults?: Record<string, unknown>;
  /** Effective catalog of the agency's clinics that add nothing of their own (undefined: invalid). */
  effective?: Catalog;
  effectiveRawTypes?: Record<string, unknown>;
}

/**
 * A stand-in for what each clinic gives (identity, platform ids), so an agency's defaults can be
 * checked without a clinic; anything the agency sets replaces it.
 */
const PLACEHOLDER_CLINIC = {
  id: 'agency-defaults',
  name: 'agency defaults',
  timeZone: 'UTC',
  bookingUrl: 'https://example.invalid/',
  address: 'agency defaults',
  connector: {
    siteId: '1',
    businessId: 'placeholder',
    apiBaseUrl: 'https://example.invalid/',
    credentials: Object.fromEntries(
      ['apiKey', 'webhookSignatureKey', 'webhookToken', 'clientId', 'refreshToken', 'webhookSecret'].map((k) => [
        k,
        'PLACEHOLDER',
      ]),
    ),
  },
};

export function loadConfig(dir: string): LoadedConfig {
  const problems = new Problems();
  const warnings = new Problems();

  // 1. catalog.yaml
  const catalogFile = join(dir, 'catalog.yaml');
  let catalog: Catalog | undefined;
  let baseSrc: Source | undefined;
  // Raw types are used for merging and cross-references even when the catalog has problems, so
  // every file's problems are reported in the same run.
  let baseTypes: Record<string, unknown> = {};
  if (!existsSync(catalogFile)) problems.add({ file: catalogFile, path: '', message: 'missing treatment catalog' });
  else {
    const { src, raw } = readSource(catalogFile, problems.list);
    baseSrc = src;
    if (raw !== undefined) {
      catalog = validate(catalogSchema, raw, [{ src, prefix: [] }], (p) => problems.add(p));
      if (isPlainObject(raw) && isPlainObject(raw.treatmentTypes)) baseTypes = raw.treatmentTypes;
      if (catalog)
        for (const w of stageOrderWarnings(catalog))
          warnings.add({ file: src.rel, line: walk(src, w.path).line, path: w.path.join('.'), message: w.message });
    }
  }
  const baseLayer: Layer[] = baseSrc ? [{ src: baseSrc, prefix: [] }] : [];

  /** Validates a catalog made of layers; warnings for stage order go to the layer that wrote the stages. */
  function effectiveCatalog(rawTypes: Record<string, unknown>, layers: Layer[]): Catalog | undefined {
    const cat = validate(catalogSchema, { treatmentTypes: rawTypes }, layers, (p) => problems.add(p));
    if (cat) {
      for (const w of stageOrderWarnings(cat)) {
        const at = attribute(w.path, layers);
        warnings.add({ file: at.file, line: at.line, path: at.path, message: w.message });
      }
    }
    return cat;
  }

  // 2. agencies/*.yaml
  const agencies = new Map<string, ParsedAgency>();
  const agenciesDir = join(dir, 'agencies');
  const agencyFiles = existsSync(agenciesDir)
    ? readdirSync(agenciesDir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
    : [];
  for (const f of agencyFiles) {
    const id = basename(f).replace(/\.ya?ml$/, '');
    const { src, raw } = readSource(join(agenciesDir, f), problems.list);
    const agency: ParsedAgency = { id, src };
    agencies.set(id, agency);
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(id))
      problems.add({
        file: src.rel,
        line: walk(src, []).line,
        path: '',
        message: 'agency file names are the agency id: lowercase letters, digits, "-" and "_" only',
      });
    if (raw === undefined) continue;
    const own = validate(agencySchema, raw, [{ src, prefix: [] }], (p) => problems.add(p));
    // Even with problems at its top level, what the agency file holds is checked further, so
    // one run reports everything.
    const obj = isPlainObject(raw) ? raw : {};
    agency.name = own?.name ?? (typeof obj.name === 'string' ? obj.name : id);
    if (own) agency.console = own.console;
    const ownCatalog =
      isPlainObject(obj.catalog) && isPlainObject(obj.catalog.treatmentTypes) ? obj.catalog.treatmentTypes : undefined;
    agency.catalog = own?.catalog?.treatmentTypes ?? ownCatalog;
    const ownDefaults = own?.defaults ?? (isPlainObject(obj.defaults) ? obj.defaults : {});
    for (const key of clinicIdentityKeys) {
      if (key in ownDefaults)
        problems.add({
          file: src.rel,
          line: walk(src, ['defaults', key]).line,
          path: `defaults.${key}`,
          message: `"${key}" names one clinic: set it in the clinic's file`,
        });
    }
    agency.defaults = Object.fromEntries(
      Object.entries(ownDefaults).filter(([k]) => !(clinicIdentityKeys as readonly string[]).includes(k)),
    );
    const agencyCatalogLayer: Layer = { src, prefix: ['catalog'] };
    agency.effectiveRawTypes = mergeLayers(baseTypes, agency.catalog ?? {}) as Record<string, unknown>;
    agency.effective = effectiveCatalog(agency.effectiveRawTypes, [agencyCatalogLayer, ...baseLayer]);
    const alone = mergeLayers(PLACEHOLDER_CLINIC, agency.defaults);
    const defaultsLayer: Layer = { src, prefix: ['defaults'] };
    // The defaults on their own, over a stand-in clinic: the values the agency wrote are checked
    // here; what it leaves out (a Mindbody site id) is each clinic's to give and checked there.
    const checked = validate(clinicSchema, alone, [defaultsLayer], (p, complete) => complete && problems.add(p));
    if (checked) {
      for (const m of messagingErrors(checked)) {
        const at = attribute(m.path, [defaultsLayer]);
        if (at.complete) problems.add({ file: at.file, line: at.line, path: at.path, message: m.message });
      }
    }
  }

  // 3. clinics/*.yaml
  const clinics = new Map<string, ClinicConfig>();
  const catalogs = new Map<string, Catalog>();
  const clinicFiles = new Map<string, string>();
  const clinicsDir = join(dir, 'clinics');
  const files = existsSync(clinicsDir)
    ? readdirSync(clinicsDir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
    : [];
  for (const f of files) {
    const { src, raw } = readSource(join(clinicsDir, f), problems.list);
    if (raw === undefined) continue;
    const layers: Layer[] = [{ src, prefix: [] }];
    let value: unknown = raw;
    let agency: ParsedAgency | undefined;
    let catalogChanges: Record<string, unknown> | undefined;
    if (isPlainObject(raw)) {
      const { catalog: ownCatalog, ...settings } = raw;
      if (ownCatalog !== undefined) {
        const parsed = validate(catalogOverridesSchema, ownCatalog, [{ src, prefix: ['catalog'] }], (p) =>
          problems.add(p),
        );
        catalogChanges = parsed?.treatmentTypes;
      }
      if (typeof settings.agency === 'string') {
        agency = agencies.get(settings.agency);
        if (!agency)
          problems.add({
            file: src.rel,
            line: walk(src, ['agency']).line,
            path: 'agency',
            message: `unknown agency "${settings.agency}" (no agencies/${settings.agency}.yaml)`,
          });
      }
      if (agency) layers.push({ src: agency.src, prefix: ['defaults'] });
      value = mergeLayers(agency?.defaults ?? {}, settings);
    }
    const clinic = validate(clinicSchema, value, layers, (p) => problems.add(p));

    // The clinic's catalog: the agency's (or catalog.yaml) with the clinic's own changes.
    const catalogLayers: Layer[] = [
      ...(catalogChanges ? [{ src, prefix: ['catalog'] }] : []),
      ...(agency?.catalog ? [{ src: agency.src, prefix: ['catalog'] }] : []),
      ...baseLayer,
    ];
    const inheritedTypes = agency?.effectiveRawTypes ?? baseTypes;
    const rawTypes = catalogChanges
      ? (mergeLayers(inheritedTypes, catalogChanges) as Record<string, unknown>)
      : inheritedTypes;
    const clinicCatalog = catalogChanges
      ? effectiveCatalog(rawTypes, catalogLayers)
      : agency
        ? agency.effective
        : catalog;
    if (!clinic) continue;

    const at = (path: Path) => attribute(path, layers);
    const report = (path: Path, message: string, into: Problems) => {
      const a = at(path);
      into.add({ file: a.file, line: a.line, path: a.path, message });
    };
    if (clinics.has(clinic.id)) report(['id'], `duplicate clinic id "${clinic.id}"`, problems);
    const knownTypes = new Set(Object.keys(rawTypes));
    const refs: [Path, string][] = [
      ...(clinic.treatmentTypes ?? []).map((t, i) => [['treatmentTypes', i], t] as [Path, string]),
      ...Object.keys(clinic.services.synonyms).map((t) => [['services', 'synonyms', t], t] as [Path, string]),
      ...Object.entries(clinic.services.ids).map(([id, t]) => [['services', 'ids', id], t] as [Path, string]),
    ];
    for (const [path, t] of refs) if (!knownTypes.has(t)) report(path, `unknown treatment type "${t}"`, problems);
    for (const m of messagingErrors(clinic)) report(m.path, m.message, problems);
    if (clinicCatalog) {
      const types = typesOf(clinicCatalog, clinic);
      for (const m of careTemplateErrors(clinic, types)) report(m.path, m.message, problems);
      for (const m of variantErrors(clinic, types)) report(m.path, m.message, problems);
      for (const m of messagingWarnings(clinic, types)) report(m.path, m.message, warnings);
      catalogs.set(clinic.id, clinicCatalog);
    }
    clinics.set(clinic.id, clinic);
    clinicFiles.set(clinic.id, src.rel);
  }
  if (problems.list.length > 0) throw new ConfigError(problems.list);
  const agencyConfigs = new Map(
    [...agencies.values()].map((a) => [
      a.id,
      { id: a.id, name: a.name!, file: a.src.rel, console: a.console ?? { requireTotp: false } },
    ]),
  );
  return { dir, catalog: catalog!, clinics, agencies: agencyConfigs, catalogs, clinicFiles, warnings: warnings.list };
}

function typesOf(catalog: Catalog, clinic: ClinicConfig): Map<string, TreatmentTypeDefinition> {
  const out = new Map<string, TreatmentTypeDefinition>();
  for (const [key, t] of Object.entries(catalog.treatmentTypes)) {
    if (clinic.treatmentTypes && !clinic.treatmentTypes.includes(key)) continue;
    out.set(key, {
      key,
      label: t.label,
      intervalDays: t.intervalDays,
      stages: t.stages,
      synonyms: [...t.synonyms, ...(clinic.services.synonyms[key] ?? [])],
      ...(t.reactivation ? { reactivation: t.reactivation } : {}),
      ...(t.series
        ? {
            series: {
              sessions: t.series.sessions,
              intervalDays: t.series.intervalDays,
              // A session still counts toward the course while it is within the rebooking window.
              windowDays: t.series.windowDays ?? t.series.intervalDays + REBOOK_GRACE_DAYS,
              stages: t.series.stages,
            },
          }
        : {}),
    });
  }
  return out;
}

/** The treatment types a clinic runs (its effective catalog, filtered by its list), as the pure core wants them. */
export function treatmentTypesFor(config: LoadedConfig, clinic: ClinicConfig): Map<string, TreatmentTypeDefinition> {
  return typesOf(config.catalogs.get(clinic.id) ?? config.catalog, clinic);
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
