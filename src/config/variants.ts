/**
 * Stage variants of a clinic (issue 13 §2): the configured variants as the core's `StageVariant`,
 * and the load-time checks that every variant is valid on its own — a variant the clinic could
 * never send, or could send only unlawfully, would measure the configuration rather than the
 * wording. Each problem names the variant's field path (`variants.<stage>.<i>.<field>`).
 */
import { describeRule, stagesBlockedByOwnCaps } from '../core/caps.js';
import { isCareTouch, OFFER_TOKENS, stageTemplate } from '../core/message-category.js';
import { needsIncentive } from '../core/message-content.js';
import { localDayAt } from '../core/plan.js';
import { smsSegments } from '../core/sms-segments.js';
import { renderTemplate } from '../core/templates.js';
import type { Channel, StageDefinition, TreatmentTypeDefinition } from '../core/types.js';
import type { StageVariant } from '../core/variants.js';
import {
  capRulesFor,
  type MessagingCheck,
  type MessagingConfig,
  messagingErrors,
  SAMPLE,
  sendWindowFor,
  toOffer,
} from './messaging.js';
import type { ClinicConfig, StageVariantsConfig } from './schema.js';

/** Twilio recommends under 320 characters; past three segments carriers split or drop messages. */
export const MAX_VARIANT_SMS_SEGMENTS = 3;

/** The clinic's variants per stage key or purpose, as the core takes them. */
export function stageVariantsFor(c: Pick<ClinicConfig, 'variants'>): Record<string, StageVariant[]> {
  const out: Record<string, StageVariant[]> = {};
  for (const [key, list] of Object.entries(c.variants ?? {}))
    out[key] = list.map((v) => ({
      name: v.name,
      weight: v.weight,
      ...(v.channel ? { channel: v.channel } : {}),
      ...(v.sendTime ? { sendTime: v.sendTime } : {}),
      ...(v.offer ? { offer: toOffer(v.offer) } : {}),
      ...(v.templates ? { templates: v.templates } : {}),
    }));
  return out;
}

type Clinic = Pick<
  ClinicConfig,
  'variants' | 'templates' | 'sendTime' | 'timeZone' | 'name' | 'bookingUrl' | 'address' | 'publicBaseUrl'
> &
  Pick<MessagingConfig, 'caps' | 'capsIncludeCare' | 'sendWindow' | 'providers'>;

type Variant = StageVariantsConfig[string][number];

/** Errors of every configured variant against the clinic's treatment types, templates, caps and window. */
export function variantErrors(c: Clinic, types: Map<string, TreatmentTypeDefinition>): MessagingCheck[] {
  const out: MessagingCheck[] = [];
  for (const [key, list] of Object.entries(c.variants ?? {})) {
    const targets: { type: TreatmentTypeDefinition; stage: StageDefinition }[] = [];
    for (const type of types.values())
      for (const stage of type.stages) if (stage.key === key || stage.purpose === key) targets.push({ type, stage });
    if (targets.length === 0) {
      out.push({
        path: ['variants', key],
        message: `no stage of the clinic's treatment types has key or purpose "${key}"`,
      });
      continue;
    }
    const seen = new Set<string>();
    const add = (path: (string | number)[], message: string) => {
      const k = `${path.join('.')}\0${message}`;
      if (seen.has(k)) return;
      seen.add(k);
      out.push({ path: ['variants', key, ...path], message });
    };
    for (const { type, stage } of targets) {
      if (stage.channel === 'staff') {
        add([], `${type.key} stage "${stage.key}" is a staff task: staff stages have no variants`);
        continue;
      }
      list.forEach((v, i) => {
        for (const p of variantProblems(c, type, stage, v)) add([i, ...p.path], p.message);
      });
    }
  }
  return out;
}

