/** The page frame: skip link, top bar with the clinic switcher, navigation, main, footer. */
import type { ComponentChildren } from 'preact';
import type { ConsoleRole } from '../../db/schema.js';

/** What every signed-in page knows about who is looking. */
export interface Viewer {
  userName: string;
  role: ConsoleRole;
  clinics: { id: string; name: string }[];
  /** The clinic the pages are narrowed to, or null for all of the viewer's clinics. */
  clinicId: string | null;
  csrf: string;
}

interface NavItem {
  href: string;
  label: string;
  roles?: ConsoleRole[];
}

const NAV: NavItem[] = [
  { href: '/app/calls', label: 'Call list' },
  { href: '/app/conversations', label: 'Conversations' },
  { href: '/app/dashboard', label: 'Dashboard', roles: ['agency_admin', 'clinic_manager'] },
  { href: '/app/preview', label: 'Preview', roles: ['agency_admin', 'clinic_manager'] },
  { href: '/app/settings', label: 'Settings', roles: ['agency_admin', 'clinic_manager'] },
  { href: '/app/agency', label: 'Agency', roles: ['agency_admin'] },
  { href: '/app/users', label: 'Users and keys', roles: ['agency_admin'] },
  { href: '/app/audit', label: 'Audit log', roles: ['agency_admin'] },
];

/** Stylesheets a page may add after the base (served from /app/assets). */
export type PageStyle = 'dashboard.css';

export function Document(props: { title: string; styles?: PageStyle[]; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* htmx must not inject its own <style> (the CSP allows the stylesheet only) nor eval. */}
        <meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}' />
        <title>{`${props.title} · Rebook`}</title>
        {/* Page styles first: console.css's tokens win where both define one. */}
        {props.styles?.map((name) => (
          <link rel="stylesheet" href={`/app/assets/${name}`} />
        ))}
        <link rel="stylesheet" href="/app/assets/console.css" />
        <script src="/app/assets/htmx.min.js" defer />
      </head>
      {props.children}
    </html>
  );
}

export function Layout(props: {
  title: string;
  viewer: Viewer;
  current: string;
  styles?: PageStyle[];
  children: ComponentChildren;
}) {
  const { viewer } = props;
  return (
    <Document title={props.title} {...(props.styles ? { styles: props.styles } : {})}>
      <body hx-headers={JSON.stringify({ 'x-csrf-token': viewer.csrf })}>
        <a class="skip-link" href="#main">
          Skip to main content
        </a>
        <header class="topbar">
          <div class="topbar__inner">
            <a class="brand" href="/app">
              Rebook
            </a>
            {viewer.clinics.length > 1 ? (
              <form class="clinic-switcher" method="post" action="/app/clinic">
                <input type="hidden" name="_csrf" value={viewer.csrf} />
                <input type="hidden" name="back" value={props.current} />
                <label for="clinic-switch">Clinic</label>
                <select id="clinic-switch" name="clinicId">
                  <option value="" selected={viewer.clinicId === null}>
                    All my clinics
                  </option>
                  {viewer.clinics.map((c) => (
                    <option value={c.id} selected={viewer.clinicId === c.id}>
                      {c.name}
                    </option>
                  ))}
                </select>
                <button class="button button--secondary button--small" type="submit">
                  Switch
                </button>
              </form>
            ) : (
              <span>{viewer.clinics[0]?.name ?? 'No clinic'}</span>
            )}
            <div class="topbar__user">
              <span>{viewer.userName}</span>
              <a href="/app/account/totp">Two-step sign-in</a>
              <form method="post" action="/app/logout">
                <input type="hidden" name="_csrf" value={viewer.csrf} />
                <button class="link-button" type="submit">
                  Sign out
                </button>
              </form>
            </div>
          </div>
        </header>
        <nav class="nav" aria-label="Main">
          <ul>
            {NAV.filter((n) => !n.roles || n.roles.includes(viewer.role)).map((n) => (
              <li>
                <a href={n.href} aria-current={props.current.startsWith(n.href) ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          {props.children}
        </main>
        <footer class="footer">
          <p>Rebook · client details here are confidential: views and actions are recorded in the audit log.</p>
        </footer>
      </body>
    </Document>
  );
}

/** Pages without a signed-in user (sign in, links, errors before sign-in). */
export function PlainLayout(props: { title: string; children: ComponentChildren }) {
  return (
    <Document title={props.title}>
      <body>
        <a class="skip-link" href="#main">
          Skip to main content
        </a>
        <header class="topbar">
          <div class="topbar__inner">
            <a class="brand" href="/app">
              Rebook
            </a>
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          {props.children}
        </main>
      </body>
    </Document>
  );
}
