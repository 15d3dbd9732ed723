/**
 * The offer each kind of client receives (issue 14 §3), end to end: treatments and memberships go
 * in through ingest, the sequence runs on the time-skipping server with the real worker and
 * activities, PGlite and the outbox; the day-90 incentive SMS is read from the ledger. Credits left
 * → "use your credit" wording, no code; a member price → no stacked discount; loyalty tiers from
 * the ingested last 12 months; the 20 % ceiling on a tier's amount; the reason on each ledger row.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { incentives } from '../../src/db/schema.js';
import type { CanonicalEvent } from '../../src/ingest/events.js';
import { demoDue, treatmentSlot } from '../helpers/clinic-time.js';
import { DAY_MS, type Engine, iso, MINUTE_MS, perWorkflow, startEngine, treatment } from '../helpers/engine.js';

let e: Engine;
let configDir: string;
beforeAll(async () => {
  configDir = mkdtempSync(join(tmpdir(), 'rebook-offers-'));
  mkdirSync(join(configDir, 'clinics'));
  writeFileSync(join(configDir, 'catalog.yaml'), readFileSync('config/catalog.yaml', 'utf8'));
  const demo = parse(readFileSync('config/clinics/demo-clinic.yaml', 'utf8'));
  demo.incentives = {
    loyalty: [
      { name: 'VIP', minVisits: 6, minSpend: 3000, gift: 'a complimentary add-on' },
      // $500 off a $525 treatment: cut to the 20 % ceiling ($105).
      { name: 'Regular', minVisits: 3, amountOff: 500 },
    ],
  };
  writeFileSync(join(configDir, 'clinics', 'demo-clinic.yaml'), stringify(demo));
  e = await startEngine({ configDir });
});
afterAll(async () => {
  await e?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});
const { ledger } = perWorkflow(() => e);

const priced = (ev: CanonicalEvent, price: number): CanonicalEvent => ({ ...ev, price }) as CanonicalEvent;
/** A completed Botox visit `daysAgo` before the anchor, too old to start a sequence: history only. */
const pastVisit = (clientId: string, t0: number, daysAgo: number, price = 525) =>
  priced(
    treatment({ clientId, appointmentId: `${clientId}-past-${daysAgo}`, completedAt: iso(t0 - daysAgo * DAY_MS) }),
    price,
  );
const membership = (clientId: string, plan: Record<string, unknown>): CanonicalEvent =>
  ({
    type: 'client.membership',
    clientId,
    plan: { id: `${clientId}-plan`, status: 'active', ...plan },
  }) as CanonicalEvent;

describe('the day-90 offer by client', () => {
  it('each client gets the offer their plans and their last 12 months earn, with the reason on the ledger row', async () => {
    const t0 = await treatmentSlot(e);
    const history: Record<string, CanonicalEvent[]> = {
      'first-timer': [],
      'no-membership': [pastVisit('no-membership', t0, 140), pastVisit('no-membership', t0, 400)],
      'credits-left': [
        membership('credits-left', {
          kind: 'package',
          name: 'Botox x3',
          benefits: [{ service: { name: 'Botox 20u' }, creditsLeft: 1 }],
        }),
      ],
      'expired-package': [
        membership('expired-package', {
          kind: 'package',
          name: 'Botox x3',
          status: 'expired',
          benefits: [{ treatmentType: 'neuromodulator', creditsLeft: 2 }],
        }),
      ],
      // A member who is also a VIP by visits: the member price, no stacked tier offer.
      'discounted-plan': [
        membership('discounted-plan', { kind: 'membership', name: 'Glow Club', benefits: [{ percentOff: 10 }] }),
        ...[130, 160, 190, 220, 250].map((d) => pastVisit('discounted-plan', t0, d)),
      ],
      'vip-visits': [130, 160, 190, 220, 250].map((d) => pastVisit('vip-visits', t0, d)),
      'vip-spend': [pastVisit('vip-spend', t0, 200, 3000)],
      regular: [pastVisit('regular', t0, 150), pastVisit('regular', t0, 200)],
    };
    // Completed visits first (the client row exists before its plans arrive), then the anchor.
    for (const [id, events] of Object.entries(history)) {
      const visits = events.filter((ev) => ev.type === 'treatment.completed');
      if (visits.length)
        for (const r of await e.send(...visits)) expect(r).toMatchObject({ enrolled: false, reason: 'window_passed' });
      const anchor = await e.send(
        priced(treatment({ clientId: id, appointmentId: `${id}-now`, completedAt: iso(t0) }), 525),
      );
      expect(anchor[0]).toMatchObject({ enrolled: true });
      const plans = events.filter((ev) => ev.type === 'client.membership');
      if (plans.length) expect(await e.send(...plans)).toMatchObject([{ status: 'accepted', plansUpdated: 1 }]);
    }
    await e.sleepUntil(demoDue(t0, 90) + 5 * MINUTE_MS);

    const expected: Record<string, { text: RegExp; reason: string; code: boolean }> = {
      'first-timer': {
        text: /next visit\? 15% off with code [0-9A-Z-]{19}, valid until/,
        reason: 'price_tier',
        code: true,
      },
      'no-membership': { text: /next visit\? 15% off with code /, reason: 'price_tier', code: true },
      'credits-left': {
        text: /next visit\? your credit is waiting, valid until/,
        reason: 'package_credit',
        code: false,
      },
      'expired-package': { text: /next visit\? 15% off with code /, reason: 'price_tier', code: true },
      'discounted-plan': {
        text: /next visit\? your Glow Club member price, valid until/,
        reason: 'member_discount',
        code: false,
      },
      'vip-visits': { text: /next visit\? a complimentary add-on with code /, reason: 'loyalty_tier', code: true },
      'vip-spend': { text: /next visit\? a complimentary add-on with code /, reason: 'loyalty_tier', code: true },
      regular: { text: /next visit\? \$105 off with code /, reason: 'loyalty_tier', code: true },
    };
    const got: Record<string, { body: string | null; reason: string | null; codes: number }> = {};
    for (const id of Object.keys(expected)) {
      const wf = await e.workflowIdFor(id);
      const offer = (await ledger(wf)).find((m) => m.stage === 'incentive');
      const codes = await e.database.db.select().from(incentives).where(eq(incentives.workflowId, wf));
      got[id] = { body: offer?.body ?? null, reason: offer?.offerReason ?? null, codes: codes.length };
      if (codes[0]) expect(codes[0].reason, id).toBe(expected[id]!.reason);
    }
    for (const [id, want] of Object.entries(expected)) {
      expect(got[id]!.body, id).toMatch(want.text);
      expect(got[id]!.reason, id).toBe(want.reason);
      expect(got[id]!.codes, id).toBe(want.code ? 1 : 0);
      if (!want.code) expect(got[id]!.body, id).not.toMatch(/with code|% off|\$\d+ off/);
    }
    // Stages without an offer carry no reason.
    const reminder = (await ledger(await e.workflowIdFor('first-timer'))).find((m) => m.stage === 'reminder');
    expect(reminder?.offerReason).toBeNull();
  });
});
