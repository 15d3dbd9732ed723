/**
 * The rebooking report, as pure aggregation over facts read from the database (see query.ts):
 * per treatment type and stage — enrolled, messages sent/delivered/opened/clicked, bookings
 * attributed to the stage that preceded them, the rebooking rate, staff escalations and what
 * staff converted, churn, what caps, consent and send windows held back, and revenue where
 * prices are known. A period selects treatments (a cohort): everything counted follows the
 * sequence runs of the treatments completed in it, so rates compare like with like.
 */
import type { StageDefinition } from '../core/types.js';

/** One sequence run (one treatment): `id` is "workflowId|runKey". */
export interface RunFact {
  id: string;
  treatmentType: string;
  anchorAtMs: number;
  /** End of the rebooking window (interval + 30 days on the clinic's calendar). */
  windowEndsAtMs: number;
  outcome: string;
  outcomeStage: string | null;
  running: boolean;
  endedAtMs: number | null;
  /** Price of the client's next completed appointment after the treatment; null when unknown or none yet. */
  nextPriceCents: number | null;
  /** Holdout arm recorded at enrolment (null or absent: treated); the lift report splits on it. */
  arm?: 'treated' | 'holdout' | null;
}

/** One client message (staff alerts are not messages to the client). */
export interface MessageFact {
  runId: string;
  stage: string;
  channel: 'email' | 'sms';
  status: string;
  opened: boolean;
  clicked: boolean;
}

/**
 * Client messages of the runs counted alike: same treatment type, stage, channel, status and
 * engagement. A period holds tens of thousands of messages and a few dozen tallies, so the
 * database counts them (query.ts) and `tallyMessages` does the same for facts held in memory.
 */
export interface MessageTally {
  treatmentType: string;
  stage: string;
  channel: 'email' | 'sms';
  status: string;
  opened: boolean;
  clicked: boolean;
  count: number;
  /** Runs whose first message that went out at this stage is one of these (a stage's reach is their sum). */
  reached: number;
}

/** The staff escalation task of a run. */
export interface TaskFact {
  runId: string;
  stage: string | null;
  status: string;
  outcome: string | null;
}

/** A stage deferred or suppressed (delivery_holds). */
export interface HoldFact {
  runId: string;
  stage: string;
  kind: 'deferred' | 'suppressed';
  reason: string;
}

export interface ReportFacts {
  runs: RunFact[];
  messages: MessageTally[];
  tasks: TaskFact[];
  holds: HoldFact[];
}

export interface ReportTypeInfo {
  label: string;
  intervalDays: number;
  stages: Pick<StageDefinition, 'key' | 'purpose' | 'channel'>[];
  /**
   * The touches after the staff stage (reactivation, win-back, a snooze's touch): listed only when
   * a run reached them, in this order, with their purpose (their own attribution, issue 11 §3).
   */
  later?: Pick<StageDefinition, 'key' | 'purpose' | 'channel'>[];
}

/** Ledger statuses that mean the provider (or the outbox) took the message. */
export const NOT_SENT = new Set(['sending', 'retry_pending', 'rejected']);
export const DELIVERED = new Set(['delivered', 'read']);
export const FAILED = new Set(['undelivered', 'failed', 'bounced', 'dropped']);

export interface HeldBack {
  /** Stages deferred by the send window (sent later, or suppressed for another reason). */
  sendWindow: number;
  /** Stages deferred by caps (then sent later) and stages caps suppressed. */
  capsDeferred: number;
  capsSuppressed: number;
  /** Stages not sent for want of consent or after an opt-out (no fallback channel). */
  consent: number;
  /** Not sent for another reason: no address, invalid number, undeliverable, no usable channel, provider refusal. */
  other: number;
}

export interface MessageCounts {
  sent: { email: number; sms: number; total: number };
  delivered: number;
  failed: number;
  /** Emails opened / clicked at least once (SendGrid events). */
  opened: number;
  clicked: number;
}

export interface StageRow extends MessageCounts {
  stage: string;
  purpose: string | null;
  plannedChannel: string | null;
  /** Runs this stage reached: a message sent, or (staff stages) a task created. */
  reached: number;
  /** Runs booked with this stage as the last touch before the booking. */
  bookings: number;
  bookingRate: number | null;
  escalated: number;
  staffConverted: number;
  heldBack: HeldBack;
}

