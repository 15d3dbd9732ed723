/** Shared by the simulator tests: the fixture clinic, CSV building, running with every client traced. */
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { type BookingRates, parseBookingRates } from '../../src/simulator/booking-rates.js';
import { type SimulationClinic, simulationClinic } from '../../src/simulator/clinic.js';
import {
  type SimulationOptions,
  type SimulationResult,
  simulate,
  type TraceEvent,
} from '../../src/simulator/engine.js';
import { HISTORY_COLUMNS, parseHistoryCsv } from '../../src/simulator/history-csv.js';

export const FIXTURE_CONFIG = fileURLToPath(new URL('../fixtures/simulator/config', import.meta.url));

export function fixtureClinic(): SimulationClinic {
  return simulationClinic(loadConfig(FIXTURE_CONFIG), 'sim-clinic');
}

/** Rates for the given stages/purposes, every other stage 0. */
export function ratesOf(clinic: SimulationClinic, spec = ''): BookingRates {
  return parseBookingRates(
    `reminder=0,incentive=0,checkin=0,escalation=0${spec ? `,${spec}` : ''}`,
    clinic.types.values(),
  );
}

/** A CSV with the full header from rows of cells in HISTORY_COLUMNS order. */
export function csv(rows: string[][]): string {
  return `${[HISTORY_COLUMNS.join(','), ...rows.map((r) => r.join(','))].join('\n')}\n`;
}

export function run(
  text: string,
  clinic: SimulationClinic,
  opts: Partial<SimulationOptions> = {},
): SimulationResult & { trace: TraceEvent[] } {
  const parsed = parseHistoryCsv(text, clinic.timeZone);
  if (parsed.problems.length) throw new Error(`fixture rows do not parse: ${JSON.stringify(parsed.problems)}`);
  const result = simulate(parsed.rows, clinic, {
    months: 12,
    seed: 1,
    rates: ratesOf(clinic),
    leadDays: 14,
    // Every booking attended unless a test says otherwise (the lifecycle tests do).
    lifecycle: { noShow: 0, cancel: 0, rebookAfterCancel: 0 },
    traceClients: new Set(parsed.rows.map((r) => r.clientId)),
    ...opts,
  });
  return result as SimulationResult & { trace: TraceEvent[] };
}

/** [stage, channel, instant] of every message sent, in order. */
export function sends(trace: TraceEvent[], clientId?: string): [string | undefined, string | undefined, string][] {
  return trace
    .filter((e) => e.kind === 'sent' && (!clientId || e.clientId === clientId))
    .map((e) => [e.stage, e.channel, e.at]);
}

export function events(trace: TraceEvent[], kind: TraceEvent['kind']): TraceEvent[] {
  return trace.filter((e) => e.kind === kind);
}
