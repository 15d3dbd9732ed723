/**
 * Stage variants on the real time-skipping server (issue 13 §2): each client's reminder goes out
 * as the email or the SMS variant and its incentive as the 15 %-off (10:00) or the $25-off (15:00)
 * variant, as the keyed hash of clinic, client and stage says; every ledger row carries its
 * variant, the offer is the variant's, the send time is the variant's, and the wait for a later
 * send time is not reported as a hold.
 */
import { createHmac } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { drawFromDigest } from '../../src/core/holdout.js';
import { deliveryHolds, incentives } from '../../src/db/schema.js';
import { localTimeOnDay, treatmentSlot } from '../helpers/clinic-time.js';
import { CLINIC_ID, DAY_MS, type Engine, iso, perWorkflow, startEngine, treatment } from '../helpers/engine.js';

const SECRET = 'workflow-variant-secret-0123456789';
const VARIANTS = `
variants:
  reminder:
    - { name: email-copy }
    - name: sms-copy
      channel: sms
      templates:
        sms: { body: "{{clinicName}}: Hi {{firstName}}, your results are fading. Book: {{bookingUrl}} Reply STOP to opt out." }
  incentive:
    - { name: pct15, weight: 1, offer: { percentOff: 15 } }
    - { name: usd25, weight: 1, offer: { amountOff: 25 }, sendTime: "15:00" }
`;

let e: Engine;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rebook-variants-wf-'));
  cpSync('config', dir, { recursive: true });
  const file = join(dir, 'clinics', 'demo-clinic.yaml');
  writeFileSync(file, `${readFileSync(file, 'utf8')}\n${VARIANTS}`);
  e = await startEngine({ configDir: dir, holdoutSecret: SECRET });
});
afterAll(async () => e?.stop());
const { ledger } = perWorkflow(() => e);

/** The test's own reading of the rule: HMAC-SHA256 of "rebook-variant|clinic|client|stage", first 48 bits. */
const firstHalf = (clientUuid: string, stage: string) =>
  drawFromDigest(createHmac('sha256', SECRET).update(`rebook-variant|${CLINIC_ID}|${clientUuid}|${stage}`).digest()) <
  0.5;

it('each ledger row carries the variant the keyed hash gives the client, with its channel, offer and send time', async () => {
  const t0 = await treatmentSlot(e);
  const names = Array.from({ length: 16 }, (_, i) => `var-${i}`);
  const res = await e.send(
    ...names.map((id, i) =>
      treatment({
        clientId: id,
        appointmentId: `${id}-appt`,
        completedAt: iso(t0),
        email: `v${i}@example.com`,
        phone: `+1212555${String(1000 + i)}`,
      }),
    ),
  );
  expect(res.every((r) => r.status === 'accepted')).toBe(true);
  await e.sleepUntil(t0 + 101 * DAY_MS);

  const seen = { reminder: new Set<string>(), incentive: new Set<string>() };
  for (const id of names) {
    const wf = await e.workflowIdFor(id);
    const uuid = await e.clientUuid(id);
    const rows = await ledger(wf);
    const byStage = new Map(rows.map((m) => [m.stage, m]));
    // Stages without variants carry none.
    expect(byStage.get('care_checkin')?.variant).toBeNull();
    expect(byStage.get('results_checkin')?.variant).toBeNull();

    const reminder = byStage.get('reminder')!;
    const rv = firstHalf(uuid, 'reminder') ? 'email-copy' : 'sms-copy';
    expect([reminder.variant, reminder.channel]).toEqual([rv, rv === 'email-copy' ? 'email' : 'sms']);
    if (rv === 'sms-copy') expect(reminder.body).toContain('your results are fading');
    seen.reminder.add(reminder.variant!);

    const incentive = byStage.get('incentive')!;
    const iv = firstHalf(uuid, 'incentive') ? 'pct15' : 'usd25';
    expect(incentive.variant).toBe(iv);
    seen.incentive.add(iv);
    const [offer] = await e.database.db.select().from(incentives).where(eq(incentives.workflowId, wf));
    expect(offer?.description).toBe(iv === 'pct15' ? '15% off' : '$25 off');
    expect(incentive.body).toContain(offer!.description);
    // The $25 variant waits for 15:00 on the stage's day; the other goes at the clinic's 10:00.
    // (Activity time is the workflow's, a few ms after the timer fired.)
    const due = localTimeOnDay(t0, 90, iv === 'pct15' ? '10:00' : '15:00', 'America/New_York');
    expect(incentive.attemptedAt!.getTime() - due).toBeGreaterThanOrEqual(0);
    expect(incentive.attemptedAt!.getTime() - due).toBeLessThan(60_000);
    const holds = await e.database.db.select().from(deliveryHolds).where(eq(deliveryHolds.workflowId, wf));
    expect(holds.filter((h) => h.reason === 'variant_send_time')).toEqual([]);
  }
  // Sixteen clients and two equal variants: both appear unless the hash is broken (2^-15 otherwise).
  expect(seen.reminder.size).toBe(2);
  expect(seen.incentive.size).toBe(2);
});
