/** The audit log for agency admins: filter, read, export as CSV. Ids only, by design. */
import type { AuditEntry } from '../audit.js';
import { humanize } from '../components/format.js';
import { EmptyState } from '../components/forms.js';
import { Layout, type Viewer } from '../components/layout.js';

export interface AuditQuery {
  userId?: string;
  clientId?: string;
  action?: string;
  from?: string;
  to?: string;
}

export function AuditPage(props: {
  viewer: Viewer;
  rows: AuditEntry[];
  query: AuditQuery;
  userNames: Map<string, string>;
  actions: string[];
}) {
  const q = props.query;
  const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => v) as [string, string][]).toString();
  return (
    <Layout title="Audit log" viewer={props.viewer} current="/app/audit">
      <div class="page-header">
        <h1>Audit log</h1>
        <p class="lede">Every view of a client’s data and every action, by id. Nothing here can be changed.</p>
      </div>
      <form class="card filters" method="get" action="/app/audit">
        <div class="field">
          <label for="f-user">User</label>
          <select id="f-user" name="userId">
            <option value="">Anyone</option>
            {[...props.userNames].map(([id, name]) => (
              <option value={id} selected={q.userId === id}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-action">Action</label>
          <select id="f-action" name="action">
            <option value="">Any</option>
            {props.actions.map((a) => (
              <option value={a} selected={q.action === a}>
                {humanize(a.replace(/\./g, ' '))}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-client">Client id</label>
          <input id="f-client" name="clientId" type="text" value={q.clientId ?? ''} spellcheck={false} />
        </div>
        <div class="field">
          <label for="f-from">From</label>
          <input id="f-from" name="from" type="date" value={q.from ?? ''} />
        </div>
        <div class="field">
          <label for="f-to">To</label>
          <input id="f-to" name="to" type="date" value={q.to ?? ''} />
        </div>
        <div class="button-row">
          <button class="button" type="submit">
            Filter
          </button>
          <a class="button button--secondary" href={`/app/audit.csv${qs ? `?${qs}` : ''}`}>
            Export CSV
          </a>
        </div>
      </form>
      {props.rows.length === 0 ? (
        <EmptyState title="No entries match">
          <p>Try a wider date range or fewer filters.</p>
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table>
            <caption>Latest {props.rows.length} entries, newest first (times in UTC)</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Role</th>
                <th scope="col">Clinic</th>
                <th scope="col">Action</th>
                <th scope="col">Client id</th>
                <th scope="col">Target</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((r) => (
                <tr>
                  <td>{r.at.toISOString().slice(0, 19).replace('T', ' ')}</td>
                  <td>{r.userId ? (props.userNames.get(r.userId) ?? r.userId) : '—'}</td>
                  <td>{humanize(r.role)}</td>
                  <td>{r.clinicId ?? '—'}</td>
                  <td>{r.action}</td>
                  <td class="mono">{r.clientId ?? '—'}</td>
                  <td class="mono">{r.target ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}
