/**
 * The simulator: replays a clinic's treatment history through the same pure core the workflow
 * and the delivery activity use — classification, sequence planning, channel choice with the
 * clinic's fallback, send windows, frequency caps across a client's sequences, incentive tiers —
 * and counts what Rebook would have sent, held back and handed to staff, week by week.
 *
 * Sequence semantics follow workflows/rebook-sequence.ts and src/activities/deliver.ts:
 *   - one sequence per client × treatment type (parallel types run side by side); a newer
 *     treatment of the same type restarts it, an older or same-instant one changes nothing, a
 *     repeated appointment id is a duplicate;
 *   - stages run one after another; a stage held back (send window, caps) waits, and the next
 *     stage starts no earlier than the held one finished (a late next stage runs at once);
 *   - channel (`stageChannel`, shared with delivery): the stage's own if usable, else the other
 *     one when the clinic's fallback allows it and has a template for it, else the stage is
 *     suppressed; with no usable channel at all the client goes to staff at once and the
 *     remaining stages are skipped;
 *   - send window first (deferred to the next opening), then caps (deferred to the first instant
 *     every rule allows, moved into the window; suppressed when that is past the next stage);
 *   - staff stages create a task at their due instant (no window, no caps);
 *   - a booking ends every running sequence of the client; after the last stage a sequence
 *     waits until the rebooking window closes (interval + 30 days) and is then churned.
 *
 * Bookings come from two sources. Simulated: after each message sent and each staff task, the
 * client books with the stage's conversion rate (a seeded draw per client, so results do not
 * depend on the other clients in the file). From the history: a later treatment of the client
 * (any service, on a later local day than the sequence's treatment) is an appointment that was
 * booked `leadDays` before it; from then on the booking check finds it and the sequence ends, as
 * in production. A simulated booking does not add a treatment to the history.
 *
 * Pure: no I/O, no clock. Expensive core calls are memoized (same inputs, same outputs).
 */
import { checkCaps, type SendRecord } from '../core/caps.js';
import { classifyService } from '../core/classify.js';
import { describeOffer, offerFor } from '../core/incentives.js';
import { stageChannel } from '../core/message-content.js';
import { normalizePhone } from '../core/phone.js';
import { planSequence } from '../core/plan.js';
import { nextOpening } from '../core/send-window.js';
import type { Channel, StageDefinition, TreatmentTypeDefinition } from '../core/types.js';
import { addDays, DAY_MS, fromLocal, toLocal } from '../core/zoned-time.js';
import { type BookingRates, type Purpose, rateFor } from './booking-rates.js';
import type { SimulationClinic } from './clinic.js';
import type { HistoryRow } from './history-csv.js';
import { streamFor } from './random.js';

export interface SimulationOptions {
  /** First local date counted ("YYYY-MM-DD"); default: the earliest treatment's. */
  from?: string;
  /** Length of the counted period in calendar months. */
  months: number;
  seed: number;
  rates: BookingRates;
  /** How many days before a later treatment in the history it was booked. */
  leadDays: number;
  /** Clients whose every event is recorded in `trace` (tests, `--trace`). */
  traceClients?: ReadonlySet<string>;
  onProgress?: (clientsDone: number, clientsTotal: number) => void;
}

export interface WeekRow {
  /** Monday of the week, local date. */
  weekStart: string;
  email: number;
  sms: number;
  staffTasks: number;
  offers: number;
  deferredBySendWindow: number;
  deferredByCaps: number;
  suppressedByCaps: number;
  rebookings: number;
  enrolled: number;
}

export interface StageRow {
  stage: string;
  purpose: Purpose;
  rate: number;
  /** Messages sent (client stages) or tasks created (staff stages). */
  reached: number;
  rebookings: number;
  /** Σ rate over the clients reached: the expected bookings along the simulated path. */
  expectedRebookings: number;
}

export interface TypeRow {
  treatmentType: string;
  enrolled: number;
  messages: number;
  staffTasks: number;
  rebookings: number;
  churned: number;
}

export type TraceKind =
  | 'enrolled'
  | 'restarted'
  | 'duplicate'
  | 'sent'
  | 'deferred_send_window'
  | 'deferred_caps'
  | 'suppressed_caps'
  | 'suppressed_no_channel'
  | 'suppressed_no_template'
  | 'staff_task'
  | 'booked'
  | 'booked_in_history'
  | 'churned'
  | 'running_at_end';

