/**
 * The console's account routes: finishing a sign-in (the TOTP code step between a right password
 * and a session), the "Two-step sign-in" page every user has, an admin turning off a lost second
 * factor, and the agency rule that keeps a user without one on that page until they enrol.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RebookError } from '../errors.js';
import type { LoginThrottle } from './accounts/login-throttle.js';
import {
  createSession,
  randomToken,
  resumeSession,
  revokeSession,
  type Session,
  type SessionLimits,
} from './accounts/sessions.js';
import { groupedSecret, otpauthUri } from './accounts/totp.js';
import {
  canStoreTotp,
  confirmTotp,
  peekSignInStep,
  pendingTotpSecret,
  removeTotp,
  SIGN_IN_STEP_TTL_MS,
  spendSignInStep,
  startSignInStep,
  totpRequired,
  verifyTotp,
} from './accounts/two-step.js';
import { type ConsoleUser, clearFailedLogins, findUser, isLocked, recordFailedLogin } from './accounts/users.js';
import { audit } from './audit.js';
import type { FieldErrors } from './components/forms.js';
import type { Viewer } from './components/layout.js';
import {
  cookieOptions,
  formOf,
  one,
  PRE_SESSION_COOKIE,
  redirect,
  SESSION_COOKIE,
  sameToken,
  sendPage,
} from './http.js';
import { SignInPage } from './pages/sign-in.js';
import { SecondStepPage, TwoStepPage, type TwoStepState } from './pages/two-step.js';

/** Between a right password and the code: the step token (see two-step.ts). */
export const SIGN_IN_STEP_COOKIE = 'rebook_step';
/** The name an authenticator app shows above the codes. */
const ISSUER = 'Rebook';
const TWO_STEP_PAGE = '/app/account/totp';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable by a signed-in user whose agency requires two-step sign-in before they enrol. */
    beforeTwoStep?: boolean;
  }
}

export interface AccountRoutesContext {
  now: () => Date;
  limits: SessionLimits;
  /** The sign-in form's per-address budget, shared with the code form. */
  throttle: LoginThrottle;
  viewerOf: (s: Session) => Viewer;
  /** The users an agency admin manages (whose second factor they may turn off). */
  managedUsers: (s: Session) => Promise<ConsoleUser[]>;
}

/** What the password forms (sign-in, one-time links) call once the password is right. */
export interface SignInFinish {
  afterPassword(req: FastifyRequest, reply: FastifyReply, user: ConsoleUser): Promise<FastifyReply>;
}

