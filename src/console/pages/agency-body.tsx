/**
 * The agency overview's body: every clinic of the agency in one table — enrolled, rebook rate,
 * open tasks, connector and sending health (word + shape + reason, never colour alone) and config
 * warnings — each row linking into the clinic. Takes loaded data only.
 */
import { LiftCell } from '../components/lift-panel.js';
import { percent, StatusBadge } from '../components/status-badge.js';
import type { AgencyOverview } from '../data/agency-overview.js';

export interface AgencyBodyProps {
  data: AgencyOverview;
  /** The clinic's page (opaque clinic id in the path). */
  clinicHref(clinicId: string): string;
}

export function AgencyBody({ data, clinicHref }: AgencyBodyProps) {
  if (data.clinics.length === 0)
    return (
      <section class="empty-state">
        <h2>No clinics in {data.agencyName} yet</h2>
        <p>
          A clinic joins the agency when its file under config/clinics names <code>agency: {data.agencyId}</code>. Add
          one and reload the configuration (kill -HUP, or save the file): it appears here.
        </p>
      </section>
    );
  const t = data.totals;
  const attention = data.clinics.filter((c) => c.connector.status === 'red' || c.sending.status === 'red').length;
  return (
    <div class="agency">
      <p class="agency__summary">
        {data.clinics.length} clinics, {t.enrolled} treatments enrolled,{' '}
        {t.rebookingRate === null ? 'no finished sequence yet' : `${percent(t.rebookingRate)} rebooked overall`}.{' '}
        {attention === 0 ? 'No clinic needs action.' : `${attention} need${attention === 1 ? 's' : ''} action.`}
      </p>
      <div class="table-scroll">
        <table class="dash-table agency__table">
          <caption class="visually-hidden">Clinics of {data.agencyName}</caption>
          <thead>
            <tr>
              <th scope="col">Clinic</th>
              <th scope="col">Enrolled</th>
              <th scope="col">Rebook rate</th>
              <th scope="col">Lift</th>
              <th scope="col">Open tasks</th>
              <th scope="col">Connection</th>
              <th scope="col">Sending</th>
              <th scope="col">Config warnings</th>
            </tr>
          </thead>
          <tbody>
            {data.clinics.map((c) => (
              <tr>
                <th scope="row">
                  <a href={clinicHref(c.clinicId)}>{c.name}</a>
                </th>
                <td>{c.totals.enrolled}</td>
                <td>
                  {c.totals.rebookingRate === null ? (
                    <span class="muted">none finished yet</span>
                  ) : (
                    <>
                      {percent(c.totals.rebookingRate)}{' '}
                      <span class="muted">
                        ({c.totals.bookedOnTime} of {c.totals.finished})
                      </span>
                    </>
                  )}
                </td>
                <td>
                  <LiftCell lift={c.lift} holdoutConfigured={c.holdoutConfigured} />
                </td>
                <td>
                  {c.openTasks}
                  {c.dueTasks > 0 && c.dueTasks !== c.openTasks ? <span class="muted"> ({c.dueTasks} due)</span> : ''}
                </td>
                <td>
                  <StatusBadge status={c.connector.status} why={c.connector.why} />
                </td>
                <td>
                  <StatusBadge status={c.sending.status} why={c.sending.why} />
                </td>
                <td>
                  {c.warnings.length === 0 ? (
                    <span class="muted">none</span>
                  ) : (
                    <details>
                      <summary>
                        {c.warnings.length} warning{c.warnings.length === 1 ? '' : 's'}
                      </summary>
                      <ul class="agency__warnings">
                        {c.warnings.map((w) => (
                          <li>
                            <code>
                              {w.file}
                              {w.line ? `:${w.line}` : ''}
                            </code>{' '}
                            {w.path}: {w.message}
                          </li>
                        ))}
                      </ul>
                    </details>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
