/**
 * Treatment series (issue 11 §4): the between-session stages until the last session, then the
 * maintenance cadence; the session number counted from completed treatments when the platform
 * does not say. The catalog's series are read from the repo's config, as the product runs them.
 */
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, treatmentTypesFor } from '../../src/config/load.js';
import { careTemplateErrors } from '../../src/config/messaging.js';
import { seriesSchema } from '../../src/config/schema.js';
import { stageTemplateValues } from '../../src/core/message-content.js';
import { planSequence } from '../../src/core/plan.js';
import { completedSession, sessionFromHistory, stagesAfterSession } from '../../src/core/series.js';
import { renderTemplate } from '../../src/core/templates.js';
import type { TreatmentTypeDefinition } from '../../src/core/types.js';
import { treatmentCompletedSchema } from '../../src/ingest/events.js';

const configDir = fileURLToPath(new URL('../../config', import.meta.url));
let catalog: Map<string, TreatmentTypeDefinition>;
beforeAll(() => {
  const cfg = loadConfig(configDir);
  catalog = treatmentTypesFor(cfg, cfg.clinics.get('demo-clinic')!);
});
const type = (key: string) => {
  const t = catalog.get(key);
  if (!t) throw new Error(`catalog has no ${key}`);
  return t;
};
const DAY = 86_400_000;

describe('the catalog defines the issue-11 series', () => {
  it.each([
    ['laser_hair_removal', 6, 35, 270],
    ['kybella', 3, 42, 42],
    ['microneedling', 3, 35, 35],
  ] as const)('%s: %d sessions every %d days, then a %d-day maintenance cadence', (key, sessions, every, maint) => {
    const t = type(key);
    expect(t.series).toMatchObject({ sessions, intervalDays: every, windowDays: every + 30 });
    expect(t.intervalDays).toBe(maint);
    // A reminder, an SMS on the interval day, a staff call a week later, and no offer.
    const marketing = t.series!.stages.filter((s) => s.purpose !== 'care');
    expect(marketing.map((s) => [s.channel, s.purpose])).toEqual([
      ['email', 'reminder'],
      ['sms', 'reminder'],
      ['staff', 'escalation'],
    ]);
    expect(marketing.map((s) => s.day).slice(1)).toEqual([every, every + 7]);
  });

  it('classifies laser hair removal as its own type, other lasers stay laser', () => {
    expect(type('laser_hair_removal').synonyms).toContain('laser hair removal');
    expect(type('laser').synonyms).not.toContain('laser hair removal');
  });
});

describe('stagesAfterSession', () => {
  it('reminds for sessions 2…6 after sessions 1…5, then switches to maintenance', () => {
    const t = type('laser_hair_removal');
    const phases = [1, 2, 3, 4, 5, 6, 7].map((completed) => {
      const s = stagesAfterSession(t, { completed });
      return [s.phase, s.next?.session, s.intervalDays, s.stages.map((x) => x.key)[0]];
    });
    expect(phases).toEqual([
      ['series', 2, 35, 'series_reminder'],
      ['series', 3, 35, 'series_reminder'],
      ['series', 4, 35, 'series_reminder'],
      ['series', 5, 35, 'series_reminder'],
      ['series', 6, 35, 'series_reminder'],
      ['maintenance', undefined, 270, 'reminder'],
      ['maintenance', undefined, 270, 'reminder'],
    ]);
  });

  it("takes the platform's course length over the catalog's (a Kybella package of 2)", () => {
    const k = type('kybella');
    expect(stagesAfterSession(k, { completed: 1, sessions: 2 })).toMatchObject({
      phase: 'series',
      next: { session: 2, sessions: 2 },
    });
    expect(stagesAfterSession(k, { completed: 2, sessions: 2 }).phase).toBe('maintenance');
    expect(stagesAfterSession(k, { completed: 2 })).toMatchObject({
      phase: 'series',
      next: { session: 3, sessions: 3 },
    });
  });

  it("keeps the type's own stages without a session number or for a type that is no series", () => {
    expect(stagesAfterSession(type('laser_hair_removal')).phase).toBe('single');
    expect(stagesAfterSession(type('neuromodulator'), { completed: 2 })).toMatchObject({
      phase: 'single',
      intervalDays: 90,
    });
  });

  it('refuses a session number that is not a whole number from 1', () => {
    expect(() => stagesAfterSession(type('kybella'), { completed: 0 })).toThrow(RangeError);
    expect(() => stagesAfterSession(type('kybella'), { completed: 1.5 })).toThrow(RangeError);
  });
});

