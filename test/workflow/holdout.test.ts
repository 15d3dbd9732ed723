/**
 * A held-out client on the real time-skipping server (issue 13): no marketing message and no
 * staff task, each stage recorded as suppressed with reason `holdout`, and the booking still
 * ends the sequence as `booked`; treated clients of the same batch get the program.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliveryHolds, sequenceRuns } from '../../src/db/schema.js';
import { holdoutDraw } from '../../src/ingest/holdout.js';
import { statusQuery } from '../../workflows/definitions.js';
import { treatmentSlot } from '../helpers/clinic-time.js';
import {
  booking,
  CLINIC_ID,
  DAY_MS,
  type Engine,
  iso,
  perWorkflow,
  startEngine,
  treatment,
} from '../helpers/engine.js';

const SECRET = 'workflow-holdout-secret-0123456789';
let e: Engine;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rebook-holdout-wf-'));
  cpSync('config', dir, { recursive: true });
  const file = join(dir, 'clinics', 'demo-clinic.yaml');
  writeFileSync(file, `${readFileSync(file, 'utf8')}\nlift: { holdout: 0.5 }\n`);
  e = await startEngine({ configDir: dir, holdoutSecret: SECRET });
});
afterAll(async () => e?.stop());
const { ledger, tasksOf, rowOf } = perWorkflow(() => e);

it('a held-out client gets no marketing touch and no staff call, and still books; treated clients get all four stages', async () => {
  const t0 = await treatmentSlot(e);
  // Sixteen clients at a 50% holdout: both arms are present unless the hash is broken (2^-15 otherwise).
  const names = Array.from({ length: 16 }, (_, i) => `hold-${i}`);
  const res = await e.send(
    ...names.map((id, i) =>
      treatment({ clientId: id, appointmentId: `${id}-appt`, completedAt: iso(t0), email: `c${i}@example.com` }),
    ),
  );
  expect(res.every((r) => r.status === 'accepted')).toBe(true);
  const enrolled = await Promise.all(
    names.map(async (id) => {
      const wf = await e.workflowIdFor(id);
      const row = await rowOf(wf);
      return { id, wf, arm: row?.arm, expected: holdoutDraw(SECRET, CLINIC_ID, await e.clientUuid(id)) < 0.5 };
    }),
  );
  // The arm recorded at enrolment is the keyed hash's.
  for (const s of enrolled) expect(s.arm).toBe(s.expected ? 'holdout' : 'treated');
  const held = enrolled.filter((s) => s.arm === 'holdout');
  const treated = enrolled.filter((s) => s.arm === 'treated');
  expect(held.length).toBeGreaterThan(0);
  expect(treated.length).toBeGreaterThan(0);

  await e.sleepUntil(t0 + 101 * DAY_MS);
  for (const s of held) {
    // Care touches (clinical check-ins) go to everyone; nothing else does.
    expect((await ledger(s.wf)).map((m) => [m.stage, m.arm])).toEqual([
      ['care_checkin', 'holdout'],
      ['care_results', 'holdout'],
    ]);
    expect(await tasksOf(s.wf)).toEqual([]);
    const holds = await e.database.db.select().from(deliveryHolds).where(eq(deliveryHolds.workflowId, s.wf));
    expect(holds.map((h) => [h.stage, h.kind, h.reason]).sort()).toEqual(
      [
        ['incentive', 'suppressed', 'holdout'],
        ['reminder', 'suppressed', 'holdout'],
        ['results_checkin', 'suppressed', 'holdout'],
        ['staff_escalation', 'suppressed', 'holdout'],
      ].sort(),
    );
  }
  for (const s of treated) {
    const msgs = await ledger(s.wf);
    expect(msgs.map((m) => [m.stage, m.arm])).toEqual([
      ['care_checkin', 'treated'],
      ['care_results', 'treated'],
      ['reminder', 'treated'],
      ['incentive', 'treated'],
      ['results_checkin', 'treated'],
      ['staff_escalation', 'treated'], // the front desk's alert
    ]);
    expect((await tasksOf(s.wf)).length).toBe(1);
  }

  // The held-out client books like anyone else: the sequence records the outcome, in its arm.
  const booker = held[0]!;
  await e.send(booking(booker.id, `${booker.id}-next`, e.now() + 7 * DAY_MS));
  await e.sleep('1m');
  // Booked; the sequence watches the visit (issue 11).
  expect(await e.client.workflow.getHandle(booker.wf).query(statusQuery)).toMatchObject({ outcome: 'booked' });
  expect(await rowOf(booker.wf)).toMatchObject({ outcome: 'booked', running: true, arm: 'holdout' });
  const runs = await e.database.db.select().from(sequenceRuns).where(eq(sequenceRuns.workflowId, booker.wf));
  expect(runs.map((r) => [r.outcome, r.arm])).toEqual([['booked', 'holdout']]);
});
