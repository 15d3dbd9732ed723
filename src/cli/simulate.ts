/**
 * `rebook simulate`: the simulator's shell. Reads the clinic's configuration and a treatment
 * history CSV, runs the pure engine (src/simulator/engine.ts), prints a summary table and writes
 * simulation.json, weekly.csv and chart.svg. The file format is documented in
 * src/simulator/history-csv.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { averagePriceCentsFor, holdoutShareFor } from '../config/lift.js';
import { ConfigError, clinicOrThrow, loadConfig } from '../config/load.js';
import type { Env } from '../env.js';
import { RebookError } from '../errors.js';
import {
  type BookingRates,
  type LifecycleRates,
  parseBookingRates,
  parseLifecycleRates,
  parseVariantRates,
  rateFor,
  type VariantRates,
} from '../simulator/booking-rates.js';
import { renderChart } from '../simulator/chart.js';
import { type SimulationClinic, simulationClinic } from '../simulator/clinic.js';
import { type SimulationResult, simulate } from '../simulator/engine.js';
import { HistoryFormatError, type ParsedHistory, parseHistoryCsv } from '../simulator/history-csv.js';
import { type LiftPlanRow, liftPlan, renderLiftPlan } from '../simulator/lift-plan.js';
import { renderSummary } from '../simulator/report.js';
import { argumentError, type CommandContext } from './command.js';

export const SIMULATE_USAGE = `usage: rebook simulate --clinic ID --history FILE.csv [options]

  --clinic ID              clinic whose configuration (catalog, caps, send window, …) applies
  --history FILE.csv       treatment history: client_id, appointment_id, service_name,
                           completed_at, price?, email?, phone?, sms_consent?, email_consent?
  --booking-rates LIST     stage=rate pairs by stage key or purpose, e.g. reminder=0.25,incentive=40%
                           (defaults: reminder 0.22, incentive 0.35, checkin 0.12, escalation 0.30;
                           assumed: recovery 0.25, reactivation 0.10, winback 0.05; care 0)
  --lifecycle-rates LIST   what becomes of a booking, e.g. noShow=0.2,cancel=10%,rebookAfterCancel=0.5
                           (defaults: noShow 0.15, cancel 0.10, rebookAfterCancel 0.5)
  --variant-rates LIST     stage.variant=rate for the clinic's stage variants, e.g. incentive.pct15=0.4
                           (a variant without one converts at its stage's rate)
  --months N               length of the simulated period (default 12)
  --from YYYY-MM-DD        first day counted (default: the earliest treatment)
  --seed N                 seed of the booking draws (default 1)
  --lead-days N            how long before a later treatment in the history it was booked (default 14)
  --out DIR                output directory (default $REBOOK_DATA_DIR/simulations/<timestamp>)
  --config DIR             configuration directory (default $REBOOK_CONFIG_DIR)
  --trace CLIENT_ID        record every event of this client in the JSON (repeatable)
  --holdout SHARE          holdout share for the proof-of-lift plan, e.g. 0.1 or 10% (default: the
                           clinic's lift.holdout per treatment type)
  --baseline RATE          rebook rate without the program: held-out clients book by themselves at
                           this rate, and the plan assumes it (default 0.35)
`;

/** What simulation.json holds: the result plus what was read from the history file. */
export interface SimulationFile extends SimulationResult {
  format: 'rebook-simulation/1';
  /** Per treatment type: months until a 20-point lift shows at 95% confidence (src/simulator/lift-plan.ts). */
  liftPlan: LiftPlanRow[];
  history: {
    file: string;
    rows: number;
    malformedRows: number;
    header: boolean;
    ignoredColumns: string[];
    problems: ParsedHistory['problems'];
  };
}

export const usage = SIMULATE_USAGE;

export function run(argv: string[], { env }: CommandContext): Promise<number> {
  return simulateCommand(argv, env);
}

function fail(message: string, code = 2): number {
  process.stderr.write(`rebook simulate: ${message}\n`);
  return code;
}

