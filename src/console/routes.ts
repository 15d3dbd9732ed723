/**
 * The console under /app: sign-in, the call list, client pages, conversations, users and keys,
 * the audit log and the preview. Pages call the services the API uses (staff task outcomes,
 * sequence signals, consent changes, the staff SMS reply) and authorize through the API's tenancy
 * rule: a clinic the viewer does not see answers 404, like one that does not exist.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import { and, eq, isNull } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ClinicConfig } from '../config/schema.js';
import { fromLocal } from '../core/zoned-time.js';
import type { ConsoleRole } from '../db/schema.js';
import { auditLog, inboundMessages, sequences, staffTasks } from '../db/schema.js';
import { RebookError } from '../errors.js';
import { mapService } from '../ingest/service-mappings.js';
import { recordOptOut } from '../messaging/channel-state.js';
import { createOutboxProvider } from '../messaging/outbox/index.js';
import { sendStaffReply } from '../messaging/staff-reply.js';
import { previewClinic } from '../preview/clinic.js';
import { previewInput } from '../preview/request.js';
import { type PreviewResult, previewTimeline } from '../preview/timeline.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../server/api-keys.js';
import { authorize } from '../server/auth.js';
import { claimTask, resolveTask, taskOutcomes } from '../staff/tasks.js';
import { createLink, linkPath, peekLink, spendLink } from './accounts/links.js';
import { createLoginThrottle } from './accounts/login-throttle.js';
import {
  DEFAULT_SESSION_LIMITS,
  randomToken,
  resumeSession,
  revokeSession,
  type Session,
  type SessionLimits,
  setSessionClinic,
} from './accounts/sessions.js';
import {
  type ConsoleUser,
  checkPassword,
  clinicsOf,
  createUser,
  findUser,
  listUsers,
  principalOf,
  revokeUser,
  setPassword,
} from './accounts/users.js';
import { audit, auditCsv, queryAudit } from './audit.js';
import type { FieldErrors } from './components/forms.js';
import type { Viewer } from './components/layout.js';
import { loadAgencyOverview } from './data/agency-overview.js';
import { loadClinicDashboard } from './data/clinic-dashboard.js';
import { clinicSettings } from './data/clinic-settings.js';
import { choosePeriod } from './data/period-query.js';
import {
  cookieOptions,
  formOf,
  many,
  one,
  PRE_SESSION_COOKIE,
  redirect,
  requireCsrf,
  SESSION_COOKIE,
  sameToken,
  securityHeaders,
  sendPage,
} from './http.js';
import { AgencyPage } from './pages/agency.js';
import { AuditPage } from './pages/audit.js';
import { CallListPage, CallListPartial } from './pages/calls.js';
import { ClientPage } from './pages/client.js';
import { ConversationsPage } from './pages/conversations.js';
import { DashboardPage } from './pages/dashboard.js';
import { PreviewPage } from './pages/preview.js';
import { SettingsPage } from './pages/settings.js';
import { ChoosePasswordPage, MessagePage, SignInPage } from './pages/sign-in.js';
import { UsersPage } from './pages/users.js';
import { callList } from './queries/call-list.js';
import { clientById, clientDetail } from './queries/client.js';
import { conversations, inboundById } from './queries/conversations.js';
import { registerAccountRoutes } from './routes-account.js';

export interface ConsoleOptions {
  sessionLimits?: SessionLimits;
  /** Sign-in attempts per client address in LOGIN_WINDOW_MS before it is told to wait. */
  loginAttemptsPerWindow?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in console session (set on every /app route that needs one). */
    session?: Session;
  }
  interface FastifyContextConfig {
    /** Console routes reachable without a session (sign-in, links, assets). */
    public?: boolean;
    /** The roles a console route admits (all when unset). */
    roles?: ConsoleRole[];
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const ASSETS: Record<string, { file: string; type: string }> = {
  'console.css': { file: join(here, 'styles', 'console.css'), type: 'text/css; charset=utf-8' },
  'dashboard.css': { file: join(here, 'styles', 'dashboard.css'), type: 'text/css; charset=utf-8' },
  'htmx.min.js': { file: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
};

const outcomeForm = z.object({
  outcome: z.enum(taskOutcomes, { error: 'choose what happened' }),
  note: z.string().trim().max(1000, 'keep the note under 1000 characters').optional(),
  callBackOn: z
    .string()
    .trim()
    .regex(/^(\d{4}-\d{2}-\d{2})?$/, 'enter a date like 2026-05-20')
    .optional(),
});

const flashes: Record<string, string> = {
  booked: 'Saved: booked. The client’s sequences are ending.',
  not_interested: 'Saved: not interested. The client’s sequences are ending.',
  call_back: 'Saved: the call comes back on the date you chose.',
  left_voicemail: 'Saved: voicemail counted. The call is back on the list tomorrow.',
  wrong_number: 'Saved: the number is marked unusable; email continues.',
  claimed: 'Claimed: the call is yours.',
  sent: 'Text sent. It is in the message ledger.',
  handled: 'Marked handled.',
  'opt-out': 'Opt-out recorded.',
  ended: 'The sequence was ended: nothing more will be sent.',
  snoozed: 'The sequence was paused: one reactivation touch later.',
  revoked: 'Access revoked.',
  mapped: 'Service mapped. Treatments of it received from now on are enrolled.',
  'totp-reset': 'Two-step sign-in turned off for them: they set it up again at their next sign-in if required.',
};

const mappingForm = z.object({
  serviceKey: z.string().trim().min(1, 'reload the page and try again').max(300),
  // Empty: "not a repeatable treatment" (the mapping service's null).
  treatmentType: z
    .string()
    .trim()
    .max(60)
    .transform((v) => v || null),
});

export async function registerConsole(app: FastifyInstance, opts: ConsoleOptions = {}): Promise<void> {
  const { db, config } = app.deps;
  const limits = opts.sessionLimits ?? DEFAULT_SESSION_LIMITS;
  const now = () => new Date(app.deps.now ? app.deps.now() : Date.now());
  const outbox = createOutboxProvider(app.deps.log);
  const providerFor = (clinicId: string, channel: 'sms' | 'email') =>
    app.deps.clinicProviders?.(clinicId)?.[channel] ?? outbox;

  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);

  app.decorateRequest('session', undefined);

  app.addHook('onRequest', async (req, reply) => {
    securityHeaders(reply, { cache: req.url.startsWith('/app/assets/') ? 'asset' : 'no-store' });
    if (req.routeOptions.config.public) return;
    const cookie = req.cookies[SESSION_COOKIE];
    const session = cookie ? await resumeSession(db, cookie, now(), limits) : undefined;
    if (!session) {
      if (cookie) reply.clearCookie(SESSION_COOKIE, cookieOptions(req));
      const to = `/app/login${cookie ? '?expired=1' : ''}`;
      if (req.headers['hx-request']) return reply.header('hx-redirect', to).status(204).send();
      return reply.redirect(to, 303);
    }
    req.session = session;
    const roles = req.routeOptions.config.roles;
    // A page above one's role is as invisible as one that does not exist.
    if (roles && !roles.includes(session.user.role)) throw new RebookError('not_found', 'no such page');
  });
  // Form bodies are parsed by now: every state-changing request carries the session's token.
  app.addHook('preHandler', async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.session) requireCsrf(req, req.session.csrfToken);
  });

  app.setErrorHandler((err, req, reply) => {
    const e =
      err instanceof RebookError
        ? err
        : (err as { statusCode?: number }).statusCode === 415 || (err as { statusCode?: number }).statusCode === 400
          ? new RebookError('validation_failed', 'the form could not be read')
          : undefined;
    if (!e) req.log.error({ errorName: (err as Error).name }, 'console error');
    const status = e?.status ?? 500;
    const title =
      status === 404
        ? 'Page not found'
        : status === 403
          ? 'That did not work'
          : status === 409
            ? 'Someone got there first'
            : status === 503
              ? 'Try again in a moment'
              : 'Something went wrong';
    const message =
      status === 404
        ? 'If you typed the address, check it. If you followed a link, the page may belong to a clinic you do not work with.'
        : (e?.message ?? 'The problem was recorded. Try again, and tell your agency admin if it keeps happening.');
    securityHeaders(reply, { cache: 'no-store' });
    return sendPage(
      reply,
      MessagePage({ title, message, link: { href: '/app', label: 'Back to the call list' } }),
      status,
    );
  });
  // Unknown console addresses get the console's own 404 page (the API keeps its JSON 404).
  app.all('/app/*', async () => {
    throw new RebookError('not_found', 'no such page');
  });

  // ---- helpers
  const visibleClinics = (user: ConsoleUser) => clinicsOf(user, config.current());
  const viewerOf = (s: Session): Viewer => {
    const clinics = visibleClinics(s.user);
    return {
      userName: s.user.name,
      role: s.user.role,
      clinics: clinics.map((c) => ({ id: c.id, name: c.name })),
      clinicId: s.clinicId && clinics.some((c) => c.id === s.clinicId) ? s.clinicId : null,
      csrf: s.csrfToken,
    };
  };
  /** The clinics the pages are narrowed to: the chosen one, or all the viewer's. */
  const scopeOf = (s: Session): string[] => {
    const v = viewerOf(s);
    return v.clinicId ? [v.clinicId] : v.clinics.map((c) => c.id);
  };
  const timeZoneOf = (clinicId: string) => config.current().clinics.get(clinicId)?.timeZone ?? 'UTC';
  const sessionOf = (req: FastifyRequest): Session => {
    if (!req.session) throw new RebookError('unauthorized', 'sign in first');
    return req.session;
  };
  /** The API's rule: this viewer may act on this clinic (404 otherwise). */
  const clinicFor = (s: Session, clinicId: string | undefined): ClinicConfig =>
    authorize(
      principalOf(s.user, config.current()),
      clinicId ? config.current().clinics.get(clinicId) : undefined,
      'staff',
    );
  const record = (
    s: Session,
    e: { clinicId?: string | null; clientId?: string | null; action: string; target?: string },
  ) => audit(db, { userId: s.user.id, role: s.user.role, ...e, at: now() });
  const flashOf = (req: FastifyRequest) => flashes[one((req.query as Record<string, string>)?.done)];

  // ---- assets (htmx from node_modules, the stylesheet): served by Rebook, no CDN
  const assetCache = new Map<string, Buffer>();
  app.get('/app/assets/:name', { config: { public: true } }, async (req, reply) => {
    const name = (req.params as { name: string }).name;
    const asset = ASSETS[name];
    if (!asset) throw new RebookError('not_found', 'no such asset');
    let body = assetCache.get(name);
    if (!body) {
      body = readFileSync(asset.file);
      assetCache.set(name, body);
    }
    return reply.type(asset.type).send(body);
  });

  app.get('/', { config: { public: true } }, async (_req, reply) => reply.redirect('/app', 302));
  app.get('/app', async (_req, reply) => reply.redirect('/app/calls', 302));

  // ---- sign in / out (the code step and the two-step page: routes-account.ts)
  const throttle = createLoginThrottle(opts.loginAttemptsPerWindow ?? 30);
  const signIn = registerAccountRoutes(app, { now, limits, throttle, viewerOf, managedUsers });
  const loginPage = (
    req: FastifyRequest,
    reply: FastifyReply,
    p: { email?: string; errors?: FieldErrors; notice?: string },
    status = 200,
  ) => {
    const token = randomToken();
    reply.setCookie(PRE_SESSION_COOKIE, token, { ...cookieOptions(req), sameSite: 'strict' });
    return sendPage(reply, SignInPage({ csrf: token, ...p }), status);
  };
  app.get('/app/login', { config: { public: true } }, async (req, reply) =>
    loginPage(req, reply, {
      ...(one((req.query as Record<string, string>)?.expired) ? { notice: 'Your session ended. Sign in again.' } : {}),
    }),
  );
  app.post('/app/login', { config: { public: true } }, async (req, reply) => {
    const form = formOf(req);
    if (!sameToken(one(form._csrf), req.cookies[PRE_SESSION_COOKIE]))
      throw new RebookError('forbidden', 'the sign-in form expired: reload the page and try again', { field: '_csrf' });
    const email = one(form.email).trim();
    if (throttle.exceeded(req.ip, now()))
      return loginPage(
        req,
        reply,
        { email, errors: { email: 'Too many attempts from here. Wait 15 minutes and try again.' } },
        429,
      );
    const errors: FieldErrors = {};
    if (!email) errors.email = 'Enter your email address';
    if (!one(form.password)) errors.password = 'Enter your password';
    if (Object.keys(errors).length) return loginPage(req, reply, { email, errors }, 400);
    const check = await checkPassword(db, email, one(form.password), now());
    if (!check.ok) {
      await audit(db, { userId: null, role: 'anonymous', action: 'sign_in.failed', at: now() });
      return loginPage(
        req,
        reply,
        {
          email,
          errors: {
            email:
              check.reason === 'locked'
                ? 'This account is locked after too many wrong passwords. Wait 15 minutes or ask for a reset link.'
                : 'The email address or password is not right',
          },
        },
        401,
      );
    }
    return signIn.afterPassword(req, reply, check.user);
  });
  app.post('/app/logout', { config: { beforeTwoStep: true } }, async (req, reply) => {
    const s = sessionOf(req);
    await revokeSession(db, s.idHash, now());
    await record(s, { action: 'sign_out' });
    reply.clearCookie(SESSION_COOKIE, cookieOptions(req));
    return reply.redirect('/app/login', 303);
  });

  // ---- one-time links: invitation, reset, first admin
  app.get('/app/link/:token', { config: { public: true } }, async (req, reply) => {
    const token = (req.params as { token: string }).token;
    const link = await peekLink(db, token, now());
    const user = link ? await findUser(db, link.userId) : undefined;
    if (!link || !user || user.revokedAt)
      return sendPage(
        reply,
        MessagePage({
          title: 'This link has expired',
          message: 'Links work once and for a limited time. Ask your agency admin for a new one.',
          link: { href: '/app/login', label: 'Go to sign in' },
        }),
        410,
      );
    const csrf = randomToken();
    reply.setCookie(PRE_SESSION_COOKIE, csrf, { ...cookieOptions(req), sameSite: 'strict' });
    return sendPage(reply, ChoosePasswordPage({ csrf, name: user.name, action: linkPath(token) }));
  });
  app.post('/app/link/:token', { config: { public: true } }, async (req, reply) => {
    const token = (req.params as { token: string }).token;
    const form = formOf(req);
    if (!sameToken(one(form._csrf), req.cookies[PRE_SESSION_COOKIE]))
      throw new RebookError('forbidden', 'the form expired: open the link again', { field: '_csrf' });
    const link = await peekLink(db, token, now());
    const user = link ? await findUser(db, link.userId) : undefined;
    if (!link || !user || user.revokedAt) throw new RebookError('not_found', 'this link has expired');
    const password = one(form.password);
    const errors: FieldErrors = {};
    if (password.length < 12) errors.password = 'Use at least 12 characters';
    else if (password !== one(form.confirm)) errors.confirm = 'The two passwords are not the same';
    if (Object.keys(errors).length) {
      const csrf = randomToken();
      reply.setCookie(PRE_SESSION_COOKIE, csrf, { ...cookieOptions(req), sameSite: 'strict' });
      return sendPage(reply, ChoosePasswordPage({ csrf, name: user.name, action: linkPath(token), errors }), 400);
    }
    if (!(await spendLink(db, token, now()))) throw new RebookError('not_found', 'this link has expired');
    await setPassword(db, user.id, password);
    await audit(db, { userId: user.id, role: user.role, action: `link.${link.purpose}`, at: now() });
    // A reset link proves the mailbox, not the phone: a second factor is still asked for.
    return signIn.afterPassword(req, reply, user);
  });

  app.post('/app/clinic', async (req, reply) => {
    const s = sessionOf(req);
    const form = formOf(req);
    const clinicId = one(form.clinicId);
    if (clinicId) clinicFor(s, clinicId);
    await setSessionClinic(db, s.idHash, clinicId || null);
    const back = one(form.back);
    return redirect(req, reply, /^\/app\/[a-z-]*$/.test(back) ? back : '/app/calls');
  });

  // ---- call list
  async function callListProps(req: FastifyRequest) {
    const s = sessionOf(req);
    const items = await callList(db, scopeOf(s), now());
    if (items.length)
      await db.insert(auditLog).values(
        items.map((i) => ({
          at: now(),
          userId: s.user.id,
          role: s.user.role,
          clinicId: i.clinicId,
          clientId: i.clientId,
          action: 'call_list.view',
          target: i.taskId,
        })),
      );
    return { viewer: viewerOf(s), items, timeZoneOf, now: now() };
  }
  app.get('/app/calls', async (req, reply) => {
    const flash = flashOf(req);
    return sendPage(reply, CallListPage({ ...(await callListProps(req)), ...(flash ? { flash } : {}) }));
  });
  app.get('/app/calls/list', async (req, reply) => sendPage(reply, CallListPartial(await callListProps(req))));

  async function taskForViewer(s: Session, taskId: string) {
    if (!/^[0-9a-f-]{36}$/i.test(taskId)) throw new RebookError('not_found', 'unknown task');
    const [t] = await db.select().from(staffTasks).where(eq(staffTasks.id, taskId));
    if (!t) throw new RebookError('not_found', 'unknown task');
    return { task: t, clinic: clinicFor(s, t.clinicId) };
  }
  const taskDeps = () => ({ db, now, ...(app.deps.signals ? { signals: app.deps.signals } : {}) });

  app.post('/app/tasks/:taskId/claim', async (req, reply) => {
    const s = sessionOf(req);
    const { task, clinic } = await taskForViewer(s, (req.params as { taskId: string }).taskId);
    await claimTask(taskDeps(), clinic.id, task.id, s.user.name);
    await record(s, { clinicId: clinic.id, clientId: task.clientId, action: 'task.claim', target: task.id });
    return redirect(req, reply, '/app/calls?done=claimed');
  });
  app.post('/app/tasks/:taskId/outcome', async (req, reply) => {
    const s = sessionOf(req);
    const { task, clinic } = await taskForViewer(s, (req.params as { taskId: string }).taskId);
    const parsed = outcomeForm.safeParse(
      Object.fromEntries(Object.entries(formOf(req)).map(([k, v]) => [k, one(v) || undefined])),
    );
    if (!parsed.success)
      throw new RebookError('validation_failed', parsed.error.issues[0]?.message ?? 'check the form', {
        field: String(parsed.error.issues[0]?.path[0] ?? 'outcome'),
      });
    const f = parsed.data;
    let callBackAt: Date | undefined;
    if (f.outcome === 'call_back' && f.callBackOn) {
      const [year, month, day] = f.callBackOn.split('-').map(Number) as [number, number, number];
      // The task returns at the start of that day on the clinic's calendar.
      callBackAt = new Date(fromLocal({ year, month, day, hour: 0, minute: 0 }, clinic.timeZone));
      if (callBackAt.getTime() <= now().getTime())
        throw new RebookError('validation_failed', 'choose a call-back date after today', { field: 'callBackOn' });
    }
    await resolveTask(taskDeps(), clinic.id, task.id, {
      outcome: f.outcome,
      by: s.user.name,
      ...(f.note ? { note: f.note } : {}),
      ...(callBackAt ? { callBackAt } : {}),
    });
    await record(s, { clinicId: clinic.id, clientId: task.clientId, action: `task.${f.outcome}`, target: task.id });
    return redirect(req, reply, `/app/calls?done=${f.outcome}`);
  });

  // ---- client page
  async function clientForViewer(s: Session, clientId: string) {
    const client = await clientById(db, clientId);
    if (!client) throw new RebookError('not_found', 'unknown client');
    return { client, clinic: clinicFor(s, client.clinicId) };
  }
  app.get('/app/clients/:clientId', async (req, reply) => {
    const s = sessionOf(req);
    const { client, clinic } = await clientForViewer(s, (req.params as { clientId: string }).clientId);
    const detail = await clientDetail(db, client);
    await record(s, { clinicId: clinic.id, clientId: client.id, action: 'client.view' });
    const flash = flashOf(req);
    return sendPage(
      reply,
      ClientPage({
        viewer: viewerOf(s),
        client,
        clinicName: clinic.name,
        timeZone: clinic.timeZone,
        detail,
        ...(flash ? { flash } : {}),
      }),
    );
  });
  app.post('/app/clients/:clientId/sequence', async (req, reply) => {
    const s = sessionOf(req);
    const { client, clinic } = await clientForViewer(s, (req.params as { clientId: string }).clientId);
    const form = formOf(req);
    const action = one(form.action);
    if (action !== 'end' && action !== 'snooze')
      throw new RebookError('validation_failed', 'choose pause or end', { field: 'action' });
    const [seq] = await db
      .select()
      .from(sequences)
      .where(
        and(
          eq(sequences.clientId, client.id),
          eq(sequences.treatmentType, one(form.treatmentType)),
          eq(sequences.running, true),
        ),
      );
    if (!seq) throw new RebookError('conflict', 'that sequence is not running any more');
    const signals = app.deps.signals;
    if (!signals) throw new RebookError('temporal_unavailable', 'cannot reach the sequences right now');
    const ok =
      action === 'end'
        ? await signals.end(seq.workflowId, { outcome: 'cancelled' })
        : // A pause is the engine's snooze: one reactivation touch later, nothing before it.
          await signals.snooze(seq.workflowId, { reason: 'staff_call_back' });
    if (!ok) throw new RebookError('conflict', 'that sequence is not running any more');
    await record(s, {
      clinicId: clinic.id,
      clientId: client.id,
      action: `sequence.${action}`,
      target: seq.treatmentType,
    });
    return redirect(req, reply, `/app/clients/${client.id}?done=${action === 'end' ? 'ended' : 'snoozed'}`);
  });
  app.post('/app/clients/:clientId/opt-out', async (req, reply) => {
    const s = sessionOf(req);
    const { client, clinic } = await clientForViewer(s, (req.params as { clientId: string }).clientId);
    const channels = many(formOf(req).channel).filter((c): c is 'sms' | 'email' => c === 'sms' || c === 'email');
    if (channels.length === 0)
      throw new RebookError('validation_failed', 'choose texts, email or both', { field: 'channel' });
    for (const channel of channels)
      await recordOptOut(
        db,
        { clinicId: clinic.id, clientIds: [client.id] },
        channel,
        'staff',
        now(),
        `user:${s.user.id}`,
      );
    await record(s, {
      clinicId: clinic.id,
      clientId: client.id,
      action: 'consent.opt_out',
      target: channels.join('+'),
    });
    return redirect(req, reply, `/app/clients/${client.id}?done=opt-out`);
  });

  // ---- conversations
  async function conversationsPage(
    req: FastifyRequest,
    reply: FastifyReply,
    extra: { error?: { inboundId: string; message: string } } = {},
    status = 200,
  ) {
    const s = sessionOf(req);
    const showHandled = one((req.query as Record<string, string>)?.handled) === '1';
    const items = await conversations(db, scopeOf(s), { handled: showHandled });
    for (const c of items)
      if (c.clientId)
        await record(s, {
          clinicId: c.clinicId,
          clientId: c.clientId,
          action: 'conversation.view',
          target: c.inboundId,
        });
    const flash = flashOf(req);
    return sendPage(
      reply,
      ConversationsPage({
        viewer: viewerOf(s),
        items,
        showHandled,
        timeZoneOf,
        replyIdFor: () => crypto.randomUUID(),
        ...(flash ? { flash } : {}),
        ...extra,
      }),
      status,
    );
  }
  app.get('/app/conversations', async (req, reply) => conversationsPage(req, reply));
  async function inboundForViewer(s: Session, id: string) {
    const inbound = await inboundById(db, id);
    if (!inbound) throw new RebookError('not_found', 'unknown conversation');
    return { inbound, clinic: clinicFor(s, inbound.clinicId) };
  }
  app.post('/app/conversations/:inboundId/reply', async (req, reply) => {
    const s = sessionOf(req);
    const { inbound, clinic } = await inboundForViewer(s, (req.params as { inboundId: string }).inboundId);
    if (!inbound.clientId) throw new RebookError('not_found', 'this number matches no client');
    const form = formOf(req);
    const replyId = one(form.replyId);
    if (!/^[0-9a-f-]{36}$/i.test(replyId)) throw new RebookError('validation_failed', 'reload the page and try again');
    try {
      const sent = await sendStaffReply(
        { db, provider: providerFor(clinic.id, 'sms') },
        { clinic, clientId: inbound.clientId, body: one(form.body), replyId, now: now() },
      );
      await record(s, {
        clinicId: clinic.id,
        clientId: inbound.clientId,
        action: 'conversation.reply',
        target: sent.messageId,
      });
    } catch (err) {
      if (err instanceof RebookError && (err.status === 400 || err.status === 403))
        return conversationsPage(req, reply, { error: { inboundId: inbound.id, message: err.message } }, err.status);
      throw err;
    }
    return redirect(req, reply, '/app/conversations?done=sent');
  });
  app.post('/app/conversations/:inboundId/handled', async (req, reply) => {
    const s = sessionOf(req);
    const { inbound, clinic } = await inboundForViewer(s, (req.params as { inboundId: string }).inboundId);
    await db
      .update(inboundMessages)
      .set({ handledAt: now(), handledBy: s.user.name })
      .where(and(eq(inboundMessages.id, inbound.id), isNull(inboundMessages.handledAt)));
    await record(s, {
      clinicId: clinic.id,
      clientId: inbound.clientId,
      action: 'conversation.handled',
      target: inbound.id,
    });
    return redirect(req, reply, '/app/conversations?done=handled');
  });

  // ---- users and keys (agency admins)
  const admin = { roles: ['agency_admin'] as ConsoleRole[] };
  /** Users an admin manages: those whose clinics are all among the admin's (or of the admin's agency). */
  async function managedUsers(s: Session) {
    const mine = new Set(visibleClinics(s.user).map((c) => c.id));
    return (await listUsers(db)).filter(
      (u) =>
        u.id === s.user.id ||
        (u.agencyId ? u.agencyId === s.user.agencyId : u.clinicIds.length > 0 && u.clinicIds.every((c) => mine.has(c))),
    );
  }
  async function usersPage(
    req: FastifyRequest,
    reply: FastifyReply,
    extra: Partial<Parameters<typeof UsersPage>[0]> = {},
    status = 200,
  ) {
    const s = sessionOf(req);
    const mine = visibleClinics(s.user).map((c) => c.id);
    const keys = (await listApiKeys(db)).filter((k) =>
      k.clinicId ? mine.includes(k.clinicId) : k.agencyId !== null && k.agencyId === s.user.agencyId,
    );
    const flash = flashOf(req);
    return sendPage(
      reply,
      UsersPage({
        viewer: viewerOf(s),
        selfId: s.user.id,
        users: await managedUsers(s),
        keys,
        agencies: s.user.agencyId ? [s.user.agencyId] : [],
        ...(flash ? { flash } : {}),
        ...extra,
      }),
      status,
    );
  }
  app.get('/app/users', { config: admin }, async (req, reply) => usersPage(req, reply));
  app.post('/app/users/invite', { config: admin }, async (req, reply) => {
    const s = sessionOf(req);
    const form = formOf(req);
    const role = one(form.role) as ConsoleRole;
    const clinicIds = many(form.clinics);
    for (const c of clinicIds) clinicFor(s, c);
    let user: ConsoleUser;
    try {
      if (!['agency_admin', 'clinic_manager', 'front_desk'].includes(role))
        throw new RebookError('validation_failed', 'choose a role', { field: 'role' });
      user = await createUser(db, config.current(), {
        email: one(form.email),
        name: one(form.name),
        role,
        agencyId: role === 'agency_admin' ? s.user.agencyId : null,
        clinicIds,
      });
    } catch (err) {
      if (err instanceof RebookError && (err.status === 400 || err.status === 409))
        return usersPage(req, reply, { errors: { [err.details.field ?? 'email']: err.message }, values: form }, 400);
      throw err;
    }
    const token = await createLink(db, user.id, 'invite', now());
    const shown = await deliverLink(req, user, token, 'invite', clinicIds[0] ?? visibleClinics(s.user)[0]?.id);
    await record(s, { action: 'user.invite', target: user.id });
    return usersPage(req, reply, {
      flash: `Invitation created for ${user.name}.`,
      ...(shown
        ? { secret: { label: 'No email provider is set up: give this link to them yourself.', value: shown } }
        : {}),
    });
  });
  app.post('/app/users/:userId/revoke', { config: admin }, async (req, reply) => {
    const s = sessionOf(req);
    const id = (req.params as { userId: string }).userId;
    const target = (await managedUsers(s)).find((u) => u.id === id);
    if (!target) throw new RebookError('not_found', 'unknown user');
    if (target.id === s.user.id) throw new RebookError('conflict', 'you cannot revoke yourself');
    await revokeUser(db, target.id, now());
    await record(s, { action: 'user.revoke', target: target.id });
    return redirect(req, reply, '/app/users?done=revoked');
  });
  app.post('/app/users/:userId/reset-link', { config: admin }, async (req, reply) => {
    const s = sessionOf(req);
    const id = (req.params as { userId: string }).userId;
    const target = (await managedUsers(s)).find((u) => u.id === id);
    if (!target) throw new RebookError('not_found', 'unknown user');
    const token = await createLink(db, target.id, 'reset', now());
    const shown = await deliverLink(req, target, token, 'reset', target.clinicIds[0] ?? visibleClinics(s.user)[0]?.id);
    await record(s, { action: 'user.reset_link', target: target.id });
    return usersPage(req, reply, {
      flash: `Reset link created for ${target.name}.`,
      ...(shown
        ? { secret: { label: 'No email provider is set up: give this link to them yourself.', value: shown } }
        : {}),
    });
  });
  app.post('/app/keys', { config: admin }, async (req, reply) => {
    const s = sessionOf(req);
    const form = formOf(req);
    const clinic = clinicFor(s, one(form.clinicId));
    const role = one(form.role) === 'admin' ? 'admin' : 'staff';
    const label = one(form.label).trim().slice(0, 100);
    const { key, record: rec } = await createApiKey(db, config.current(), {
      ...(clinic.agency ? { agencyId: clinic.agency } : {}),
      clinicId: clinic.id,
      role,
      ...(label ? { label } : {}),
    });
    await record(s, { clinicId: clinic.id, action: 'api_key.create', target: rec.id });
    return usersPage(req, reply, { secret: { label: 'Copy the new API key now.', value: key } });
  });
  app.post('/app/keys/:keyId/revoke', { config: admin }, async (req, reply) => {
    const s = sessionOf(req);
    const id = (req.params as { keyId: string }).keyId;
    const mine = visibleClinics(s.user).map((c) => c.id);
    const key = (await listApiKeys(db)).find((k) => k.id === id);
    if (!key || !(key.clinicId ? mine.includes(key.clinicId) : key.agencyId === s.user.agencyId && key.agencyId))
      throw new RebookError('not_found', 'unknown key');
    await revokeApiKey(db, key.id, now());
    await record(s, { clinicId: key.clinicId, action: 'api_key.revoke', target: key.id });
    return redirect(req, reply, '/app/users?done=revoked');
  });

  /**
   * Sends the link by the clinic's email provider. With the outbox (no provider configured) the
   * email goes nowhere, so the link is returned for the admin to hand over in person.
   */
  async function deliverLink(
    req: FastifyRequest,
    user: ConsoleUser,
    token: string,
    purpose: 'invite' | 'reset',
    clinicId: string | undefined,
  ): Promise<string | undefined> {
    const url = `${req.protocol}://${req.host}${linkPath(token)}`;
    const provider = clinicId ? providerFor(clinicId, 'email') : outbox;
    await provider.send({
      messageId: crypto.randomUUID(),
      clinicId: clinicId ?? 'none',
      channel: 'staff_email',
      to: user.email,
      subject: purpose === 'invite' ? 'Your Rebook invitation' : 'Reset your Rebook password',
      body: `Open this link to choose your password (it works once): ${url}`,
      categories: ['rebook', 'console'],
    });
    return provider.name === 'outbox' ? url : undefined;
  }

  // ---- audit log (agency admins)
  const auditQuery = z.object({
    userId: z.uuid().optional().catch(undefined),
    clientId: z.uuid().optional().catch(undefined),
    action: z.string().max(60).optional().catch(undefined),
    from: z.iso.date().optional().catch(undefined),
    to: z.iso.date().optional().catch(undefined),
  });
  async function auditRows(req: FastifyRequest, limit: number) {
    const s = sessionOf(req);
    const q = auditQuery.parse(
      Object.fromEntries(Object.entries((req.query ?? {}) as Record<string, string>).filter(([, v]) => v !== '')),
    );
    const users = await managedUsers(s);
    const rows = await queryAudit(db, {
      clinicIds: visibleClinics(s.user).map((c) => c.id),
      userIds: users.map((u) => u.id),
      ...(q.userId ? { userId: q.userId } : {}),
      ...(q.clientId ? { clientId: q.clientId } : {}),
      ...(q.action ? { action: q.action } : {}),
      ...(q.from ? { from: new Date(`${q.from}T00:00:00Z`) } : {}),
      ...(q.to ? { to: new Date(Date.parse(`${q.to}T00:00:00Z`) + 86_400_000) } : {}),
      limit,
    });
    return { s, q, rows, users };
  }
  app.get('/app/audit', { config: admin }, async (req, reply) => {
    const { s, q, rows, users } = await auditRows(req, 500);
    const actions = await db
      .selectDistinct({ action: auditLog.action })
      .from(auditLog)
      .orderBy(auditLog.action)
      .limit(100);
    await record(s, { action: 'audit.view' });
    return sendPage(
      reply,
      AuditPage({
        viewer: viewerOf(s),
        rows,
        query: q,
        userNames: new Map(users.map((u) => [u.id, u.name])),
        actions: actions.map((a) => a.action),
      }),
    );
  });
  app.get('/app/audit.csv', { config: admin }, async (req, reply) => {
    const { s, rows } = await auditRows(req, 50_000);
    await record(s, { action: 'audit.export' });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="rebook-audit.csv"')
      .send(auditCsv(rows));
  });

  // ---- preview (managers and admins)
  app.get('/app/preview', { config: { roles: ['agency_admin', 'clinic_manager'] } }, async (req, reply) => {
    const s = sessionOf(req);
    const viewer = viewerOf(s);
    const q = (req.query ?? {}) as Record<string, string>;
    const clinicId = one(q.clinicId) || viewer.clinicId || viewer.clinics[0]?.id || '';
    const values = { clinicId, service: one(q.service).trim(), date: one(q.date).trim() };
    const errors: FieldErrors = {};
    let result: PreviewResult | undefined;
    if (one(q.service) !== '' || one(q.date) !== '') {
      const clinic = clinicFor(s, clinicId);
      if (!values.service) errors.service = 'Enter a service name or a treatment type';
      if (!/^\d{4}-\d{2}-\d{2}$/.test(values.date)) errors.date = 'Enter the treatment date';
      if (Object.keys(errors).length === 0) {
        const loaded = config.current();
        const isType = values.service in (loaded.catalogs.get(clinic.id)?.treatmentTypes ?? {});
        try {
          result = previewTimeline(
            previewClinic(loaded, clinic.id),
            previewInput(
              isType
                ? { treatmentType: values.service, date: values.date }
                : { service: values.service, date: values.date },
              clinic.timeZone,
            ),
          );
        } catch (err) {
          if (!(err instanceof RebookError) || err.status >= 500) throw err;
          errors[err.code === 'unclassified_service' ? 'service' : 'date'] =
            err.code === 'unclassified_service'
              ? 'This service matches no treatment type: try “Botox” or a type such as neuromodulator'
              : err.message;
        }
      }
    }
    return sendPage(
      reply,
      PreviewPage({ viewer, clinics: viewer.clinics, values, ...(result ? { result } : {}), errors }),
      Object.keys(errors).length ? 400 : 200,
    );
  });

  // ---- dashboard, settings (managers and admins), agency overview (agency admins)
  const managers = { roles: ['agency_admin', 'clinic_manager'] as ConsoleRole[] };
  /**
   * The clinic a page shows: `?clinic=` (authorized by the API's tenancy rule: another tenant's
   * clinic answers 404), else the session's clinic, else the viewer's first.
   */
  const pageClinic = (s: Session, asked: string | undefined): ClinicConfig => {
    const v = viewerOf(s);
    return clinicFor(s, asked || v.clinicId || v.clinics[0]?.id);
  };
  app.get('/app/dashboard', { config: managers }, async (req, reply) => {
    const s = sessionOf(req);
    const q = (req.query ?? {}) as Record<string, unknown>;
    const clinic = pageClinic(s, typeof q.clinic === 'string' ? q.clinic : undefined);
    const choice = choosePeriod(q, clinic.timeZone, now().getTime());
    const data = await loadClinicDashboard(db, config.current(), clinic, choice.period, now().getTime());
    const flash = flashOf(req);
    return sendPage(
      reply,
      DashboardPage({ viewer: viewerOf(s), data, choice, nowMs: now().getTime(), ...(flash ? { flash } : {}) }),
      Object.keys(choice.errors).length ? 400 : 200,
    );
  });
  app.post('/app/clinics/:clinicId/service-mappings', { config: managers }, async (req, reply) => {
    const s = sessionOf(req);
    const clinic = clinicFor(s, (req.params as { clinicId: string }).clinicId);
    const parsed = mappingForm.safeParse(Object.fromEntries(Object.entries(formOf(req)).map(([k, v]) => [k, one(v)])));
    if (!parsed.success)
      throw new RebookError('validation_failed', parsed.error.issues[0]?.message ?? 'check the form', {
        field: String(parsed.error.issues[0]?.path[0] ?? 'treatmentType'),
      });
    const m = await mapService(db, config.current(), clinic, { ...parsed.data, mappedBy: `user:${s.user.id}` }, now());
    await record(s, { clinicId: clinic.id, action: 'service.map', target: m.treatmentType ?? 'none' });
    return redirect(req, reply, `/app/dashboard?clinic=${encodeURIComponent(clinic.id)}&done=mapped`);
  });
  app.get('/app/settings', { config: managers }, async (req, reply) => {
    const s = sessionOf(req);
    const asked = one((req.query as Record<string, string>)?.clinic);
    const clinic = pageClinic(s, asked || undefined);
    return sendPage(
      reply,
      SettingsPage({ viewer: viewerOf(s), settings: clinicSettings(config.current(), clinic), clinicId: clinic.id }),
    );
  });
  app.get('/app/agency', { config: admin }, async (req, reply) => {
    const s = sessionOf(req);
    const mine = visibleClinics(s.user);
    const seen = new Set(mine.map((c) => c.id));
    // The admin's agency; without one, the agencies all of whose clinics the admin already sees.
    const all = [...config.current().clinics.values()];
    const agencyIds = s.user.agencyId
      ? [s.user.agencyId]
      : [...new Set(mine.map((c) => c.agency).filter((a): a is string => !!a))].filter((a) =>
          all.filter((c) => c.agency === a).every((c) => seen.has(c.id)),
        );
    const q = (req.query ?? {}) as Record<string, unknown>;
    const timeZone = mine[0]?.timeZone ?? 'UTC';
    const choice = choosePeriod(q, timeZone, now().getTime());
    const overviews = [];
    for (const agencyId of agencyIds) {
      const o = await loadAgencyOverview(db, config.current(), agencyId, choice.period, now().getTime());
      overviews.push({ ...o, clinics: o.clinics.filter((c) => seen.has(c.clinicId)) });
    }
    return sendPage(
      reply,
      AgencyPage({ viewer: viewerOf(s), overviews, choice }),
      Object.keys(choice.errors).length ? 400 : 200,
    );
  });
}
