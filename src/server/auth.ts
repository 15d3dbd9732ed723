/**
 * Who is calling and what they may see. Every /v1 route authenticates its bearer key in an
 * onRequest hook (before the body is read or validated): an admin API key from the database
 * (`rebook keys create`), or a clinic key named by env var in a clinic's config (`apiKeys`; kept
 * for integrations and the demo: it acts as that clinic's admin key). Then, in this order:
 * 401 no or unknown key; 404 a clinic the key does not see (the same answer as a clinic that
 * does not exist: no enumeration of other tenants); 403 a role too low for the route.
 * Agency routes (`:agencyId`) follow the same order: only a key scoped to that whole agency sees
 * it; a clinic-scoped key of the agency gets 403 (it knows its agency, but a roll-up would show
 * clinics outside its scope).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AgencyConfig, LoadedConfig } from '../config/load.js';
import type { ClinicConfig } from '../config/schema.js';
import type { Db } from '../db/client.js';
import { RebookError } from '../errors.js';
import { findApiKey, type Role, touchApiKey, touchDue } from './api-keys.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export interface Principal {
  /** The database key's id, or `config:<ENV_VAR>` for a key named in clinic config. */
  keyId: string;
  role: Role;
  /** Database keys: the agency and/or clinic they are scoped to. */
  agencyId: string | null;
  clinicId: string | null;
  /** Keys named in clinic config: exactly the clinics that list them. */
  configClinics?: ReadonlySet<string>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The lowest role a /v1 route accepts (admin when unset). */
    role?: Role;
  }
  interface FastifyInstance {
    /** The authenticated key of a /v1 request. */
    principalOf(req: FastifyRequest): Principal;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** The :clinicId of the route, resolved and checked against the key. */
    clinic?: ClinicConfig;
    /** The :agencyId of the route, resolved and checked against the key. */
    agency?: AgencyConfig;
  }
}

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** Does this key see this clinic? */
export function canSee(p: Principal, clinic: ClinicConfig): boolean {
  if (p.configClinics) return p.configClinics.has(clinic.id);
  if (p.clinicId !== null && p.clinicId !== clinic.id) return false;
  return (clinic.agency ?? null) === p.agencyId;
}

/**
 * Does this key see this agency as a whole? Agency keys of it (admin or staff; the role is
 * checked apart), and clinic keys of one of its clinics (which then get 403, not 404: they
 * already know the agency). Config keys and keys of other agencies do not.
 */
export function canSeeAgency(p: Principal, agency: AgencyConfig): boolean {
  return !p.configClinics && p.agencyId === agency.id;
}

/**
 * May this key create, list and revoke keys of this scope? An agency-wide admin key: every key
 * of its agency. A clinic key from the config (the deployment's own secret): keys scoped to one
 * of its clinics, never an agency-wide key (that would see clinics it does not). A database key
 * scoped to one clinic: none (a leaked clinic key must not mint its own replacements).
 */
export function managesKeys(p: Principal, scope: { agencyId: string | null; clinicId: string | null }): boolean {
  if (p.role !== 'admin') return false;
  if (p.configClinics) return scope.clinicId !== null && p.configClinics.has(scope.clinicId);
  if (p.clinicId !== null || p.agencyId === null) return false;
  return scope.agencyId === p.agencyId;
}

/** The clinics a key sees, in id order. */
export function visibleClinics(p: Principal, config: LoadedConfig): ClinicConfig[] {
  return [...config.clinics.values()].filter((c) => canSee(p, c)).sort((a, b) => a.id.localeCompare(b.id));
}

export const roleAllows = (have: Role, need: Role): boolean => have === 'admin' || need === 'staff';