function wholeNumber(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new RangeError(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** A share such as 0.1 or 10%, within [min, max]. */
function shareArg(name: string, raw: string, min: number, max: number): number {
  const v = raw.endsWith('%') ? Number(raw.slice(0, -1)) / 100 : Number(raw);
  if (!Number.isFinite(v) || v < min || v > max || raw.trim() === '')
    throw new RangeError(`--${name} must be a share from ${min} to ${max} (e.g. 0.1 or 10%)`);
  return v;
}

/** A one-line progress bar on stderr, redrawn with a carriage return (terminals only). */
function progressBar(stream: NodeJS.WriteStream) {
  let last = 0;
  return {
    update(done: number, total: number) {
      const now = performance.now();
      if (done < total && now - last < 100) return;
      last = now;
      const width = 30;
      const filled = Math.round((done / Math.max(1, total)) * width);
      stream.write(
        `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor((done / Math.max(1, total)) * 100)).padStart(3)}%  ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} clients`,
      );
    },
    clear() {
      stream.write(`\r${' '.repeat(72)}\r`);
    },
  };
}

export async function simulateCommand(
  argv: string[],
  env: Pick<Env, 'REBOOK_CONFIG_DIR' | 'REBOOK_DATA_DIR'>,
): Promise<number> {
  let args: ReturnType<typeof parseSimulateArgs>;
  try {
    args = parseSimulateArgs(argv);
  } catch (err) {
    return fail(argumentError('simulate', err));
  }
  if (!args.clinic || !args.history) return fail(`--clinic and --history are required\n${SIMULATE_USAGE}`);

  let months: number, seed: number, leadDays: number;
  let holdout: number | undefined, baseline: number;
  try {
    holdout = args.holdout === undefined ? undefined : shareArg('holdout', args.holdout, 0, 0.5);
    baseline = args.baseline === undefined ? 0.35 : shareArg('baseline', args.baseline, 0.01, 0.79);
    months = wholeNumber('months', args.months, 12, 1, 120);
    seed = wholeNumber('seed', args.seed, 1, 0, 2 ** 32 - 1);
    leadDays = wholeNumber('lead-days', args['lead-days'], 14, 0, 365);
  } catch (err) {
    return fail((err as Error).message);
  }

  let clinic: SimulationClinic;
  let shareOf: (treatmentType: string) => number;
  let priceOf: (treatmentType: string) => number | null;
  try {
    const config = loadConfig(args.config ?? env.REBOOK_CONFIG_DIR);
    clinic = simulationClinic(config, args.clinic);
    const clinicConfig = clinicOrThrow(config, args.clinic);
    shareOf = (t) => holdout ?? holdoutShareFor(clinicConfig, t);
    priceOf = (t) => averagePriceCentsFor(clinicConfig, t);
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message, 1);
    if (err instanceof RebookError && err.code === 'clinic_not_found')
      return fail(`unknown clinic "${args.clinic}"`, 1);
    throw err;
  }

  let rates: BookingRates;
  let lifecycle: LifecycleRates;
  let variantRates: VariantRates;
  try {
    rates = parseBookingRates(args['booking-rates'] ?? '', clinic.types.values());
    lifecycle = parseLifecycleRates(args['lifecycle-rates'] ?? '');
    variantRates = parseVariantRates(args['variant-rates'] ?? '', clinic.variants);
  } catch (err) {
    if (err instanceof RebookError) return fail(`${err.message} [${err.code}]`);
    return fail((err as Error).message);
  }

  let text: string;
  try {
    text = readFileSync(args.history, 'utf8');
  } catch (err) {
    return fail(`cannot read ${args.history}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 1);
  }
  const started = performance.now();
  let history: ParsedHistory;
  try {
    history = parseHistoryCsv(text, clinic.timeZone);
  } catch (err) {
    if (err instanceof HistoryFormatError) return fail(`${args.history}: ${err.message}`, 1);
    throw err;
  }
  if (history.problems.length) {
    const shown = history.problems.slice(0, 20).map((p) => `  line ${p.line}: ${p.message}`);
    const more =
      history.problems.length > 20
        ? [`  … and ${history.problems.length - 20} more (all listed in simulation.json)`]
        : [];
    process.stderr.write(
      `${args.history}: ${history.problems.length} row(s) could not be read and were skipped:\n${[...shown, ...more].join('\n')}\n`,
    );
  }
  if (history.ignoredColumns.length)
    process.stderr.write(`${args.history}: ignored column(s) ${history.ignoredColumns.join(', ')}\n`);

  const bar = process.stderr.isTTY ? progressBar(process.stderr) : undefined;
  let result: SimulationResult;
  try {
    result = simulate(history.rows, clinic, {
      months,
      seed,
      rates,
      lifecycle,
      variantRates,
      baseline,
      holdoutShare: shareOf,
      leadDays,
      ...(args.from ? { from: args.from } : {}),
      ...(args.trace?.length ? { traceClients: new Set(args.trace) } : {}),
      ...(bar ? { onProgress: (d: number, t: number) => bar.update(d, t) } : {}),
    });
  } catch (err) {
    bar?.clear();
    if (err instanceof RangeError) return fail(err.message);
    throw err;
  }
  bar?.clear();
  const elapsed = performance.now() - started;

  const out = args.out ?? join(env.REBOOK_DATA_DIR, 'simulations', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(out, { recursive: true });
  const file: SimulationFile = {
    format: 'rebook-simulation/1',
    history: {
      file: basename(args.history),
      rows: history.rows.length + history.problems.length,
      malformedRows: history.problems.length,
      header: history.header,
      ignoredColumns: history.ignoredColumns,
      problems: history.problems,
    },
    ...result,
    liftPlan: liftPlan(result.byType, months, clinic.types, {
      holdoutShare: shareOf,
      baselineRate: baseline,
      // Care touches convert nobody (rate 0); the marketing stages in day order.
      stageRates: (t) => {
        const type = clinic.types.get(t);
        return type && [...type.stages].sort((a, b) => a.day - b.day).map((s) => rateFor(rates, s));
      },
      priceCents: priceOf,
    }),
  };
  writeFileSync(join(out, 'simulation.json'), `${JSON.stringify(file, null, 2)}\n`);
  writeFileSync(join(out, 'chart.svg'), renderChart(result));
  const columns = [
    'weekStart',
    'email',
    'sms',
    'staffTasks',
    'offers',
    'deferredBySendWindow',
    'deferredByCaps',
    'suppressedByCaps',
    'rebookings',
    'enrolled',
    'care',
    'attended',
    'cancelled',
    'noShows',
  ] as const;
  writeFileSync(
    join(out, 'weekly.csv'),
    `${[columns.join(','), ...result.weekly.map((w) => columns.map((c) => w[c]).join(','))].join('\n')}\n`,
  );

  process.stdout.write(renderSummary(result, { malformedRows: history.problems.length }));
  process.stdout.write(renderLiftPlan(file.liftPlan));
  process.stdout.write(
    `\nWrote ${join(out, 'simulation.json')}, ${join(out, 'weekly.csv')} and ${join(out, 'chart.svg')}\n`,
  );
  process.stderr.write(
    `simulated ${history.rows.length.toLocaleString('en-US')} rows in ${(elapsed / 1000).toFixed(2)} s\n`,
  );
  return 0;
}

function parseSimulateArgs(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      clinic: { type: 'string' },
      history: { type: 'string' },
      'booking-rates': { type: 'string' },
      'lifecycle-rates': { type: 'string' },
      'variant-rates': { type: 'string' },
      months: { type: 'string' },
      from: { type: 'string' },
      seed: { type: 'string' },
      'lead-days': { type: 'string' },
      out: { type: 'string' },
      config: { type: 'string' },
      trace: { type: 'string', multiple: true },
      holdout: { type: 'string' },
      baseline: { type: 'string' },
    },
  }).values;
}
