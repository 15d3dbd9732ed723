/**
 * The two days a cancelled booking may be replaced are the clinic's setting (issue 11 §2,
 * `cancelRebookGraceDays`): a clinic that says 5 hears nothing for five days after a
 * cancellation, then the recovery touch goes out. On the time-skipping server, from ingest inward.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { treatmentSlot } from '../helpers/clinic-time.js';
import { booking, DAY_MS, type Engine, iso, perWorkflow, startEngine, treatment } from '../helpers/engine.js';

let e: Engine;
let configDir: string;
beforeAll(async () => {
  configDir = mkdtempSync(join(tmpdir(), 'rebook-grace-'));
  cpSync('config', configDir, { recursive: true });
  const clinic = join(configDir, 'clinics', 'demo-clinic.yaml');
  writeFileSync(clinic, `${readFileSync(clinic, 'utf8')}\ncancelRebookGraceDays: 5\n`);
  e = await startEngine({ configDir });
});
afterAll(async () => {
  await e?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});
const { ledger } = perWorkflow(() => e);

it('a clinic that gives five days to rebook after a cancellation: the recovery touch comes on day five, not two', async () => {
  const t0 = await treatmentSlot(e);
  await e.send(
    treatment({ clientId: 'grace5', appointmentId: 'grace5-appt', service: 'Botox 20u', completedAt: iso(t0) }),
  );
  const wf = await e.workflowIdFor('grace5');
  await e.sleepUntil(t0 + 85 * DAY_MS);
  await e.send(booking('grace5', 'grace5-next', t0 + 92 * DAY_MS));
  await e.sleepUntil(t0 + 86 * DAY_MS);
  const cancelAt = e.now();
  await e.send({ type: 'appointment.cancelled', clientId: 'grace5', appointmentId: 'grace5-next' });
  const recoveries = async () => (await ledger(wf)).filter((m) => m.stage === 'recovery_cancelled');
  // Past the default two days, inside the clinic's five: still nothing.
  await e.sleepUntil(cancelAt + 5 * DAY_MS - 3_600_000);
  expect(await recoveries()).toEqual([]);
  await e.sleepUntil(cancelAt + 6 * DAY_MS);
  const [recovery] = await recoveries();
  expect(recovery!.attemptedAt!.getTime()).toBeGreaterThanOrEqual(cancelAt + 5 * DAY_MS);
});
