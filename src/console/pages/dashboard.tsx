/** The clinic dashboard page: the period picker around the dashboard body. */
import { Notice } from '../components/forms.js';
import { Layout, type Viewer } from '../components/layout.js';
import { PeriodPicker } from '../components/period-picker.js';
import type { ClinicDashboard } from '../data/clinic-dashboard.js';
import type { PeriodChoice } from '../data/period-query.js';
import { DashboardBody } from './dashboard-body.js';

export function DashboardPage(props: {
  viewer: Viewer;
  data: ClinicDashboard;
  choice: PeriodChoice;
  nowMs: number;
  flash?: string;
}) {
  const { data, viewer } = props;
  return (
    <Layout title="Dashboard" viewer={viewer} current="/app/dashboard" styles={['dashboard.css']}>
      <div class="page-header">
        <h1>Dashboard</h1>
        <p class="lede">
          {data.clinicName}: how treatments of the period turned into rebookings. Figures follow each treatment's
          sequence to its end.
        </p>
      </div>
      {props.flash ? <Notice kind="success">{props.flash}</Notice> : null}
      <PeriodPicker action="/app/dashboard" choice={props.choice} clinics={viewer.clinics} clinicId={data.clinicId} />
      <DashboardBody
        data={data}
        nowMs={props.nowMs}
        mapServiceAction={`/app/clinics/${data.clinicId}/service-mappings`}
        csrf={{ name: '_csrf', value: viewer.csrf }}
      />
    </Layout>
  );
}
