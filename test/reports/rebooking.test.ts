/** The report's pure aggregation: hand-built facts, hand-counted expectations. */
import { describe, expect, it } from 'vitest';
import { parsePeriod } from '../../src/reports/query.js';
import {
  BEFORE_FIRST_TOUCH,
  holdBucket,
  type MessageFact,
  type ReportFacts,
  type ReportTypeInfo,
  type RunFact,
  rebookingReport,
  rollUpReports,
  tallyMessages,
} from '../../src/reports/rebooking.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-06T20:00:00Z');
const types = new Map<string, ReportTypeInfo>([
  [
    'neuromodulator',
    {
      label: 'Botox',
      intervalDays: 90,
      stages: [
        { key: 'reminder', purpose: 'reminder', channel: 'email' },
        { key: 'incentive', purpose: 'incentive', channel: 'sms' },
        { key: 'results_checkin', purpose: 'checkin', channel: 'email' },
        { key: 'staff_escalation', purpose: 'escalation', channel: 'staff' },
      ],
    },
  ],
  [
    'lip_filler',
    { label: 'lip filler', intervalDays: 180, stages: [{ key: 'reminder', purpose: 'reminder', channel: 'email' }] },
  ],
]);

const run = (id: string, over: Partial<RunFact> = {}): RunFact => ({
  id,
  treatmentType: 'neuromodulator',
  anchorAtMs: T0,
  windowEndsAtMs: T0 + 120 * DAY,
  outcome: 'churned',
  outcomeStage: 'staff_escalation',
  running: false,
  endedAtMs: T0 + 121 * DAY,
  nextPriceCents: null,
  ...over,
});
const msg = (
  runId: string,
  stage: string,
  channel: 'email' | 'sms',
  status = 'outbox',
  extra: Partial<MessageFact> = {},
): MessageFact => ({ runId, stage, channel, status, opened: false, clicked: false, ...extra });

const runs: RunFact[] = [
  run('a', { outcome: 'booked', outcomeStage: 'reminder', endedAtMs: T0 + 85 * DAY, nextPriceCents: 45_000 }),
  run('b', { outcome: 'booked', outcomeStage: 'incentive', endedAtMs: T0 + 91 * DAY }),
  run('c'),
  run('d', {
    outcome: 'booked',
    outcomeStage: 'staff_escalation',
    endedAtMs: T0 + 101 * DAY,
    nextPriceCents: 30_000,
  }),
  run('e', { outcome: 'snoozed', outcomeStage: null, running: true, endedAtMs: null }),
  // Booked after the reactivation touch, past the window: booked, not on time.
  run('f', { outcome: 'booked', outcomeStage: 'reactivation', endedAtMs: T0 + 130 * DAY }),
  run('g', { outcome: 'booked', outcomeStage: BEFORE_FIRST_TOUCH, endedAtMs: T0 + 10 * DAY }),
  run('h', { outcome: 'not_interested' }),
  run('l', { treatmentType: 'lip_filler', running: true, outcome: 'running', endedAtMs: null }),
];
const facts: ReportFacts = {
  runs,
  // Counted as loadReportFacts counts them in SQL.
  messages: tallyMessages(runs, [
    msg('a', 'reminder', 'email', 'delivered', { opened: true, clicked: true }),
    msg('b', 'reminder', 'email', 'bounced'),
    msg('b', 'incentive', 'sms', 'delivered'),
    msg('c', 'reminder', 'email', 'outbox', { opened: true }),
    msg('c', 'incentive', 'sms', 'rejected'), // refused at send: not sent…
    msg('c', 'incentive', 'email', 'accepted'), // …then sent by email (same stage, one reach)
    msg('c', 'results_checkin', 'email', 'sending'), // the crash window: not counted as sent
    msg('d', 'reminder', 'email'),
    msg('d', 'incentive', 'sms'),
    msg('e', 'reminder', 'email'),
    msg('f', 'reactivation', 'sms'),
    msg('zzz', 'reminder', 'email'), // a run outside the period: ignored
  ]),
  tasks: [
    { runId: 'c', stage: 'staff_escalation', status: 'open', outcome: null },
    { runId: 'd', stage: 'staff_escalation', status: 'resolved', outcome: 'booked' },
    { runId: 'h', stage: 'staff_escalation', status: 'resolved', outcome: 'not_interested' },
  ],
  holds: [
    { runId: 'c', stage: 'results_checkin', kind: 'deferred', reason: 'send_window' },
    { runId: 'c', stage: 'results_checkin', kind: 'deferred', reason: 'capped' },
    { runId: 'd', stage: 'results_checkin', kind: 'suppressed', reason: 'capped' },
    { runId: 'h', stage: 'reminder', kind: 'suppressed', reason: 'email_no_consent' },
    { runId: 'h', stage: 'incentive', kind: 'suppressed', reason: 'sms_opted_out' },
    { runId: 'h', stage: 'results_checkin', kind: 'suppressed', reason: 'email_no_address' },
  ],
};

