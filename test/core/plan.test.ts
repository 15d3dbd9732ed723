import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, treatmentTypesFor } from '../../src/config/load.js';
import { isCareTouch } from '../../src/core/message-category.js';
import { planSequence, reactivationStage, windowPassed } from '../../src/core/plan.js';
import type { StageChannel, StageDefinition, TreatmentTypeDefinition } from '../../src/core/types.js';
import { oracleInstantsReading, oracleOffsetMinutes, oracleWall, type Wall } from './wall-clock-oracle.js';

const configDir = fileURLToPath(new URL('../../config', import.meta.url));
let catalog: Map<string, TreatmentTypeDefinition>;

beforeAll(() => {
  const cfg = loadConfig(configDir);
  catalog = treatmentTypesFor(cfg, cfg.clinics.get('demo-clinic')!);
});

function type(key: string): TreatmentTypeDefinition {
  const t = catalog.get(key);
  if (!t) throw new Error(`catalog has no ${key}`);
  return t;
}

/** The rebooking stages: the catalog's care touches (issue 11) are checked on their own below. */
const marketing = <T extends Pick<StageDefinition, 'purpose'>>(stages: readonly T[]) =>
  stages.filter((s) => !isCareTouch(s));

describe('default catalog matches the domain table', () => {
  it.each([
    ['neuromodulator', 90, [80, 90, 95, 100]],
    ['lip_filler', 180, [160, 175, 180, 190]],
    ['cheek_filler', 270, [250, 265, 270, 280]],
    ['kybella', 42, [35, 40, 42, 45]],
    ['sculptra', 365, [340, 355, 360, 370]],
  ] as const)('%s: interval %d, days %o, email/sms/email/staff', (key, interval, days) => {
    const t = type(key);
    expect(t.intervalDays).toBe(interval);
    expect(marketing(t.stages).map((s) => s.day)).toEqual(days);
    expect(marketing(t.stages).map((s) => s.channel)).toEqual(['email', 'sms', 'email', 'staff']);
    expect(marketing(t.stages).map((s) => s.purpose)).toEqual(['reminder', 'incentive', 'checkin', 'escalation']);
  });

  it.each([
    ['neuromodulator', [1, 12], ['sms', 'email']],
    ['lip_filler', [1, 14], ['sms', 'email']],
    ['cheek_filler', [1, 14], ['sms', 'email']],
  ] as const)('%s: care touches on days %o by %o (issue 11)', (key, days, channels) => {
    const care = type(key).stages.filter(isCareTouch);
    expect(care.map((s) => s.day)).toEqual(days);
    expect(care.map((s) => s.channel)).toEqual(channels);
  });
});

