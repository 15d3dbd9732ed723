/** The call list: the front desk's landing page. The list refreshes itself every 20 s (htmx). */

import { EmptyState, Notice } from '../components/forms.js';
import { Layout, type Viewer } from '../components/layout.js';
import { TaskCard } from '../components/task-card.js';
import type { CallListItem } from '../queries/call-list.js';

export interface CallListProps {
  viewer: Viewer;
  items: CallListItem[];
  timeZoneOf: (clinicId: string) => string;
  now: Date;
  flash?: string;
}

export function CallListPartial(props: CallListProps) {
  const { items } = props;
  return (
    <div id="call-list" hx-get="/app/calls/list" hx-trigger="every 20s" hx-swap="outerHTML">
      {items.length === 0 ? (
        <EmptyState title="No open tasks — nice work">
          <p>New calls appear here by themselves when a client needs one.</p>
        </EmptyState>
      ) : (
        <>
          <p class="loading" aria-live="polite">
            {items.length} call{items.length === 1 ? '' : 's'} to make, most urgent first.
          </p>
          <ul class="task-list">
            {items.map((item) => (
              <TaskCard
                item={item}
                csrf={props.viewer.csrf}
                timeZone={props.timeZoneOf(item.clinicId)}
                now={props.now}
                viewerName={props.viewer.userName}
              />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

export function CallListPage(props: CallListProps) {
  return (
    <Layout title="Call list" viewer={props.viewer} current="/app/calls">
      <div class="page-header">
        <h1>Call list</h1>
        <p class="lede">Clients who need a person. Claim a call so no one else dials, then log what happened.</p>
      </div>
      {props.flash ? <Notice kind="success">{props.flash}</Notice> : null}
      <CallListPartial {...props} />
    </Layout>
  );
}
