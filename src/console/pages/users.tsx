/** Users and API keys (agency admins): invite, revoke, create a key (shown once), revoke a key. */
import { consoleRoles } from '../../db/schema.js';
import type { ApiKeyRecord } from '../../server/api-keys.js';
import { type ConsoleUser, roleLabels } from '../accounts/users.js';
import { formatDate } from '../components/format.js';
import { Csrf, ErrorSummary, Field, type FieldErrors, Notice } from '../components/forms.js';
import { Layout, type Viewer } from '../components/layout.js';

export function UsersPage(props: {
  viewer: Viewer;
  /** The signed-in admin (who cannot revoke themselves). */
  selfId: string;
  users: ConsoleUser[];
  keys: ApiKeyRecord[];
  agencies: string[];
  errors?: FieldErrors;
  values?: Record<string, string | string[]>;
  flash?: string;
  /** A link or key to show once. */
  secret?: { label: string; value: string };
}) {
  const { viewer } = props;
  const v = props.values ?? {};
  const chosen = new Set([v.clinics ?? []].flat());
  return (
    <Layout title="Users and keys" viewer={viewer} current="/app/users">
      <div class="page-header">
        <h1>Users and keys</h1>
      </div>
      <ErrorSummary errors={props.errors ?? {}} />
      {props.flash ? <Notice kind="success">{props.flash}</Notice> : null}
      {props.secret ? (
        <Notice kind="warning">
          <p>
            <strong>{props.secret.label}</strong> It is shown only this once.
          </p>
          <code class="secret">{props.secret.value}</code>
        </Notice>
      ) : null}
      <section aria-labelledby="users-title">
        <h2 id="users-title">People</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Clinics</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.users.map((u) => (
                <tr>
                  <td>{u.name}</td>
                  <td>{u.email}</td>
                  <td>{roleLabels[u.role]}</td>
                  <td>
                    {[u.agencyId ? `all of ${u.agencyId}` : '', ...u.clinicIds].filter(Boolean).join(', ') || '—'}
                  </td>
                  <td>
                    {u.passwordHash ? <span class="badge badge--ok">active</span> : <span class="badge">invited</span>}
                    {u.totpSecret ? <span class="badge">two-step</span> : null}
                  </td>
                  <td>
                    <div class="button-row">
                      <form method="post" action={`/app/users/${u.id}/reset-link`} class="inline-form">
                        <Csrf token={viewer.csrf} />
                        <button class="button button--secondary button--small" type="submit">
                          Reset link<span class="visually-hidden"> for {u.name}</span>
                        </button>
                      </form>
                      {u.totpSecret ? (
                        <form method="post" action={`/app/users/${u.id}/totp-reset`} class="inline-form">
                          <Csrf token={viewer.csrf} />
                          <button class="button button--secondary button--small" type="submit">
                            Turn off two-step<span class="visually-hidden"> for {u.name}</span>
                          </button>
                        </form>
                      ) : null}
                      {u.id === props.selfId ? null : (
                        <form method="post" action={`/app/users/${u.id}/revoke`} class="inline-form">
                          <Csrf token={viewer.csrf} />
                          <button class="button button--danger button--small" type="submit">
                            Revoke<span class="visually-hidden"> {u.name}</span>
                          </button>
                        </form>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="invite-title" class="card">
        <h2 id="invite-title">Invite someone</h2>
        <form method="post" action="/app/users/invite" novalidate>
          <Csrf token={viewer.csrf} />
          <Field name="name" label="Name" errors={props.errors}>
            {(a) => <input {...a} type="text" value={String(v.name ?? '')} autocomplete="off" />}
          </Field>
          <Field name="email" label="Email address" hint="The invitation link goes here." errors={props.errors}>
            {(a) => <input {...a} type="email" value={String(v.email ?? '')} autocomplete="off" spellcheck={false} />}
          </Field>
          <Field name="role" label="Role" errors={props.errors}>
            {(a) => (
              <select {...a}>
                {consoleRoles.map((r) => (
                  <option value={r} selected={(v.role ?? 'front_desk') === r}>
                    {roleLabels[r]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <fieldset class={props.errors?.clinics ? 'field field--error' : 'field'} id="field-clinics" tabIndex={-1}>
            <legend class="label">Clinics</legend>
            {props.errors?.clinics ? <span class="field-error">{props.errors.clinics}</span> : null}
            <div class="checkboxes">
              {viewer.clinics.map((c) => (
                <label>
                  <input type="checkbox" name="clinics" value={c.id} checked={chosen.has(c.id)} /> {c.name}
                </label>
              ))}
            </div>
          </fieldset>
          <button class="button" type="submit">
            Send invitation
          </button>
        </form>
      </section>
      <section aria-labelledby="keys-title">
        <h2 id="keys-title">API keys</h2>
        {props.keys.length === 0 ? (
          <p>No API keys yet.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Key id</th>
                  <th scope="col">Label</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {props.keys.map((k) => (
                  <tr>
                    <td class="mono">{k.id}</td>
                    <td>{k.label ?? '—'}</td>
                    <td>{k.clinicId ?? k.agencyId}</td>
                    <td>{k.role}</td>
                    <td>{formatDate(k.createdAt, 'UTC')}</td>
                    <td>
                      <form method="post" action={`/app/keys/${k.id}/revoke`} class="inline-form">
                        <Csrf token={viewer.csrf} />
                        <button class="button button--danger button--small" type="submit">
                          Revoke<span class="visually-hidden"> key {k.id}</span>
                        </button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <form method="post" action="/app/keys" class="card">
          <h3>Create a key</h3>
          <Csrf token={viewer.csrf} />
          <div class="filters">
            <div class="field">
              <label for="key-clinic">Clinic</label>
              <select id="key-clinic" name="clinicId">
                {viewer.clinics.map((c) => (
                  <option value={c.id}>{c.name}</option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="key-role">Role</label>
              <select id="key-role" name="role">
                <option value="staff">staff (read, tasks)</option>
                <option value="admin">admin (everything)</option>
              </select>
            </div>
            <div class="field">
              <label for="key-label">Label</label>
              <input id="key-label" name="label" type="text" maxLength={100} />
            </div>
            <button class="button" type="submit">
              Create key
            </button>
          </div>
        </form>
      </section>
    </Layout>
  );
}