// Expected instants worked out by hand: local treatment date + N calendar days, 10:00 on the
// clinic's clock in whatever offset is in force on that date (see zoned-time.test.ts for the
// 2026 transition dates).
const catalogCases: {
  name: string;
  type: string;
  tz: string;
  completedAt: string;
  due: [string, number, StageChannel, string][];
  windowEndsAt: string;
  reactivationAt: string;
}[] = [
  {
    name: 'neuromodulator, New York, treated in EST, due after spring-forward (EDT)',
    type: 'neuromodulator',
    tz: 'America/New_York',
    completedAt: '2026-01-15T15:00:00Z', // 10:00 EST Jan 15
    due: [
      ['reminder', 80, 'email', '2026-04-05T14:00:00.000Z'],
      ['incentive', 90, 'sms', '2026-04-15T14:00:00.000Z'],
      ['results_checkin', 95, 'email', '2026-04-20T14:00:00.000Z'],
      ['staff_escalation', 100, 'staff', '2026-04-25T14:00:00.000Z'],
    ],
    windowEndsAt: '2026-05-16T03:59:00.000Z', // May 15 (day 120) 23:59 EDT
    reactivationAt: '2026-05-15T14:00:00.000Z',
  },
  {
    name: 'neuromodulator, New York, treated 23:30 local (already the next day in UTC)',
    type: 'neuromodulator',
    tz: 'America/New_York',
    completedAt: '2026-01-16T04:30:00Z', // 23:30 EST Jan 15; counting from Jan 16 would be off by a day
    due: [
      ['reminder', 80, 'email', '2026-04-05T14:00:00.000Z'],
      ['incentive', 90, 'sms', '2026-04-15T14:00:00.000Z'],
      ['results_checkin', 95, 'email', '2026-04-20T14:00:00.000Z'],
      ['staff_escalation', 100, 'staff', '2026-04-25T14:00:00.000Z'],
    ],
    windowEndsAt: '2026-05-16T03:59:00.000Z',
    reactivationAt: '2026-05-15T14:00:00.000Z',
  },
  {
    name: 'neuromodulator, New York, treated in EDT, due after fall-back (EST)',
    type: 'neuromodulator',
    tz: 'America/New_York',
    completedAt: '2026-08-15T14:00:00Z', // 10:00 EDT Aug 15
    due: [
      ['reminder', 80, 'email', '2026-11-03T15:00:00.000Z'],
      ['incentive', 90, 'sms', '2026-11-13T15:00:00.000Z'],
      ['results_checkin', 95, 'email', '2026-11-18T15:00:00.000Z'],
      ['staff_escalation', 100, 'staff', '2026-11-23T15:00:00.000Z'],
    ],
    windowEndsAt: '2026-12-14T04:59:00.000Z', // Dec 13 23:59 EST
    reactivationAt: '2026-12-13T15:00:00.000Z',
  },
  {
    name: 'lip filler, New York, treated in EDT, due in EST',
    type: 'lip_filler',
    tz: 'America/New_York',
    completedAt: '2026-06-10T16:00:00Z', // 12:00 EDT Jun 10
    due: [
      ['reminder', 160, 'email', '2026-11-17T15:00:00.000Z'],
      ['incentive', 175, 'sms', '2026-12-02T15:00:00.000Z'],
      ['results_checkin', 180, 'email', '2026-12-07T15:00:00.000Z'],
      ['staff_escalation', 190, 'staff', '2026-12-17T15:00:00.000Z'],
    ],
    windowEndsAt: '2027-01-07T04:59:00.000Z', // Jan 6 2027 (day 210) 23:59 EST
    reactivationAt: '2027-01-06T15:00:00.000Z',
  },
  {
    name: 'cheek filler, London, stages 1-2 in BST and 3-4 in GMT',
    type: 'cheek_filler',
    tz: 'Europe/London',
    completedAt: '2026-02-01T11:00:00Z',
    due: [
      ['reminder', 250, 'email', '2026-10-09T09:00:00.000Z'],
      ['incentive', 265, 'sms', '2026-10-24T09:00:00.000Z'],
      ['results_checkin', 270, 'email', '2026-10-29T10:00:00.000Z'],
      ['staff_escalation', 280, 'staff', '2026-11-08T10:00:00.000Z'],
    ],
    windowEndsAt: '2026-11-28T23:59:00.000Z', // day 300
    reactivationAt: '2026-11-28T10:00:00.000Z',
  },
  {
    name: 'Kybella, Kolkata (+05:30), treated 01:30 local (previous day in UTC)',
    type: 'kybella',
    tz: 'Asia/Kolkata',
    completedAt: '2026-03-10T20:00:00Z', // 01:30 IST Mar 11
    due: [
      ['reminder', 35, 'email', '2026-04-15T04:30:00.000Z'],
      ['incentive', 40, 'sms', '2026-04-20T04:30:00.000Z'],
      ['results_checkin', 42, 'email', '2026-04-22T04:30:00.000Z'],
      ['staff_escalation', 45, 'staff', '2026-04-25T04:30:00.000Z'],
    ],
    windowEndsAt: '2026-05-22T18:29:00.000Z', // May 22 (day 72) 23:59 IST
    reactivationAt: '2026-05-22T04:30:00.000Z',
  },
  {
    name: 'Kybella, Sydney, first stage on the autumn fall-back day',
    type: 'kybella',
    tz: 'Australia/Sydney',
    completedAt: '2026-03-01T00:00:00Z', // 11:00 AEDT Mar 1
    due: [
      ['reminder', 35, 'email', '2026-04-05T00:00:00.000Z'], // 10:00 AEST, after the 03:00 change
      ['incentive', 40, 'sms', '2026-04-10T00:00:00.000Z'],
      ['results_checkin', 42, 'email', '2026-04-12T00:00:00.000Z'],
      ['staff_escalation', 45, 'staff', '2026-04-15T00:00:00.000Z'],
    ],
    windowEndsAt: '2026-05-12T13:59:00.000Z', // May 12 23:59 AEST
    reactivationAt: '2026-05-12T00:00:00.000Z',
  },
  {
    name: 'Kybella, Chatham (+12:45/+13:45), sequence spans the spring-forward',
    type: 'kybella',
    tz: 'Pacific/Chatham',
    completedAt: '2026-08-20T00:00:00Z', // 12:45 Aug 20
    due: [
      ['reminder', 35, 'email', '2026-09-23T21:15:00.000Z'], // Sep 24 10:00 +12:45
      ['incentive', 40, 'sms', '2026-09-28T20:15:00.000Z'], // Sep 29 10:00 +13:45
      ['results_checkin', 42, 'email', '2026-09-30T20:15:00.000Z'],
      ['staff_escalation', 45, 'staff', '2026-10-03T20:15:00.000Z'],
    ],
    windowEndsAt: '2026-10-31T10:14:00.000Z', // Oct 31 23:59 +13:45
    reactivationAt: '2026-10-30T20:15:00.000Z',
  },
  {
    name: 'Sculptra, Sydney (southern hemisphere), over a year',
    type: 'sculptra',
    tz: 'Australia/Sydney',
    completedAt: '2026-01-20T02:00:00Z', // 13:00 AEDT Jan 20
    due: [
      ['reminder', 340, 'email', '2026-12-25T23:00:00.000Z'], // Dec 26 10:00 AEDT
      ['incentive', 355, 'sms', '2027-01-09T23:00:00.000Z'],
      ['results_checkin', 360, 'email', '2027-01-14T23:00:00.000Z'],
      ['staff_escalation', 370, 'staff', '2027-01-24T23:00:00.000Z'],
    ],
    windowEndsAt: '2027-02-19T12:59:00.000Z', // Feb 19 2027 (day 395) 23:59 AEDT
    reactivationAt: '2027-02-18T23:00:00.000Z',
  },
];