describe('rebookingReport', () => {
  const r = rebookingReport(facts, types, { clinics: ['spa'], from: 'F', to: 'T' });
  const botox = r.types.find((t) => t.treatmentType === 'neuromodulator')!;
  const stage = (k: string) => botox.stages.find((s) => s.stage === k)!;

  it('counts runs by outcome, on-time bookings, revenue where the price is known', () => {
    expect(botox).toMatchObject({
      label: 'Botox',
      intervalDays: 90,
      enrolled: 8,
      running: 1,
      finished: 7,
      booked: 5,
      bookedOnTime: 4,
      churned: 1,
      notInterested: 1,
      snoozed: 1,
    });
    expect(botox.rebookingRate).toBe(0.5714); // 4 / 7 finished
    expect(botox.churnRate).toBe(0.1429);
    expect(botox).toMatchObject({ revenueCents: 75_000, bookingsWithPrice: 2, bookingsWithoutPrice: 3 });
  });

  it('counts messages that went out per channel, deliveries, failures, opens and clicks', () => {
    expect(botox.sent).toEqual({ email: 6, sms: 3, total: 9 });
    expect(botox).toMatchObject({
      delivered: 2,
      failed: 1,
      opened: 2,
      clicked: 1,
      deliveryRate: 0.2222,
      openRate: 0.3333,
      clickRate: 0.1667,
    });
  });

  it('attributes bookings to the stage before them and rates them against the clients reached', () => {
    expect(botox.stages.map((s) => s.stage)).toEqual([
      'reminder',
      'incentive',
      'results_checkin',
      'staff_escalation',
      'reactivation',
      BEFORE_FIRST_TOUCH,
    ]);
    expect(stage('reminder')).toMatchObject({
      reached: 5,
      bookings: 1,
      bookingRate: 0.2,
      sent: { email: 5, sms: 0, total: 5 },
      opened: 2,
    });
    expect(stage('incentive')).toMatchObject({
      reached: 3,
      bookings: 1,
      bookingRate: 0.3333,
      sent: { email: 1, sms: 2, total: 3 },
    });
    expect(stage('results_checkin')).toMatchObject({
      reached: 0,
      bookings: 0,
      bookingRate: null,
      heldBack: { sendWindow: 1, capsDeferred: 1, capsSuppressed: 1, consent: 0, other: 1 },
    });
    expect(stage('staff_escalation')).toMatchObject({
      reached: 3,
      escalated: 3,
      staffConverted: 1,
      bookings: 1,
      bookingRate: 0.3333,
    });
    expect(stage('reactivation')).toMatchObject({ purpose: 'reactivation', reached: 1, bookings: 1 });
    expect(stage(BEFORE_FIRST_TOUCH)).toMatchObject({ bookings: 1, bookingRate: null });
    expect(botox).toMatchObject({ escalated: 3, staffConverted: 1, staffConversionRate: 0.3333 });
  });

  it('buckets what held stages back: send window, caps (deferred, suppressed), consent, other', () => {
    expect(botox.heldBack).toEqual({ sendWindow: 1, capsDeferred: 1, capsSuppressed: 1, consent: 2, other: 1 });
    expect(holdBucket({ kind: 'suppressed', reason: 'no_usable_channel' })).toBe('other');
    expect(holdBucket({ kind: 'suppressed', reason: 'sms_opted_out' })).toBe('consent');
    expect(holdBucket({ kind: 'deferred', reason: 'capped' })).toBe('capsDeferred');
  });

  it('totals sum the types; types without runs are left out', () => {
    expect(r.types.map((t) => t.treatmentType)).toEqual(['neuromodulator', 'lip_filler']);
    expect(r.totals).toMatchObject({ enrolled: 9, running: 2, finished: 7, booked: 5, rebookingRate: 0.5714 });
    const empty = rebookingReport({ runs: [], messages: [], tasks: [], holds: [] }, types, {
      clinics: ['spa'],
      from: 'F',
      to: 'T',
    });
    expect(empty.types).toEqual([]);
    expect(empty.totals).toMatchObject({ enrolled: 0, rebookingRate: null, openRate: null });
  });

  it('rolls several clinics up by summing counts and recomputing rates (never averaging them)', () => {
    const x = [
      run('x', { outcome: 'booked', outcomeStage: 'reminder', endedAtMs: T0 + 82 * DAY, nextPriceCents: 10_000 }),
    ];
    const other = rebookingReport(
      {
        runs: x,
        messages: tallyMessages(x, [msg('x', 'reminder', 'email')]),
        tasks: [],
        holds: [],
      },
      types,
      { clinics: ['spa-2'], from: 'F', to: 'T' },
    );
    const all = rollUpReports([r, other]);
    expect(all.clinics).toEqual(['spa', 'spa-2']);
    const b = all.types.find((t) => t.treatmentType === 'neuromodulator')!;
    expect(b).toMatchObject({ enrolled: 9, finished: 8, bookedOnTime: 5, rebookingRate: 0.625, revenueCents: 85_000 });
    expect(b.stages.find((s) => s.stage === 'reminder')).toMatchObject({
      reached: 6,
      bookings: 2,
      bookingRate: 0.3333,
    });
    expect(all.totals).toMatchObject({ enrolled: 10, booked: 6 });
    // The inputs are left as they were.
    expect(botox.enrolled).toBe(8);
    expect(stage('reminder').reached).toBe(5);
  });
});

