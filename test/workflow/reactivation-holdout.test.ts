/**
 * Reactivation and win-back are marketing (issue 11 §3): a held-out client (issue 13) gets none
 * of them, each recorded as held back for `holdout`, and the sequence still ends `churned`.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliveryHolds } from '../../src/db/schema.js';
import { demoDayEnd, treatmentSlot } from '../helpers/clinic-time.js';
import { type Engine, iso, MINUTE_MS, perWorkflow, startEngine, treatment } from '../helpers/engine.js';

let e: Engine;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rebook-winback-holdout-'));
  cpSync('config', dir, { recursive: true });
  const file = join(dir, 'clinics', 'demo-clinic.yaml');
  writeFileSync(file, `${readFileSync(file, 'utf8')}\nlift: { holdout: 0.5 }\n`);
  e = await startEngine({ configDir: dir, holdoutSecret: 'winback-holdout-secret-0123456789' });
});
afterAll(async () => e?.stop());
const { ledger, tasksOf, rowOf } = perWorkflow(() => e);

it('a held-out client gets no reactivation or win-back touch and churns like anyone', async () => {
  const t0 = await treatmentSlot(e);
  const names = Array.from({ length: 8 }, (_, i) => `wbh-${i}`);
  await e.send(
    ...names.map((id, i) =>
      treatment({ clientId: id, appointmentId: `${id}-appt`, completedAt: iso(t0), email: `wbh${i}@example.com` }),
    ),
  );
  const wfs = await Promise.all(names.map((id) => e.workflowIdFor(id)));
  const arms = await Promise.all(wfs.map(async (wf) => ({ wf, arm: (await rowOf(wf))?.arm })));
  const held = arms.find((a) => a.arm === 'holdout');
  const treated = arms.find((a) => a.arm === 'treated');
  // Eight clients at 50%: both arms are present unless the hash is broken (2^-7 otherwise).
  expect(held && treated).toBeTruthy();

  await e.sleepUntil(demoDayEnd(t0, 240) + MINUTE_MS);
  expect((await ledger(held!.wf)).map((m) => m.stage)).toEqual(['care_checkin', 'care_results']);
  expect(await tasksOf(held!.wf)).toEqual([]);
  const holds = await e.database.db.select().from(deliveryHolds).where(eq(deliveryHolds.workflowId, held!.wf));
  expect(holds.map((h) => [h.stage, h.reason]).filter(([s]) => /reactivation|winback/.test(s!))).toEqual([
    ['reactivation', 'holdout'],
    ['winback_1', 'holdout'],
    ['winback_2', 'holdout'],
  ]);
  expect(await e.result(held!.wf)).toMatchObject({ outcome: 'churned' });
  // The treated client of the same batch got them.
  expect((await ledger(treated!.wf)).map((m) => m.stage)).toEqual(
    expect.arrayContaining(['reactivation', 'winback_1', 'winback_2']),
  );
  expect(await e.result(treated!.wf)).toMatchObject({ outcome: 'churned', outcomeStage: 'winback_2' });
});
