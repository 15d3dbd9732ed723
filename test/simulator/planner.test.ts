/**
 * The simulator's memoized planner must be `planSequence` itself, only cheaper: same due instants
 * for any anchor, any zone, any send time, day-0 stages included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planSequence } from '../../src/core/plan.js';
import { DEFAULT_REACTIVATION, planReactivation } from '../../src/core/reactivation.js';
import type { TreatmentTypeDefinition } from '../../src/core/types.js';
import { createPlanner } from '../../src/simulator/engine.js';

const types: TreatmentTypeDefinition[] = [
  {
    key: 'neuromodulator',
    label: 'Botox',
    intervalDays: 90,
    synonyms: [],
    stages: [
      { key: 'reminder', day: 80, channel: 'email', purpose: 'reminder' },
      { key: 'incentive', day: 90, channel: 'sms', purpose: 'incentive' },
      { key: 'results_checkin', day: 95, channel: 'email', purpose: 'checkin' },
      { key: 'staff_escalation', day: 100, channel: 'staff', purpose: 'escalation' },
    ],
  },
  {
    // A same-day care message: due at the send time, but never before the treatment itself.
    key: 'aftercare',
    label: 'aftercare',
    intervalDays: 14,
    synonyms: [],
    stages: [
      { key: 'day0', day: 0, channel: 'sms', purpose: 'care' },
      { key: 'day1', day: 1, channel: 'sms', purpose: 'care' },
      { key: 'results', day: 10, channel: 'email', purpose: 'checkin' },
    ],
  },
];

const zones = [
  'America/New_York',
  'America/Los_Angeles',
  'Europe/London',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'America/Santiago',
  'UTC',
];

describe('createPlanner', () => {
  it('gives the due instants and window end planSequence gives, for any anchor', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.constantFrom('00:00', '02:30', '09:15', '10:00', '23:59'),
        fc.constantFrom(...types),
        fc.array(fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2028, 11, 31) }), {
          minLength: 1,
          maxLength: 6,
        }),
        (timeZone, sendTime, type, anchors) => {
          // One planner per case, several anchors: cached days must serve later anchors correctly.
          const planner = createPlanner({ timeZone, sendTime });
          for (const anchorMs of anchors) {
            const fast = planner(type, anchorMs);
            const real = planSequence(type, new Date(anchorMs).toISOString(), { timeZone, sendTime });
            const later = planReactivation(real, DEFAULT_REACTIVATION, { timeZone, sendTime, spacingMs: 86_400_000 });
            const stages = [...real.stages, ...later.stages];
            expect(fast.dues).toEqual(stages.map((s) => Math.max(Date.parse(s.dueAt), anchorMs)));
            expect(fast.stages.map((s) => s.key)).toEqual(stages.map((s) => s.key));
            expect(fast.planned).toBe(real.stages.length);
            expect(fast.windowEndsAt).toBe(Date.parse(real.windowEndsAt));
            expect(fast.churnAt).toBe(Date.parse(later.churnAt));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('serves two anchors on the same local day from one plan, each bounded by its own anchor', () => {
    const planner = createPlanner({ timeZone: 'America/New_York', sendTime: '10:00' });
    const early = planner(types[1]!, Date.parse('2026-03-02T13:00:00Z')); // 08:00 EST
    const late = planner(types[1]!, Date.parse('2026-03-02T20:00:00Z')); // 15:00 EST
    expect(early.dues[0]).toBe(Date.parse('2026-03-02T15:00:00Z')); // 10:00 the same day
    expect(late.dues[0]).toBe(Date.parse('2026-03-02T20:00:00Z')); // not before the treatment
    expect(late.dues[1]).toBe(early.dues[1]);
  });
});