describe('planSequence on the default catalog', () => {
  it.each(catalogCases)('$name', (c) => {
    const plan = planSequence(type(c.type), c.completedAt, { timeZone: c.tz, sendTime: '10:00' });
    expect(plan.treatmentType).toBe(c.type);
    expect(plan.anchorAt).toBe(new Date(c.completedAt).toISOString());
    expect(marketing(plan.stages).map((s) => [s.key, s.day, s.channel, s.dueAt])).toEqual(c.due);
    expect(plan.windowEndsAt).toBe(c.windowEndsAt);
    expect(plan.reactivationAt).toBe(c.reactivationAt);
  });

  it('keeps each stage at 10:00 local on both sides of a DST change', () => {
    const plan = planSequence(type('cheek_filler'), '2026-02-01T11:00:00Z', {
      timeZone: 'Europe/London',
      sendTime: '10:00',
    });
    for (const s of plan.stages) {
      const w = oracleWall(Date.parse(s.dueAt), 'Europe/London');
      expect([w.hour, w.minute]).toEqual([10, 0]);
    }
    // ...which means the UTC hour differs across the change.
    expect(new Set(plan.stages.map((s) => new Date(s.dueAt).getUTCHours()))).toEqual(new Set([9, 10]));
  });

  it('honours the clinic send time', () => {
    const plan = planSequence(type('neuromodulator'), '2026-01-15T15:00:00Z', {
      timeZone: 'America/New_York',
      sendTime: '18:45',
    });
    expect(marketing(plan.stages)[0]!.dueAt).toBe('2026-04-05T22:45:00.000Z');
    expect(plan.reactivationAt).toBe('2026-05-15T22:45:00.000Z');
  });
});

