/**
 * Delivering one client-facing stage: channel resolution (consent, opt-outs, deliverability,
 * fallback), the send window, frequency caps enforced atomically per client, the incentive,
 * rendering, and the ledger around the provider call.
 *
 * The ledger protocol, and the one crash window left:
 *   1. reserve: inside a transaction holding the client's row lock (`SELECT … FOR UPDATE`), count
 *      the client's recent messages against the caps and insert the row as `sending` under the
 *      stage's idempotency key. Two sequences of one client serialize here, so they cannot both
 *      slip past a cap; a retried activity finds its row and never reserves twice.
 *   2. call the provider.
 *   3. record the provider's id and status.
 * A failure the provider reports as "not sent" (429, 5xx, refused connection) turns the row into
 * `retry_pending` and the activity is retried. A crash (or an unanswered request) between 2 and
 * 3 leaves the row `sending`: we cannot know whether the provider sent it, and Twilio has no
 * idempotency key. We choose at most once: the retry marks the row `unconfirmed` and does not
 * send again. The status callback, which carries our ledger id, later fills in the truth.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { and, eq, gt, inArray, notInArray, sql } from 'drizzle-orm';
import { clinicOrThrow, treatmentTypesFor } from '../config/load.js';
import {
  capRulesFor,
  emailHidesTreatment,
  incentiveTiersFor,
  loyaltyTiersFor,
  sendWindowFor,
} from '../config/messaging.js';
import type { ClinicConfig } from '../config/schema.js';
import type { ConfigStore } from '../config/store.js';
import { stageVariantsFor } from '../config/variants.js';
import type { SendRecord } from '../core/caps.js';
import type { Arm } from '../core/holdout.js';
import { describeOffer, incentiveCode, type Offer } from '../core/incentives.js';
import {
  capsApply,
  countedCategories,
  type MessageCategory,
  messageCategory,
  stageTemplate,
} from '../core/message-category.js';
import { needsIncentive, renderStageContent, stageTemplateValues } from '../core/message-content.js';
import { decideOffer, type OfferReason } from '../core/offers.js';
import { normalizePhone, type PhoneCheck } from '../core/phone.js';
import { planSequence } from '../core/plan.js';
import {
  type ChannelState,
  type DecisionClinic,
  decideStage,
  type StageDecision,
  unusableChannels,
} from '../core/stage-decision.js';
import type { Channel, PlannedStage } from '../core/types.js';
import { assignVariant, type StageVariant, variantOffer, variantTemplate } from '../core/variants.js';
import type { Db } from '../db/client.js';
import { clientOfferFacts } from '../db/offer-facts.js';
import { appointments, clients, incentives, messages, sequences } from '../db/schema.js';
import { RebookError } from '../errors.js';
import type { Logger } from '../log.js';
import { channelFlags, markUndeliverable, recordOptOut } from '../messaging/channel-state.js';
import { type MessageProvider, ProviderError, type ProviderSet } from '../messaging/types.js';
import { signUnsubscribeToken } from '../messaging/unsubscribe.js';
import { recordHold } from '../reports/record.js';
import type { DeliveryResult, SequenceRef } from './types.js';

export interface DeliveryDeps {
  db: Db;
  config: ConfigStore;
  /** Default providers (the outbox when no credentials are configured). */
  providers: ProviderSet;
  /** Per-clinic providers built from the clinic's credentials, when it has any. */
  clinicProviders?: (clinicId: string) => Partial<ProviderSet> | undefined;
  /** Secret signing one-click unsubscribe tokens; emails cannot be sent without it. */
  unsubscribeSecret?: string;
  log: Logger;
  /**
   * Key of the stage-variant assignment (the holdout's: REBOOK_HOLDOUT_SECRET, else the
   * unsubscribe secret); needed only by a clinic with variants.
   */
  variantSecret?: string;
  /** Randomness for incentive codes (crypto by default). */
  random?: (bytes: number) => Uint8Array;
}

/** Ledger statuses that never reached the client: they do not count toward caps and may be replaced. */
const NOT_SENT = ['rejected'];

export type Unusable = 'no_address' | 'no_consent' | 'opted_out' | 'undeliverable' | 'invalid_number';