describe('parsePeriod', () => {
  const NY = 'America/New_York';
  it('reads dates on the clinic calendar (to inclusive) and instants as given', () => {
    expect(parsePeriod({ from: '2026-01-01', to: '2026-01-31' }, NY, 0)).toEqual({
      fromMs: Date.parse('2026-01-01T05:00:00Z'),
      toMs: Date.parse('2026-02-01T05:00:00Z'),
    });
    expect(parsePeriod({ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' }, NY, 0)).toEqual({
      fromMs: Date.parse('2026-01-01T00:00:00Z'),
      toMs: Date.parse('2026-01-02T00:00:00Z'),
    });
  });
  it('defaults to the 90 days up to now and refuses nonsense with the failing field', () => {
    const now = Date.parse('2026-04-01T16:00:00Z');
    expect(parsePeriod({}, NY, now)).toEqual({ fromMs: Date.parse('2026-01-01T05:00:00Z'), toMs: now });
    expect(() => parsePeriod({ from: '2026-02-30' }, NY, now)).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        details: { issues: [{ path: 'query.from', message: expect.any(String) }] },
      }),
    );
    expect(() => parsePeriod({ to: 'yesterday' }, NY, now)).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
    expect(() => parsePeriod({ from: '2026-03-01', to: '2026-02-01' }, NY, now)).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
  });
});
