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
import { type ColumnPreset, type CsvField, CsvFormatError, readTreatmentCsv } from '../../src/csv/treatments.js';
import { type CanonicalEvent, canonicalEventSchema, type EventResult } from '../../src/ingest/events.js';
import { type CsvFormat, EDITABLE_ID_PREFIX, editableIdWarning, presets } from './presets.js';

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

export interface ImportPlan {
  rows: PlannedRow[];
  events: { line: number; event: CanonicalEvent }[];
  columns: Partial<Record<CsvField, string>>;
  /** Things the person importing must know (printed by the CLI in dry runs and real runs). */
  warnings: string[];
}

/** "Last, First" or "First Last". */
function splitFullName(full: string): [string | undefined, string] {
  if (full.includes(',')) {
    const [last, first] = full.split(',').map((s) => s.trim());
    return [first, last ?? ''];
  }
  const [first, ...rest] = full.split(/\s+/);
  return [first, rest.join(' ')];
}

/**
 * Reads the export and decides, row by row, what would be enrolled and what is skipped and why.
 * Throws CsvFormatError when the file cannot be read at all (no service, date or name column).
 */
export function planImport(o: {
  text: string;
  format: CsvFormat;
  mapping?: ColumnPreset;
  clinic: ClinicConfig;
  config: LoadedConfig;
  now: number;
}): ImportPlan {
  const csv = readTreatmentCsv(o.text, {
    timeZone: o.clinic.timeZone,
    columns: { ...presets[o.format], ...o.mapping },
    missingColumnHint: 'name yours with --map field=Header',
  });
  const { columns } = csv;
  if (!columns.firstName && !columns.fullName)
    throw new CsvFormatError(
      `the header lacks a client name column (${o.format} looks for ${[...(presets[o.format].firstName ?? []), ...(presets[o.format].fullName ?? [])].join(' or ')}; name yours with --map firstName=Header)`,
    );
  const rules = classificationRulesFor(o.config, o.clinic);
  const types = treatmentTypesFor(o.config, o.clinic);
  const assumed = o.clinic.connector?.assumedConsent ?? { sms: false, email: true };
  const warnings: string[] = [];
  const editablePrefix =
    !columns.clientId && columns.editableClientId ? (EDITABLE_ID_PREFIX[o.format] ?? `${o.format}-id:`) : undefined;
  if (editablePrefix) warnings.push(editableIdWarning(o.format, columns.editableClientId!));
  const rows: PlannedRow[] = [];
  const events: { line: number; event: CanonicalEvent }[] = [];
  for (const record of csv.records) {
    const { line } = record;
    if (record.outcome !== 'row') {
      rows.push({
        line,
        outcome: 'skip',
        reason: record.outcome === 'problem' ? `invalid_row: ${record.message}` : 'not_completed',
        ...(record.service ? { service: record.service } : {}),
      });
      continue;
    }
    const { row } = record;
    const { service } = row;
    const skip = (reason: string, extra: Partial<PlannedRow> = {}) =>
      rows.push({ line, outcome: 'skip', reason, service, ...extra });
    if (row.completedAtMs > o.now) {
      skip('not_completed');
      continue;
    }
    const [first, last] = row.firstName ? [row.firstName, row.lastName ?? ''] : splitFullName(row.fullName ?? '');
    if (!first) {
      skip(`invalid_row: ${columns.firstName ?? columns.fullName} is empty`);
      continue;
    }
    const email = row.email?.toLowerCase();
    const phone = row.phone;
    const editable = editablePrefix && row.editableClientId;
    const clientId =
      row.clientId ??
      (editable ? `${editablePrefix}${editable}` : undefined) ??
      `csv-${digest(`${email ?? ''}|${phone?.replace(/\D/g, '') ?? ''}|${first.toLowerCase()} ${last.toLowerCase()}`)}`;
    const completedAt = new Date(row.completedAtMs).toISOString();
    // No appointment id in some exports: a stable one from the row, so a re-import dedupes.
    const appointmentId = row.appointmentId ?? `csv-${digest(`${clientId}|${completedAt}|${service}`)}`;
    const candidate = {
      type: 'treatment.completed',
      client: {
        id: clientId,
        firstName: first,
        lastName: last,
        email: email || null,
        phone: phone || null,
        consent: { sms: row.smsConsent ?? assumed.sms, email: row.emailConsent ?? assumed.email },
      },
      appointmentId,
      service: { id: row.serviceId ?? null, name: service },
      completedAt,
      ...(row.priceCents !== null ? { price: row.priceCents / 100 } : {}),
    };
    const parsed = canonicalEventSchema.safeParse(candidate);
    if (!parsed.success) {
      skip(`invalid_row: ${[...new Set(parsed.error.issues.map((x) => x.path.join('.')))].join(', ')}`, {
        appointmentId,
      });
      continue;
    }
    const cls = classifyService(
      parsed.data.type === 'treatment.completed' ? parsed.data.service : { name: service },
      rules,
    );
    if (!cls.matched) {
      // Sent anyway: ingest records unmapped services for staff to map.
      events.push({ line, event: parsed.data });
      skip('unclassified_service', { appointmentId });
      continue;
    }
    const type = types.get(cls.treatmentType);
    if (!type) {
      skip('treatment_type_disabled', { appointmentId, treatmentType: cls.treatmentType });
      continue;
    }
    if (windowPassed(type, completedAt, o.now, o.clinic.timeZone)) {
      skip('window_passed', { appointmentId, treatmentType: type.key });
      continue;
    }
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
  }
  return { rows, events, columns, warnings };
}

/** Rows that could not be read, as `FILE line N: what is wrong` (printed on a real run; a dry run lists every row). */
export function rowProblems(plan: ImportPlan, file: string): string[] {
  return plan.rows
    .filter((r) => r.reason?.startsWith('invalid_row: '))
    .map((r) => `${file} line ${r.line}: ${r.reason!.slice('invalid_row: '.length)}`);
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
