/**
 * Preview: the whole timeline one treatment would produce, computed ahead of time with the same
 * pure core the workflow and the delivery activity use — planning in the clinic's time zone, the
 * channel after consent and the clinic's fallback, the send window in the client's zone, the
 * frequency caps (assuming the client is in no other sequence), the incentive tier and expiry,
 * and the rendered text. Pure: no database, no clock, no provider; the incentive code is a
 * placeholder of the real code's length (codes are drawn at send time).
 *
 * Each stage's decision at each instant (send, defer, suppress, escalate) is src/core/stage-decision.ts,
 * the function delivery and the workflow use too; what is left here is the walk through the stages.
 * Semantics follow workflows/rebook-sequence.ts and src/activities/deliver.ts: stages run one
 * after another (a stage held past the next one's due instant delays it); a held stage is tried
 * again when the window opens or the caps allow, and suppressed when that is past the next stage;
 * a client with no usable channel goes to staff at the first client-facing stage and the rest of
 * the rebooking stages is skipped (the reactivation and win-back touches are still tried); the staff escalation says `no_touch_delivered` when no message went out. Care touches
 * (issue 11) follow src/core/message-category.ts: no marketing consent needed, no offer, exempt from
 * the caps unless the clinic counts them, never a reason to hand the client to staff, and not a
 * touch the staff escalation counts as delivered.
 */
import { describeRule, type SendRecord } from '../core/caps.js';
import { classifyService } from '../core/classify.js';
import { describeOffer, type Offer, percentOfPrice } from '../core/incentives.js';
import { capsApply, type MessageCategory, messageCategory, stageTemplate } from '../core/message-category.js';
import { needsIncentive, renderStageContent, stageTemplateValues } from '../core/message-content.js';
import {
  type ClientHistory,
  type ClientPlanFacts,
  decideOffer,
  OFFER_REASON_TEXT,
  type OfferReason,
} from '../core/offers.js';
import { normalizePhone } from '../core/phone.js';
import { firstCurrentStageIndex, planSequence } from '../core/plan.js';
import { capSpacingMs, DEFAULT_REACTIVATION, planReactivation, snoozeTouch } from '../core/reactivation.js';
import { WEEKDAY_NAMES } from '../core/send-window.js';
import { type SegmentInfo, smsSegments } from '../core/sms-segments.js';
import {
  bookingStopsStage,
  type ChannelState,
  decideStage,
  followUpResumesAt,
  REACTIVATION_GRACE_MS,
  staffEscalationReason,
  unusableChannels,
  visitCheckAt,
} from '../core/stage-decision.js';
import type { Channel, PlannedStage, SeriesPosition, StageDefinition, TreatmentTypeDefinition } from '../core/types.js';
import { type StageVariant, stageVariants, variantOffer, variantTemplate } from '../core/variants.js';
import { toLocal } from '../core/zoned-time.js';
import { RebookError } from '../errors.js';
import type { PreviewClinic } from './clinic.js';

/** Same length and alphabet as a real code (`incentiveCode`), so SMS segment counts are true. */
export const SAMPLE_INCENTIVE_CODE = 'XXXX-XXXX-XXXX-XXXX';
/** A realistic length for the signed one-click unsubscribe token. */
const SAMPLE_UNSUBSCRIBE_TOKEN = 'x'.repeat(64);

export interface PreviewInput {
  /** A configured treatment type key, or a service name classified as at enrollment. */
  treatmentType?: string;
  service?: { id?: string; name: string };
  /** Instant the treatment was completed. */
  completedAtMs: number;
  client: {
    firstName?: string;
    email?: string | null;
    phone?: string | null;
    consent: { sms: boolean; email: boolean };
    /** IANA zone; send windows use it over the clinic's. */
    timeZone?: string | null;
  };
  priceCents?: number | null;
  /**
   * For a series type: which session the treatment was (2 → reminders for session 3), and the
   * course's length when it is not the catalog's (a package of 4). Without it: the type's own stages.
   */
  session?: { completed: number; sessions?: number };
  /** What the client's plans and last 12 months would say (memberships, packages, loyalty tiers). */
  offerFacts?: { facts?: ClientPlanFacts; history?: ClientHistory };
  /**
   * A booking the client makes, and what becomes of it (issue 11 §2), as the workflow follows it:
   * marketing stops once it is made, care touches still go out; a cancellation not rebooked within
   * the clinic's grace, or a no-show, brings a recovery touch and the stages still ahead. Without a
   * lapse the rest is not shown (the visit decides it).
   */
  booking?: { bookedAtMs: number; startAtMs: number; lapse?: { kind: 'cancelled' | 'no_show'; atMs: number } };
  /** Stage key → the variant to show (a client's own is a keyed hash of its id; the sample has none): first when unset. */
  variants?: Record<string, string>;
}