export interface DeliverInput {
  ref: SequenceRef;
  stage: PlannedStage;
  now: string;
  anchorAt: string;
  /** The stage is not worth sending from this instant on (next stage due, or the window's end). */
  expiresAt?: string;
  /** When the sequence's offer expires (interval + 30 days). */
  offerExpiresAt?: string;
}

/** The client's holdout arm, recorded on the sequence at enrolment (null before holdouts: treated). */
export async function sequenceArm(db: Db, workflowId: string): Promise<Arm | null> {
  const [row] = await db.select({ arm: sequences.arm }).from(sequences).where(eq(sequences.workflowId, workflowId));
  return row?.arm ?? null;
}

/** Deferral reason of a send-time variant: the variant's time, not a hold (reports do not count it). */
export const VARIANT_SEND_TIME = 'variant_send_time';

/**
 * A stage decision that is not a send, as the workflow reads it. Histories keep this shape: a
 * stage nobody can receive is `suppressed` with `noUsableChannel`, and the workflow decides
 * whether that hands the client to staff (it does not for care touches or win-back touches).
 */
export function deliveryResultOf(decision: Exclude<StageDecision, { kind: 'send' }>): DeliveryResult {
  switch (decision.kind) {
    case 'defer':
      return { status: 'deferred', until: new Date(decision.until).toISOString(), reason: decision.reason };
    case 'escalate':
      return { status: 'suppressed', reason: decision.reason, noUsableChannel: true };
    case 'suppress':
      return {
        status: 'suppressed',
        reason: decision.reason,
        ...(decision.reason === 'no_usable_channel' ? { noUsableChannel: true } : {}),
      };
  }
}

/** The variant of this client at this stage (null: the stage has no variants); keyed hash in src/core/variants.ts. */
export function stageVariantOf(
  secret: string | undefined,
  clinic: ClinicConfig,
  stage: PlannedStage,
  clientId: string,
): StageVariant | null {
  const config = stageVariantsFor(clinic);
  if (Object.keys(config).length === 0) return null;
  if (!secret)
    throw new RebookError(
      'config_invalid',
      'stage variants are configured but REBOOK_HOLDOUT_SECRET (or REBOOK_UNSUBSCRIBE_SECRET) is not set',
      { field: 'variants' },
    );
  return assignVariant(config, stage, { clinicId: clinic.id, clientId }, (m) =>
    createHmac('sha256', secret).update(m).digest(),
  );
}

export function providerFor(deps: DeliveryDeps, clinicId: string, channel: Channel): MessageProvider {
  return deps.clinicProviders?.(clinicId)?.[channel] ?? deps.providers[channel];
}

