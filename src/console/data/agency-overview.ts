/**
 * The agency overview: one row per clinic of an agency. Enrolled and rebook rate are the agency
 * rebooking report's per-clinic totals (src/reports/query.ts), connector and sending health come
 * from their modules, and config warnings are the loader's, attributed to the clinic whose
 * effective configuration they concern.
 */
import { and, inArray, ne, sql } from 'drizzle-orm';
import type { ConfigProblem, LoadedConfig } from '../../config/load.js';
import type { Db } from '../../db/client.js';
import { staffTasks } from '../../db/schema.js';
import type { LiftRow } from '../../reports/lift.js';
import { agencyRebookingReport, type Period } from '../../reports/query.js';
import type { Counts, Rates } from '../../reports/rebooking.js';
import { type ConnectorHealth, loadConnectorHealth } from './connector-health.js';
import { loadSendingHealth, SENDING_WINDOW_DAYS, type SendingHealth } from './sending-health.js';

export interface AgencyClinicRow {
  clinicId: string;
  name: string;
  platform: string;
  totals: Counts & Rates;
  /** The clinic's lift, its treatment types pooled (the agency report's lift column). */
  lift: LiftRow;
  /** Whether the clinic holds any clients out (lift.holdout or a per-type share above 0). */
  holdoutConfigured: boolean;
  /** Unresolved staff tasks (open or claimed), and those of them due by now. */
  openTasks: number;
  dueTasks: number;
  connector: ConnectorHealth;
  sending: SendingHealth;
  warnings: ConfigProblem[];
}

export interface AgencyOverview {
  agencyId: string;
  agencyName: string;
  period: Period;
  /** Send-time window of the sending health (the last SENDING_WINDOW_DAYS days). */
  sendingWindow: Period;
  /** The agency's clinics rolled up (sums, rates recomputed). */
  totals: Counts & Rates;
  clinics: AgencyClinicRow[];
}

/**
 * Warnings that concern a clinic: those in its own file, its agency's file, or a shared file
 * (catalog.yaml) that is neither a clinic's nor an agency's.
 */
export function warningsFor(config: LoadedConfig, clinicId: string): ConfigProblem[] {
  const clinic = config.clinics.get(clinicId);
  if (!clinic) return [];
  const own = config.clinicFiles.get(clinicId);
  const agencyFile = clinic.agency ? config.agencies.get(clinic.agency)?.file : undefined;
  const otherFiles = new Set([
    ...[...config.clinicFiles.values()].filter((f) => f !== own),
    ...[...config.agencies.values()].map((a) => a.file).filter((f) => f !== agencyFile),
  ]);
  const seen = new Set<string>();
  return config.warnings.filter((w) => {
    if (w.file !== own && w.file !== agencyFile && otherFiles.has(w.file)) return false;
    const key = `${w.file}|${w.path}|${w.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export async function loadAgencyOverview(
  db: Db,
  config: LoadedConfig,
  agencyId: string,
  period: Period,
  nowMs: number,
): Promise<AgencyOverview> {
  const report = await agencyRebookingReport(
    db,
    config,
    agencyId,
    { from: new Date(period.fromMs).toISOString(), to: new Date(period.toMs).toISOString() },
    nowMs,
  );
  const clinics = report.byClinic.map((r) => config.clinics.get(r.clinicId)!);
  const ids = clinics.map((c) => c.id);
  const sendingWindow = { fromMs: nowMs - SENDING_WINDOW_DAYS * 86_400_000, toMs: nowMs };
  const tasks =
    ids.length === 0
      ? []
      : await db
          .select({
            clinicId: staffTasks.clinicId,
            open: sql<number>`count(*)::int`,
            due: sql<number>`(count(*) filter (where ${staffTasks.dueAt} is null or ${staffTasks.dueAt} <= ${new Date(nowMs).toISOString()}::timestamptz))::int`,
          })
          .from(staffTasks)
          .where(and(inArray(staffTasks.clinicId, ids), ne(staffTasks.status, 'resolved')))
          .groupBy(staffTasks.clinicId);
  const connector = await loadConnectorHealth(db, clinics, nowMs);
  const sending = await loadSendingHealth(db, ids, sendingWindow);
  return {
    agencyId,
    agencyName: config.agencies.get(agencyId)?.name ?? agencyId,
    period,
    sendingWindow,
    totals: report.totals,
    clinics: report.byClinic.map((r, i) => {
      const t = tasks.find((x) => x.clinicId === r.clinicId);
      return {
        clinicId: r.clinicId,
        name: r.name,
        platform: clinics[i]!.platform,
        totals: r.totals,
        lift: r.lift,
        holdoutConfigured:
          !!clinics[i]!.lift &&
          (clinics[i]!.lift!.holdout > 0 || Object.values(clinics[i]!.lift!.holdoutByTreatmentType).some((x) => x > 0)),
        openTasks: Number(t?.open ?? 0),
        dueTasks: Number(t?.due ?? 0),
        connector: connector[i]!,
        sending: sending[i]!,
        warnings: warningsFor(config, r.clinicId),
      };
    }),
  };
}
