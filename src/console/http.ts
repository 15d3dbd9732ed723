/**
 * The console's HTTP plumbing: security headers, the session cookie, CSRF checks and rendering.
 * Every console page answers with a strict CSP (scripts and styles from /app/assets only: no
 * inline script, no inline style), no referrer, no framing, and `no-store` (pages show client data).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { RebookError } from '../errors.js';

export const SESSION_COOKIE = 'rebook_session';
/** Before sign-in: the login form's CSRF token, double-submitted (cookie and form field). */
export const PRE_SESSION_COOKIE = 'rebook_login';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function securityHeaders(reply: FastifyReply, opts: { cache: 'no-store' | 'asset' }): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
  reply.header('cache-control', opts.cache === 'no-store' ? 'no-store' : 'public, max-age=3600');
}

/** HTML from a preact tree, with the doctype. */
export function sendPage(reply: FastifyReply, page: VNode, status = 200): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>${renderToString(page)}`);
}

/** An htmx request wants a header to navigate; a plain one a 303. */
export function redirect(req: FastifyRequest, reply: FastifyReply, to: string): FastifyReply {
  if (req.headers['hx-request']) return reply.header('hx-redirect', to).status(204).send();
  return reply.redirect(to, 303);
}

/**
 * Secure cookies everywhere but plain HTTP on this machine (a developer's `rebook dev`): a
 * browser would drop a Secure cookie set over http://localhost in some versions.
 */
export function cookieOptions(req: FastifyRequest) {
  const host = req.hostname.replace(/:\d+$/, '');
  const local = req.protocol === 'http' && ['localhost', '127.0.0.1', '[::1]', '::1'].includes(host);
  return { path: '/app', httpOnly: true, sameSite: 'lax' as const, secure: !local };
}

export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The CSRF token a state-changing request carries: the form field, or htmx's header. */
export function presentedCsrf(req: FastifyRequest): string | undefined {
  const header = req.headers['x-csrf-token'];
  if (typeof header === 'string') return header;
  const body = req.body as Record<string, unknown> | undefined;
  return typeof body?._csrf === 'string' ? body._csrf : undefined;
}

export function requireCsrf(req: FastifyRequest, expected: string): void {
  if (!sameToken(presentedCsrf(req), expected))
    throw new RebookError('forbidden', 'the form expired or came from elsewhere: reload the page and try again', {
      field: '_csrf',
    });
}

/** Form bodies as strings (one value) or string lists (repeated fields such as checkboxes). */
export function formOf(req: FastifyRequest): Record<string, string | string[]> {
  const body = req.body;
  if (!body || typeof body !== 'object') return {};
  return body as Record<string, string | string[]>;
}

export const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));
export const many = (v: string | string[] | undefined): string[] => (v === undefined ? [] : [v].flat());
