/**
 * CSV import: the connector for clinics without API access (most Jane clinics) and for
 * onboarding any clinic. Completed treatments in an appointment export become
 * `treatment.completed` events sent through the same API as every integration, so the inbox
 * dedupes them (importing a file twice changes nothing) and the workflow starts each client at
 * the right point of their sequence (stages more than a day past are skipped, not sent late).
 */
import { createHash } from 'node:crypto';
import { classificationRulesFor, type LoadedConfig, treatmentTypesFor } from '../../src/config/load.js';
import type { ClinicConfig } from '../../src/config/schema.js';
import { classifyService } from '../../src/core/classify.js';
import { firstCurrentStageIndex, planSequence, windowPassed } from '../../src/core/plan.js';
import { fromLocal } from '../../src/core/zoned-time.js';
import { type CanonicalEvent, canonicalEventSchema, type EventResult } from '../../src/ingest/events.js';
import { csvRecords } from './parse.js';
import {
  COMPLETED_STATUSES,
  type ColumnPreset,
  type CsvField,
  type CsvFormat,
  EDITABLE_ID_PREFIX,
  editableIdWarning,
  presets,
} from './presets.js';

export interface PlannedRow {
  /** 1-based line in the file (header = line 1). */
  line: number;
  appointmentId?: string;
  service?: string;
  outcome: 'enroll' | 'skip';
  reason?: string;
  treatmentType?: string;
  /** The stage the sequence starts at (earlier stages are already past). */
  startsAt?: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 20);
const truthy = (v: string | undefined) =>
  v === undefined || v === '' ? undefined : /^(y|yes|true|1|opted in|subscribed)$/i.test(v.trim());

/** A date (+ optional time) from an export, in the clinic's zone unless it carries an offset. */
export function exportInstant(date: string, time: string | undefined, timeZone: string): number | undefined {
  const d = date.trim();
  if (/[zZ]|[+-]\d{2}:?\d{2}$/.test(d) && /T|\s\d/.test(d)) {
    const t = Date.parse(d);
    return Number.isNaN(t) ? undefined : t;
  }
  let y: number, mo: number, da: number;
  let rest = '';
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](.*))?$/.exec(d);
  if (m) [y, mo, da, rest] = [+m[1]!, +m[2]!, +m[3]!, m[4] ?? ''];
  else if ((m = /^(\d{1,2})\/(\d{1,2})\/(\d{2,4})(?:\s+(.*))?$/.exec(d)))
    [mo, da, y, rest] = [+m[1]!, +m[2]!, m[3]!.length === 2 ? 2000 + +m[3]! : +m[3]!, m[4] ?? ''];
  else return undefined;
  const clock = (time ?? rest).trim();
  let hour = 12;
  let minute = 0;
  if (clock) {
    const c = /^(\d{1,2}):(\d{2})(?::\d{2})?\s*([ap]\.?m\.?)?$/i.exec(clock);
    if (!c) return undefined;
    hour = (+c[1]! % (c[3] ? 12 : 24)) + (c[3] && /^p/i.test(c[3]) ? 12 : 0);
    minute = +c[2]!;
  }
  if (mo < 1 || mo > 12 || da < 1 || da > 31) return undefined;
  return fromLocal({ year: y, month: mo, day: da, hour, minute }, timeZone);
}

function resolveColumns(headers: string[], preset: ColumnPreset): Partial<Record<CsvField, string>> {
  const byLower = new Map(headers.map((h) => [h.toLowerCase(), h]));
  const out: Partial<Record<CsvField, string>> = {};
  for (const [field, candidates] of Object.entries(preset) as [CsvField, string[]][]) {
    const hit = candidates.map((c) => byLower.get(c.toLowerCase())).find(Boolean);
    if (hit) out[field] = hit;
  }
  return out;
}

export interface ImportPlan {
  rows: PlannedRow[];
  events: { line: number; event: CanonicalEvent }[];
  columns: Partial<Record<CsvField, string>>;
  /** Things the person importing must know (printed by the CLI in dry runs and real runs). */
  warnings: string[];
}

