/** Two-step sign-in: the code step after a right password, and the page to turn it on or off. */
import { Csrf, ErrorSummary, Field, type FieldErrors, Notice } from '../components/forms.js';
import { Layout, PlainLayout, type Viewer } from '../components/layout.js';

function CodeInput(props: { errors?: FieldErrors | undefined; hint?: string }) {
  return (
    <Field
      name="code"
      label="Code from your authenticator app"
      hint={props.hint ?? 'The 6 digits the app shows now.'}
      errors={props.errors}
    >
      {(a) => (
        <input
          {...a}
          type="text"
          inputMode="numeric"
          autocomplete="one-time-code"
          pattern="[0-9 ]*"
          maxLength={7}
          spellcheck={false}
        />
      )}
    </Field>
  );
}

/** After a right password: the code, before any session exists. */
export function SecondStepPage(props: { csrf: string; errors?: FieldErrors }) {
  return (
    <PlainLayout title="Enter your code">
      <div class="login">
        <ErrorSummary errors={props.errors ?? {}} />
        <div class="card">
          <h1>Enter your code</h1>
          <p>Your account uses two-step sign-in. Open your authenticator app and type the code it shows for Rebook.</p>
          <form method="post" action="/app/login/code" novalidate>
            <Csrf token={props.csrf} />
            <CodeInput errors={props.errors} />
            <button class="button" type="submit">
              Sign in
            </button>
          </form>
        </div>
        <p class="hint">
          Lost your phone? Ask your agency admin to turn off two-step sign-in for you.{' '}
          <a href="/app/login">Start again</a>
        </p>
      </div>
    </PlainLayout>
  );
}

export type TwoStepState =
  /** No sealing key on this server: nothing can be stored. */
  { kind: 'unavailable' } | { kind: 'enrolling'; secret: string; uri: string } | { kind: 'enabled' };

export function TwoStepPage(props: {
  viewer: Viewer;
  state: TwoStepState;
  /** The user's agency requires it: it cannot be turned off, and nothing else opens until it is on. */
  required: boolean;
  errors?: FieldErrors;
  flash?: string;
}) {
  const { viewer, state } = props;
  return (
    <Layout title="Two-step sign-in" viewer={viewer} current="/app/account/totp">
      <div class="page-header">
        <h1>Two-step sign-in</h1>
      </div>
      <ErrorSummary errors={props.errors ?? {}} />
      {props.flash ? <Notice kind="success">{props.flash}</Notice> : null}
      {props.required && state.kind !== 'enabled' ? (
        <Notice kind="warning">
          Your agency requires two-step sign-in. Set it up below to use the rest of Rebook.
        </Notice>
      ) : null}
      {state.kind === 'unavailable' ? (
        <div class="card">
          <h2>Not available yet</h2>
          <p>
            Two-step sign-in cannot be set up on this server yet: it keeps each key encrypted, and no encryption key is
            configured. Ask whoever runs Rebook to set REBOOK_SECRETS_KEY (see the operations guide), then come back.
          </p>
        </div>
      ) : state.kind === 'enrolling' ? (
        <div class="card">
          <h2>Turn it on</h2>
          <p>
            After your password, Rebook will ask for a code from an authenticator app on your phone (for example Google
            Authenticator, Microsoft Authenticator or 1Password). Someone who learns your password still cannot sign in.
          </p>
          <ol>
            <li>In the app, choose to add an account by entering a setup key.</li>
            <li>
              Name it Rebook, choose “time based” if asked, and type this key:
              <code class="secret" id="totp-key">
                {state.secret}
              </code>
            </li>
            <li>Type the 6-digit code the app now shows, to check it works.</li>
          </ol>
          <details>
            <summary>My app takes a setup link instead</summary>
            <code class="secret">{state.uri}</code>
          </details>
          <form method="post" action="/app/account/totp/enable" novalidate>
            <Csrf token={viewer.csrf} />
            <CodeInput errors={props.errors} />
            <button class="button" type="submit">
              Turn on two-step sign-in
            </button>
          </form>
          <p class="hint">Keep this key to yourself: anyone with it can make your codes.</p>
        </div>
      ) : (
        <div class="card">
          <h2>It is on</h2>
          <p>Each sign-in asks for your password and then a code from your authenticator app.</p>
          {props.required ? (
            <p class="hint">Your agency requires it, so it cannot be turned off here.</p>
          ) : (
            <form method="post" action="/app/account/totp/disable" novalidate>
              <Csrf token={viewer.csrf} />
              <CodeInput errors={props.errors} hint="To turn it off, type the code the app shows now." />
              <button class="button button--danger" type="submit">
                Turn off two-step sign-in
              </button>
            </form>
          )}
        </div>
      )}
    </Layout>
  );
}