function custom(days: number[], intervalDays = 90, channel: StageChannel = 'email'): TreatmentTypeDefinition {
  return {
    key: 'custom',
    label: 'custom',
    intervalDays,
    synonyms: [],
    stages: days.map((day, i): StageDefinition => ({ key: `s${i}`, day, channel, purpose: 'reminder' })),
  };
}

describe('planSequence edge cases', () => {
  it('a send time inside the spring-forward gap moves to the post-gap time', () => {
    // 10:00 EST Mar 1; day 7 is Mar 8, when 02:30 does not exist in New York.
    const plan = planSequence(custom([7]), '2026-03-01T15:00:00Z', { timeZone: 'America/New_York', sendTime: '02:30' });
    expect(plan.stages[0]!.dueAt).toBe('2026-03-08T07:30:00.000Z'); // 03:30 EDT
  });

  it('a send time inside the fall-back overlap takes its first occurrence', () => {
    const plan = planSequence(custom([1]), '2026-10-31T14:00:00Z', { timeZone: 'America/New_York', sendTime: '01:30' });
    expect(plan.stages[0]!.dueAt).toBe('2026-11-01T05:30:00.000Z'); // 01:30 EDT
  });

  it('a day-0 stage is never due before the treatment, but waits for the send time when it is later', () => {
    const late = planSequence(custom([0]), '2026-01-15T20:00:00.123Z', {
      timeZone: 'America/New_York',
      sendTime: '10:00',
    }); // 15:00 EST
    expect(late.stages[0]!.dueAt).toBe('2026-01-15T20:00:00.123Z');
    const early = planSequence(custom([0]), '2026-01-15T13:00:00Z', {
      timeZone: 'America/New_York',
      sendTime: '10:00',
    }); // 08:00 EST
    expect(early.stages[0]!.dueAt).toBe('2026-01-15T15:00:00.000Z');
  });

  it('orders stages by day whatever order the definition lists them in', () => {
    const plan = planSequence(custom([10, 2, 5]), '2026-01-01T12:00:00Z', { timeZone: 'UTC', sendTime: '10:00' });
    expect(plan.stages.map((s) => [s.key, s.dueAt])).toEqual([
      ['s1', '2026-01-03T10:00:00.000Z'],
      ['s2', '2026-01-06T10:00:00.000Z'],
      ['s0', '2026-01-11T10:00:00.000Z'],
    ]);
  });

  it('does not mutate the treatment type it is given', () => {
    const t = custom([10, 2, 5]);
    const before = structuredClone(t);
    planSequence(t, '2026-01-01T12:00:00Z', { timeZone: 'UTC', sendTime: '10:00' });
    expect(t).toEqual(before);
  });

  it.each(['', 'yesterday', '2026-13-01T00:00:00Z'])('rejects completedAt %j', (completedAt) => {
    expect(() => planSequence(custom([1]), completedAt, { timeZone: 'UTC', sendTime: '10:00' })).toThrow(RangeError);
  });

  it('rejects a malformed send time', () => {
    expect(() => planSequence(custom([1]), '2026-01-01T00:00:00Z', { timeZone: 'UTC', sendTime: '25:00' })).toThrow(
      RangeError,
    );
  });
});