export function createDelivery(deps: DeliveryDeps) {
  const { db, config, log } = deps;
  const random = deps.random ?? ((n: number) => randomBytes(n));

  /** What is known of the client's channels now: address, consent, opt-outs, failed deliveries, the number's shape. */
  async function channelStates(
    client: typeof clients.$inferSelect,
    clinic: ClinicConfig,
    rejectedHere: Set<string>,
  ): Promise<{ channels: Record<Channel, ChannelState>; phone?: PhoneCheck }> {
    const flags = await channelFlags(db, client.id);
    const phone = client.phone ? normalizePhone(client.phone, clinic.defaultCountry) : undefined;
    return {
      channels: {
        sms: {
          hasAddress: !!client.phone,
          consented: client.consentSms,
          optedOut: flags.sms.optedOut,
          undeliverable: flags.sms.undeliverable || rejectedHere.has('sms'),
          ...(phone ? { validNumber: phone.ok } : {}),
        },
        email: {
          hasAddress: !!client.email,
          consented: client.consentEmail,
          optedOut: flags.email.optedOut,
          undeliverable: flags.email.undeliverable || rejectedHere.has('email'),
        },
      },
      ...(phone ? { phone } : {}),
    };
  }

  function expiryOf(input: DeliverInput, clinic: ClinicConfig): { stageEnds: number; offerEnds: number } {
    if (input.expiresAt && input.offerExpiresAt)
      return { stageEnds: Date.parse(input.expiresAt), offerEnds: Date.parse(input.offerExpiresAt) };
    // Histories from before these fields existed: re-plan from the anchor with today's config.
    const type = treatmentTypesFor(config.current(), clinic).get(input.ref.treatmentType);
    const windowEnds = type
      ? Date.parse(
          planSequence(type, input.anchorAt, { timeZone: clinic.timeZone, sendTime: clinic.sendTime }).windowEndsAt,
        )
      : Number.POSITIVE_INFINITY;
    return {
      stageEnds: input.expiresAt ? Date.parse(input.expiresAt) : windowEnds,
      offerEnds: input.offerExpiresAt ? Date.parse(input.offerExpiresAt) : windowEnds,
    };
  }

  /**
   * The stage's offer, decided by core/offers.ts from the price, the client's plans and their last
   * 12 months: a discount gets an incentive code (one per run, reused by later stages, except a
   * win-back touch's: a fresh one with its own expiry, issue 11 §3); credits left or a member price
   * get wording and no code. The reason goes on the ledger row.
   */
  async function offerOf(
    ref: SequenceRef,
    clinic: ClinicConfig,
    client: { externalId: string },
    nowMs: number,
    expiresAt: number,
    stage: PlannedStage,
    variant?: Offer,
  ): Promise<{ reason: OfferReason | null; description: string; incentive?: typeof incentives.$inferSelect }> {
    const key =
      stage.purpose === 'winback' ? `${ref.workflowId}|${ref.runKey}|${stage.key}` : `${ref.workflowId}|${ref.runKey}`;
    const [existing] = await db.select().from(incentives).where(eq(incentives.idempotencyKey, key));
    if (existing)
      return {
        reason: (existing.reason as OfferReason | null) ?? null,
        description: existing.description,
        incentive: existing,
      };
    const [appt] = await db
      .select({ priceCents: appointments.priceCents })
      .from(appointments)
      .where(and(eq(appointments.clinicId, ref.clinicId), eq(appointments.externalId, ref.runKey)));
    const { tiers, unknown } = incentiveTiersFor(clinic);
    const { facts, history } = await clientOfferFacts(db, {
      clinicId: ref.clinicId,
      clientExternalId: client.externalId,
      treatmentType: ref.treatmentType,
      nowMs,
    });
    let decision = decideOffer({
      priceCents: appt?.priceCents ?? null,
      priceTiers: tiers,
      unknownPrice: unknown,
      loyaltyTiers: loyaltyTiersFor(clinic),
      facts,
      history,
    });
    if (decision.kind !== 'offer') return { reason: decision.reason, description: decision.description };
    // An offer variant (issue 13) replaces the price tier's offer, under the same 20 % ceiling; credits,
    // a member price and a loyalty tier come first (issue 14).
    if (variant && (decision.reason === 'price_tier' || decision.reason === 'unknown_price')) {
      const offer = variantOffer(variant, appt?.priceCents);
      decision = { ...decision, offer, description: describeOffer(offer) };
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const [row] = await db
        .insert(incentives)
        .values({
          code: incentiveCode(random(10)),
          idempotencyKey: key,
          clinicId: ref.clinicId,
          clientId: ref.clientId,
          workflowId: ref.workflowId,
          runKey: ref.runKey,
          offer: decision.offer,
          description: decision.description,
          reason: decision.reason,
          expiresAt: new Date(expiresAt),
        })
        .onConflictDoNothing()
        .returning();
      if (row) return { reason: decision.reason, description: row.description, incentive: row };
      const [again] = await db.select().from(incentives).where(eq(incentives.idempotencyKey, key));
      // A concurrent attempt won; otherwise the random code collided: draw again.
      if (again)
        return {
          reason: (again.reason as OfferReason | null) ?? null,
          description: again.description,
          incentive: again,
        };
    }
    throw new RebookError('internal', 'could not allocate an incentive code');
  }

  /**
   * Reserves the ledger row if the stage may still go out now, caps included: one client at a
   * time (row lock), so two sequences of a client cannot both slip past a cap. `decide` is
   * decideStage over the facts already gathered, given the client's counted recent sends.
   */
  async function reserve(
    values: typeof messages.$inferInsert,
    nowMs: number,
    clinic: ClinicConfig,
    category: MessageCategory,
    decide: (sends: SendRecord[]) => StageDecision,
  ): Promise<
    { row: typeof messages.$inferSelect } | { decision: Exclude<StageDecision, { kind: 'send' }> } | { raced: true }
  > {
    // A care touch is not held by the caps unless the clinic's rules include care.
    const rules = capsApply(category, clinic.capsIncludeCare) ? capRulesFor(clinic) : [];
    if (rules.length === 0) {
      const [row] = await db.insert(messages).values(values).onConflictDoNothing().returning();
      return row ? { row } : { raced: true as const };
    }
    const horizon = Math.max(...rules.map((r) => r.windowMs));
    return db.transaction(async (tx) => {
      await tx.execute(sql`select id from clients where id = ${values.clientId} for update`);
      const at = sql<Date>`coalesce(${messages.attemptedAt}, ${messages.sentAt})`;
      const recent = await tx
        .select({ at, channel: messages.channel })
        .from(messages)
        .where(
          and(
            eq(messages.clientId, values.clientId),
            inArray(messages.channel, ['sms', 'email']),
            notInArray(messages.status, NOT_SENT),
            inArray(messages.category, countedCategories(clinic.capsIncludeCare)),
            gt(at, new Date(nowMs - horizon)),
          ),
        );
      const decision = decide(recent.map((r) => ({ at: new Date(r.at).getTime(), channel: r.channel as Channel })));
      if (decision.kind !== 'send') return { decision };
      const [row] = await tx.insert(messages).values(values).onConflictDoNothing().returning();
      return row ? { row } : { raced: true as const };
    });
  }

  async function deliverStage(input: DeliverInput): Promise<DeliveryResult> {
    const { ref, stage } = input;
    const nowMs = Date.parse(input.now);
    const base = `${ref.workflowId}|${ref.runKey}|${stage.key}`;
    const keys = [base, `${base}|sms`, `${base}|email`];
    const clinic = clinicOrThrow(config.current(), ref.clinicId);
    // The holdout arm (care touches only for a held-out client) is part of the stage decision below.
    const arm = await sequenceArm(db, ref.workflowId);
    // Variants are chosen here, at delivery, never in the workflow: the same client and stage
    // always get the same one, so a retry or a restart sends what the first attempt would have.
    const variant = stageVariantOf(deps.variantSecret, clinic, stage, ref.clientId);
    const category = messageCategory(stage);
    const { stageEnds, offerEnds } = expiryOf(input, clinic);
    const window = sendWindowFor(clinic);
    const decisionClinic: DecisionClinic = {
      timeZone: clinic.timeZone,
      sendWindow: window,
      capRules: capRulesFor(clinic),
      fallback: clinic.fallback,
      capsIncludeCare: clinic.capsIncludeCare,
    };
    const templateFor = (c: Channel) => variantTemplate(variant, c, stageTemplate(clinic.templates, stage, c));

    for (let round = 0; round < 3; round++) {
      const rows = await db.select().from(messages).where(inArray(messages.idempotencyKey, keys));
      const live = rows.find((r) => !NOT_SENT.includes(r.status) && r.status !== 'retry_pending');
      if (live) {
        if (live.status === 'sending') {
          // The crash window: the provider may or may not have sent it. At most once: never again.
          await db
            .update(messages)
            .set({ status: 'unconfirmed', statusUpdatedAt: new Date(input.now) })
            .where(and(eq(messages.id, live.id), eq(messages.status, 'sending')));
          log.warn(
            { messageId: live.id, workflowId: ref.workflowId, stage: stage.key },
            'send outcome unknown after a crash; not sending again',
          );
        }
        return { status: 'sent', messageId: live.id, channel: live.channel };
      }
      const retry = rows.find((r) => r.status === 'retry_pending');
      const rejectedHere = new Set(rows.filter((r) => NOT_SENT.includes(r.status)).map((r) => r.channel));

      const [client] = await db
        .select()
        .from(clients)
        .where(and(eq(clients.id, ref.clientId), eq(clients.clinicId, ref.clinicId)));
      if (!client) throw new RebookError('not_found', 'client not found for sequence', { field: 'clientId' });
      const { channels, phone } = await channelStates(client, clinic, rejectedHere);
      // Send window in the client's zone when known, else the clinic's. The caps are checked again
      // under the client's row lock (reserve), with the same function over the counted sends.
      const decide = (sends?: SendRecord[]) =>
        decideStage({
          stage,
          nowMs,
          expiresAtMs: stageEnds,
          clinic: decisionClinic,
          sendTimeZone: client.timeZone ?? clinic.timeZone,
          channels,
          // A channel the clinic has no template for (this stage's purpose) is no fallback either.
          hasTemplate: (c) => !!templateFor(c),
          arm,
          variant,
          ...(retry ? { retryChannel: retry.channel as Channel } : {}),
          ...(sends ? { sends } : {}),
        });
      const decision = decide();
      // Past the holdout and a variant's clock, the number was looked at (as it always was).
      const looked =
        !(decision.kind === 'suppress' && decision.reason === 'holdout') &&
        !(decision.kind === 'defer' && decision.reason === 'variant_send_time');
      if (looked && phone && !phone.ok && unusableChannels(category, channels).sms === 'invalid_number')
        // Never reaches Twilio; remembered so every later stage goes straight to email.
        await markUndeliverable(db, client.id, 'sms', phone.reason, new Date());
      else if (looked && phone?.ok && client.phoneE164 !== phone.e164) {
        await db.update(clients).set({ phoneE164: phone.e164 }).where(eq(clients.id, client.id));
        client.phoneE164 = phone.e164;
      }
      if (decision.kind !== 'send') return deliveryResultOf(decision);
      const channel = decision.channel;

      let row: typeof messages.$inferSelect;
      if (retry) {
        [row] = (await db
          .update(messages)
          .set({ status: 'sending', attemptedAt: new Date(nowMs) })
          .where(and(eq(messages.id, retry.id), eq(messages.status, 'retry_pending')))
          .returning()) as [typeof messages.$inferSelect];
        if (!row) continue;
      } else {
        const cfg = config.current();
        const type = treatmentTypesFor(cfg, clinic).get(ref.treatmentType);
        const template = templateFor(channel);
        if (!template)
          throw new RebookError(
            'config_invalid',
            `clinic has no ${channel} template for stage purpose "${stage.purpose}"`,
          );
        const messageId = randomUUID();
        let unsubscribeUrl: string | undefined;
        if (channel === 'email') {
          if (!clinic.publicBaseUrl || !deps.unsubscribeSecret)
            throw new RebookError(
              'config_invalid',
              'email needs publicBaseUrl and an unsubscribe secret for its one-click unsubscribe link',
            );
          unsubscribeUrl = `${clinic.publicBaseUrl.replace(/\/$/, '')}/unsubscribe/${signUnsubscribeToken(deps.unsubscribeSecret, messageId)}`;
        }
        // A care touch never carries an offer (config validation refuses one in its template).
        const offer =
          category === 'marketing' && needsIncentive(stage.purpose, template.body)
            ? await offerOf(ref, clinic, client, nowMs, offerEnds, stage, variant?.offer)
            : undefined;
        const incentive = offer?.incentive;
        const values = stageTemplateValues(
          { ...clinic, emailHidesTreatment: emailHidesTreatment(clinic) },
          {
            channel,
            firstName: client.firstName,
            ...(type ? { treatmentLabel: type.label } : {}),
            ...(incentive
              ? {
                  incentive: {
                    description: incentive.description,
                    code: incentive.code,
                    expiresAtMs: incentive.expiresAt.getTime(),
                  },
                }
              : offer
                ? { incentive: { description: offer.description, expiresAtMs: offerEnds } }
                : {}),
            offerExpiresAtMs: offerEnds,
            ...(unsubscribeUrl ? { unsubscribeUrl } : {}),
            ...(stage.series ? { series: stage.series } : {}),
          },
        );
        const content = renderStageContent(template, values);
        const key = rows.some((r) => r.idempotencyKey === base) ? `${base}|${channel}` : base;
        const reserved = await reserve(
          {
            id: messageId,
            idempotencyKey: key,
            clinicId: ref.clinicId,
            clientId: ref.clientId,
            workflowId: ref.workflowId,
            treatmentType: ref.treatmentType,
            stage: stage.key,
            channel,
            status: 'sending',
            provider: providerFor(deps, ref.clinicId, channel).name,
            recipient: channel === 'sms' ? client.phoneE164! : client.email!,
            subject: content.subject,
            // A SendGrid dynamic template: the ledger keeps its id and the values, SendGrid renders.
            ...(content.templateId
              ? { body: null, templateId: content.templateId, templateData: values }
              : { body: content.body }),
            dueAt: new Date(stage.dueAt),
            attemptedAt: new Date(nowMs),
            arm,
            variant: variant?.name ?? null,
            category,
            offerReason: offer?.reason ?? null,
          },
          nowMs,
          clinic,
          category,
          decide,
        );
        if ('raced' in reserved) continue;
        if ('decision' in reserved) {
          const rule = 'rule' in reserved.decision ? reserved.decision.rule : undefined;
          if (rule)
            log.info(
              {
                workflowId: ref.workflowId,
                stage: stage.key,
                rule: `${rule.max}/${rule.windowMs / 3_600_000}h${rule.channel ? `/${rule.channel}` : ''}`,
              },
              'held back by a frequency cap',
            );
          return deliveryResultOf(reserved.decision);
        }
        row = reserved.row;
        if (incentive && !incentive.messageId)
          await db.update(incentives).set({ messageId: row.id }).where(eq(incentives.id, incentive.id));
      }

      try {
        const receipt = await providerFor(deps, ref.clinicId, channel).send({
          messageId: row.id,
          clinicId: ref.clinicId,
          channel,
          to: row.recipient!,
          subject: row.subject ?? undefined,
          body: row.body ?? '',
          ...(row.templateId ? { template: { id: row.templateId, data: row.templateData ?? {} } } : {}),
          ...(channel === 'email' && clinic.publicBaseUrl && deps.unsubscribeSecret
            ? {
                unsubscribeUrl: `${clinic.publicBaseUrl.replace(/\/$/, '')}/unsubscribe/${signUnsubscribeToken(deps.unsubscribeSecret, row.id)}`,
              }
            : {}),
          categories: ['rebook', ref.clinicId, stage.purpose],
        });
        await db
          .update(messages)
          .set({
            status: receipt.status,
            providerMessageId: receipt.providerMessageId,
            sentAt: new Date(input.now),
            statusUpdatedAt: new Date(input.now),
          })
          .where(eq(messages.id, row.id));
        log.info(
          { messageId: row.id, workflowId: ref.workflowId, stage: stage.key, channel, status: receipt.status },
          'stage delivered',
        );
        return { status: 'sent', messageId: row.id, channel };
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err; // row stays `sending`: the crash window
        const setStatus = (status: string) =>
          db
            .update(messages)
            .set({ status, errorCode: err.code, statusUpdatedAt: new Date(input.now) })
            .where(eq(messages.id, row.id));
        log.warn(
          {
            messageId: row.id,
            workflowId: ref.workflowId,
            stage: stage.key,
            channel,
            failure: err.failure,
            code: err.code,
          },
          'provider did not take the message',
        );
        switch (err.failure) {
          case 'retryable':
            await setStatus('retry_pending');
            throw new RebookError('provider_unavailable', `provider unavailable (code ${err.code})`);
          case 'unknown':
            await setStatus('unconfirmed');
            return { status: 'sent', messageId: row.id, channel };
          case 'undeliverable':
            await setStatus('rejected');
            await markUndeliverable(db, ref.clientId, channel, err.code, new Date(input.now));
            continue; // the other channel, for this stage and the rest of the sequence
          case 'opted_out':
            await setStatus('rejected');
            await recordOptOut(
              db,
              { clinicId: ref.clinicId, clientIds: [ref.clientId] },
              channel,
              'provider',
              new Date(input.now),
              row.id,
            );
            continue;
          case 'rejected':
            await setStatus('rejected');
            return { status: 'suppressed', reason: `provider_rejected_${err.code}` };
        }
      }
    }
    return { status: 'suppressed', reason: 'no_usable_channel', noUsableChannel: true };
  }

  return {
    // Reports count what held a stage back (caps, consent, send window): recorded once per reason.
    async deliverStage(input: DeliverInput): Promise<DeliveryResult> {
      const result = await deliverStage(input);
      if (result.status !== 'sent' && result.reason !== VARIANT_SEND_TIME)
        await recordHold(db, input.ref, input.stage.key, result, Date.parse(input.now));
      return result;
    },
  };
}