export interface Counts extends MessageCounts {
  enrolled: number;
  running: number;
  finished: number;
  /** Finished runs that ended in a booking: a visit that happened (attended) or one booked before issue 11's lifecycle watched visits. */
  booked: number;
  /** Booked before the rebooking window closed (interval + 30 days). */
  bookedOnTime: number;
  /** Bookings that became visits (issue 11): the real rebook rate counts these. */
  attended: number;
  /** Running runs whose booking is watched: the visit is still ahead. */
  awaitingVisit: number;
  churned: number;
  notInterested: number;
  cancelled: number;
  /** Running after a "not now" reply, waiting for the reactivation touch. */
  snoozed: number;
  escalated: number;
  /** Escalation tasks staff resolved as booked. */
  staffConverted: number;
  revenueCents: number;
  bookingsWithPrice: number;
  bookingsWithoutPrice: number;
  heldBack: HeldBack;
}

export interface Rates {
  /** bookedOnTime / finished runs (running ones are not decided yet). */
  rebookingRate: number | null;
  staffConversionRate: number | null;
  churnRate: number | null;
  deliveryRate: number | null;
  openRate: number | null;
  clickRate: number | null;
}

export interface TypeReport extends Counts, Rates {
  treatmentType: string;
  label: string;
  intervalDays: number | null;
  stages: StageRow[];
}

export interface RebookingReport {
  clinics: string[];
  from: string;
  to: string;
  treatmentType: string | null;
  totals: Counts & Rates;
  types: TypeReport[];
}

/**
 * Whether a finished run's outcome counts as rebooked: a visit that happened (`attended`, issue
 * 11) or a booking that ended the run (runs from before the lifecycle, staff-converted tasks).
 */
export function isRebooked(outcome: string): boolean {
  return outcome === 'booked' || outcome === 'attended';
}

/** The attribution key of bookings made before any message went out. */
export const BEFORE_FIRST_TOUCH = 'before_first_touch';

const zeroHeld = (): HeldBack => ({ sendWindow: 0, capsDeferred: 0, capsSuppressed: 0, consent: 0, other: 0 });
const zeroMessages = (): MessageCounts => ({
  sent: { email: 0, sms: 0, total: 0 },
  delivered: 0,
  failed: 0,
  opened: 0,
  clicked: 0,
});
const zeroCounts = (): Counts => ({
  enrolled: 0,
  running: 0,
  finished: 0,
  booked: 0,
  bookedOnTime: 0,
  attended: 0,
  awaitingVisit: 0,
  churned: 0,
  notInterested: 0,
  cancelled: 0,
  snoozed: 0,
  escalated: 0,
  staffConverted: 0,
  revenueCents: 0,
  bookingsWithPrice: 0,
  bookingsWithoutPrice: 0,
  heldBack: zeroHeld(),
  ...zeroMessages(),
});
const ratio = (n: number, d: number): number | null => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null);

export function ratesOf(c: Counts): Rates {
  return {
    rebookingRate: ratio(c.bookedOnTime, c.finished),
    staffConversionRate: ratio(c.staffConverted, c.escalated),
    churnRate: ratio(c.churned, c.finished),
    deliveryRate: ratio(c.delivered, c.sent.total),
    openRate: ratio(c.opened, c.sent.email),
    clickRate: ratio(c.clicked, c.sent.email),
  };
}

/** Which bucket a hold falls in. */
export function holdBucket(h: Pick<HoldFact, 'kind' | 'reason'>): keyof HeldBack {
  if (h.reason === 'send_window') return 'sendWindow';
  if (h.reason === 'capped') return h.kind === 'deferred' ? 'capsDeferred' : 'capsSuppressed';
  if (h.kind === 'suppressed' && /_(no_consent|opted_out)$/.test(h.reason)) return 'consent';
  return 'other';
}

function addMessage(m: MessageCounts, f: MessageTally): void {
  if (NOT_SENT.has(f.status)) return;
  m.sent[f.channel] += f.count;
  m.sent.total += f.count;
  if (DELIVERED.has(f.status)) m.delivered += f.count;
  if (FAILED.has(f.status)) m.failed += f.count;
  if (f.channel === 'email' && f.opened) m.opened += f.count;
  if (f.channel === 'email' && f.clicked) m.clicked += f.count;
}

/** Tallies of per-message facts, as query.ts counts them in SQL; messages of runs not in `runs` are left out. */
export function tallyMessages(runs: readonly RunFact[], messages: readonly MessageFact[]): MessageTally[] {
  const typeOfRun = new Map(runs.map((r) => [r.id, r.treatmentType]));
  const tallies = new Map<string, MessageTally>();
  const reached = new Set<string>();
  for (const m of messages) {
    const treatmentType = typeOfRun.get(m.runId);
    if (treatmentType === undefined) continue;
    const opened = m.channel === 'email' && m.opened;
    const clicked = m.channel === 'email' && m.clicked;
    const key = JSON.stringify([treatmentType, m.stage, m.channel, m.status, opened, clicked]);
    let t = tallies.get(key);
    if (!t) {
      t = {
        treatmentType,
        stage: m.stage,
        channel: m.channel,
        status: m.status,
        opened,
        clicked,
        count: 0,
        reached: 0,
      };
      tallies.set(key, t);
    }
    t.count++;
    const runStage = JSON.stringify([m.runId, m.stage]);
    if (!NOT_SENT.has(m.status) && !reached.has(runStage)) {
      reached.add(runStage);
      t.reached++;
    }
  }
  return [...tallies.values()];
}

