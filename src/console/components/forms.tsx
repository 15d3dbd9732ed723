/** Form pieces in the GOV.UK pattern: an error summary linking to each field, labelled fields with hints. */
import type { ComponentChildren } from 'preact';

/** Field name → message; the summary links to `#field-<name>`. */
export type FieldErrors = Record<string, string>;

export function ErrorSummary(props: { errors: FieldErrors }) {
  const entries = Object.entries(props.errors);
  if (entries.length === 0) return null;
  return (
    <div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabIndex={-1}>
      <h2 id="error-summary-title">There is a problem</h2>
      <ul>
        {entries.map(([field, message]) => (
          <li>
            <a href={`#field-${field}`}>{message}</a>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Csrf(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

export function Field(props: {
  name: string;
  label: string;
  hint?: string;
  errors?: FieldErrors;
  children: (attrs: { id: string; name: string; 'aria-describedby'?: string }) => ComponentChildren;
}) {
  const id = `field-${props.name}`;
  const error = props.errors?.[props.name];
  const described = [props.hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class={error ? 'field field--error' : 'field'}>
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <span class="hint" id={`${id}-hint`}>
          {props.hint}
        </span>
      ) : null}
      {error ? (
        <span class="field-error" id={`${id}-error`}>
          <span class="visually-hidden">Error: </span>
          {error}
        </span>
      ) : null}
      {props.children({ id, name: props.name, ...(described ? { 'aria-describedby': described } : {}) })}
    </div>
  );
}

export function Notice(props: { kind?: 'success' | 'warning'; children: ComponentChildren }) {
  return (
    <div class={props.kind ? `notice notice--${props.kind}` : 'notice'} role="status">
      {props.children}
    </div>
  );
}

export function EmptyState(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="card empty">
      <h2>{props.title}</h2>
      {props.children}
    </div>
  );
}
