/**
 * Staff decisions on services that classification did not recognise: a service key (the same
 * keys unmapped_services records) mapped to a treatment type, or to none (not a repeatable
 * treatment: it stops being reported). Kept in the database rather than written back to the
 * clinic's YAML: configuration stays code (reviewed, versioned, read-only in production) and a
 * mapping takes effect on every server at once. Ingest consults it before the synonyms.
 */
import { and, desc, eq, gte, isNull } from 'drizzle-orm';
import { normalizeServiceName } from '../core/classify.js';
import type { Db } from '../db/client.js';
import { serviceMappings, unmappedServices } from '../db/schema.js';

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
