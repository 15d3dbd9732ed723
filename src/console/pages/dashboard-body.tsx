/**
 * The clinic dashboard's body: the numbers first, each with its meaning, then the charts (funnel,
 * rebook rate by month, messages, held back), unmapped services with a one-click mapping, and
 * connector health. Takes loaded data only: no auth, layout or fetching here.
 */
import { BarChart, FunnelChart, LineChart } from '../components/charts.js';
import { LiftPanel } from '../components/lift-panel.js';
import { percent, StatusBadge } from '../components/status-badge.js';
import type { ClinicDashboard } from '../data/clinic-dashboard.js';
import { ago } from '../data/health-rules.js';

export interface DashboardBodyProps {
  data: ClinicDashboard;
  nowMs: number;
  /** Where the mapping form posts (serviceKey, treatmentType); omitted for users who may not map. */
  mapServiceAction?: string;
  /** The CSRF field every state-changing form carries. */
  csrf?: { name: string; value: string };
}

const HELD_LABELS: [keyof ClinicDashboard['heldBack'], string][] = [
  ['sendWindow', 'Send window'],
  ['capsDeferred', 'Caps: sent later'],
  ['capsSuppressed', 'Caps: not sent'],
  ['consent', 'No consent / opted out'],
  ['other', 'Other (no address, …)'],
];

const day = (ms: number, timeZone: string) =>
  new Intl.DateTimeFormat('en-US', { timeZone, month: 'short', day: 'numeric', year: 'numeric' }).format(ms);

function Headline({ data }: { data: ClinicDashboard }) {
  const t = data.report.totals;
  const f = data.funnel;
  const before = t.finished > 0 ? f.bookedBeforeFirstTouch / t.finished : null;
  return (
    <section class="dash-headline" aria-labelledby="dash-headline-h">
      <h2 id="dash-headline-h" class="visually-hidden">
        Key figures
      </h2>
      <dl class="dash-figures">
        <div class="dash-figure">
          <dt>Rebooked</dt>
          {t.rebookingRate === null ? (
            <dd>
              <span class="dash-figure__number">—</span>
              <span class="dash-figure__meaning">
                No sequence has finished yet for treatments in this period: the rate appears once the first ones end.
              </span>
            </dd>
          ) : (
            <dd>
              <span class="dash-figure__number">{percent(t.rebookingRate)} rebooked</span>
              <span class="dash-figure__meaning">
                ({percent(before)} booked before any message) — {t.bookedOnTime} of {t.finished} finished sequences came
                back within the treatment's window (a booking counts once it is a visit)
              </span>
            </dd>
          )}
        </div>
        <div class="dash-figure">
          <dt>Enrolled</dt>
          <dd>
            <span class="dash-figure__number">{t.enrolled}</span>
            <span class="dash-figure__meaning">
              treatments in the period, {t.running} still in their sequence
              {t.awaitingVisit > 0 ? ` (${t.awaitingVisit} booked, the visit still ahead)` : ''}
            </span>
          </dd>
        </div>
        <div class="dash-figure">
          <dt>Staff calls</dt>
          <dd>
            <span class="dash-figure__number">
              {t.staffConverted} of {t.escalated}
            </span>
            <span class="dash-figure__meaning">
              calls converted to a booking{t.escalated > 0 ? ` (${percent(t.staffConversionRate)})` : ''}
            </span>
          </dd>
        </div>
        <div class="dash-figure">
          <dt>Churned</dt>
          <dd>
            <span class="dash-figure__number">{t.churned}</span>
            <span class="dash-figure__meaning">
              finished without booking{t.notInterested > 0 ? `, and ${t.notInterested} said not interested` : ''}
            </span>
          </dd>
        </div>
      </dl>
    </section>
  );
}