describe('sessionFromHistory', () => {
  const series = { sessions: 6, windowDays: 65 };
  const t0 = Date.parse('2026-01-05T15:00:00Z');
  const at = (...days: number[]) => days.map((d) => t0 + d * DAY);

  it.each([
    ['the first treatment', [], 0, 1],
    ['five weeks apart', at(0, 35, 70), 105, 4],
    ['the anchor listed among the completed ones', at(0, 35, 70, 105), 105, 4],
    ['any order', at(70, 0, 35), 105, 4],
    ['two areas in one visit count once', [...at(0, 35), t0 + 35 * DAY + 3_600_000], 70, 3],
    ['a gap longer than the window starts a new course', at(0, 35, 200), 235, 2],
    ['a gap of exactly the window continues', at(0), 65, 2],
    ['later treatments are ignored', at(0, 35, 70), 35, 2],
    ['after a full course a late touch-up is maintenance, not session 1', at(0, 35, 70, 105, 140, 175), 450, 7],
  ])('%s', (_, completed, anchorDay, expected) => {
    expect(sessionFromHistory(completed, t0 + anchorDay * DAY, series)).toBe(expected);
  });

  it('property: counts at most one session per treatment and never less than 1', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 1000 }),
        (days, a) => {
          const n = sessionFromHistory(at(...days), t0 + a * DAY, series);
          expect(n).toBeGreaterThanOrEqual(1);
          expect(n).toBeLessThanOrEqual(days.filter((d) => d < a).length + 1);
        },
      ),
    );
  });
});

describe("completedSession: the platform's number first", () => {
  const series = { sessions: 6, windowDays: 65 };
  const t0 = Date.parse('2026-01-05T15:00:00Z');
  const rec = (day: number, session?: number, sessions?: number) => ({ atMs: t0 + day * DAY, session, sessions });

  it("takes the anchor's own number and course length over any count", () => {
    expect(completedSession([rec(0), rec(35)], t0 + 70 * DAY, series, { session: 5, sessions: 8 })).toEqual({
      completed: 5,
      sessions: 8,
    });
  });

  it('continues the count from an earlier session the platform numbered', () => {
    // The platform said session 3 of 4 five weeks ago; the anchor (not numbered) is session 4 of 4.
    expect(completedSession([rec(0, 3, 4)], t0 + 35 * DAY, series)).toEqual({ completed: 4, sessions: 4 });
  });

  it('counts without any platform number, with the catalog length', () => {
    expect(completedSession([rec(0), rec(35)], t0 + 70 * DAY, series)).toEqual({ completed: 3 });
  });

  it("a new course after a long gap drops the old course's platform length", () => {
    expect(completedSession([rec(0, 1, 4)], t0 + 100 * DAY, series)).toEqual({ completed: 1 });
  });
});

