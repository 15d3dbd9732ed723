/** Conversations: replies that came in, threaded, with a reply box and "mark handled". */

import { formatDateTime, humanize, intentLabels, stageLabel } from '../components/format.js';
import { Csrf, EmptyState, Notice } from '../components/forms.js';
import { Layout, type Viewer } from '../components/layout.js';
import type { Conversation } from '../queries/conversations.js';

export function ConversationsPage(props: {
  viewer: Viewer;
  items: Conversation[];
  showHandled: boolean;
  timeZoneOf: (clinicId: string) => string;
  replyIdFor: (inboundId: string) => string;
  flash?: string;
  error?: { inboundId: string; message: string };
}) {
  const { viewer, items } = props;
  return (
    <Layout title="Conversations" viewer={viewer} current="/app/conversations">
      <div class="page-header">
        <h1>Conversations</h1>
        <p>
          {props.showHandled ? (
            <a href="/app/conversations">Show only replies to deal with</a>
          ) : (
            <a href="/app/conversations?handled=1">Show handled replies too</a>
          )}
        </p>
      </div>
      {props.flash ? <Notice kind="success">{props.flash}</Notice> : null}
      {items.length === 0 ? (
        <EmptyState title="No replies waiting">
          <p>When a client texts back, the conversation appears here.</p>
        </EmptyState>
      ) : (
        items.map((c) => {
          const tz = props.timeZoneOf(c.clinicId);
          const err = props.error?.inboundId === c.inboundId ? props.error.message : undefined;
          return (
            <section class="card" aria-labelledby={`conv-${c.inboundId}`}>
              <div class="page-header">
                <h2 id={`conv-${c.inboundId}`}>
                  {c.clientId ? <a href={`/app/clients/${c.clientId}`}>{c.name}</a> : 'Unknown number'}
                </h2>
                <span class="badge">{intentLabels[c.intent] ?? humanize(c.intent)}</span>
              </div>
              <ol class="thread">
                {c.thread.map((m) => (
                  <li class={m.direction === 'in' ? 'bubble bubble--in' : 'bubble bubble--out'}>
                    <span class="bubble__meta">
                      {m.direction === 'in'
                        ? 'Client'
                        : m.stage === 'staff_reply'
                          ? 'Staff'
                          : `Rebook · ${stageLabel(m.stage ?? '')}`}{' '}
                      · {m.channel === 'sms' ? 'text' : m.channel} · {formatDateTime(m.at, tz)}
                      {m.status ? ` · ${m.status}` : ''}
                    </span>
                    {m.body}
                  </li>
                ))}
              </ol>
              {c.handledAt ? (
                <p class="hint">
                  Handled by {c.handledBy} on {formatDateTime(c.handledAt, tz)}
                </p>
              ) : (
                <>
                  {c.clientId ? (
                    <form method="post" action={`/app/conversations/${c.inboundId}/reply`}>
                      <Csrf token={viewer.csrf} />
                      <input type="hidden" name="replyId" value={props.replyIdFor(c.inboundId)} />
                      <div class={err ? 'field field--error' : 'field'}>
                        <label for={`field-body-${c.inboundId}`}>Reply by text</label>
                        {err ? (
                          <span class="field-error" id={`err-${c.inboundId}`}>
                            <span class="visually-hidden">Error: </span>
                            {err}
                          </span>
                        ) : null}
                        <textarea
                          id={`field-body-${c.inboundId}`}
                          name="body"
                          rows={2}
                          maxLength={640}
                          aria-describedby={err ? `err-${c.inboundId}` : undefined}
                        />
                      </div>
                      <div class="button-row">
                        <button class="button" type="submit">
                          Send text
                        </button>
                      </div>
                    </form>
                  ) : null}
                  <form method="post" action={`/app/conversations/${c.inboundId}/handled`} class="button-row">
                    <Csrf token={viewer.csrf} />
                    <button class="button button--secondary button--small" type="submit">
                      Mark handled
                    </button>
                  </form>
                </>
              )}
            </section>
          );
        })
      )}
    </Layout>
  );
}