/** Reads the export and decides, row by row, what would be enrolled and what is skipped and why. */
export function planImport(o: {
  text: string;
  format: CsvFormat;
  mapping?: ColumnPreset;
  clinic: ClinicConfig;
  config: LoadedConfig;
  now: number;
}): ImportPlan {
  const { headers, records } = csvRecords(o.text);
  const columns = resolveColumns(headers, { ...presets[o.format], ...o.mapping });
  if (!columns.service)
    throw new Error(`no service column found (headers: ${headers.join(', ')}); use --map service=<Header>`);
  if (!columns.completedAt && !columns.date)
    throw new Error(`no date column found (headers: ${headers.join(', ')}); use --map date=<Header>`);
  const rules = classificationRulesFor(o.config, o.clinic);
  const types = treatmentTypesFor(o.config, o.clinic);
  const assumed = o.clinic.connector?.assumedConsent ?? { sms: false, email: true };
  const warnings: string[] = [];
  const editablePrefix =
    !columns.clientId && columns.editableClientId ? (EDITABLE_ID_PREFIX[o.format] ?? `${o.format}-id:`) : undefined;
  if (editablePrefix) warnings.push(editableIdWarning(o.format, columns.editableClientId!));
  const rows: PlannedRow[] = [];
  const events: { line: number; event: CanonicalEvent }[] = [];
  records.forEach((r, i) => {
    const line = i + 2;
    const get = (f: CsvField) => (columns[f] ? r[columns[f]!] || undefined : undefined);
    const service = get('service');
    const skip = (reason: string, extra: Partial<PlannedRow> = {}) =>
      rows.push({ line, outcome: 'skip', reason, ...(service ? { service } : {}), ...extra });
    const status = get('status');
    if (status && !COMPLETED_STATUSES.has(status.toLowerCase())) return skip('not_completed');
    if (!service) return skip('invalid_row: service missing');
    const at = get('completedAt')
      ? exportInstant(get('completedAt')!, undefined, o.clinic.timeZone)
      : exportInstant(get('date') ?? '', get('time'), o.clinic.timeZone);
    if (at === undefined) return skip('invalid_row: unreadable date');
    if (at > o.now) return skip('not_completed');
    let first = get('firstName');
    let last = get('lastName') ?? '';
    const full = get('fullName');
    if (!first && full) {
      // "Last, First" or "First Last"
      const [a, b] = full.includes(',')
        ? full
            .split(',')
            .map((s) => s.trim())
            .reverse()
        : [full.split(/\s+/)[0], full.split(/\s+/).slice(1).join(' ')];
      first = a;
      last = b ?? '';
    }
    if (!first) return skip('invalid_row: client name missing');
    const email = get('email')?.toLowerCase();
    const phone = get('phone');
    const editable = editablePrefix && get('editableClientId');
    const clientId =
      get('clientId') ??
      (editable ? `${editablePrefix}${editable}` : undefined) ??
      `csv-${digest(`${email ?? ''}|${phone?.replace(/\D/g, '') ?? ''}|${first.toLowerCase()} ${last.toLowerCase()}`)}`;
    const completedAt = new Date(at).toISOString();
    // No appointment id in some exports: a stable one from the row, so a re-import dedupes.
    const appointmentId = get('appointmentId') ?? `csv-${digest(`${clientId}|${completedAt}|${service}`)}`;
    const priceText = get('price')?.replace(/[$,\s]/g, '');
    const price = priceText && !Number.isNaN(Number(priceText)) ? Number(priceText) : undefined;
    const candidate = {
      type: 'treatment.completed',
      client: {
        id: clientId,
        firstName: first,
        lastName: last,
        email: email || null,
        phone: phone || null,
        consent: { sms: truthy(get('smsConsent')) ?? assumed.sms, email: truthy(get('emailConsent')) ?? assumed.email },
      },
      appointmentId,
      service: { id: get('serviceId') ?? null, name: service },
      completedAt,
      ...(price !== undefined ? { price } : {}),
    };
    const parsed = canonicalEventSchema.safeParse(candidate);
    if (!parsed.success)
      return skip(`invalid_row: ${[...new Set(parsed.error.issues.map((x) => x.path.join('.')))].join(', ')}`, {
        appointmentId,
      });
    const cls = classifyService(
      parsed.data.type === 'treatment.completed' ? parsed.data.service : { name: service },
      rules,
    );
    if (!cls.matched) {
      // Sent anyway: ingest records unmapped services for staff to map.
      events.push({ line, event: parsed.data });
      return skip('unclassified_service', { appointmentId });
    }
    const type = types.get(cls.treatmentType);
    if (!type) return skip('treatment_type_disabled', { appointmentId, treatmentType: cls.treatmentType });
    if (windowPassed(type, completedAt, o.now, o.clinic.timeZone))
      return skip('window_passed', { appointmentId, treatmentType: type.key });
    const plan = planSequence(type, completedAt, { timeZone: o.clinic.timeZone, sendTime: o.clinic.sendTime });
    const idx = firstCurrentStageIndex(plan, o.now);
    events.push({ line, event: parsed.data });
    rows.push({
      line,
      appointmentId,
      service,
      outcome: 'enroll',
      treatmentType: type.key,
      startsAt: plan.stages[idx]?.key ?? 'grace',
    });
  });
  return { rows, events, columns, warnings };
}

export interface ImportSummary {
  rows: number;
  enrolled: number;
  duplicates: number;
  skipped: Record<string, number>;
  queued: number;
}

/** Sends the planned events in batches through `send` (the /v1 events API); `progress` after each batch. */
export async function sendImport(
  plan: ImportPlan,
  send: (events: CanonicalEvent[]) => Promise<EventResult[]>,
  progress?: (done: number, total: number) => void,
  batchSize = 200,
): Promise<ImportSummary> {
  const summary: ImportSummary = { rows: plan.rows.length, enrolled: 0, duplicates: 0, skipped: {}, queued: 0 };
  for (const r of plan.rows)
    if (r.outcome === 'skip' && r.reason !== 'unclassified_service')
      summary.skipped[r.reason!.split(':')[0]!] = (summary.skipped[r.reason!.split(':')[0]!] ?? 0) + 1;
  const total = plan.events.length;
  for (let i = 0; i < total; i += batchSize) {
    const results = await send(plan.events.slice(i, i + batchSize).map((e) => e.event));
    for (const res of results) {
      if (res.status === 'duplicate') summary.duplicates++;
      else if (res.status === 'queued') summary.queued++;
      else if ('enrolled' in res && res.enrolled) summary.enrolled++;
      else if ('reason' in res) summary.skipped[res.reason] = (summary.skipped[res.reason] ?? 0) + 1;
    }
    progress?.(Math.min(i + batchSize, total), total);
  }
  return summary;
}

/** A one-line progress bar on a terminal, a line per batch otherwise. */
export function progressBar(out: NodeJS.WriteStream): (done: number, total: number) => void {
  return (done, total) => {
    const width = 30;
    const filled = total ? Math.round((done / total) * width) : width;
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
    if (out.isTTY) out.write(`\r${line}${done === total ? '\n' : ''}`);
    else out.write(`${line}\n`);
  };
}