describe('planSequence with a session', () => {
  const opts = { timeZone: 'America/New_York', sendTime: '10:00' };
  const completedAt = '2026-03-02T15:00:00Z';

  it('plans session 3 of 6 after session 2: series stages on days 28/35/42, window at 35 + 30', () => {
    const plan = planSequence(type('laser_hair_removal'), completedAt, { ...opts, session: { completed: 2 } });
    expect(plan.series).toEqual({ phase: 'series', completed: 2, sessions: 6 });
    expect(plan.intervalDays).toBe(35);
    expect(plan.stages.map((s) => [s.key, s.dueAt, s.series])).toEqual([
      ['series_reminder', '2026-03-30T14:00:00.000Z', { session: 3, sessions: 6 }],
      ['series_sms', '2026-04-06T14:00:00.000Z', { session: 3, sessions: 6 }],
      ['series_staff', '2026-04-13T14:00:00.000Z', { session: 3, sessions: 6 }],
    ]);
    expect(plan.windowEndsAt).toBe('2026-05-07T03:59:00.000Z'); // day 65, 23:59 EDT
  });

  it('plans the maintenance touch-up after session 6, with no series position on its stages', () => {
    const plan = planSequence(type('laser_hair_removal'), completedAt, { ...opts, session: { completed: 6 } });
    expect(plan.series).toEqual({ phase: 'maintenance', completed: 6, sessions: 6 });
    expect(plan.intervalDays).toBe(270);
    expect(plan.stages.map((s) => [s.key, s.day, s.series])).toEqual([
      ['reminder', 180, undefined],
      ['incentive', 265, undefined],
      ['results_checkin', 270, undefined],
      ['staff_escalation', 280, undefined],
    ]);
  });

  it('renders "session 3 of 6" in a template; outside a series the tokens are empty', () => {
    const clinic = {
      name: 'Glow',
      bookingUrl: 'https://b.example.com',
      address: '1 Main',
      timeZone: 'UTC',
      discreet: false,
    };
    const base = {
      channel: 'sms' as const,
      firstName: 'Ana',
      treatmentLabel: 'laser hair removal',
      offerExpiresAtMs: 0,
    };
    const text = 'Book session {{session}} of {{sessions}}';
    expect(renderTemplate(text, stageTemplateValues(clinic, { ...base, series: { session: 3, sessions: 6 } }))).toBe(
      'Book session 3 of 6',
    );
    expect(renderTemplate(text, stageTemplateValues(clinic, base))).toBe('Book session  of ');
  });
});

describe('validation at the boundaries', () => {
  it('the catalog refuses an offer between sessions, naming the stage', () => {
    const r = seriesSchema.safeParse({
      sessions: 3,
      intervalDays: 42,
      stages: [
        { key: 'series_reminder', day: 35, channel: 'email', purpose: 'reminder' },
        { key: 'series_offer', day: 40, channel: 'sms', purpose: 'incentive' },
      ],
    });
    expect(r.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['stages.1.purpose', 'series stages carry no offer: use reminder, checkin, care or escalation'],
    ]);
  });

  it('treatment.completed refuses a session past the course, naming series.session', () => {
    const event = {
      type: 'treatment.completed',
      client: { id: 'c1', firstName: 'Ana', consent: { sms: true, email: true } },
      appointmentId: 'a1',
      service: { name: 'Laser Hair Removal' },
      completedAt: '2026-03-02T12:00:00-05:00',
    };
    expect(treatmentCompletedSchema.safeParse({ ...event, series: { session: 3, sessions: 6 } }).success).toBe(true);
    expect(treatmentCompletedSchema.safeParse({ ...event, series: { session: 2 } }).success).toBe(true);
    const bad = treatmentCompletedSchema.safeParse({ ...event, series: { session: 7, sessions: 6 } });
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['series.session']);
    const zero = treatmentCompletedSchema.safeParse({ ...event, series: { session: 0 } });
    expect(zero.error?.issues.map((i) => i.path.join('.'))).toEqual(['series.session']);
  });

  it("a care touch between sessions is a care template too: no offer in microneedling's series care wording", () => {
    const types = new Map([['microneedling', type('microneedling')]]);
    const only = new Map([
      [
        'microneedling',
        { ...type('microneedling'), stages: type('microneedling').stages.filter((s) => s.purpose !== 'care') },
      ],
    ]);
    const templates = { care_aftercare: { sms: { body: 'Hi {{firstName}}, {{incentive}}' } } };
    expect(careTemplateErrors({ templates }, types).map((e) => e.path.join('.'))).toEqual([
      'templates.care_aftercare.sms.body',
    ]);
    // Known as care only through the series' own stages (the type's own care touches removed): still refused.
    expect(careTemplateErrors({ templates }, only)).toHaveLength(1);
  });
});
