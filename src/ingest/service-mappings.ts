/**
 * Staff decisions on services that classification did not recognise: a service key (the same
 * keys unmapped_services records) mapped to a treatment type, or to none (not a repeatable
 * treatment: it stops being reported). Kept in the database rather than written back to the
 * clinic's YAML: configuration stays code (reviewed, versioned, read-only in production) and a
 * mapping takes effect on every server at once. Ingest consults it before the synonyms.
 */
import { and, desc, eq, gte, isNull } from 'drizzle-orm';
import { type LoadedConfig, treatmentTypesFor } from '../config/load.js';
import type { ClinicConfig } from '../config/schema.js';
import { normalizeServiceName } from '../core/classify.js';
import type { Db } from '../db/client.js';
import { serviceMappings, unmappedServices } from '../db/schema.js';
import { RebookError } from '../errors.js';

/** `id:<vendor service id>` when the platform gave one, else `name:<normalised name>`. */
export function serviceKeyOf(service: { id?: string | null; name: string }): string {
  return service.id ? `id:${service.id}` : `name:${normalizeServiceName(service.name)}`;
}

/** A key as a caller wrote it, in the stored form (names normalised); undefined when it is neither form. */
export function normalizeServiceKey(key: string): string | undefined {
  const m = /^(id|name):(.+)$/s.exec(key);
  if (!m) return undefined;
  const rest = m[1] === 'name' ? normalizeServiceName(m[2]!) : m[2]!.trim();
  return rest ? `${m[1]}:${rest}` : undefined;
}

export interface ServiceMapping {
  serviceKey: string;
  treatmentType: string | null;
  mappedBy: string | null;
  mappedAt: Date;
}

/** The keys a service's mapping may be stored under, in order of precedence: its vendor id, then its name. */
export function serviceMappingKeys(service: { id?: string | null; name: string }): string[] {
  return [...(service.id ? [`id:${service.id}`] : []), `name:${normalizeServiceName(service.name)}`];
}

/** Of the mappings found for `keys` (serviceMappingKeys), the one that decides: the id's wins. */
export function preferredMapping<M extends { serviceKey: string }>(rows: M[], keys: string[]): M | undefined {
  for (const key of keys) {
    const row = rows.find((r) => r.serviceKey === key);
    if (row) return row;
  }
  return undefined;
}

export async function saveServiceMapping(
  db: Db,
  clinicId: string,
  m: { serviceKey: string; treatmentType: string | null; mappedBy: string | null },
  at = new Date(),
): Promise<ServiceMapping> {
  const [row] = await db
    .insert(serviceMappings)
    .values({ clinicId, serviceKey: m.serviceKey, treatmentType: m.treatmentType, mappedBy: m.mappedBy, mappedAt: at })
    .onConflictDoUpdate({
      target: [serviceMappings.clinicId, serviceMappings.serviceKey],
      set: { treatmentType: m.treatmentType, mappedBy: m.mappedBy, mappedAt: at },
    })
    .returning();
  return row!;
}

/**
 * A staff decision as the API and the console take it: the key checked and normalised, the
 * treatment type one the clinic runs (or null: not a repeatable treatment), then saved. Problems
 * name the field (`body.serviceKey`, `body.treatmentType`).
 */
export async function mapService(
  db: Db,
  config: LoadedConfig,
  clinic: ClinicConfig,
  m: { serviceKey: string; treatmentType: string | null; mappedBy: string | null },
  at = new Date(),
): Promise<ServiceMapping> {
  const serviceKey = normalizeServiceKey(m.serviceKey);
  if (!serviceKey)
    throw new RebookError('validation_failed', 'invalid service key', {
      issues: [{ path: 'body.serviceKey', message: 'expected id:<service id> or name:<service name>' }],
    });
  if (m.treatmentType !== null && !treatmentTypesFor(config, clinic).has(m.treatmentType))
    throw new RebookError('validation_failed', 'unknown treatment type', {
      issues: [{ path: 'body.treatmentType', message: 'not a treatment type this clinic runs' }],
    });
  return saveServiceMapping(db, clinic.id, { serviceKey, treatmentType: m.treatmentType, mappedBy: m.mappedBy }, at);
}

export async function listServiceMappings(db: Db, clinicId: string): Promise<ServiceMapping[]> {
  return db
    .select()
    .from(serviceMappings)
    .where(eq(serviceMappings.clinicId, clinicId))
    .orderBy(serviceMappings.serviceKey);
}

export interface UnmappedService {
  serviceKey: string;
  serviceId: string | null;
  serviceName: string;
  occurrences: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** Services recorded as unclassified (seen since `since`, most recent first) that staff have not mapped. */
export async function unmappedServicesOf(
  db: Db,
  clinicId: string,
  opts: { since?: Date; limit?: number } = {},
): Promise<UnmappedService[]> {
  const rows = await db
    .select({ u: unmappedServices })
    .from(unmappedServices)
    .leftJoin(
      serviceMappings,
      and(
        eq(serviceMappings.clinicId, unmappedServices.clinicId),
        eq(serviceMappings.serviceKey, unmappedServices.serviceKey),
      ),
    )
    .where(
      and(
        eq(unmappedServices.clinicId, clinicId),
        isNull(serviceMappings.serviceKey),
        ...(opts.since ? [gte(unmappedServices.lastSeenAt, opts.since)] : []),
      ),
    )
    .orderBy(desc(unmappedServices.lastSeenAt), unmappedServices.serviceKey)
    .limit(opts.limit ?? 500);
  return rows.map(({ u }) => ({
    serviceKey: u.serviceKey,
    serviceId: u.serviceId,
    serviceName: u.serviceName,
    occurrences: u.occurrences,
    firstSeenAt: u.firstSeenAt,
    lastSeenAt: u.lastSeenAt,
  }));
}
