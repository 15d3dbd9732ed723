/** The client page: one timeline of what Rebook did for this client, and the actions staff take. */

import { OFFER_REASON_TEXT, type OfferReason } from '../../core/offers.js';
import {
  formatDate,
  formatDateTime,
  formatPhone,
  humanize,
  intentLabels,
  stageLabel,
  taskReasonLabels,
} from '../components/format.js';
import { Csrf, EmptyState, Notice } from '../components/forms.js';
import { Layout, type Viewer } from '../components/layout.js';
import { lifecyclePhase } from '../data/client-lifecycle.js';
import type { ClientDetail, ClientRow } from '../queries/client.js';

interface Entry {
  at: Date;
  what: string;
  detail?: string;
  /** Small grey tags before the status: a care touch, a held-out client's message. */
  tags?: string[];
  badge?: { text: string; kind?: 'ok' | 'warning' | 'danger' | 'muted' };
}

const statusKind = (s: string): 'ok' | 'warning' | 'danger' | 'muted' | undefined =>
  ['delivered', 'read', 'sent', 'outbox', 'accepted', 'queued'].includes(s)
    ? 'ok'
    : ['failed', 'undelivered', 'bounced', 'dropped', 'rejected'].includes(s)
      ? 'danger'
      : undefined;

/** Why the client got the offer a message carries (the reason code on the ledger row). */
const offerWhy = (reason: string | null): string =>
  reason && reason in OFFER_REASON_TEXT ? `Why this offer: ${OFFER_REASON_TEXT[reason as OfferReason]}` : '';

function timeline(d: ClientDetail, timeZone: string): Entry[] {
  const entries: Entry[] = [
    ...d.treatments
      .filter((t) => t.status === 'completed' && t.startAt)
      .map((t) => ({
        at: t.startAt!,
        what: `Treatment: ${t.serviceName ?? humanize(t.treatmentType ?? 'unknown')}`,
        ...(t.treatmentType
          ? {
              detail: [
                humanize(t.treatmentType),
                t.seriesSession && t.seriesSessions ? `session ${t.seriesSession} of ${t.seriesSessions}` : '',
              ]
                .filter(Boolean)
                .join(' · '),
            }
          : {}),
      })),
    // A booking is not a visit: what became of the ones that did not happen is on the timeline too.
    ...d.treatments
      .filter((t) => t.status === 'cancelled')
      .map((t) => ({
        at: t.sourceUpdatedAt ?? t.updatedAt,
        what: 'Appointment cancelled',
        ...(t.startAt ? { detail: `Was booked for ${formatDateTime(t.startAt, timeZone)}` } : {}),
        badge: { text: 'cancelled', kind: 'warning' as const },
      })),
    ...d.treatments
      .filter((t) => t.status === 'no_show' && t.startAt)
      .map((t) => ({
        at: t.startAt!,
        what: 'Missed appointment',
        detail: 'The client did not come to the booked visit',
        badge: { text: 'no-show', kind: 'danger' as const },
      })),
    ...d.treatments
      .filter((t) => t.status === 'booked' && t.startAt)
      .map((t) => ({ at: t.startAt!, what: 'Appointment booked', badge: { text: 'booked', kind: 'ok' as const } })),
    ...d.messages.map((m) => ({
      at: m.sentAt ?? m.dueAt,
      what: `${stageLabel(m.stage)} · ${m.channel === 'sms' ? 'text' : humanize(m.channel)}`,
      // Care touches go out whatever the booking; a held-out client gets only those.
      tags: [...(m.category === 'care' ? ['care'] : []), ...(m.arm === 'holdout' ? ['held out'] : [])],
      ...(m.body || m.offerReason
        ? {
            detail: [m.body ? (m.subject ? `${m.subject} — ${m.body}` : m.body) : '', offerWhy(m.offerReason)]
              .filter(Boolean)
              .join(' · '),
          }
        : {}),
      badge: { text: m.status, ...(statusKind(m.status) ? { kind: statusKind(m.status)! } : {}) },
    })),
    ...d.holds.map((h) => ({
      at: h.occurredAt,
      what: `${stageLabel(h.stage)} ${h.kind}`,
      detail: `Reason: ${humanize(h.reason)}${h.until ? ` (until ${h.until.toISOString().slice(0, 16).replace('T', ' ')} UTC)` : ''}`,
      badge: { text: h.kind, kind: h.kind === 'suppressed' ? ('danger' as const) : ('warning' as const) },
    })),
    ...d.replies.map((r) => ({
      at: r.receivedAt,
      what: 'Reply from client',
      detail: `“${r.body}” — ${intentLabels[r.intent] ?? humanize(r.intent)}`,
      badge: { text: 'reply' },
    })),
    ...d.tasks.map((t) => ({
      at: t.createdAt,
      what: `Staff task: ${taskReasonLabels[t.reason] ?? humanize(t.reason)}`,
      badge: {
        text: t.status === 'resolved' ? `resolved: ${humanize(t.outcome ?? '')}` : t.status,
        kind: t.status === 'resolved' ? ('muted' as const) : ('warning' as const),
      },
    })),
    ...d.consent.map((c) => ({
      at: c.occurredAt,
      what: `Consent ${c.action} · ${c.channel === 'sms' ? 'texts' : 'email'}`,
      detail: `Source: ${humanize(c.source)}`,
      badge: { text: c.action, kind: c.action === 'revoked' ? ('danger' as const) : ('ok' as const) },
    })),
  ];
  return entries.sort((a, b) => b.at.getTime() - a.at.getTime());
}