export function registerAccountRoutes(app: FastifyInstance, ctx: AccountRoutesContext): SignInFinish {
  const { db, config } = app.deps;
  const deps = { db, secrets: app.deps.secrets };
  const { now } = ctx;
  const stepCookie = (req: FastifyRequest) => ({
    ...cookieOptions(req),
    sameSite: 'strict' as const,
    maxAge: SIGN_IN_STEP_TTL_MS / 1000,
  });
  const sessionOf = (req: FastifyRequest): Session => {
    if (!req.session) throw new RebookError('unauthorized', 'sign in first');
    return req.session;
  };
  const mustEnrol = (user: ConsoleUser) => !user.totpSecret && totpRequired(user, config.current());

  // Runs after the console's own onRequest hook has resolved the session.
  app.addHook('onRequest', async (req, reply) => {
    const s = req.session;
    if (!s || req.routeOptions.config.beforeTwoStep || !mustEnrol(s.user)) return;
    return redirect(req, reply, TWO_STEP_PAGE);
  });

  /** A new session (never the id the browser had before), the cookies of the steps cleared. */
  async function startSession(req: FastifyRequest, reply: FastifyReply, user: ConsoleUser) {
    const old = req.cookies[SESSION_COOKIE];
    if (old) {
      const prior = await resumeSession(db, old, now(), ctx.limits);
      if (prior) await revokeSession(db, prior.idHash, now());
    }
    const id = await createSession(db, user.id, now(), ctx.limits);
    await audit(db, { userId: user.id, role: user.role, action: 'sign_in', at: now() });
    reply.clearCookie(PRE_SESSION_COOKIE, cookieOptions(req));
    reply.clearCookie(SIGN_IN_STEP_COOKIE, cookieOptions(req));
    reply.setCookie(SESSION_COOKIE, id, cookieOptions(req));
    return reply.redirect(mustEnrol(user) ? TWO_STEP_PAGE : '/app/calls', 303);
  }

  const codePage = (req: FastifyRequest, reply: FastifyReply, errors?: FieldErrors, status = 200) => {
    const csrf = randomToken();
    reply.setCookie(PRE_SESSION_COOKIE, csrf, { ...cookieOptions(req), sameSite: 'strict' });
    return sendPage(reply, SecondStepPage({ csrf, ...(errors ? { errors } : {}) }), status);
  };
  /** Back to the password: the step expired, was spent, or the account locked meanwhile. */
  const startAgain = (req: FastifyRequest, reply: FastifyReply, message?: string) => {
    reply.clearCookie(SIGN_IN_STEP_COOKIE, cookieOptions(req));
    if (!message) return reply.redirect('/app/login?expired=1', 303);
    const csrf = randomToken();
    reply.setCookie(PRE_SESSION_COOKIE, csrf, { ...cookieOptions(req), sameSite: 'strict' });
    return sendPage(reply, SignInPage({ csrf, errors: { email: message } }), 401);
  };

  app.get('/app/login/code', { config: { public: true } }, async (req, reply) => {
    if (!(await peekSignInStep(db, req.cookies[SIGN_IN_STEP_COOKIE], now()))) return startAgain(req, reply);
    return codePage(req, reply);
  });

  app.post('/app/login/code', { config: { public: true } }, async (req, reply) => {
    const form = formOf(req);
    if (!sameToken(one(form._csrf), req.cookies[PRE_SESSION_COOKIE]))
      throw new RebookError('forbidden', 'the form expired: reload the page and try again', { field: '_csrf' });
    if (ctx.throttle.exceeded(req.ip, now()))
      return codePage(req, reply, { code: 'Too many attempts from here. Wait 15 minutes and try again.' }, 429);
    const token = req.cookies[SIGN_IN_STEP_COOKIE] ?? '';
    const userId = await peekSignInStep(db, token, now());
    const user = userId ? await findUser(db, userId) : undefined;
    if (!user || user.revokedAt || !user.totpSecret) return startAgain(req, reply);
    const locked =
      'This account is locked after too many wrong attempts. Wait 15 minutes or ask your agency admin for help.';
    if (isLocked(user, now())) {
      await spendSignInStep(db, token, now());
      return startAgain(req, reply, locked);
    }
    const code = one(form.code).trim();
    if (!code) return codePage(req, reply, { code: 'Enter the code from your authenticator app' }, 400);
    if (!(await verifyTotp(deps, user, code, now()))) {
      await audit(db, { userId: user.id, role: user.role, action: 'sign_in.code_failed', at: now() });
      if ((await recordFailedLogin(db, user.id, now())) === 'locked') {
        await spendSignInStep(db, token, now());
        return startAgain(req, reply, locked);
      }
      return codePage(
        req,
        reply,
        { code: 'That code is not right, or was already used. Type the code the app shows now.' },
        401,
      );
    }
    if (!(await spendSignInStep(db, token, now()))) return startAgain(req, reply);
    await clearFailedLogins(db, user);
    return startSession(req, reply, user);
  });

  // ---- the Two-step sign-in page (every signed-in user)
  async function twoStepPage(
    req: FastifyRequest,
    reply: FastifyReply,
    extra: { errors?: FieldErrors; flash?: string } = {},
    status = 200,
  ) {
    const s = sessionOf(req);
    let state: TwoStepState;
    if (s.user.totpSecret) state = { kind: 'enabled' };
    else if (!canStoreTotp(deps.secrets)) state = { kind: 'unavailable' };
    else {
      const secret = await pendingTotpSecret(deps, s.user);
      state = {
        kind: 'enrolling',
        secret: groupedSecret(secret),
        uri: otpauthUri({ secret, account: s.user.email, issuer: ISSUER }),
      };
    }
    return sendPage(
      reply,
      TwoStepPage({
        viewer: ctx.viewerOf(s),
        state,
        required: totpRequired(s.user, config.current()),
        ...extra,
      }),
      status,
    );
  }
  const flashes: Record<string, string> = {
    on: 'Two-step sign-in is on. Your next sign-in will ask for a code.',
    off: 'Two-step sign-in is off.',
  };
  const open = { beforeTwoStep: true };

  app.get(TWO_STEP_PAGE, { config: open }, async (req, reply) => {
    const flash = flashes[one((req.query as Record<string, string>)?.done)];
    return twoStepPage(req, reply, flash ? { flash } : {});
  });
  app.post(`${TWO_STEP_PAGE}/enable`, { config: open }, async (req, reply) => {
    const s = sessionOf(req);
    if (s.user.totpSecret) return redirect(req, reply, TWO_STEP_PAGE);
    if (ctx.throttle.exceeded(req.ip, now()))
      return twoStepPage(req, reply, { errors: { code: 'Too many attempts. Wait 15 minutes and try again.' } }, 429);
    if (!(await confirmTotp(deps, s.user, one(formOf(req).code), now()))) {
      return twoStepPage(
        req,
        reply,
        { errors: { code: 'That code is not right. Check the key you typed and try the code the app shows now.' } },
        400,
      );
    }
    await audit(db, { userId: s.user.id, role: s.user.role, action: 'totp.enrol', target: s.user.id, at: now() });
    return redirect(req, reply, `${TWO_STEP_PAGE}?done=on`);
  });
  app.post(`${TWO_STEP_PAGE}/disable`, { config: open }, async (req, reply) => {
    const s = sessionOf(req);
    if (!s.user.totpSecret) return redirect(req, reply, TWO_STEP_PAGE);
    if (totpRequired(s.user, config.current()))
      throw new RebookError('conflict', 'Your agency requires two-step sign-in: it cannot be turned off.');
    if (ctx.throttle.exceeded(req.ip, now()))
      return twoStepPage(req, reply, { errors: { code: 'Too many attempts. Wait 15 minutes and try again.' } }, 429);
    if (!(await verifyTotp(deps, s.user, one(formOf(req).code), now())))
      return twoStepPage(
        req,
        reply,
        { errors: { code: 'That code is not right, or was already used. Type the code the app shows now.' } },
        400,
      );
    await removeTotp(db, s.user.id);
    await audit(db, { userId: s.user.id, role: s.user.role, action: 'totp.disable', target: s.user.id, at: now() });
    return redirect(req, reply, `${TWO_STEP_PAGE}?done=off`);
  });

  // An admin turns off a lost second factor; the user sets up a new one at their next sign-in.
  app.post('/app/users/:userId/totp-reset', { config: { roles: ['agency_admin'] } }, async (req, reply) => {
    const s = sessionOf(req);
    const id = (req.params as { userId: string }).userId;
    const target = (await ctx.managedUsers(s)).find((u) => u.id === id);
    if (!target) throw new RebookError('not_found', 'unknown user');
    await removeTotp(db, target.id);
    await audit(db, { userId: s.user.id, role: s.user.role, action: 'user.totp_reset', target: target.id, at: now() });
    return redirect(req, reply, '/app/users?done=totp-reset');
  });

  return {
    async afterPassword(req, reply, user) {
      if (!user.totpSecret) return startSession(req, reply, user);
      const token = await startSignInStep(db, user.id, now());
      reply.setCookie(SIGN_IN_STEP_COOKIE, token, stepCookie(req));
      return reply.redirect('/app/login/code', 303);
    },
  };
}
