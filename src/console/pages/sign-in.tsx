/** Sign in, choose a password from a one-time link, and the error pages. */
import { Csrf, ErrorSummary, Field, type FieldErrors, Notice } from '../components/forms.js';
import { PlainLayout } from '../components/layout.js';

export function SignInPage(props: { csrf: string; email?: string; errors?: FieldErrors; notice?: string }) {
  return (
    <PlainLayout title="Sign in">
      <div class="login">
        <ErrorSummary errors={props.errors ?? {}} />
        {props.notice ? <Notice>{props.notice}</Notice> : null}
        <div class="card">
          <h1>Sign in to Rebook</h1>
          <form method="post" action="/app/login" novalidate>
            <Csrf token={props.csrf} />
            <Field name="email" label="Email address" errors={props.errors}>
              {(a) => (
                <input {...a} type="email" autocomplete="username" value={props.email ?? ''} spellcheck={false} />
              )}
            </Field>
            <Field name="password" label="Password" errors={props.errors}>
              {(a) => <input {...a} type="password" autocomplete="current-password" />}
            </Field>
            <button class="button" type="submit">
              Sign in
            </button>
          </form>
        </div>
        <p class="hint">Forgot your password? Ask your agency admin for a reset link.</p>
      </div>
    </PlainLayout>
  );
}

export function ChoosePasswordPage(props: { csrf: string; name: string; errors?: FieldErrors; action: string }) {
  return (
    <PlainLayout title="Choose a password">
      <div class="login">
        <ErrorSummary errors={props.errors ?? {}} />
        <div class="card">
          <h1>Welcome, {props.name}</h1>
          <p>Choose a password to finish setting up your account. This link works once.</p>
          <form method="post" action={props.action} novalidate>
            <Csrf token={props.csrf} />
            <Field name="password" label="New password" hint="At least 12 characters." errors={props.errors}>
              {(a) => <input {...a} type="password" autocomplete="new-password" />}
            </Field>
            <Field name="confirm" label="Type it again" errors={props.errors}>
              {(a) => <input {...a} type="password" autocomplete="new-password" />}
            </Field>
            <button class="button" type="submit">
              Save password and sign in
            </button>
          </form>
        </div>
      </div>
    </PlainLayout>
  );
}

export function MessagePage(props: { title: string; message: string; link?: { href: string; label: string } }) {
  return (
    <PlainLayout title={props.title}>
      <div class="login card">
        <h1>{props.title}</h1>
        <p>{props.message}</p>
        {props.link ? <a href={props.link.href}>{props.link.label}</a> : null}
      </div>
    </PlainLayout>
  );
}