/** The principal behind a bearer token, or undefined when the token is no key of ours. */
export async function authenticate(
  token: string,
  deps: { db: Db; config: LoadedConfig; secrets: NodeJS.ProcessEnv },
): Promise<Principal | undefined> {
  const key = await findApiKey(deps.db, token);
  if (key) {
    if (touchDue(key.lastUsedAt)) void touchApiKey(deps.db, key.id).catch(() => undefined);
    return { keyId: key.id, role: key.role, agencyId: key.agencyId, clinicId: key.clinicId };
  }
  // Keys named in clinic config; hashing both sides keeps the comparison constant time whatever the lengths.
  const presented = digest(token);
  const clinics = new Set<string>();
  let env: string | undefined;
  for (const clinic of deps.config.clinics.values()) {
    for (const k of clinic.apiKeys) {
      const value = deps.secrets[k.env];
      // A key whose variable is unset authorizes nothing (never an empty-string match).
      if (value && timingSafeEqual(presented, digest(value))) {
        clinics.add(clinic.id);
        env ??= k.env;
      }
    }
  }
  if (clinics.size === 0) return undefined;
  return { keyId: `config:${env}`, role: 'admin', agencyId: null, clinicId: null, configClinics: clinics };
}

/** Throws unless the request's key may act on this clinic with this role. */
export function authorize(p: Principal, clinic: ClinicConfig | undefined, need: Role): ClinicConfig {
  if (!clinic || !canSee(p, clinic)) throw new RebookError('clinic_not_found', 'unknown clinic', { field: 'clinicId' });
  if (!roleAllows(p.role, need)) throw new RebookError('forbidden', `needs an ${need} key`);
  return clinic;
}

/** Throws unless the request's key is scoped to this whole agency, with this role. */
export function authorizeAgency(p: Principal, agency: AgencyConfig | undefined, need: Role): AgencyConfig {
  if (!agency || !canSeeAgency(p, agency)) throw new RebookError('not_found', 'unknown agency', { field: 'agencyId' });
  if (p.clinicId !== null) throw new RebookError('forbidden', 'needs an agency key (this key is scoped to one clinic)');
  if (!roleAllows(p.role, need)) throw new RebookError('forbidden', `needs an ${need} key`);
  return agency;
}

/**
 * Installs the access check on every /v1 route registered after it, and the `clinicFor` /
 * `agencyFor` / `principalOf` helpers routes use.
 */
export function registerAccessControl(app: FastifyInstance): void {
  const { db, config, secrets } = app.deps;
  app.decorateRequest('principal', undefined);
  app.decorateRequest('clinic', undefined);
  app.decorateRequest('agency', undefined);
  app.addHook('onRequest', async (req) => {
    const route = req.routeOptions.url;
    // Unknown routes fall through to the 404 handler; only /v1 needs a key.
    if (!route?.startsWith('/v1/')) return;
    const token = bearerToken(req);
    if (!token) throw new RebookError('unauthorized', 'missing bearer API key', { field: 'authorization' });
    const principal = await authenticate(token, { db, config: config.current(), secrets });
    if (!principal) throw new RebookError('unauthorized', 'invalid API key', { field: 'authorization' });
    req.principal = principal;
    const need = req.routeOptions.config.role ?? 'admin';
    const { clinicId, agencyId } = (req.params ?? {}) as { clinicId?: string; agencyId?: string };
    if (clinicId !== undefined) req.clinic = authorize(principal, config.current().clinics.get(clinicId), need);
    else if (agencyId !== undefined)
      req.agency = authorizeAgency(principal, config.current().agencies.get(agencyId), need);
    else if (!roleAllows(principal.role, need)) throw new RebookError('forbidden', `needs an ${need} key`);
  });
  app.decorate('clinicFor', (req: FastifyRequest) => {
    if (!req.clinic) throw new RebookError('clinic_not_found', 'unknown clinic', { field: 'clinicId' });
    return req.clinic;
  });
  app.decorate('agencyFor', (req: FastifyRequest) => {
    if (!req.agency) throw new RebookError('not_found', 'unknown agency', { field: 'agencyId' });
    return req.agency;
  });
  app.decorate('principalOf', (req: FastifyRequest) => {
    if (!req.principal) throw new RebookError('unauthorized', 'missing bearer API key', { field: 'authorization' });
    return req.principal;
  });
}