describe('reactivationStage', () => {
  it('is a single reactivation touch at interval + 30 days, at the plan reactivation instant', () => {
    const plan = planSequence(type('neuromodulator'), '2026-01-15T15:00:00Z', {
      timeZone: 'America/New_York',
      sendTime: '10:00',
    });
    expect(reactivationStage(plan)).toEqual({
      key: 'reactivation',
      day: 120,
      channel: 'sms',
      purpose: 'reactivation',
      dueAt: '2026-05-15T14:00:00.000Z',
    });
    expect(reactivationStage(plan, 'email').channel).toBe('email');
  });
});

describe('windowPassed', () => {
  // Botox: interval 90 + 30 grace = the window closes at 23:59 clinic time on day 120.
  const completedAt = '2026-01-15T15:00:00Z';
  const end = Date.parse('2026-05-15T23:59:00Z'); // day 120 in UTC
  it.each([
    ['before the treatment', Date.parse('2026-01-01T00:00:00Z'), false],
    ['right after the treatment', Date.parse(completedAt), false],
    ['day 100', Date.parse('2026-04-25T15:00:00Z'), false],
    ['day 119', Date.parse('2026-05-14T15:00:00Z'), false],
    ['day 120, evening', Date.parse('2026-05-15T20:00:00Z'), false],
    ['exactly at the end', end, false],
    ['1 ms after the end', end + 1, true],
    ['day 121', Date.parse('2026-05-16T15:00:00Z'), true],
    ['a year later', Date.parse('2027-01-15T15:00:00Z'), true],
  ])('%s → %s', (_, now, passed) => {
    expect(windowPassed(type('neuromodulator'), completedAt, now, 'UTC')).toBe(passed);
  });

  it('counts calendar days in the clinic zone (New York: 23:59 EDT = 03:59Z next day)', () => {
    expect(
      windowPassed(type('neuromodulator'), completedAt, Date.parse('2026-05-16T03:59:00Z'), 'America/New_York'),
    ).toBe(false);
    expect(
      windowPassed(type('neuromodulator'), completedAt, Date.parse('2026-05-16T03:59:00.001Z'), 'America/New_York'),
    ).toBe(true);
  });

  it('scales with the interval (Kybella 42 + 30 = 72 days)', () => {
    expect(windowPassed(type('kybella'), completedAt, Date.parse('2026-03-28T23:59:00Z'), 'UTC')).toBe(false);
    expect(windowPassed(type('kybella'), completedAt, Date.parse('2026-03-28T23:59:00.001Z'), 'UTC')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties, checked against the independent wall-clock oracle.

const ZONES = [
  'America/New_York',
  'Europe/London',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'UTC',
  'America/St_Johns',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'America/Sao_Paulo',
  'Europe/Chisinau',
  'America/Los_Angeles',
];

const instantArb = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 11, 31) });
const clockArb = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const typeArb = fc
  .record({
    days: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 6 }),
    intervalDays: fc.integer({ min: 1, max: 400 }),
    channel: fc.constantFrom<StageChannel>('email', 'sms', 'staff'),
  })
  .map(({ days, intervalDays, channel }) => custom(days, intervalDays, channel));

/** The instant a stage on local day `day` at `clock` should be due, computed with the oracle. */
function expectedInstant(anchorMs: number, day: number, clock: string, tz: string): number {
  const a = oracleWall(anchorMs, tz);
  const date = new Date(Date.UTC(a.year, a.month - 1, a.day + day));
  const [hour, minute] = clock.split(':').map(Number) as [number, number];
  const w: Wall = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour, minute };
  const readings = oracleInstantsReading(w, tz);
  if (readings.length > 0) return readings[0]!;
  // Spring-forward gap: the same wall time, read with the offset in force before the gap.
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  const offBefore = oracleOffsetMinutes(asUtc - 14 * 3600_000 - 12 * 3600_000, tz);
  return asUtc - offBefore * 60_000;
}

