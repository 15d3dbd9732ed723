/** Preview: the sequence one treatment would get, from the existing preview service. */
import type { PreviewResult } from '../../preview/timeline.js';
import { humanize } from '../components/format.js';
import { ErrorSummary, Field, type FieldErrors } from '../components/forms.js';
import { Layout, type Viewer } from '../components/layout.js';

export function PreviewPage(props: {
  viewer: Viewer;
  clinics: { id: string; name: string }[];
  values: { clinicId: string; service: string; date: string };
  result?: PreviewResult;
  errors?: FieldErrors;
}) {
  const { values, result } = props;
  return (
    <Layout title="Preview" viewer={props.viewer} current="/app/preview">
      <div class="page-header">
        <h1>Preview a sequence</h1>
        <p class="lede">What a client treated on a date would receive. Nothing is stored or sent.</p>
      </div>
      <ErrorSummary errors={props.errors ?? {}} />
      <form class="card filters" method="get" action="/app/preview" novalidate>
        <div class="field">
          <label for="field-clinicId">Clinic</label>
          <select id="field-clinicId" name="clinicId">
            {props.clinics.map((c) => (
              <option value={c.id} selected={c.id === values.clinicId}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <Field name="service" label="Service or treatment type" errors={props.errors}>
          {(a) => <input {...a} type="text" value={values.service} placeholder="Botox 20u" />}
        </Field>
        <Field name="date" label="Treatment date" errors={props.errors}>
          {(a) => <input {...a} type="date" value={values.date} class="input--short" />}
        </Field>
        <button class="button" type="submit">
          Show timeline
        </button>
      </form>
      {result ? (
        <section aria-labelledby="preview-title">
          <h2 id="preview-title">
            {result.label}: every {result.intervalDays} days
          </h2>
          <div class="card">
            <p>
              <strong>Offer:</strong> {result.incentive.description}
              {result.incentive.code ? ' (with a code)' : ' (no code, no discount)'}
              <span class="timeline__detail">
                Why: {result.incentive.why}
                {result.incentive.tier ? ` ("${result.incentive.tier}")` : ''}
              </span>
            </p>
          </div>
          <div class="card">
            <ol class="timeline">
              {result.stages.map((s) => (
                <li>
                  <span class="timeline__when">
                    Day {s.day} · {(s.at ?? s.due).local}
                  </span>
                  <span class="timeline__what">
                    {humanize(s.purpose)} · {s.channel ?? s.plannedChannel}
                  </span>{' '}
                  <span
                    class={
                      s.outcome === 'sent' || s.outcome === 'staff_task' ? 'badge badge--ok' : 'badge badge--warning'
                    }
                  >
                    {humanize(s.outcome)}
                  </span>
                  {s.reason ? <span class="timeline__detail">{humanize(s.reason)}</span> : null}
                  {s.content ? (
                    <span class="timeline__detail">
                      {s.content.subject ? <strong>{s.content.subject} — </strong> : null}
                      {s.content.body}
                    </span>
                  ) : null}
                </li>
              ))}
            </ol>
          </div>
          {result.assumptions.length ? (
            <div class="card">
              <h3>Assumptions</h3>
              <ul>
                {result.assumptions.map((a) => (
                  <li>{a}</li>
                ))}
              </ul>
            </div>
          ) : null}
        </section>
      ) : (
        <p class="hint">Enter a service and a date to see the timeline.</p>
      )}
    </Layout>
  );
}
