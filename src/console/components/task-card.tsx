/** One call-list task: who to call, why, what was sent, claim and log the outcome. */
import type { CallListItem } from '../queries/call-list.js';
import { formatDate, formatPhone, humanize, relativeDays, stageLabel, taskReasonLabels } from './format.js';
import { Csrf } from './forms.js';

const OUTCOMES: { value: string; label: string; hint: string }[] = [
  { value: 'booked', label: 'Booked', hint: 'Ends the client’s sequences' },
  { value: 'call_back', label: 'Call back on a date', hint: 'The task returns that day' },
  { value: 'left_voicemail', label: 'Left voicemail', hint: 'Back on the list tomorrow' },
  { value: 'not_interested', label: 'Not interested', hint: 'Ends the client’s sequences' },
  { value: 'wrong_number', label: 'Wrong number', hint: 'Stops texts; email continues' },
];

const urgent = new Set(['hot_lead', 'appointment_change', 'reply_needs_human']);

export function TaskCard(props: { item: CallListItem; csrf: string; timeZone: string; now: Date; viewerName: string }) {
  const { item, csrf, timeZone, now } = props;
  const id = item.taskId;
  const mine = item.status === 'claimed' && item.claimedBy === props.viewerName;
  return (
    <li class="card task" id={`task-${id}`}>
      <div>
        <div class="task__who">
          <a class="task__name" href={`/app/clients/${item.clientId}`}>
            {item.name}
          </a>
          {item.phone ? (
            <a class="task__phone" href={`tel:${item.phone}`}>
              {formatPhone(item.phone)}
            </a>
          ) : (
            <span class="badge badge--warning">No phone on file</span>
          )}
        </div>
        <p>
          <span class={urgent.has(item.reason) ? 'badge badge--urgent' : 'badge'}>
            {taskReasonLabels[item.reason] ?? humanize(item.reason)}
          </span>{' '}
          {item.status === 'claimed' ? (
            <span class="badge badge--muted">Claimed by {mine ? 'you' : item.claimedBy}</span>
          ) : null}{' '}
          {item.voicemails > 0 ? (
            <span class="badge badge--warning">
              {item.voicemails} voicemail{item.voicemails > 1 ? 's' : ''} left
            </span>
          ) : null}
        </p>
        <dl class="task__facts">
          <div>
            <dt>Treatment</dt>
            <dd>
              {item.serviceName ?? (item.treatmentType ? humanize(item.treatmentType) : '—')}
              {item.treatmentAt ? `, ${formatDate(item.treatmentAt, timeZone)}` : ''}
            </dd>
          </div>
          <div>
            <dt>Touches sent</dt>
            <dd>
              {item.touches.length === 0
                ? 'none'
                : item.touches
                    .map((t) => `${stageLabel(t.stage)} (${t.channel === 'sms' ? 'text' : t.channel})`)
                    .join(', ')}
            </dd>
          </div>
          <div>
            <dt>Due</dt>
            <dd>{relativeDays(item.dueAt ?? item.createdAt, now)}</dd>
          </div>
        </dl>
        {item.lastNote ? <p class="hint">Last note: {item.lastNote}</p> : null}
      </div>
      <div class="task__actions">
        {item.status === 'open' ? (
          <form method="post" action={`/app/tasks/${id}/claim`}>
            <Csrf token={csrf} />
            <button class="button button--secondary button--small" type="submit">
              Claim
              <span class="visually-hidden"> the call to {item.name}</span>
            </button>
          </form>
        ) : null}
      </div>
      <details class="outcome">
        <summary>
          Log the call<span class="visually-hidden"> to {item.name}</span>
        </summary>
        <form method="post" action={`/app/tasks/${id}/outcome`}>
          <Csrf token={csrf} />
          <fieldset>
            <legend>What happened?</legend>
            <div class="radios">
              {OUTCOMES.map((o) => (
                <label class="radio">
                  <input type="radio" name="outcome" value={o.value} required />
                  <span>
                    {o.label}
                    <span class="hint">{o.hint}</span>
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
          <div class="field">
            <label for={`callback-${id}`}>Call back on (only for “call back”)</label>
            <input class="input--short" type="date" id={`callback-${id}`} name="callBackOn" />
          </div>
          <div class="field">
            <label for={`note-${id}`}>Note (optional)</label>
            <textarea id={`note-${id}`} name="note" maxLength={1000} rows={2} />
          </div>
          <button class="button" type="submit">
            Save outcome
          </button>
        </form>
      </details>
    </li>
  );
}