function UnmappedServices(props: DashboardBodyProps) {
  const { services, treatmentTypes } = props.data.unmapped;
  return (
    <section class="dash-section" aria-labelledby="dash-unmapped-h">
      <h2 id="dash-unmapped-h">Unmapped services</h2>
      {services.length === 0 ? (
        <p class="empty-state">
          Every service seen is mapped: treatments of them are enrolled automatically. New unrecognised services will
          show here.
        </p>
      ) : (
        <>
          <p class="dash-section__lead">
            These services were seen in completed treatments but matched no treatment type, so those clients were not
            enrolled. Map each to a treatment type (or mark it not repeatable); treatments received from then on are
            enrolled.
          </p>
          <div class="table-scroll">
            <table class="dash-table">
              <thead>
                <tr>
                  <th scope="col">Service</th>
                  <th scope="col">Seen</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Map to</th>
                </tr>
              </thead>
              <tbody>
                {services.map((s, i) => (
                  <tr>
                    <th scope="row">{s.serviceName}</th>
                    <td>{s.occurrences}×</td>
                    <td>{ago(s.lastSeenAt, props.nowMs)}</td>
                    <td>
                      {props.mapServiceAction ? (
                        <form method="post" action={props.mapServiceAction} class="dash-map-form">
                          {props.csrf && <input type="hidden" name={props.csrf.name} value={props.csrf.value} />}
                          <input type="hidden" name="serviceKey" value={s.serviceKey} />
                          <label class="visually-hidden" for={`map-${i}`}>
                            Treatment type for {s.serviceName}
                          </label>
                          <select id={`map-${i}`} name="treatmentType">
                            {treatmentTypes.map((t) => (
                              <option value={t.key}>{t.label}</option>
                            ))}
                            <option value="">Not a repeatable treatment</option>
                          </select>
                          <button type="submit" class="button button--secondary">
                            Map
                          </button>
                        </form>
                      ) : (
                        <span>Ask a clinic manager to map it</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function ConnectorSection({ data, nowMs }: { data: ClinicDashboard; nowMs: number }) {
  const c = data.connector;
  const when = (d: Date | null, none: string) => (d ? ago(d, nowMs) : none);
  return (
    <section class="dash-section" aria-labelledby="dash-connector-h">
      <h2 id="dash-connector-h">Booking platform connection</h2>
      <StatusBadge status={c.status} why={c.why} label={c.platform} />
      <dl class="dash-facts">
        <div>
          <dt>Last webhook received</dt>
          <dd>{when(c.lastWebhookAt, 'none yet')}</dd>
        </div>
        {c.polls && (
          <div>
            <dt>Last successful poll</dt>
            <dd>
              {when(c.lastPollAt, 'none yet')} (every {c.pollIntervalMinutes} min)
            </dd>
          </div>
        )}
        <div>
          <dt>Errors in the last 24 h</dt>
          <dd>
            {c.errors24h}
            {c.errors.lastPollErrorCode ? ` (last poll error: ${c.errors.lastPollErrorCode})` : ''}
          </dd>
        </div>
        <div>
          <dt>Dead letters</dt>
          <dd>{c.deadLetters === 0 ? 'none' : `${c.deadLetters}: fix the cause, then rebook inbox retry`}</dd>
        </div>
        {c.apiCallBudget !== null && (
          <div>
            <dt>Vendor API calls today (UTC)</dt>
            <dd>
              {c.apiCallsToday} of {c.apiCallBudget} a day ({percent(c.apiCallsToday / c.apiCallBudget)})
            </dd>
          </div>
        )}
      </dl>
    </section>
  );
}

export function DashboardBody(props: DashboardBodyProps) {
  const { data } = props;
  const f = data.funnel;
  const periodText = `${day(data.period.fromMs, data.timeZone)} – ${day(data.period.toMs - 1, data.timeZone)}`;
  if (f.enrolled === 0 && data.unmapped.services.length === 0)
    return (
      <div class="dashboard">
        <p class="dash-period">Treatments completed {periodText}</p>
        <section class="empty-state">
          <h2>No treatments in this period yet</h2>
          <p>
            Rebook enrols a client when the booking platform reports a completed, repeatable treatment. Pick a longer
            period, or check the connection below: the first webhook or poll shows up there.
          </p>
        </section>
        <ConnectorSection data={data} nowMs={props.nowMs} />
      </div>
    );
  const months = data.byMonth;
  return (
    <div class="dashboard">
      <p class="dash-period">Treatments completed {periodText}</p>
      <Headline data={data} />
      <LiftPanel lift={data.lift} holdoutConfigured={data.holdoutConfigured} />
      <section class="dash-section" aria-labelledby="dash-funnel-h">
        <h2 id="dash-funnel-h">From treatment to rebooking</h2>
        <FunnelChart
          id="funnel"
          title="Sequence funnel"
          desc={`Of ${f.enrolled} treatments enrolled: how many each stage reached, and how the sequences ended.`}
          empty="No treatment enrolled in this period."
          steps={[
            { label: 'Enrolled', value: f.enrolled },
            ...(f.bookedBeforeFirstTouch > 0
              ? [{ label: 'Booked before any message', value: f.bookedBeforeFirstTouch }]
              : []),
            ...f.stages.map((s) => ({
              label: s.label,
              value: s.reached,
              note: `${s.bookedAfter} booked after it`,
            })),
            { label: 'Staff converted', value: f.staffConverted, note: `of ${f.escalated} staff calls` },
            { label: 'Churned', value: f.churned, note: 'finished without booking' },
          ]}
        />
      </section>
      <section class="dash-section" aria-labelledby="dash-months-h">
        <h2 id="dash-months-h">Rebook rate by month of treatment</h2>
        <LineChart
          id="months"
          title="Rebook rate by month"
          desc="Share of finished sequences that booked in time, by month of the treatment, against the share that booked before any message."
          empty="No sequence has finished yet: rates by month appear once sequences end (about the treatment's interval after it)."
          categories={months.map((m) => m.month)}
          series={[
            { name: 'Rebooked', values: months.map((m) => m.rebookingRate) },
            { name: 'Booked before any message', values: months.map((m) => m.beforeFirstTouchRate) },
          ]}
          yMax={1}
          area
          formatValue={(v) => percent(v)}
        />
      </section>
      <section class="dash-section" aria-labelledby="dash-messages-h">
        <h2 id="dash-messages-h">Messages</h2>
        <div class="dash-pair">
          <BarChart
            id="messages"
            title="Messages by channel and status"
            desc="Client messages of the period's sequences, by channel and delivery status."
            empty="No message sent yet for these treatments: the first touch goes out at the reminder stage."
            valueLabel="Messages"
            data={data.messages.map((m) => ({
              label: `${m.channel === 'sms' ? 'SMS' : 'Email'} ${m.status}`,
              value: m.count,
            }))}
          />
          <BarChart
            id="held"
            title="Messages held back"
            desc="Stages deferred or not sent because of the send window, frequency caps, consent, or another reason."
            empty="Nothing was held back: every due stage went out on time."
            valueLabel="Stages"
            data={HELD_LABELS.map(([k, label]) => ({ label, value: data.heldBack[k] }))}
          />
        </div>
      </section>
      <UnmappedServices {...props} />
      <ConnectorSection data={data} nowMs={props.nowMs} />
    </div>
  );
}
