/** The agency overview page: every clinic of the viewer's agency, one row each. */
import { Layout, type Viewer } from '../components/layout.js';
import { PeriodPicker } from '../components/period-picker.js';
import type { AgencyOverview } from '../data/agency-overview.js';
import type { PeriodChoice } from '../data/period-query.js';
import { AgencyBody } from './agency-body.js';

export function AgencyPage(props: { viewer: Viewer; overviews: AgencyOverview[]; choice: PeriodChoice }) {
  return (
    <Layout title="Agency" viewer={props.viewer} current="/app/agency" styles={['dashboard.css']}>
      <div class="page-header">
        <h1>Agency overview</h1>
        <p class="lede">
          Every clinic at a glance. Connection and sending health cover the last 30 days; open a clinic for its
          dashboard.
        </p>
      </div>
      <PeriodPicker action="/app/agency" choice={props.choice} />
      {props.overviews.length === 0 ? (
        <section class="card empty">
          <h2>No agency to show</h2>
          <p>
            Your account is not tied to an agency. Ask whoever set up Rebook to invite you as the agency's admin, or
            open each clinic's dashboard.
          </p>
        </section>
      ) : (
        props.overviews.map((o) => (
          <section class="dash-section" aria-labelledby={`agency-${o.agencyId}`}>
            <h2 id={`agency-${o.agencyId}`}>{o.agencyName}</h2>
            <AgencyBody data={o} clinicHref={(id) => `/app/dashboard?clinic=${encodeURIComponent(id)}`} />
          </section>
        ))
      )}
    </Layout>
  );
}