describe('planSequence properties', () => {
  it('stages are ordered by due time: strictly when days differ, equal when days are equal', () => {
    fc.assert(
      fc.property(typeArb, instantArb, fc.constantFrom(...ZONES), clockArb, (t, anchor, tz, sendTime) => {
        const plan = planSequence(t, new Date(anchor).toISOString(), { timeZone: tz, sendTime });
        for (let i = 1; i < plan.stages.length; i++) {
          const prev = plan.stages[i - 1]!;
          const cur = plan.stages[i]!;
          expect(cur.day).toBeGreaterThanOrEqual(prev.day);
          if (cur.day === prev.day) expect(cur.dueAt).toBe(prev.dueAt);
          else expect(Date.parse(cur.dueAt)).toBeGreaterThan(Date.parse(prev.dueAt));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('nothing is due before the treatment, and the window never closes before the last stage', () => {
    fc.assert(
      fc.property(typeArb, instantArb, fc.constantFrom(...ZONES), clockArb, (t, anchor, tz, sendTime) => {
        const plan = planSequence(t, new Date(anchor).toISOString(), { timeZone: tz, sendTime });
        expect(plan.stages).toHaveLength(t.stages.length);
        for (const s of plan.stages) expect(Date.parse(s.dueAt)).toBeGreaterThanOrEqual(anchor);
        expect(Date.parse(plan.reactivationAt)).toBeGreaterThan(anchor);
        expect(Date.parse(plan.windowEndsAt)).toBeGreaterThanOrEqual(Date.parse(plan.reactivationAt));
      }),
      { numRuns: 200 },
    );
  });

  it('is deterministic: the same input gives a deep-equal plan', () => {
    fc.assert(
      fc.property(typeArb, instantArb, fc.constantFrom(...ZONES), clockArb, (t, anchor, tz, sendTime) => {
        const completedAt = new Date(anchor).toISOString();
        const a = planSequence(t, completedAt, { timeZone: tz, sendTime });
        const b = planSequence(structuredClone(t), completedAt, { timeZone: tz, sendTime });
        expect(b).toEqual(a);
      }),
      { numRuns: 100 },
    );
  });

  it('every stage is due at the send time on the local treatment date + N days (post-gap time in a gap)', () => {
    fc.assert(
      fc.property(typeArb, instantArb, fc.constantFrom(...ZONES), clockArb, (t, anchor, tz, sendTime) => {
        const plan = planSequence(t, new Date(anchor).toISOString(), { timeZone: tz, sendTime });
        for (const s of plan.stages) {
          const want = expectedInstant(anchor, s.day, sendTime, tz);
          // Only a day-0 stage whose send time already passed is pulled up to the treatment itself.
          if (s.day === 0 && want < anchor) expect(Date.parse(s.dueAt)).toBe(anchor);
          else expect(s.dueAt).toBe(new Date(want).toISOString());
        }
        const grace = t.intervalDays + 30;
        expect(plan.reactivationAt).toBe(new Date(expectedInstant(anchor, grace, sendTime, tz)).toISOString());
        expect(plan.windowEndsAt).toBe(new Date(expectedInstant(anchor, grace, '23:59', tz)).toISOString());
      }),
      { numRuns: 200 },
    );
  });

  it('with the default 10:00 send time, every stage of the catalog reads 10:00 local', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('neuromodulator', 'lip_filler', 'cheek_filler', 'kybella', 'sculptra'),
        instantArb,
        fc.constantFrom(...ZONES),
        (key, anchor, tz) => {
          const plan = planSequence(type(key), new Date(anchor).toISOString(), { timeZone: tz, sendTime: '10:00' });
          const a = oracleWall(anchor, tz);
          for (const s of plan.stages) {
            const w = oracleWall(Date.parse(s.dueAt), tz);
            expect([w.hour, w.minute]).toEqual([10, 0]);
            const daysLater =
              (Date.UTC(w.year, w.month - 1, w.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000;
            expect(daysLater).toBe(s.day);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
