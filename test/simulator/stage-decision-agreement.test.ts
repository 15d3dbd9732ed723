/**
 * One stage decision (issue 11 §5): for every scenario of the shared table
 * (test/helpers/stage-scenarios.ts), the simulator decides each stage as the preview does — sent
 * (same instant, same channel), a staff task (same instant), suppressed (same kind of reason) or
 * never reached — since both ask src/core/stage-decision.ts. Pure: no Temporal, no database.
 *
 * The preview follows a client who never books or replies; a scenario's booking, cancellation or
 * no-show is compared up to the first of them (what the simulator does after one is its own
 * lifecycle, covered by test/simulator/lifecycle.test.ts).
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type PreviewClinic, previewClinic } from '../../src/preview/clinic.js';
import { previewTimeline } from '../../src/preview/timeline.js';
import { type BookingRates, DEFAULT_RATES_BY_PURPOSE } from '../../src/simulator/booking-rates.js';
import { simulate } from '../../src/simulator/engine.js';
import { parseHistoryCsv } from '../../src/simulator/history-csv.js';
import {
  SCENARIO_CLINIC_ID,
  SCENARIO_SEND_WINDOW,
  STAGE_SCENARIOS,
  type StageScenario,
  scenarioEventAt,
  scenarioPreviewInput,
  scenarioTreatmentAt,
} from '../helpers/stage-scenarios.js';
import { csv } from './helpers.js';

const CONFIG = fileURLToPath(new URL('../../config', import.meta.url));
const FROM = Date.parse('2026-03-02T05:00:00Z');
let clinic: PreviewClinic;

beforeAll(() => {
  clinic = { ...previewClinic(loadConfig(CONFIG), SCENARIO_CLINIC_ID), sendWindow: SCENARIO_SEND_WINDOW };
});

type Outcome = [stage: string, decision: string, at?: string, channel?: string];

function simulated(scenario: StageScenario, treatedAt: number): Outcome[] {
  const c = scenario.client;
  const text = csv([
    [
      'c1',
      'a1',
      scenario.service,
      new Date(treatedAt).toISOString(),
      '',
      c.email ? 'y' : '',
      c.phone ?? '',
      c.consent.sms ? 'y' : 'n',
      c.consent.email ? 'y' : 'n',
    ],
  ]);
  const rows = parseHistoryCsv(text, clinic.timeZone).rows;
  const r = simulate(rows, clinic, {
    months: 12,
    seed: 1,
    // Nobody books: the client the preview follows.
    rates: {
      byStageKey: {},
      byPurpose: Object.fromEntries(
        Object.keys(DEFAULT_RATES_BY_PURPOSE).map((k) => [k, 0]),
      ) as BookingRates['byPurpose'],
    },
    lifecycle: { noShow: 0, cancel: 0, rebookAfterCancel: 0 },
    leadDays: 14,
    traceClients: new Set(['c1']),
  });
  const out: Outcome[] = [];
  for (const e of r.trace ?? []) {
    if (e.kind === 'sent') out.push([e.stage!, 'sent', e.at, e.channel]);
    else if (e.kind === 'staff_task') out.push([e.stage!, `staff_task ${e.detail}`, e.at]);
    else if (e.kind === 'suppressed_caps') out.push([e.stage!, 'suppressed capped']);
    else if (e.kind === 'suppressed_no_channel') out.push([e.stage!, `suppressed ${e.detail}`]);
    else if (e.kind === 'suppressed_holdout') out.push([e.stage!, 'suppressed holdout']);
  }
  return out;
}

function previewed(scenario: StageScenario, treatedAt: number): Outcome[] {
  const p = previewTimeline(clinic, scenarioPreviewInput(scenario, treatedAt));
  return p.stages.flatMap((s): Outcome[] => {
    if (s.outcome === 'sent') return [[s.key, 'sent', s.at!.at, s.channel]];
    if (s.outcome === 'staff_task') return [[s.key, `staff_task ${s.reason}`, s.at!.at]];
    if (s.outcome === 'suppressed') return [[s.key, `suppressed ${s.reason}`]];
    if (s.outcome === 'skipped') return [];
    throw new Error(`${scenario.name}: stage ${s.key} is a config error in the preview: ${s.reason}`);
  });
}

/** Scenarios whose first event comes before any stage is due: the preview has nothing to compare them with. */
const NOT_COMPARABLE = ['pre-booked at checkout'];

describe('the simulator decides every stage as the preview does', () => {
  it('compares every scenario of the table but those booked before any stage (the preview never books)', () => {
    expect(STAGE_SCENARIOS.filter((s) => s.events?.some((e) => e.day === 0)).map((s) => s.name)).toEqual(
      NOT_COMPARABLE,
    );
  });

  it.each(STAGE_SCENARIOS.filter((s) => !NOT_COMPARABLE.includes(s.name)).map((s) => [s.name, s] as const))(
    '%s',
    (_, scenario) => {
      const treatedAt = scenarioTreatmentAt(scenario, FROM);
      const firstEvent = scenario.events?.length
        ? Math.min(...scenario.events.map((e) => scenarioEventAt(e, treatedAt)))
        : Number.POSITIVE_INFINITY;
      const preview = previewed(scenario, treatedAt);
      // Up to the first event the scenario's client behaves as the preview's: compare those stages.
      const dueBefore = new Set(
        previewTimeline(clinic, scenarioPreviewInput(scenario, treatedAt))
          .stages.filter((s) => Date.parse(s.due.at) < firstEvent)
          .map((s) => s.key),
      );
      const sim = simulated(scenario, treatedAt);
      expect(sim.filter((o) => dueBefore.has(o[0]))).toEqual(preview.filter((o) => dueBefore.has(o[0])));
      expect(preview.filter((o) => dueBefore.has(o[0])).length).toBeGreaterThan(0);
    },
  );
});
