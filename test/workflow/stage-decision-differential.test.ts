/**
 * One stage decision, everywhere (issue 11 §5): every scenario of test/helpers/stage-scenarios.ts
 * runs through the real workflow on the time-skipping server (from the ingest the events API
 * calls inward: real activities, database and outbox) and through previewTimeline, and the two
 * must agree on every stage — sent (channel, instant), suppressed (reason) or escalated to staff
 * (reason, instant) — and on which stages never happen. Neither side is the expectation: a
 * disagreement is a rule decided in two places.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { previewClinic } from '../../src/preview/clinic.js';
import { type PreviewResult, previewTimeline } from '../../src/preview/timeline.js';
import { statusQuery } from '../../workflows/definitions.js';
import { booking, DAY_MS, type Engine, iso, perWorkflow, startEngine, treatment } from '../helpers/engine.js';
import {
  SCENARIO_CLINIC_ID,
  SCENARIO_SEND_WINDOW_YAML,
  STAGE_SCENARIOS,
  type StageScenario,
  scenarioBookedStartAt,
  scenarioEventAt,
  scenarioPreviewInput,
  scenarioTreatmentAt,
} from '../helpers/stage-scenarios.js';

/** The demo clinic with the product's default send window (Monday to Saturday), in a copy of config/. */
const configDir = mkdtempSync(join(tmpdir(), 'rebook-differential-'));
cpSync('config', configDir, { recursive: true });
const clinicFile = join(configDir, 'clinics', `${SCENARIO_CLINIC_ID}.yaml`);
const yaml = readFileSync(clinicFile, 'utf8');
if (!/^sendWindow: .*$/m.test(yaml)) throw new Error('the demo clinic no longer sets its send window on one line');
writeFileSync(clinicFile, yaml.replace(/^sendWindow: .*$/m, SCENARIO_SEND_WINDOW_YAML));
const clinic = previewClinic(loadConfig(configDir), SCENARIO_CLINIC_ID);

let e: Engine;
beforeAll(async () => {
  e = await startEngine({ configDir });
});
afterAll(async () => {
  await e?.stop();
  rmSync(configDir, { recursive: true, force: true });
});
const { ledger } = perWorkflow(() => e);

/** One stage as both sides report it: what happened, why, on which channel, when (to the minute). */
interface Decided {
  stage: string;
  decision: 'sent' | 'suppressed' | 'escalated';
  reason?: string;
  channel?: string;
  at?: string;
}

/** Workflow timers fire a moment after their instant: instants agree within a minute. */
const minute = (ms: number) => iso(Math.floor(ms / 60_000) * 60_000);

/** The preview's stages due by `horizonMs` (the preview runs to the end of the lifecycle). */
function fromPreview(r: PreviewResult, horizonMs: number): Decided[] {
  const out: Decided[] = [];
  for (const s of r.stages) {
    if (Date.parse(s.due.at) > horizonMs) continue;
    if (s.outcome === 'sent')
      out.push({ stage: s.key, decision: 'sent', channel: s.channel!, at: minute(Date.parse(s.at!.at)) });
    else if (s.outcome === 'suppressed') out.push({ stage: s.key, decision: 'suppressed', reason: s.reason! });
    else if (s.outcome === 'staff_task')
      out.push({ stage: s.key, decision: 'escalated', reason: s.reason!, at: minute(Date.parse(s.at!.at)) });
    else if (s.outcome === 'config_error') throw new Error(`preview: config error at ${s.key}: ${s.reason}`);
    // `skipped`: the workflow records nothing for it either.
  }
  return out;
}

async function fromWorkflow(workflowId: string): Promise<Decided[]> {
  const status = await e.client.workflow.getHandle(workflowId).query(statusQuery);
  const sent = new Map(
    (await ledger(workflowId))
      .filter((m) => m.channel === 'sms' || m.channel === 'email')
      .map((m) => [m.stage, m] as const),
  );
  const out: Decided[] = [];
  for (const h of status.history) {
    if (h.event === 'sent') {
      const m = sent.get(h.stage);
      out.push({
        stage: h.stage,
        decision: 'sent',
        channel: h.detail!,
        at: minute((m?.sentAt ?? new Date(h.at)).getTime()),
      });
    } else if (h.event === 'suppressed') out.push({ stage: h.stage, decision: 'suppressed', reason: h.detail! });
    else if (h.event === 'escalated')
      out.push({ stage: h.stage, decision: 'escalated', reason: h.detail!, at: minute(Date.parse(h.at)) });
  }
  return out;
}

let n = 0;
async function run(scenario: StageScenario) {
  const clientId = `diff-${++n}`;
  const t0 = scenarioTreatmentAt(scenario, e.now());
  await e.sleepUntil(t0);
  const [res] = await e.send(
    treatment({
      clientId,
      appointmentId: `${clientId}-appt`,
      service: scenario.service,
      completedAt: iso(t0),
      email: scenario.client.email,
      phone: scenario.client.phone,
      consent: scenario.client.consent,
    }),
  );
  expect(res).toMatchObject({ status: 'accepted', enrolled: true, treatmentType: scenario.treatmentType });
  for (const event of scenario.events ?? []) {
    await e.sleepUntil(scenarioEventAt(event, t0));
    const appointmentId = `${clientId}-${event.appointmentId}`;
    const [r] = await e.send(
      event.kind === 'booked'
        ? booking(clientId, appointmentId, scenarioBookedStartAt(event, t0))
        : {
            type: event.kind === 'cancelled' ? 'appointment.cancelled' : 'appointment.no_show',
            clientId,
            appointmentId,
          },
    );
    expect(r).toMatchObject({ status: 'accepted' });
  }
  await e.sleepUntil(t0 + scenario.untilDay * DAY_MS);
  const workflow = await fromWorkflow(await e.workflowIdFor(clientId, scenario.treatmentType));
  const preview = fromPreview(
    previewTimeline(clinic, scenarioPreviewInput(scenario, t0)),
    t0 + scenario.untilDay * DAY_MS,
  );
  return { workflow, preview };
}

it.each(STAGE_SCENARIOS.map((s) => [s.name, s] as const))(
  '%s: workflow and preview decide every stage alike',
  async (_, scenario) => {
    const { workflow, preview } = await run(scenario);
    expect(workflow).toEqual(preview);
    expect(workflow.length).toBeGreaterThan(0);
  },
);