export type Unusable = 'no_address' | 'no_consent' | 'invalid_number';

export interface LocalTime {
  at: string;
  /** "2026-05-20 Wed 10:00" on the clock the message is timed by. */
  local: string;
}

export interface Hold {
  reason: 'send_window' | 'capped';
  from: string;
  until: string;
  /** For caps: the rule that held the message. */
  rule?: string;
}

export interface PreviewContent {
  subject?: string;
  body: string;
  sms?: SegmentInfo;
}

export interface PreviewStage {
  key: string;
  day: number;
  purpose: StageDefinition['purpose'];
  /** care (a clinical check-in, results message) or marketing: decides consent, caps and offers. */
  category: MessageCategory;
  /** The channel the catalog gives the stage. */
  plannedChannel: StageDefinition['channel'];
  due: LocalTime;
  /**
   * sent: goes out at `at` on `channel`; staff_task: the front desk gets a task at `at`;
   * suppressed: nothing goes out (`reason`); skipped: not reached (the client went to staff
   * earlier); config_error: the clinic's configuration cannot send it (`reason`).
   */
  outcome: 'sent' | 'staff_task' | 'suppressed' | 'skipped' | 'config_error';
  at?: LocalTime;
  channel?: Channel;
  /** Sent on the other channel because the stage's own is unusable. */
  fallback?: boolean;
  reason?: string;
  /** What held the message back before it went out (or was suppressed). */
  holds: Hold[];
  /** Cap outcome, assuming no other sequence of the client: allowed, deferred or suppressed. */
  caps?: 'allowed' | 'deferred' | 'suppressed';
  content?: PreviewContent;
  /** A series' between-session stage: the session it reminds for ("session 3 of 6"). */
  series?: SeriesPosition;
  /** The variant shown, and every variant of the stage with its share (stages with variants only). */
  variant?: string;
  variants?: { name: string; share: number }[];
}

export interface PreviewResult {
  clinicId: string;
  treatmentType: string;
  label: string;
  classification?: { service: string; by: 'service_id' | 'synonym' | 'type'; synonym?: string };
  completedAt: LocalTime;
  intervalDays: number;
  /** A series type planned with a session: reminders for the next session, or the maintenance cadence. */
  series?: { phase: 'series' | 'maintenance'; completed: number; sessions: number };
  clinicTimeZone: string;
  /** The zone the send window is applied in. */
  sendTimeZone: string;
  channels: Record<Channel, { usable: boolean; reason?: Unusable }>;
  /**
   * The offer of the incentive stage (core/offers.ts) and why: a discount (`offer`, with a code)
   * or, for credits left or a member price, wording without one. Expires at interval + 30 days.
   */
  incentive: {
    kind: 'offer' | 'use_credit' | 'member_price';
    reason: OfferReason;
    /** The reason as staff read it. */
    why: string;
    /** The loyalty tier reached, when that is the reason. */
    tier?: string;
    offer?: Offer;
    description: string;
    percentOfPrice: number;
    code?: string;
    expiresAt: LocalTime;
  };
  stages: PreviewStage[];
  /** The single touch a "not now" reply schedules (caps counted against every message above). */
  reactivation: PreviewStage;
  /** End of the rebooking window: offers expire, bookings until then count as rebooked on time. */
  windowEndsAt: LocalTime;
  assumptions: string[];
}

const titleCase = (s: string) => s[0]!.toUpperCase() + s.slice(1);

function localTime(ms: number, timeZone: string): LocalTime {
  const l = toLocal(ms, timeZone);
  const p = (n: number) => String(n).padStart(2, '0');
  return {
    at: new Date(ms).toISOString(),
    local: `${l.year}-${p(l.month)}-${p(l.day)} ${titleCase(WEEKDAY_NAMES[l.weekday]!)} ${p(l.hour)}:${p(l.minute)}`,
  };
}