export interface TraceEvent {
  clientId: string;
  treatmentType: string;
  kind: TraceKind;
  at: string;
  stage?: string;
  channel?: Channel;
  detail?: string;
}

export interface SimulationSummary {
  input: {
    rows: number;
    clients: number;
    treatmentsEnrolled: number;
    unclassifiedRows: number;
    duplicateRows: number;
    rowsAfterPeriod: number;
    invalidPhones: number;
    clientsWithoutChannel: number;
  };
  sequences: {
    enrolled: number;
    restarted: number;
    bookedSimulated: number;
    bookedInHistory: number;
    bookedInHistoryAfterATouch: number;
    churned: number;
    runningAtEnd: number;
    noUsableChannel: number;
  };
  messages: { email: number; sms: number; total: number; viaFallback: number };
  deferred: { sendWindow: number; caps: number };
  /** noChannel: no consent or address on the stage's channel and no fallback; noTemplate: the clinic has no template for the channel (a configuration error when it happens in production). */
  suppressed: { caps: number; noChannel: number; noTemplate: number };
  offers: { issued: number; byOffer: Record<string, number> };
  /** By reason, as the workflow names them: no_response (touches went out), no_touch_delivered, no_usable_channel. */
  staffTasks: { total: number; noResponse: number; noTouchDelivered: number; noUsableChannel: number };
  rebookings: {
    simulated: number;
    expected: number;
    /** Sum of the rebooked treatments' prices where known. */
    revenueCents: number;
    withoutPrice: number;
  };
  perWeek: Record<'email' | 'sms' | 'messages' | 'staffTasks', { mean: number; peak: number }>;
}

export interface SimulationResult {
  clinic: string;
  timeZone: string;
  /** Counted period: [from, to) in local dates. */
  from: string;
  to: string;
  seed: number;
  leadDays: number;
  /** Effective conversion rate of every stage key the clinic uses. */
  rates: Record<string, number>;
  summary: SimulationSummary;
  byStage: StageRow[];
  byType: TypeRow[];
  unclassifiedServices: { service: string; rows: number }[];
  weekly: WeekRow[];
  trace?: TraceEvent[];
}

type LocalDate = { year: number; month: number; day: number };

