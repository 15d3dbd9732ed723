/** Settings: the clinic's effective configuration, read-only (configuration is code: change it in the files). */
import { humanize } from '../components/format.js';
import { Layout, type Viewer } from '../components/layout.js';
import type { ClinicSettings } from '../data/clinic-settings.js';

export function SettingsPage(props: { viewer: Viewer; settings: ClinicSettings; clinicId: string }) {
  const s = props.settings;
  const { viewer } = props;
  return (
    <Layout title="Settings" viewer={viewer} current="/app/settings" styles={['dashboard.css']}>
      <div class="page-header">
        <h1>Settings</h1>
        <p class="lede">
          {s.clinicName}
          {s.agencyName ? ` (${s.agencyName})` : ''}: the configuration in effect. It is read-only here; change it in{' '}
          {s.file ? <code>{s.file}</code> : 'the clinic’s file'} and reload.
        </p>
      </div>
      {viewer.clinics.length > 1 ? (
        <form class="card filters" method="get" action="/app/settings">
          <div class="field">
            <label for="field-clinic">Clinic</label>
            <select id="field-clinic" name="clinic">
              {viewer.clinics.map((c) => (
                <option value={c.id} selected={c.id === props.clinicId}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
          <button class="button" type="submit">
            Show
          </button>
        </form>
      ) : null}
      <section class="dash-section" aria-labelledby="settings-warnings-h">
        <h2 id="settings-warnings-h">Configuration warnings</h2>
        {s.warnings.length === 0 ? (
          <p class="muted">None: the configuration loads without warnings.</p>
        ) : (
          <ul class="settings-warnings">
            {s.warnings.map((w) => (
              <li>
                <code>
                  {w.file}
                  {w.line ? `:${w.line}` : ''}
                </code>{' '}
                {w.path}: {w.message}
              </li>
            ))}
          </ul>
        )}
      </section>
      <div class="settings-grid">
        <section class="card" aria-labelledby="settings-sending-h">
          <h2 id="settings-sending-h">When messages go out</h2>
          <dl class="dash-facts">
            <div>
              <dt>Time zone</dt>
              <dd>{s.timeZone}</dd>
            </div>
            <div>
              <dt>Send window</dt>
              <dd class="settings-window">
                {s.sendWindow.days}, {s.sendWindow.start}–{s.sendWindow.end}
              </dd>
            </div>
            <div>
              <dt>Preferred send time</dt>
              <dd>{s.sendTime}</dd>
            </div>
            <div>
              <dt>Caps</dt>
              <dd>
                <ul class="plain-list">
                  {s.caps.map((c) => (
                    <li>{humanize(c)}</li>
                  ))}
                </ul>
              </dd>
            </div>
          </dl>
        </section>
        <section class="card" aria-labelledby="settings-channels-h">
          <h2 id="settings-channels-h">Channels and booking</h2>
          <dl class="dash-facts">
            {s.channels.map((c) => (
              <div>
                <dt>{c.channel}</dt>
                <dd>
                  {c.provider}. When it cannot be used: {c.fallback}.
                </dd>
              </div>
            ))}
            <div>
              <dt>Booking platform</dt>
              <dd>
                {humanize(s.booking.platform)}
                {s.booking.pollIntervalMinutes ? `, polled every ${s.booking.pollIntervalMinutes} min` : ''}
              </dd>
            </div>
            <div>
              <dt>Booking link</dt>
              <dd class="break">{s.booking.url}</dd>
            </div>
          </dl>
        </section>
      </div>
      <section class="dash-section" aria-labelledby="settings-types-h">
        <h2 id="settings-types-h">Treatment types and their stages</h2>
        {s.treatmentTypes.length === 0 ? (
          <p class="empty-state">This clinic runs no treatment type: nothing is enrolled. Add one to its file.</p>
        ) : (
          <div class="table-scroll">
            <table class="dash-table">
              <thead>
                <tr>
                  <th scope="col">Treatment type</th>
                  <th scope="col">Every</th>
                  <th scope="col">Stages (day after treatment, channel)</th>
                </tr>
              </thead>
              <tbody>
                {s.treatmentTypes.map((t) => (
                  <tr>
                    <th scope="row">{humanize(t.label)}</th>
                    <td>{t.intervalDays} days</td>
                    <td>{t.stages.map((st) => `${humanize(st.key)} (day ${st.day}, ${st.channel})`).join(' · ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <div class="settings-grid">
        <section class="card" aria-labelledby="settings-templates-h">
          <h2 id="settings-templates-h">Templates</h2>
          {s.templates.length === 0 ? (
            <p class="muted">No templates of the clinic's own: the built-in wording is used.</p>
          ) : (
            <ul class="plain-list">
              {s.templates.map((t) => (
                <li>
                  {humanize(t.name)} <span class="muted">({t.channels.join(', ')})</span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section class="card" aria-labelledby="settings-consent-h">
          <h2 id="settings-consent-h">Consent and privacy</h2>
          <ul class="plain-list">
            {s.consent.map((c) => (
              <li>{c}</li>
            ))}
          </ul>
        </section>
      </div>
    </Layout>
  );
}