function addHeld(into: HeldBack, from: HeldBack): void {
  for (const k of Object.keys(into) as (keyof HeldBack)[]) into[k] += from[k];
}

function addMessages(into: MessageCounts, from: MessageCounts): void {
  into.sent.email += from.sent.email;
  into.sent.sms += from.sent.sms;
  into.sent.total += from.sent.total;
  into.delivered += from.delivered;
  into.failed += from.failed;
  into.opened += from.opened;
  into.clicked += from.clicked;
}

/** Adds `from` into `into` (counts only; rates are recomputed). */
export function addCounts(into: Counts, from: Counts): void {
  for (const k of [
    'enrolled',
    'running',
    'finished',
    'booked',
    'bookedOnTime',
    'attended',
    'awaitingVisit',
    'churned',
    'notInterested',
    'cancelled',
    'snoozed',
    'escalated',
    'staffConverted',
    'revenueCents',
    'bookingsWithPrice',
    'bookingsWithoutPrice',
  ] as const)
    into[k] += from[k];
  addHeld(into.heldBack, from.heldBack);
  addMessages(into, from);
}

function countsOnly(c: Counts): Counts {
  const out = zeroCounts();
  addCounts(out, c);
  return out;
}

function newStageRow(stage: string, def?: ReportTypeInfo['stages'][number]): StageRow {
  return {
    stage,
    purpose: def?.purpose ?? (stage === 'reactivation' ? 'reactivation' : null),
    plannedChannel: def?.channel ?? null,
    reached: 0,
    bookings: 0,
    bookingRate: null,
    escalated: 0,
    staffConverted: 0,
    heldBack: zeroHeld(),
    ...zeroMessages(),
  };
}

/**
 * Aggregates one clinic's (or several clinics') facts. `types` gives labels, intervals and the
 * stage order; types or stages met in the facts but no longer configured are reported all the same.
 */
