/**
 * `rebook report`: the rebooking report of one clinic, or several rolled up (an agency's view),
 * read straight from the database (DATABASE_URL, or the embedded database of a stopped `rebook
 * dev`) or through a running server's API (--url, --key).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, clinicOrThrow, type LoadedConfig, loadConfig } from '../config/load.js';
import type { ClinicConfig } from '../config/schema.js';
import { type Db, openDatabase } from '../db/client.js';
import { embeddedDatabaseHolder, embeddedDir, snapshotEmbeddedDatabase } from '../db/embedded-lock.js';
import type { Env } from '../env.js';
import { RebookError } from '../errors.js';
import type { LiftReport } from '../reports/lift.js';
import {
  type AgencyLiftReport,
  type AgencyRebookingReport,
  agencyLiftReport,
  agencyRebookingReport,
  clinicLiftReport,
  clinicRebookingReport,
  type ReportQuery,
} from '../reports/query.js';
import { type RebookingReport, rollUpReports } from '../reports/rebooking.js';
import { renderReportCsv, renderReportTable } from '../reports/render.js';
import {
  renderAgencyLiftCsv,
  renderAgencyLiftTable,
  renderLiftCsv,
  renderLiftTable,
  renderVariantCsv,
  renderVariantTable,
} from '../reports/render-lift.js';
import { argumentError, type CommandContext } from './command.js';

export const REPORT_USAGE = `usage: rebook report (--clinic ID | --clinics ID,ID,… | --agency ID) [options]

  --clinic ID          one clinic
  --clinics LIST       several clinics, summed per treatment type and stage
  --agency ID          every clinic of the agency, summed, with each clinic's totals (through
                       --url it needs an admin key of the whole agency)
  --from DATE          first treatment date counted (YYYY-MM-DD on the clinic's calendar, or an
                       ISO instant); default: 90 days before --to
  --to DATE            last treatment date counted (inclusive), default: now
  --type KEY           one treatment type only (neuromodulator, lip_filler, …)
  --lift               proof of lift: treated against held-out clients per treatment type, with
                       95% intervals (per clinic; with --agency, each clinic's pooled lift); the
                       table adds each stage's variants (sends, bookings, conversion)
  --variants           with --lift: only the per stage and variant comparison (csv: one row per
                       stage and variant)
  --format FORMAT      table (default), csv or json
  --url URL            read through a running server (e.g. http://127.0.0.1:3000) instead of
  --key KEY            the database; the API key (default $REBOOK_API_KEY)
  --config DIR         configuration directory (default $REBOOK_CONFIG_DIR)

Without --url the database is read directly: DATABASE_URL, else the embedded database under
$REBOOK_DATA_DIR (a snapshot of it while \`rebook dev\` runs).
`;

export const usage = REPORT_USAGE;

export function run(argv: string[], { env }: CommandContext): Promise<number> {
  return reportCommand(argv, env);
}

function fail(message: string, code = 2): number {
  process.stderr.write(`rebook report: ${message}\n`);
  return code;
}

function parseReportArgs(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      clinic: { type: 'string' },
      clinics: { type: 'string' },
      agency: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      type: { type: 'string' },
      format: { type: 'string', default: 'table' },
      lift: { type: 'boolean', default: false },
      variants: { type: 'boolean', default: false },
      url: { type: 'string' },
      key: { type: 'string' },
      config: { type: 'string' },
    },
  });
}

async function viaApi<T = RebookingReport>(
  url: string,
  key: string,
  scope: { clinicId: string } | { agencyId: string },
  q: ReportQuery,
  report = 'rebooking',
): Promise<T> {
  const params = new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined));
  const [id, path] = 'clinicId' in scope ? [scope.clinicId, 'clinics'] : [scope.agencyId, 'agencies'];
  const res = await fetch(
    `${url.replace(/\/$/, '')}/v1/${path}/${encodeURIComponent(id)}/reports/${report}${params.size ? `?${params}` : ''}`,
    { headers: { authorization: `Bearer ${key}` } },
  );
  const body = (await res.json().catch(() => ({}))) as {
    error?: { code: string; message: string; issues?: { path: string; message: string }[] };
  };
  if (!res.ok)
    throw new Error(
      `${id}: HTTP ${res.status} ${body.error ? `${body.error.code}: ${body.error.message}${body.error.issues ? ` (${body.error.issues.map((i) => `${i.path}: ${i.message}`).join('; ')})` : ''}` : ''}`,
    );
  return body as unknown as T;
}

export async function reportCommand(
  argv: string[],
  env: Pick<Env, 'REBOOK_CONFIG_DIR' | 'REBOOK_DATA_DIR' | 'DATABASE_URL' | 'REBOOK_API_KEY'>,
): Promise<number> {
  let values: ReturnType<typeof parseReportArgs>['values'];
  try {
    ({ values } = parseReportArgs(argv));
  } catch (err) {
    return fail(argumentError('report', err));
  }
  const ids = [
    ...(values.clinic ? [values.clinic] : []),
    ...(values.clinics ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
  const agencyId = values.agency?.trim() || undefined;
  if (agencyId && ids.length > 0)
    return fail(`--agency takes every clinic of the agency: give it without --clinic or --clinics\n${REPORT_USAGE}`);
  if (!agencyId && ids.length === 0) return fail(`--clinic, --clinics or --agency is required\n${REPORT_USAGE}`);
  if (!['table', 'csv', 'json'].includes(values.format!)) return fail('--format is table, csv or json');
  const q = {
    ...(values.from ? { from: values.from } : {}),
    ...(values.to ? { to: values.to } : {}),
    ...(values.type ? { treatmentType: values.type } : {}),
  };

  if (values.lift || values.variants) return liftCommand(values, ids, agencyId, q, env);

  const reports: RebookingReport[] = [];
  try {
    if (values.url) {
      const key = values.key ?? env.REBOOK_API_KEY;
      if (!key) return fail('--key (or REBOOK_API_KEY) is required with --url');
      if (agencyId) reports.push(await viaApi(values.url, key, { agencyId }, q));
      for (const id of ids) reports.push(await viaApi(values.url, key, { clinicId: id }, q));
    } else {
      const problem = await withLocalDatabase(values, env, agencyId, ids, async (db, config, clinics) => {
        if (agencyId) reports.push(await agencyRebookingReport(db, config, agencyId, q, Date.now()));
        for (const clinic of clinics) reports.push(await clinicRebookingReport(db, config, clinic, q, Date.now()));
      });
      if (problem) return fail(problem, 1);
    }
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message, 1);
    if (err instanceof RebookError)
      return fail(
        `${err.message}${err.details.issues ? `: ${err.details.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}` : ''}`,
        1,
      );
    return fail(err instanceof Error ? err.message : String(err), 1);
  }
  const report = reports.length === 1 ? reports[0]! : rollUpReports(reports);
  process.stdout.write(
    values.format === 'json'
      ? `${JSON.stringify(report, null, 2)}\n`
      : values.format === 'csv'
        ? renderReportCsv(report)
        : renderReportTable(report),
  );
  return 0;
}

/**
 * Reads through this machine's database: DATABASE_URL, else the embedded one (a snapshot of it
 * while a running `rebook dev` holds it). Returns what stops the read, or nothing once `read` ran.
 */