export function ClientPage(props: {
  viewer: Viewer;
  client: ClientRow;
  clinicName: string;
  timeZone: string;
  detail: ClientDetail;
  flash?: string;
  error?: string;
}) {
  const { client, detail, timeZone, viewer } = props;
  const sms = detail.channels.find((c) => c.channel === 'sms');
  const email = detail.channels.find((c) => c.channel === 'email');
  const smsState = sms?.optedOutAt
    ? 'Opted out'
    : sms?.undeliverableAt
      ? 'Number unusable'
      : client.consentSms
        ? 'Yes'
        : 'No consent';
  const emailState = email?.optedOutAt
    ? 'Opted out'
    : email?.undeliverableAt
      ? 'Address unusable'
      : client.consentEmail
        ? 'Yes'
        : 'No consent';
  const entries = timeline(detail, timeZone);
  const running = detail.sequences.filter((s) => s.running);
  return (
    <Layout title="Client" viewer={viewer} current="/app/clients">
      {props.flash ? <Notice kind="success">{props.flash}</Notice> : null}
      {props.error ? (
        <div class="error-summary" role="alert">
          <h2>There is a problem</h2>
          <p>{props.error}</p>
        </div>
      ) : null}
      <div class="client-head">
        <h1>
          {client.firstName} {client.lastName}
        </h1>
        <span class="hint">{props.clinicName}</span>
      </div>
      <div class="card">
        <dl class="facts">
          <div>
            <dt>Phone</dt>
            <dd>
              {(client.phoneE164 ?? client.phone) ? (
                <a href={`tel:${client.phoneE164 ?? client.phone}`}>
                  {formatPhone((client.phoneE164 ?? client.phone)!)}
                </a>
              ) : (
                '—'
              )}
            </dd>
          </div>
          <div>
            <dt>Email</dt>
            <dd>{client.email ?? '—'}</dd>
          </div>
          <div>
            <dt>Texts</dt>
            <dd>{smsState}</dd>
          </div>
          <div>
            <dt>Email messages</dt>
            <dd>{emailState}</dd>
          </div>
        </dl>
      </div>
      <div class="grid-2">
        <section aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          {entries.length === 0 ? (
            <EmptyState title="Nothing yet">
              <p>Treatments, messages and replies appear here as they happen.</p>
            </EmptyState>
          ) : (
            <div class="card">
              <ol class="timeline">
                {entries.map((e) => (
                  <li>
                    <span class="timeline__when">{formatDateTime(e.at, timeZone)}</span>
                    <span class="timeline__what">{e.what}</span>{' '}
                    {(e.tags ?? []).map((t) => (
                      <span class="badge badge--muted">{t}</span>
                    ))}
                    {e.tags?.length ? ' ' : null}
                    {e.badge ? (
                      <span class={`badge${e.badge.kind ? ` badge--${e.badge.kind}` : ''}`}>{e.badge.text}</span>
                    ) : null}
                    {e.detail ? <span class="timeline__detail">{e.detail}</span> : null}
                  </li>
                ))}
              </ol>
            </div>
          )}
        </section>
        <aside aria-labelledby="sequences-title">
          <h2 id="sequences-title">Sequences</h2>
          {detail.sequences.length === 0 ? (
            <div class="card">
              <p>No sequence: this client has no repeatable treatment on record.</p>
            </div>
          ) : (
            detail.sequences
              .map((s) => ({
                ...s,
                phase: lifecyclePhase(s, detail.treatments, detail.messages),
                // What the client last got from this sequence (the ledger), not the stage the
                // workflow passed: stages skipped while a booking stood were never sent.
                lastTouch: detail.messages.find(
                  (m) => m.workflowId === s.workflowId && !!m.sentAt && !m.channel.startsWith('staff_'),
                )?.stage,
              }))
              .map((s) => (
                <div class="card">
                  <h3>{humanize(s.treatmentType)}</h3>
                  <p>
                    <span class={`badge badge--${s.phase.kind}`}>{s.phase.label}</span>{' '}
                    {s.arm === 'holdout' ? <span class="badge badge--muted">held out</span> : null}{' '}
                    {s.anchorAt ? `treated ${formatDate(s.anchorAt, timeZone)}` : ''}
                    {s.phase.visitAt ? ` · visit ${formatDateTime(s.phase.visitAt, timeZone)}` : ''}
                  </p>
                  {s.phase.detail ? <p class="hint">{s.phase.detail}</p> : null}
                  {s.arm === 'holdout' ? (
                    <p class="hint">Held out to measure the program: care touches only, no rebooking touch.</p>
                  ) : null}
                  {s.running ? (
                    <p class="hint">
                      Last touch: {s.lastTouch ? stageLabel(s.lastTouch) : 'none yet'}
                      {s.nextActionAt
                        ? ` · next: ${s.nextStage ? `${stageLabel(s.nextStage)}, ` : ''}${formatDateTime(s.nextActionAt, timeZone)}`
                        : ''}
                    </p>
                  ) : s.outcomeStage ? (
                    <p class="hint">Ended after: {stageLabel(s.outcomeStage)}</p>
                  ) : null}
                  {s.running ? (
                    <form method="post" action={`/app/clients/${client.id}/sequence`} class="button-row">
                      <Csrf token={viewer.csrf} />
                      <input type="hidden" name="treatmentType" value={s.treatmentType} />
                      <button class="button button--secondary button--small" type="submit" name="action" value="snooze">
                        Pause (snooze)
                      </button>
                      <button class="button button--danger button--small" type="submit" name="action" value="end">
                        End sequence
                      </button>
                    </form>
                  ) : null}
                </div>
              ))
          )}
          <h2>Record an opt-out</h2>
          <div class="card">
            <p>The client asked by phone or in person to stop messages.</p>
            <form method="post" action={`/app/clients/${client.id}/opt-out`}>
              <Csrf token={viewer.csrf} />
              <fieldset class="field">
                <legend class="label">Stop</legend>
                <div class="checkboxes">
                  <label>
                    <input type="checkbox" name="channel" value="sms" /> Texts
                  </label>
                  <label>
                    <input type="checkbox" name="channel" value="email" /> Email
                  </label>
                </div>
              </fieldset>
              <button class="button button--secondary" type="submit">
                Record opt-out
              </button>
            </form>
          </div>
          {detail.incentives.length ? (
            <>
              <h2>Incentives</h2>
              <div class="card">
                <ul>
                  {detail.incentives.map((i) => (
                    <li>
                      <span class="mono">{i.code}</span> — {i.description}{' '}
                      <span class="badge">
                        {i.redeemedAt ? 'redeemed' : `expires ${formatDate(i.expiresAt, timeZone)}`}
                      </span>
                    </li>
                  ))}
                </ul>
              </div>
            </>
          ) : null}
          {running.length === 0 && detail.sequences.length > 0 ? (
            <p class="hint">No sequence is running: nothing more will be sent.</p>
          ) : null}
        </aside>
      </div>
    </Layout>
  );
}