const isoDate = (d: LocalDate) => `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
const dayNumber = (d: LocalDate) => Date.UTC(d.year, d.month - 1, d.day) / DAY_MS;

function parseLocalDate(s: string): LocalDate {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const d = m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : undefined;
  if (!d || isoDate(addDays(d, 0)) !== s) throw new RangeError(`"${s}" is not a date (YYYY-MM-DD)`);
  return d;
}

/** Same day-of-month `months` later (overflow rolls on: Jan 31 + 1 month = Mar 3 or 2). */
function addMonths(d: LocalDate, months: number): LocalDate {
  return addDays({ year: d.year, month: d.month + months, day: d.day }, 0);
}

interface Seq {
  type: TreatmentTypeDefinition;
  stages: StageDefinition[];
  dues: number[];
  windowEndsAt: number;
  anchorMs: number;
  priceCents: number | null;
  idx: number;
  grace: boolean;
  nextAt: number;
  /** When a booking from the history ends it (Infinity: none). */
  stopAt: number;
  lastTouch?: string;
  /** A message went out in this workflow (its history survives a restart). */
  sentAny: boolean;
  heldByWindow: boolean;
  heldByCaps: boolean;
}

interface Treatment {
  row: HistoryRow;
  type?: TreatmentTypeDefinition;
  day: number;
}

/** A sequence's stages with their due instants (ms) and the end of its rebooking window. */
export interface FastPlan {
  stages: StageDefinition[];
  dues: number[];
  windowEndsAt: number;
}

/**
 * `planSequence`, memoized. A plan depends on the anchor's local date only, except that no stage
 * is due before the anchor itself (plan.ts: `Math.max(localDayAt(…), anchorMs)`): each local day
 * is planned once, from its first instant, and that bound is applied per treatment. The
 * simulator's tests check the result against `planSequence` for arbitrary anchors.
 */
export function createPlanner(
  clinic: Pick<SimulationClinic, 'timeZone' | 'sendTime'>,
  localDateOf: (ms: number) => LocalDate = (ms) => toLocal(ms, clinic.timeZone),
): (type: TreatmentTypeDefinition, anchorMs: number) => FastPlan {
  const tz = clinic.timeZone;
  const days = new Map<string, FastPlan>();
  return (type, anchorMs) => {
    const date = localDateOf(anchorMs);
    const key = `${type.key}|${date.year}-${date.month}-${date.day}`;
    let base = days.get(key);
    if (!base) {
      const dayStart = fromLocal({ year: date.year, month: date.month, day: date.day, hour: 0, minute: 0 }, tz);
      const plan = planSequence(type, new Date(dayStart).toISOString(), { timeZone: tz, sendTime: clinic.sendTime });
      base = {
        stages: plan.stages,
        dues: plan.stages.map((st) => Date.parse(st.dueAt)),
        windowEndsAt: Date.parse(plan.windowEndsAt),
      };
      days.set(key, base);
    }
    return { stages: base.stages, dues: base.dues.map((d) => Math.max(d, anchorMs)), windowEndsAt: base.windowEndsAt };
  };
}

/** Runs the simulation; `rows` in any order. */
export function simulate(
  rows: readonly HistoryRow[],
  clinic: SimulationClinic,
  options: SimulationOptions,
): SimulationResult {
  const tz = clinic.timeZone;
  const months = options.months;
  if (!Number.isInteger(months) || months < 1 || months > 120)
    throw new RangeError('months must be a whole number from 1 to 120');
  if (!(options.leadDays >= 0)) throw new RangeError('leadDays must be 0 or more');
  const leadMs = options.leadDays * DAY_MS;

  // Memoized core calls: these depend only on their arguments.
  // Today's offsets are whole quarter hours, so all instants of a UTC quarter hour share their
  // local date; a quarter hour that straddles local midnight (old local mean times) is not cached.
  const QUARTER_HOUR = 900_000;
  const localDates = new Map<number, LocalDate | null>();
  const dateOf = (ms: number): LocalDate => {
    const l = toLocal(ms, tz);
    return { year: l.year, month: l.month, day: l.day };
  };
  const localDateOf = (ms: number): LocalDate => {
    const bucket = Math.floor(ms / QUARTER_HOUR);
    let d = localDates.get(bucket);
    if (d === undefined) {
      const first = dateOf(bucket * QUARTER_HOUR);
      const last = dateOf((bucket + 1) * QUARTER_HOUR - 1);
      d = first.day === last.day ? first : null;
      localDates.set(bucket, d);
    }
    return d ?? dateOf(ms);
  };
  const openings = new Map<number, number>();
  const opening = (ms: number): number => {
    let o = openings.get(ms);
    if (o === undefined) {
      o = nextOpening(ms, clinic.sendWindow, tz);
      openings.set(ms, o);
    }
    return o;
  };
  const classified = new Map<string, TreatmentTypeDefinition | undefined>();
  const classify = (name: string) => {
    if (classified.has(name)) return classified.get(name);
    const c = classifyService({ name }, clinic.classification);
    const type = c.matched ? clinic.types.get(c.treatmentType) : undefined;
    classified.set(name, type);
    return type;
  };
  const planFor = createPlanner(clinic, localDateOf);

  // The counted period, in whole local weeks starting on Monday.
  const earliest = rows.reduce((m, r) => Math.min(m, r.completedAtMs), Number.POSITIVE_INFINITY);
  if (!options.from && !Number.isFinite(earliest))
    throw new RangeError('the history has no readable rows (and no start date was given)');
  const fromDate = options.from ? parseLocalDate(options.from) : localDateOf(earliest);
  const toDate = addMonths(fromDate, months);
  const fromMs = fromLocal({ ...fromDate, hour: 0, minute: 0 }, tz);
  const toMs = fromLocal({ ...toDate, hour: 0, minute: 0 }, tz);
  const weekday = new Date(Date.UTC(fromDate.year, fromDate.month - 1, fromDate.day)).getUTCDay();
  const monday = addDays(fromDate, -((weekday + 6) % 7));
  const weekStarts: number[] = [];
  const weekLabels: string[] = [];
  for (let k = 0; ; k++) {
    const d = addDays(monday, 7 * k);
    const ms = fromLocal({ ...d, hour: 0, minute: 0 }, tz);
    if (ms >= toMs) break;
    weekStarts.push(ms);
    weekLabels.push(isoDate(d));
  }
  const nWeeks = weekStarts.length;
  const series = {
    email: new Int32Array(nWeeks),
    sms: new Int32Array(nWeeks),
    staffTasks: new Int32Array(nWeeks),
    offers: new Int32Array(nWeeks),
    deferredBySendWindow: new Int32Array(nWeeks),
    deferredByCaps: new Int32Array(nWeeks),
    suppressedByCaps: new Int32Array(nWeeks),
    rebookings: new Int32Array(nWeeks),
    enrolled: new Int32Array(nWeeks),
  };
  /** Week index of an instant inside the period, else -1. */
  const weekOf = (ms: number): number => {
    if (ms < fromMs || ms >= toMs) return -1;
    let lo = 0;
    let hi = nWeeks - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (weekStarts[mid]! <= ms) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  const s: SimulationSummary = {
    input: {
      rows: rows.length,
      clients: 0,
      treatmentsEnrolled: 0,
      unclassifiedRows: 0,
      duplicateRows: 0,
      rowsAfterPeriod: 0,
      invalidPhones: 0,
      clientsWithoutChannel: 0,
    },
    sequences: {
      enrolled: 0,
      restarted: 0,
      bookedSimulated: 0,
      bookedInHistory: 0,
      bookedInHistoryAfterATouch: 0,
      churned: 0,
      runningAtEnd: 0,
      noUsableChannel: 0,
    },
    messages: { email: 0, sms: 0, total: 0, viaFallback: 0 },
    deferred: { sendWindow: 0, caps: 0 },
    suppressed: { caps: 0, noChannel: 0, noTemplate: 0 },
    offers: { issued: 0, byOffer: {} },
    staffTasks: { total: 0, noResponse: 0, noTouchDelivered: 0, noUsableChannel: 0 },
    rebookings: { simulated: 0, expected: 0, revenueCents: 0, withoutPrice: 0 },
    perWeek: {
      email: { mean: 0, peak: 0 },
      sms: { mean: 0, peak: 0 },
      messages: { mean: 0, peak: 0 },
      staffTasks: { mean: 0, peak: 0 },
    },
  };
  const byStage = new Map<string, StageRow>();
  const stageRow = (st: StageDefinition): StageRow => {
    let r = byStage.get(st.key);
    if (!r) {
      r = {
        stage: st.key,
        purpose: st.purpose,
        rate: rateFor(options.rates, st),
        reached: 0,
        rebookings: 0,
        expectedRebookings: 0,
      };
      byStage.set(st.key, r);
    }
    return r;
  };
  const byType = new Map<string, TypeRow>();
  for (const t of clinic.types.values()) {
    byType.set(t.key, { treatmentType: t.key, enrolled: 0, messages: 0, staffTasks: 0, rebookings: 0, churned: 0 });
    for (const st of t.stages) stageRow(st);
  }
  const unclassified = new Map<string, number>();
  const trace: TraceEvent[] | undefined = options.traceClients ? [] : undefined;

  // Group rows by client, keeping the file's order of first appearance.
  const clients = new Map<string, HistoryRow[]>();
  for (const r of rows) {
    let list = clients.get(r.clientId);
    if (!list) {
      list = [];
      clients.set(r.clientId, list);
    }
    list.push(r);
  }
  s.input.clients = clients.size;

  const total = clients.size;
  let done = 0;
  for (const [clientId, clientRows] of clients) {
    simulateClient(clientId, clientRows);
    done++;
    if (options.onProgress && (done % 250 === 0 || done === total)) options.onProgress(done, total);
  }

  function simulateClient(clientId: string, clientRows: HistoryRow[]): void {
    const tracing = !!trace && options.traceClients!.has(clientId);
    const rng = streamFor(options.seed, clientId);
    const sorted = [...clientRows].sort((a, b) => a.completedAtMs - b.completedAtMs || a.line - b.line);
    const all: Treatment[] = sorted.map((row) => ({
      row,
      type: classify(row.serviceName),
      day: dayNumber(localDateOf(row.completedAtMs)),
    }));

    // Contact details and consent: the most recent row that says anything about each.
    const latest = <K extends keyof HistoryRow>(k: K): HistoryRow[K] | null => {
      for (let i = sorted.length - 1; i >= 0; i--) if (sorted[i]![k] !== null) return sorted[i]![k];
      return null;
    };
    const hasEmail = latest('hasEmail') ?? true;
    const phone = latest('phone');
    let phoneOk = phone !== false;
    if (typeof phone === 'string') {
      phoneOk = normalizePhone(phone, clinic.defaultCountry).ok;
      if (!phoneOk) s.input.invalidPhones++;
    }
    const usable: Record<Channel, boolean> = {
      email: hasEmail && (latest('emailConsent') ?? clinic.assumedConsent.email),
      sms: phoneOk && (latest('smsConsent') ?? clinic.assumedConsent.sms),
    };

    const treatments: Treatment[] = [];
    for (const t of all) {
      if (!t.type) {
        s.input.unclassifiedRows++;
        unclassified.set(t.row.serviceName, (unclassified.get(t.row.serviceName) ?? 0) + 1);
      } else if (t.row.completedAtMs >= toMs) s.input.rowsAfterPeriod++;
      else treatments.push(t);
    }
    if (treatments.length === 0) return;
    if (!usable.email && !usable.sms) s.input.clientsWithoutChannel++;

    // Every appointment of the client (any service, even after the period) can be the booking
    // that ends an earlier sequence: the first one on a later local day than its treatment.
    const historyStop = (t: Treatment): number => {
      const next = all.find((o) => o.day > t.day);
      return next ? Math.max(t.row.completedAtMs, next.row.completedAtMs - leadMs) : Number.POSITIVE_INFINITY;
    };

    // Callers test `tracing` first, so an untraced client allocates nothing for the trace.
    const note = (kind: TraceKind, seqType: string, at: number, extra: Partial<TraceEvent> = {}) => {
      trace!.push({ clientId, treatmentType: seqType, kind, at: new Date(at).toISOString(), ...extra });
    };
    const count = (arr: Int32Array, at: number): boolean => {
      const w = weekOf(at);
      if (w < 0) return false;
      arr[w]!++;
      return true;
    };

    const sends: SendRecord[] = [];
    const seen = new Set<string>();
    const running = new Map<string, Seq>();

    const end = (seq: Seq, at: number, kind: 'booked' | 'booked_in_history' | 'churned', stage?: string) => {
      running.delete(seq.type.key);
      const inPeriod = weekOf(at) >= 0;
      if (kind === 'churned' && inPeriod) {
        s.sequences.churned++;
        byType.get(seq.type.key)!.churned++;
      } else if (kind === 'booked' && inPeriod) s.sequences.bookedSimulated++;
      else if (kind === 'booked_in_history' && inPeriod) {
        s.sequences.bookedInHistory++;
        if (seq.lastTouch) s.sequences.bookedInHistoryAfterATouch++;
      }
      if (tracing) note(kind, seq.type.key, at, { stage: stage ?? seq.lastTouch ?? 'before_first_touch' });
    };

    /** A message sent or a task created: the client may book because of it. */
    const expose = (seq: Seq, stage: StageDefinition, at: number) => {
      const rate = rateFor(options.rates, stage);
      const row = stageRow(stage);
      const inPeriod = weekOf(at) >= 0;
      if (inPeriod) {
        row.reached++;
        row.expectedRebookings += rate;
        s.rebookings.expected += rate;
      }
      if (rng() >= rate) return;
      if (inPeriod) {
        row.rebookings++;
        s.rebookings.simulated++;
        byType.get(seq.type.key)!.rebookings++;
        count(series.rebookings, at);
        if (seq.priceCents === null) s.rebookings.withoutPrice++;
        else s.rebookings.revenueCents += seq.priceCents;
      }
      // One booking ends every running sequence of the client.
      for (const other of [...running.values()]) end(other, at, 'booked', other === seq ? stage.key : undefined);
    };

    const staffTask = (
      seq: Seq,
      stage: StageDefinition,
      at: number,
      reason: 'no_response' | 'no_touch_delivered' | 'no_usable_channel',
    ) => {
      if (count(series.staffTasks, at)) {
        s.staffTasks.total++;
        if (reason === 'no_response') s.staffTasks.noResponse++;
        else if (reason === 'no_touch_delivered') s.staffTasks.noTouchDelivered++;
        else s.staffTasks.noUsableChannel++;
        byType.get(seq.type.key)!.staffTasks++;
      }
      if (tracing) note('staff_task', seq.type.key, at, { stage: stage.key, detail: reason });
      seq.lastTouch = stage.key;
      expose(seq, stage, at);
    };

    /** Moves the sequence past its current stage (the next one is due no earlier than now). */
    const advance = (seq: Seq, now: number) => {
      seq.idx++;
      seq.heldByWindow = false;
      seq.heldByCaps = false;
      if (seq.idx >= seq.stages.length) {
        seq.grace = true;
        seq.nextAt = Math.max(seq.windowEndsAt, now);
      } else seq.nextAt = Math.max(seq.dues[seq.idx]!, now);
    };

    const runStage = (seq: Seq, now: number) => {
      const stage = seq.stages[seq.idx]!;
      if (stage.channel === 'staff') {
        staffTask(seq, stage, now, seq.sentAny ? 'no_response' : 'no_touch_delivered');
        if (running.get(seq.type.key) === seq) advance(seq, now);
        return;
      }
      const preferred = stage.channel;
      const hasTemplate = (c: Channel) => clinic.templateChannels[stage.purpose]?.includes(c) ?? false;
      const channel = stageChannel(preferred, { email: !usable.email, sms: !usable.sms }, clinic.fallback, hasTemplate);
      if (!channel) {
        if (!usable.sms && !usable.email) {
          // Nobody can be reached automatically: staff now, the rest of the sequence skipped.
          if (weekOf(now) >= 0) s.sequences.noUsableChannel++;
          const staffStage = seq.stages.find((x) => x.channel === 'staff') ?? {
            ...stage,
            channel: 'staff' as const,
            purpose: 'escalation' as const,
          };
          seq.idx = seq.stages.length - 1;
          staffTask(seq, staffStage, now, 'no_usable_channel');
        } else {
          if (weekOf(now) >= 0) s.suppressed.noChannel++;
          if (tracing) note('suppressed_no_channel', seq.type.key, now, { stage: stage.key, channel: preferred });
        }
        if (running.get(seq.type.key) === seq) advance(seq, now);
        return;
      }
      const open = opening(now);
      if (open > now) {
        if (!seq.heldByWindow && count(series.deferredBySendWindow, now)) s.deferred.sendWindow++;
        seq.heldByWindow = true;
        if (tracing)
          note('deferred_send_window', seq.type.key, now, {
            stage: stage.key,
            channel,
            detail: new Date(open).toISOString(),
          });
        seq.nextAt = open;
        return;
      }
      if (!hasTemplate(channel)) {
        // Production refuses to send without a template (config_invalid): nothing goes out.
        if (weekOf(now) >= 0) s.suppressed.noTemplate++;
        if (tracing) note('suppressed_no_template', seq.type.key, now, { stage: stage.key, channel });
        advance(seq, now);
        return;
      }
      const decision = checkCaps(clinic.capRules, sends, channel, now);
      if (!decision.allowed) {
        const at = opening(decision.allowedAt);
        const stageEnds = seq.dues[seq.idx + 1] ?? seq.windowEndsAt;
        if (at < stageEnds) {
          if (!seq.heldByCaps && count(series.deferredByCaps, now)) s.deferred.caps++;
          seq.heldByCaps = true;
          if (tracing)
            note('deferred_caps', seq.type.key, now, { stage: stage.key, channel, detail: new Date(at).toISOString() });
          seq.nextAt = at;
        } else {
          if (count(series.suppressedByCaps, now)) s.suppressed.caps++;
          if (tracing) note('suppressed_caps', seq.type.key, now, { stage: stage.key, channel });
          advance(seq, now);
        }
        return;
      }
      sends.push({ at: now, channel });
      if (count(series[channel], now)) {
        s.messages[channel]++;
        s.messages.total++;
        if (channel !== preferred) s.messages.viaFallback++;
        byType.get(seq.type.key)!.messages++;
      }
      let detail: string | undefined;
      if (stage.purpose === 'incentive') {
        detail = describeOffer(offerFor(seq.priceCents, clinic.incentives.tiers, clinic.incentives.unknown));
        if (count(series.offers, now)) {
          s.offers.issued++;
          s.offers.byOffer[detail] = (s.offers.byOffer[detail] ?? 0) + 1;
        }
      }
      if (tracing) note('sent', seq.type.key, now, { stage: stage.key, channel, ...(detail ? { detail } : {}) });
      seq.lastTouch = stage.key;
      seq.sentAny = true;
      expose(seq, stage, now);
      if (running.get(seq.type.key) === seq) advance(seq, now);
    };

    const enroll = (t: Treatment) => {
      const type = t.type!;
      const at = t.row.completedAtMs;
      const dedupeKey = `${type.key}|${t.row.appointmentId}`;
      const current = running.get(type.key);
      // signal-with-start is not idempotent (a repeated appointment), and the latest appointment
      // wins (an older or same-instant treatment of a running type changes nothing).
      if (seen.has(dedupeKey) || (current && at <= current.anchorMs)) {
        s.input.duplicateRows++;
        if (tracing) note('duplicate', type.key, at, { detail: `line ${t.row.line}` });
        return;
      }
      seen.add(dedupeKey);
      s.input.treatmentsEnrolled++;
      if (current) {
        running.delete(type.key);
        if (weekOf(at) >= 0) s.sequences.restarted++;
        if (tracing) note('restarted', type.key, at);
      }
      const plan = planFor(type, at);
      const seq: Seq = {
        type,
        stages: plan.stages,
        dues: plan.dues,
        windowEndsAt: plan.windowEndsAt,
        anchorMs: at,
        priceCents: t.row.priceCents,
        idx: 0,
        grace: false,
        nextAt: plan.dues[0] ?? plan.windowEndsAt,
        stopAt: historyStop(t),
        sentAny: current?.sentAny ?? false,
        heldByWindow: false,
        heldByCaps: false,
      };
      if (seq.stages.length === 0) seq.grace = true;
      running.set(type.key, seq);
      if (count(series.enrolled, at)) {
        s.sequences.enrolled++;
        byType.get(type.key)!.enrolled++;
      }
      if (tracing) note('enrolled', type.key, at, { detail: `line ${t.row.line}` });
    };

    let ti = 0;
    for (let guard = 0; guard < 100_000; guard++) {
      // Earliest pending event; at equal instants bookings come first, then treatments, then stages.
      let seq: Seq | undefined;
      let at = Number.POSITIVE_INFINITY;
      let isStop = false;
      for (const q of running.values()) {
        const stop = q.stopAt <= q.nextAt;
        const t = stop ? q.stopAt : q.nextAt;
        if (t < at || (t === at && stop && !isStop)) {
          seq = q;
          at = t;
          isStop = stop;
        }
      }
      const nextTreatment = treatments[ti];
      if (
        nextTreatment &&
        (nextTreatment.row.completedAtMs < at || (nextTreatment.row.completedAtMs === at && !isStop))
      ) {
        enroll(nextTreatment);
        ti++;
        continue;
      }
      if (!seq || at >= toMs) break;
      if (isStop) end(seq, at, 'booked_in_history');
      else if (seq.grace) end(seq, at, 'churned');
      else runStage(seq, at);
    }
    for (const q of running.values()) {
      s.sequences.runningAtEnd++;
      if (tracing) note('running_at_end', q.type.key, toMs, { stage: q.lastTouch ?? 'before_first_touch' });
    }
  }

  const weekly: WeekRow[] = weekLabels.map((weekStart, i) => ({
    weekStart,
    email: series.email[i]!,
    sms: series.sms[i]!,
    staffTasks: series.staffTasks[i]!,
    offers: series.offers[i]!,
    deferredBySendWindow: series.deferredBySendWindow[i]!,
    deferredByCaps: series.deferredByCaps[i]!,
    suppressedByCaps: series.suppressedByCaps[i]!,
    rebookings: series.rebookings[i]!,
    enrolled: series.enrolled[i]!,
  }));
  const stat = (values: number[]) => ({
    mean: round2(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)),
    peak: values.reduce((a, b) => Math.max(a, b), 0),
  });
  s.perWeek = {
    email: stat(weekly.map((w) => w.email)),
    sms: stat(weekly.map((w) => w.sms)),
    messages: stat(weekly.map((w) => w.email + w.sms)),
    staffTasks: stat(weekly.map((w) => w.staffTasks)),
  };
  s.rebookings.expected = round2(s.rebookings.expected);
  const stages = [...byStage.values()].map((r) => ({ ...r, expectedRebookings: round2(r.expectedRebookings) }));
  const rates: Record<string, number> = {};
  for (const r of stages) rates[r.stage] = r.rate;

  return {
    clinic: clinic.id,
    timeZone: tz,
    from: isoDate(fromDate),
    to: isoDate(toDate),
    seed: options.seed,
    leadDays: options.leadDays,
    rates,
    summary: s,
    byStage: stages,
    byType: [...byType.values()],
    unclassifiedServices: [...unclassified.entries()]
      .map(([service, n]) => ({ service, rows: n }))
      .sort((a, b) => b.rows - a.rows || (a.service < b.service ? -1 : 1)),
    weekly,
    ...(trace ? { trace } : {}),
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