async function withLocalDatabase(
  values: ReturnType<typeof parseReportArgs>['values'],
  env: Pick<Env, 'REBOOK_CONFIG_DIR' | 'REBOOK_DATA_DIR' | 'DATABASE_URL'>,
  agencyId: string | undefined,
  ids: string[],
  read: (db: Db, config: LoadedConfig, clinics: ClinicConfig[]) => Promise<void>,
): Promise<string | undefined> {
  const config = loadConfig(values.config ?? env.REBOOK_CONFIG_DIR);
  if (agencyId && !config.agencies.has(agencyId)) return `unknown agency "${agencyId}" (no agencies/${agencyId}.yaml)`;
  const clinics = ids.map((id) => clinicOrThrow(config, id));
  const pglite = embeddedDir(env.REBOOK_DATA_DIR);
  if (!env.DATABASE_URL && !existsSync(pglite))
    return 'no database: set DATABASE_URL, or read through a running server with --url and --key';
  const snapshot =
    !env.DATABASE_URL && embeddedDatabaseHolder(env.REBOOK_DATA_DIR) !== undefined
      ? snapshotEmbeddedDatabase(env.REBOOK_DATA_DIR)
      : undefined;
  const database = await openDatabase(
    env.DATABASE_URL ? { url: env.DATABASE_URL } : { pgliteDir: snapshot?.dir ?? pglite },
  );
  try {
    await read(database.db, config, clinics);
  } finally {
    await database.close();
    snapshot?.remove();
  }
  return undefined;
}