function resolveType(
  clinic: PreviewClinic,
  input: PreviewInput,
): { type: TreatmentTypeDefinition; classification?: PreviewResult['classification'] } {
  if (input.treatmentType) {
    const type = clinic.types.get(input.treatmentType);
    if (!type)
      throw new RebookError('validation_failed', 'unknown treatment type for this clinic', {
        field: 'treatmentType',
        issues: [{ path: 'body.treatmentType', message: `not one of: ${[...clinic.types.keys()].join(', ')}` }],
      });
    return { type };
  }
  if (!input.service)
    throw new RebookError('validation_failed', 'give a treatmentType or a service', { field: 'treatmentType' });
  const c = classifyService(
    { ...(input.service.id ? { id: input.service.id } : {}), name: input.service.name },
    clinic.classification,
  );
  const type = c.matched ? clinic.types.get(c.treatmentType) : undefined;
  if (!c.matched || !type)
    throw new RebookError(
      'unclassified_service',
      'the service matches no treatment type of this clinic (map it in services.synonyms or services.ids)',
      { field: 'service' },
    );
  return {
    type,
    classification: { service: input.service.name, by: c.by, ...(c.synonym ? { synonym: c.synonym } : {}) },
  };
}

/** What is known of the client's channels before any message is sent: address, consent, number validity. */
function channelStates(clinic: PreviewClinic, client: PreviewInput['client']): Record<Channel, ChannelState> {
  const facts = (address: unknown, consented: boolean) => ({
    hasAddress: !!address,
    consented,
    optedOut: false,
    undeliverable: false,
  });
  return {
    sms: {
      ...facts(client.phone, client.consent.sms),
      ...(client.phone ? { validNumber: normalizePhone(client.phone, clinic.defaultCountry).ok } : {}),
    },
    email: facts(client.email, client.consent.email),
  };
}