function variantProblems(
  c: Clinic,
  type: TreatmentTypeDefinition,
  stage: StageDefinition,
  v: Variant,
): MessagingCheck[] {
  const out: MessagingCheck[] = [];
  const channel: Channel = v.channel ?? (stage.channel as Channel);
  const own = v.templates?.[channel];
  const template = own ?? stageTemplate(c.templates, stage, channel);
  const care = isCareTouch(stage);
  if (!template) {
    out.push({
      path: v.channel ? ['channel'] : ['templates'],
      message: `no ${channel} template for ${type.key} stage "${stage.key}": add templates.${channel} to the variant or the clinic`,
    });
  }
  // Wording the variant brings: the same rules as the clinic's templates (CAN-SPAM, care has no offer).
  for (const [ch, t] of Object.entries(v.templates ?? {})) {
    for (const e of messagingErrors({ templates: { v: { [ch]: t } }, providers: c.providers ?? {} }))
      out.push({ path: ['templates', ...e.path.slice(2)], message: e.message });
    if (care)
      for (const field of ['subject', 'body'] as const) {
        const text = (t as { subject?: string; body?: string })[field];
        const token = text && OFFER_TOKENS.find((tok) => new RegExp(`\\{\\{\\s*${tok}\\s*\\}\\}`).test(text));
        if (token)
          out.push({
            path: ['templates', ch, field],
            message: `a care stage never carries an offer: remove {{${token}}}`,
          });
      }
  }
  // SMS cost: a variant that costs several times the other would compare price, not wording.
  const sms = v.templates?.sms ?? (channel === 'sms' ? (template as { body?: string } | undefined) : undefined);
  if (sms?.body) {
    const seg = smsSegments(
      renderTemplate(sms.body, { ...SAMPLE, clinicName: c.name, bookingUrl: c.bookingUrl, clinicAddress: c.address }),
    );
    if (seg.segments > MAX_VARIANT_SMS_SEGMENTS)
      out.push({
        path: v.templates?.sms ? ['templates', 'sms', 'body'] : ['channel'],
        message: `the SMS runs to ${seg.segments} ${seg.encoding} segments (at most ${MAX_VARIANT_SMS_SEGMENTS})`,
      });
  }
  if (v.offer) {
    if (care) out.push({ path: ['offer'], message: 'a care stage never carries an offer' });
    else if (template && !needsIncentive(stage.purpose, (template as { body?: string }).body))
      out.push({
        path: ['offer'],
        message: `the offer never reaches the client: stage "${stage.key}" is not an incentive stage and its ${channel} template has no {{incentive}}`,
      });
  }
  if (v.sendTime) {
    const window = sendWindowFor(c);
    // Delivery runs at the stage's due instant (the clinic's send time) and can only wait from there.
    if (v.sendTime < c.sendTime)
      out.push({ path: ['sendTime'], message: `must not be before the clinic's sendTime ${c.sendTime}` });
    if (v.sendTime < window.start || v.sendTime >= window.end)
      out.push({ path: ['sendTime'], message: `outside the send window ${window.start}–${window.end}` });
  }
  // Caps: a variant the clinic's own caps always hold back would never be sent at all.
  const blocked = blockedWith(c, type, stage, channel, v.sendTime);
  if (blocked)
    out.push({
      path: v.channel ? ['channel'] : v.sendTime ? ['sendTime'] : [],
      message: `${type.key} stage "${stage.key}" with this variant can never be sent: ${blocked}`,
    });
  return out;
}

/** The cap rule that always holds the stage back under the variant's channel and time, when one does. */
function blockedWith(
  c: Clinic,
  type: TreatmentTypeDefinition,
  target: StageDefinition,
  channel: Channel,
  sendTime: string | undefined,
): string | null {
  const rules = capRulesFor(c);
  const anchor = Date.UTC(2026, 0, 5, 15);
  const at = (day: number, clock = c.sendTime) => localDayAt(anchor, day, clock, c.timeZone);
  const countCare = !!c.capsIncludeCare;
  const sorted = [...type.stages].sort((a, b) => a.day - b.day).filter((s) => countCare || !isCareTouch(s));
  const nominal = sorted.flatMap((s, i) => {
    if (s.channel === 'staff') return [];
    const mine = s.key === target.key;
    return [
      {
        key: s.key,
        offsetMs: mine ? at(s.day, sendTime) : at(s.day),
        channel: mine ? channel : (s.channel as Channel),
        expiresMs: sorted[i + 1] ? at(sorted[i + 1]!.day) : at(type.intervalDays + 30),
      },
    ];
  });
  const hit = stagesBlockedByOwnCaps(rules, nominal).find((b) => b.key === target.key);
  return hit ? describeRule(hit.rule) : null;
}