/** `--lift`: each clinic's lift report (clinics are never pooled: their baselines differ). */
async function liftCommand(
  values: ReturnType<typeof parseReportArgs>['values'],
  ids: string[],
  agencyId: string | undefined,
  q: ReportQuery,
  env: Pick<Env, 'REBOOK_CONFIG_DIR' | 'REBOOK_DATA_DIR' | 'DATABASE_URL' | 'REBOOK_API_KEY'>,
): Promise<number> {
  const lifts: LiftReport[] = [];
  let agency: AgencyLiftReport | undefined;
  try {
    if (values.url) {
      const key = values.key ?? env.REBOOK_API_KEY;
      if (!key) return fail('--key (or REBOOK_API_KEY) is required with --url');
      if (agencyId) {
        const r = await viaApi<AgencyRebookingReport>(values.url, key, { agencyId }, q);
        agency = {
          agency: r.agency,
          from: r.from,
          to: r.to,
          treatmentType: r.treatmentType,
          byClinic: r.byClinic.map((c) => ({ clinicId: c.clinicId, name: c.name, lift: c.lift })),
        };
      }
      for (const id of ids) lifts.push(await viaApi<LiftReport>(values.url, key, { clinicId: id }, q, 'lift'));
    } else {
      const problem = await withLocalDatabase(values, env, agencyId, ids, async (db, config, clinics) => {
        if (agencyId) agency = await agencyLiftReport(db, config, agencyId, q, Date.now());
        for (const clinic of clinics) lifts.push(await clinicLiftReport(db, config, clinic, q, Date.now()));
      });
      if (problem) return fail(problem, 1);
    }
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message, 1);
    if (err instanceof RebookError)
      return fail(
        `${err.message}${err.details.issues ? `: ${err.details.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}` : ''}`,
        1,
      );
    return fail(err instanceof Error ? err.message : String(err), 1);
  }
  if (values.variants) {
    if (agency && !lifts.length)
      return fail('--variants needs clinics (--clinic or --clinics): variants are per clinic');
    if (values.format === 'json') {
      const v = lifts.map((r) => ({ clinics: r.clinics, from: r.from, to: r.to, variants: r.variants }));
      process.stdout.write(`${JSON.stringify(v.length === 1 ? v[0] : v, null, 2)}\n`);
      return 0;
    }
    for (const [i, r] of lifts.entries())
      process.stdout.write(
        values.format === 'csv'
          ? renderVariantCsv(r, i === 0)
          : `${i ? '\n' : ''}${renderVariantTable(r) || `${r.clinics.join(', ')}: no stage has variants\n`}`,
      );
    return 0;
  }
  if (values.format === 'json') {
    process.stdout.write(`${JSON.stringify(agency ?? (lifts.length === 1 ? lifts[0] : lifts), null, 2)}\n`);
    return 0;
  }
  if (agency) {
    process.stdout.write(values.format === 'csv' ? renderAgencyLiftCsv(agency) : renderAgencyLiftTable(agency));
    if (!lifts.length) return 0;
  }
  for (const [i, r] of lifts.entries())
    process.stdout.write(
      values.format === 'csv'
        ? i === 0
          ? renderLiftCsv(r)
          : renderLiftCsv(r).split('\n').slice(1).join('\n')
        : `${i ? '\n' : ''}${renderLiftTable(r)}`,
    );
  return 0;
}