export function previewTimeline(clinic: PreviewClinic, input: PreviewInput): PreviewResult {
  const { type, classification } = resolveType(clinic, input);
  const clinicTz = clinic.timeZone;
  const zone = input.client.timeZone ?? clinicTz;
  const plan = planSequence(type, new Date(input.completedAtMs).toISOString(), {
    timeZone: clinicTz,
    sendTime: clinic.sendTime,
    ...(input.session ? { session: input.session } : {}),
  });
  const windowEnds = Date.parse(plan.windowEndsAt);
  const offerEndsOf = (s: PlannedStage) => (s.offerExpiresAt ? Date.parse(s.offerExpiresAt) : windowEnds);
  const channels = channelStates(clinic, input.client);
  const unusable = unusableChannels('marketing', channels) as Record<Channel, Unusable | null>;
  const decision = decideOffer({
    priceCents: input.priceCents ?? null,
    priceTiers: clinic.incentives.tiers,
    unknownPrice: clinic.incentives.unknown,
    loyaltyTiers: clinic.loyaltyTiers,
    ...(input.offerFacts?.facts ? { facts: input.offerFacts.facts } : {}),
    ...(input.offerFacts?.history ? { history: input.offerFacts.history } : {}),
  });
  const offer = decision.kind === 'offer' ? decision.offer : undefined;
  const incentive = {
    description: decision.description,
    ...(offer ? { code: SAMPLE_INCENTIVE_CODE } : {}),
    expiresAtMs: windowEnds,
  };
  const sends: SendRecord[] = [];
  const unsubscribeUrl = clinic.publicBaseUrl
    ? `${clinic.publicBaseUrl.replace(/\/$/, '')}/unsubscribe/${SAMPLE_UNSUBSCRIBE_TOKEN}`
    : undefined;
  const at = (ms: number) => localTime(ms, zone);
  const base = (s: PlannedStage): PreviewStage => ({
    key: s.key,
    day: s.day,
    purpose: s.purpose,
    category: messageCategory(s),
    plannedChannel: s.channel,
    due: at(Date.parse(s.dueAt)),
    outcome: 'skipped',
    holds: [],
    ...(s.series ? { series: s.series } : {}),
  });

  /** The variant the preview shows for a stage: the one the request names, else the first; null without variants. */
  function previewVariant(s: PlannedStage): StageVariant | null {
    const list = stageVariants(clinic.variants, s);
    if (list.length < 2) return null;
    const wanted = input.variants?.[s.key];
    if (wanted === undefined) return list[0]!;
    const found = list.find((v) => v.name === wanted);
    if (!found)
      throw new RebookError('validation_failed', 'invalid request body', {
        issues: [
          {
            path: `body.variants.${s.key}`,
            message: `stage "${s.key}" has no variant "${wanted}" (it has: ${list.map((v) => v.name).join(', ')})`,
          },
        ],
      });
    return found;
  }

  /** One client-facing stage from `dueMs` on, until `expiresMs` (next stage due or window end): decideStage at each instant. */
  function clientStage(
    s: PlannedStage,
    dueMs: number,
    expiresMs: number,
  ): PreviewStage & { doneMs: number; noUsableChannel?: boolean } {
    const row = base(s);
    const category = row.category;
    const capped = capsApply(category, clinic.capsIncludeCare);
    const variant = previewVariant(s);
    if (variant) {
      const list = stageVariants(clinic.variants, s);
      const total = list.reduce((sum, v) => sum + v.weight, 0);
      row.variant = variant.name;
      row.variants = list.map((v) => ({ name: v.name, share: Math.round((v.weight / total) * 1000) / 1000 }));
    }
    const templateFor = (c: Channel) => variantTemplate(variant, c, stageTemplate(clinic.templates, s, c));
    const hasTemplate = (c: Channel) => !!templateFor(c);
    /** What the clinic's configuration cannot send on `channel` (delivery refuses it as config_invalid). */
    const configError = (channel: Channel): string | undefined =>
      !templateFor(channel)
        ? `no ${channel} template for stage purpose "${s.purpose}"`
        : channel === 'email' && !unsubscribeUrl
          ? 'email needs publicBaseUrl for its one-click unsubscribe link'
          : undefined;
    let now = dueMs;
    // Bounded like the workflow's loop: each round moves `now` forward to a window opening or a cap release.
    for (let round = 0; round < 64; round++) {
      const d = decideStage({
        stage: s,
        nowMs: now,
        expiresAtMs: expiresMs,
        clinic,
        sendTimeZone: zone,
        channels,
        hasTemplate,
        variant,
        sends,
      });
      if (d.kind === 'escalate' || (d.kind === 'suppress' && !d.channel))
        return {
          ...row,
          outcome: 'suppressed',
          reason: d.reason,
          doneMs: now,
          // A care touch nobody can receive hands no one to staff (the workflow escalates on marketing stages).
          ...(d.kind === 'escalate' ? { noUsableChannel: true } : {}),
        };
      const channel = d.channel;
      const error = channel && configError(channel);
      if (channel && error) return { ...row, outcome: 'config_error', channel, reason: error, doneMs: now };
      if (d.kind === 'suppress') {
        if (d.reason === 'send_window_never_opens')
          row.holds.push({ reason: 'send_window', from: new Date(now).toISOString(), until: 'never' });
        if (d.reason === 'capped')
          row.holds.push({
            reason: 'capped',
            from: new Date(now).toISOString(),
            until: Number.isFinite(d.allowedAt) ? new Date(d.allowedAt!).toISOString() : 'never',
            ...(d.rule ? { rule: describeRule(d.rule) } : {}),
          });
        return {
          ...row,
          outcome: 'suppressed',
          channel: d.channel!,
          reason: d.reason,
          ...(d.reason === 'capped' ? { caps: 'suppressed' as const } : {}),
          doneMs: now,
        };
      }
      if (d.kind === 'defer') {
        // A send-time variant waits for its clock on the stage's day, as delivery does: not a hold.
        if (d.reason !== 'variant_send_time')
          row.holds.push({
            reason: d.reason,
            from: new Date(now).toISOString(),
            until: new Date(d.until).toISOString(),
            ...(d.rule ? { rule: describeRule(d.rule) } : {}),
          });
        now = d.until;
        continue;
      }
      // Only what the caps count is remembered for later cap checks.
      if (capped) sends.push({ at: now, channel: d.channel });
      const template = templateFor(d.channel)!;
      const values = stageTemplateValues(clinic, {
        channel: d.channel,
        firstName: input.client.firstName ?? 'Alex',
        treatmentLabel: type.label,
        ...(category === 'marketing' && needsIncentive(s.purpose, template.body)
          ? {
              incentive: {
                ...incentive,
                // A win-back touch's offer is a fresh one with its own expiry (issue 11 §3).
                expiresAtMs: offerEndsOf(s),
                ...(variant?.offer
                  ? { description: describeOffer(variantOffer(variant.offer, input.priceCents)) }
                  : {}),
              },
            }
          : {}),
        offerExpiresAtMs: offerEndsOf(s),
        ...(d.channel === 'email' && unsubscribeUrl ? { unsubscribeUrl } : {}),
        ...(s.series ? { series: s.series } : {}),
      });
      const content: PreviewContent = renderStageContent(template, values);
      if (d.channel === 'sms') content.sms = smsSegments(content.body);
      return {
        ...row,
        outcome: 'sent',
        at: at(now),
        channel: d.channel,
        ...(d.fallback ? { fallback: true } : {}),
        caps: row.holds.some((h) => h.reason === 'capped') ? 'deferred' : 'allowed',
        content,
        doneMs: now,
      };
    }
    return { ...row, outcome: 'suppressed', reason: 'held_too_long', doneMs: now };
  }

  const stages: PreviewStage[] = [];
  let clock = input.completedAtMs;
  let sent = 0;
  /** Set when no channel is usable: the client went to staff then and the rest is skipped. */
  let escalatedAt: number | undefined;
  const booking = input.booking;
  /** When a lapsed booking puts the client back into follow-up (a cancellation: after the grace to rebook). */
  const resumeAt = booking?.lapse ? followUpResumesAt(booking.lapse, plan.cancelRebookGraceMs) : undefined;
  /** booked: marketing stops, the booking is watched; resumed: follow-up came back after a lapse. */
  let watch: 'none' | 'booked' | 'resumed' = 'none';
  /** The recovery touch, then the stages still ahead (none sent late; a staff stage past becomes a task at once). */
  const resume = (i: number): number => {
    const kind = booking!.lapse!.kind;
    const recovery: PlannedStage = {
      key: `recovery_${kind}`,
      day: Math.floor((resumeAt! - input.completedAtMs) / 86_400_000),
      channel: plan.stages.some((x) => x.channel === 'sms') ? 'sms' : 'email',
      purpose: 'recovery',
      dueAt: new Date(resumeAt!).toISOString(),
    };
    const expires = Date.parse(plan.reactivationAt) + REACTIVATION_GRACE_MS;
    const { doneMs, noUsableChannel: _n, ...row } = clientStage(recovery, Math.max(resumeAt!, clock), expires);
    stages.push(row);
    clock = doneMs;
    if (row.outcome === 'sent') sent++;
    watch = 'resumed';
    const ahead = Math.max(i, firstCurrentStageIndex(plan, doneMs, 0));
    for (let k = i; k < ahead; k++) stages.push({ ...base(plan.stages[k]!), reason: 'passed while booked' });
    const staff = plan.stages.findIndex((x) => x.channel === 'staff');
    if (staff >= 0 && staff < ahead && !stages.some((x) => x.outcome === 'staff_task'))
      stages.push({
        ...base(plan.stages[staff]!),
        outcome: 'staff_task',
        at: at(doneMs),
        reason: 'appointment_change',
      });
    return ahead;
  };
  for (let i = 0; i < plan.stages.length; i++) {
    const s = plan.stages[i]!;
    if (booking && watch === 'none' && Math.max(Date.parse(s.dueAt), clock) > booking.bookedAtMs) watch = 'booked';
    if (watch === 'booked') {
      if (resumeAt !== undefined && Date.parse(s.dueAt) > resumeAt) {
        i = resume(i) - 1;
        continue;
      }
      // While the booking is watched only care touches go out (those before the visit check when it never lapses).
      const checkAt = resumeAt ?? visitCheckAt(booking!.startAtMs);
      if (bookingStopsStage(s) || Date.parse(s.dueAt) > checkAt) {
        stages.push({ ...base(s), reason: 'booked' });
        continue;
      }
    }
    if (escalatedAt !== undefined) {
      const first = s.channel === 'staff' && !stages.some((x) => x.outcome === 'staff_task');
      stages.push(
        first
          ? { ...base(s), outcome: 'staff_task', at: at(escalatedAt), reason: 'no_usable_channel' }
          : { ...base(s), reason: 'client already handed to staff' },
      );
      continue;
    }
    const start = Math.max(Date.parse(s.dueAt), clock);
    if (s.channel === 'staff') {
      stages.push({
        ...base(s),
        outcome: 'staff_task',
        at: at(start),
        reason: staffEscalationReason(sent > 0),
      });
      clock = start;
      continue;
    }
    const next = plan.stages[i + 1];
    const { doneMs, noUsableChannel, ...row } = clientStage(s, start, next ? Date.parse(next.dueAt) : windowEnds);
    stages.push(row);
    clock = doneMs;
    // Care touches are no rebooking touch: a client reached only by them had no touch delivered.
    if (row.outcome === 'sent' && row.category === 'marketing') sent++;
    if (noUsableChannel) escalatedAt = doneMs;
  }
  // A lapse after every stage of the plan was due: the recovery touch all the same.
  if (watch === 'booked' && resumeAt !== undefined) resume(plan.stages.length);
  if (escalatedAt !== undefined && !stages.some((x) => x.outcome === 'staff_task')) {
    // No staff stage in the catalog: the workflow escalates all the same.
    stages.push({
      key: 'staff_escalation',
      day: plan.intervalDays,
      purpose: 'escalation',
      category: 'marketing',
      plannedChannel: 'staff',
      due: at(escalatedAt),
      outcome: 'staff_task',
      at: at(escalatedAt),
      reason: 'no_usable_channel',
      holds: [],
    });
  }

  // After a "not now" reply without a date: its own touch at interval + 30 days, in place of the
  // touches below (so its caps count the messages above only, and it counts for none below).
  const sendsBefore = sends.length;
  const reStage = snoozeTouch(
    plan,
    plan.reactivationAt,
    plan.stages.find((x) => x.channel === 'sms') ? 'sms' : 'email',
  );
  const reStart = Date.parse(reStage.dueAt);
  const {
    doneMs: _done,
    noUsableChannel: _none,
    ...reactivation
  } = clientStage(reStage, reStart, reStart + REACTIVATION_GRACE_MS);
  sends.length = sendsBefore;

  // Otherwise, after the staff stage, for a client who never answered: the reactivation touch on the window's
  // last day, then the win-back touches (issue 11 §3), as the workflow plans them.
  const later = planReactivation(plan, type.reactivation ?? DEFAULT_REACTIVATION, {
    timeZone: clinicTz,
    sendTime: clinic.sendTime,
    spacingMs: capSpacingMs(clinic.capRules),
  });
  for (let i = 0; i < later.stages.length; i++) {
    // Tried even after a hand-over to staff, as the workflow does: consent or an address may have come since.
    const s = later.stages[i]!;
    if (watch === 'booked') {
      stages.push({ ...base(s), reason: 'booked' });
      continue;
    }
    const next = later.stages[i + 1];
    const start = Math.max(Date.parse(s.dueAt), clock);
    const {
      doneMs,
      noUsableChannel: _n,
      ...row
    } = clientStage(s, start, next ? Date.parse(next.dueAt) : Date.parse(later.churnAt));
    stages.push(row);
    clock = doneMs;
  }

  return {
    clinicId: clinic.id,
    treatmentType: type.key,
    label: type.label,
    ...(classification ? { classification } : {}),
    completedAt: localTime(input.completedAtMs, clinicTz),
    // A series' between-session interval, or the type's own (maintenance, or no series).
    intervalDays: plan.intervalDays,
    ...(plan.series ? { series: plan.series } : {}),
    clinicTimeZone: clinicTz,
    sendTimeZone: zone,
    channels: {
      email: unusable.email ? { usable: false, reason: unusable.email } : { usable: true },
      sms: unusable.sms ? { usable: false, reason: unusable.sms } : { usable: true },
    },
    incentive: {
      kind: decision.kind,
      reason: decision.reason,
      why: OFFER_REASON_TEXT[decision.reason],
      ...(decision.kind === 'offer' && decision.tier ? { tier: decision.tier } : {}),
      ...(offer ? { offer, code: SAMPLE_INCENTIVE_CODE } : {}),
      description: incentive.description,
      percentOfPrice: offer ? Math.round(percentOfPrice(offer, input.priceCents) * 10) / 10 : 0,
      expiresAt: localTime(windowEnds, clinicTz),
    },
    stages,
    reactivation,
    windowEndsAt: localTime(windowEnds, clinicTz),
    assumptions: [
      'the client is in no other sequence (caps count only the messages of this timeline)',
      'the client does not book, reply or opt out along the way; deliveries succeed',
      'the incentive code is a placeholder: real codes are drawn when the stage is sent',
      'the reactivation and win-back touches go to a client who never answered; a "not now" reply gets its own touch instead (reactivation), whose caps count every message above',
    ],
  };
}