export function rebookingReport(
  facts: ReportFacts,
  types: ReadonlyMap<string, ReportTypeInfo>,
  meta: { clinics: string[]; from: string; to: string; treatmentType?: string | null },
): RebookingReport {
  const runs = new Map(facts.runs.map((r) => [r.id, r]));
  const byType = new Map<string, { counts: Counts; stages: Map<string, StageRow> }>();
  const typeOf = (key: string) => {
    let t = byType.get(key);
    if (!t) {
      const info = types.get(key);
      const stages = new Map<string, StageRow>();
      for (const s of info?.stages ?? []) stages.set(s.key, newStageRow(s.key, s));
      t = { counts: zeroCounts(), stages };
      byType.set(key, t);
    }
    return t;
  };
  const stageOf = (t: ReturnType<typeof typeOf>, key: string, typeKey: string) => {
    let s = t.stages.get(key);
    if (!s) {
      s = newStageRow(
        key,
        types.get(typeKey)?.later?.find((l) => l.key === key),
      );
      t.stages.set(key, s);
    }
    return s;
  };

  for (const r of facts.runs) {
    const t = typeOf(r.treatmentType);
    const c = t.counts;
    c.enrolled++;
    if (r.running) {
      c.running++;
      if (r.outcome === 'snoozed') c.snoozed++;
      // Booked and watched: not decided until the visit happens (or lapses back into follow-up).
      if (r.outcome === 'booked') c.awaitingVisit++;
      continue;
    }
    c.finished++;
    if (isRebooked(r.outcome)) {
      c.booked++;
      if (r.outcome === 'attended') c.attended++;
      if (r.endedAtMs !== null && r.endedAtMs <= r.windowEndsAtMs) c.bookedOnTime++;
      if (r.nextPriceCents !== null) {
        c.revenueCents += r.nextPriceCents;
        c.bookingsWithPrice++;
      } else c.bookingsWithoutPrice++;
      stageOf(t, r.outcomeStage ?? BEFORE_FIRST_TOUCH, r.treatmentType).bookings++;
    } else if (r.outcome === 'churned') c.churned++;
    else if (r.outcome === 'not_interested') c.notInterested++;
    else if (r.outcome === 'cancelled') c.cancelled++;
  }

  for (const m of facts.messages) {
    const t = typeOf(m.treatmentType);
    const row = stageOf(t, m.stage, m.treatmentType);
    addMessage(row, m);
    addMessage(t.counts, m);
    row.reached += m.reached;
  }
  for (const task of facts.tasks) {
    const run = runs.get(task.runId);
    if (!run) continue;
    const t = typeOf(run.treatmentType);
    const row = stageOf(t, task.stage ?? 'staff_escalation', run.treatmentType);
    row.reached++;
    row.escalated++;
    t.counts.escalated++;
    if (task.outcome === 'booked') {
      row.staffConverted++;
      t.counts.staffConverted++;
    }
  }
  for (const h of facts.holds) {
    const run = runs.get(h.runId);
    if (!run) continue;
    const t = typeOf(run.treatmentType);
    const bucket = holdBucket(h);
    stageOf(t, h.stage, run.treatmentType).heldBack[bucket]++;
    t.counts.heldBack[bucket]++;
  }

  const typeReports: TypeReport[] = [];
  const order = [...types.keys(), ...[...byType.keys()].filter((k) => !types.has(k)).sort()];
  for (const key of order) {
    const t = byType.get(key);
    if (!t) continue;
    const info = types.get(key);
    const planned = new Set(info?.stages.map((s) => s.key) ?? []);
    // Configured stages in their order, then reactivation and anything else met, then bookings before any touch.
    const extra = [...t.stages.keys()]
      .filter((k) => !planned.has(k) && k !== BEFORE_FIRST_TOUCH)
      .sort((a, b) => (a === 'reactivation' ? -1 : b === 'reactivation' ? 1 : a < b ? -1 : 1));
    const keys = [...planned, ...extra, ...(t.stages.has(BEFORE_FIRST_TOUCH) ? [BEFORE_FIRST_TOUCH] : [])];
    const stages = keys.map((k) => {
      const s = t.stages.get(k)!;
      return { ...s, bookingRate: k === BEFORE_FIRST_TOUCH ? null : ratio(s.bookings, s.reached) };
    });
    typeReports.push({
      treatmentType: key,
      label: info?.label ?? key,
      intervalDays: info?.intervalDays ?? null,
      ...countsOnly(t.counts),
      ...ratesOf(t.counts),
      stages,
    });
  }
  const totals = zeroCounts();
  for (const t of typeReports) addCounts(totals, t);
  return {
    clinics: meta.clinics,
    from: meta.from,
    to: meta.to,
    treatmentType: meta.treatmentType ?? null,
    totals: { ...totals, ...ratesOf(totals) },
    types: typeReports,
  };
}

/**
 * Agency roll-up: several clinics' reports summed per treatment type and stage (rates
 * recomputed from the sums, never averaged). Labels and intervals come from the first clinic
 * that has the type; the periods should match (the first report's is kept).
 */
export function rollUpReports(reports: RebookingReport[]): RebookingReport {
  const types = new Map<string, TypeReport>();
  for (const r of reports) {
    for (const t of r.types) {
      const into = types.get(t.treatmentType);
      if (!into) {
        types.set(t.treatmentType, {
          ...t,
          ...countsOnly(t),
          heldBack: { ...t.heldBack },
          sent: { ...t.sent },
          stages: t.stages.map((s) => ({ ...s, heldBack: { ...s.heldBack }, sent: { ...s.sent } })),
        });
        continue;
      }
      addCounts(into, t);
      for (const s of t.stages) {
        let row = into.stages.find((x) => x.stage === s.stage);
        if (!row) {
          row = { ...newStageRow(s.stage), purpose: s.purpose, plannedChannel: s.plannedChannel };
          into.stages.push(row);
        }
        row.reached += s.reached;
        row.bookings += s.bookings;
        row.escalated += s.escalated;
        row.staffConverted += s.staffConverted;
        addHeld(row.heldBack, s.heldBack);
        addMessages(row, s);
      }
    }
  }
  const out = [...types.values()].map((t) => ({
    ...t,
    ...ratesOf(t),
    stages: t.stages.map((s) => ({
      ...s,
      bookingRate: s.stage === BEFORE_FIRST_TOUCH ? null : ratio(s.bookings, s.reached),
    })),
  }));
  const totals = zeroCounts();
  for (const t of out) addCounts(totals, t);
  return {
    clinics: reports.flatMap((r) => r.clinics),
    from: reports[0]?.from ?? '',
    to: reports[0]?.to ?? '',
    treatmentType: reports[0]?.treatmentType ?? null,
    totals: { ...totals, ...ratesOf(totals) },
    types: out,
  };
}
