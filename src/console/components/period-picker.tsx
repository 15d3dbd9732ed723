/**
 * The period picker: a plain GET form (works without JavaScript), presets and custom dates, with
 * the clinic kept (or chosen, for a viewer with several) so the address says what is shown.
 */
import type { PeriodChoice, PeriodRange } from '../data/period-query.js';
import { ErrorSummary, Field } from './forms.js';

const RANGE_LABELS: Record<PeriodRange, string> = {
  '30': 'Last 30 days',
  '90': 'Last 90 days',
  '365': 'Last 365 days',
  custom: 'Dates below',
};

export function PeriodPicker(props: {
  action: string;
  choice: PeriodChoice;
  clinics?: { id: string; name: string }[];
  clinicId?: string;
}) {
  const { values, errors } = props.choice;
  return (
    <>
      <ErrorSummary errors={errors} />
      <form class="card filters period-picker" method="get" action={props.action} novalidate>
        {props.clinics && props.clinics.length > 1 ? (
          <Field name="clinic" label="Clinic" errors={errors}>
            {(a) => (
              <select {...a}>
                {props.clinics!.map((c) => (
                  <option value={c.id} selected={c.id === props.clinicId}>
                    {c.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : props.clinicId ? (
          <input type="hidden" name="clinic" value={props.clinicId} />
        ) : null}
        <Field name="range" label="Treatments completed in" errors={errors}>
          {(a) => (
            <select {...a}>
              {(Object.keys(RANGE_LABELS) as PeriodRange[]).map((r) => (
                <option value={r} selected={r === values.range}>
                  {RANGE_LABELS[r]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field name="from" label="From" errors={errors}>
          {(a) => <input {...a} type="date" value={values.from} class="input--short" />}
        </Field>
        <Field name="to" label="To (included)" errors={errors}>
          {(a) => <input {...a} type="date" value={values.to} class="input--short" />}
        </Field>
        <button class="button" type="submit">
          Show
        </button>
      </form>
    </>
  );
}
