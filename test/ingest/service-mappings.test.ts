/**
 * Staff service mappings at ingest: a completed treatment's service is looked up (together with
 * the client's merged-into profile, in one query) by the vendor's service id first, then by the
 * normalised name; a mapping to no treatment type means "not repeatable". None of these outcomes
 * starts a workflow, so the Temporal client here refuses every call.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { appointments, clientAliases, clients } from '../../src/db/schema.js';
import { createIngest } from '../../src/ingest/inbox.js';
import { saveServiceMapping } from '../../src/ingest/service-mappings.js';
import { createLogger } from '../../src/log.js';
import { connectorConfigDir } from '../helpers/connector-stack.js';

const CLINIC = 'mb-clinic';
let dir: string;
let configDir: string;
let database: Database;
const noTemporal = new Proxy(
  {},
  {
    get: () => {
      throw new Error('no workflow should start here');
    },
  },
) as unknown as Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-service-mappings-'));
  configDir = connectorConfigDir();
  database = await openDatabase({ pgliteDir: dir });
  await saveServiceMapping(database.db, CLINIC, {
    serviceKey: 'name:consultation',
    treatmentType: null,
    mappedBy: null,
  });
  await saveServiceMapping(database.db, CLINIC, { serviceKey: 'id:svc-9', treatmentType: null, mappedBy: null });
  await saveServiceMapping(database.db, CLINIC, {
    serviceKey: 'name:aqua gold facial',
    treatmentType: 'hydrafacial',
    mappedBy: null,
  });
  await saveServiceMapping(database.db, 'another-clinic', {
    serviceKey: 'name:zqx ritual',
    treatmentType: null,
    mappedBy: null,
  });
  await database.db
    .insert(clientAliases)
    .values({ clinicId: CLINIC, aliasExternalId: 'old-profile', externalId: 'kept-profile' });
});
afterAll(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(configDir, { recursive: true, force: true });
});

const ingest = () =>
  createIngest({
    db: database.db,
    config: createConfigStore(configDir),
    temporal: noTemporal,
    taskQueue: 'unused',
    log: createLogger({ level: 'silent' }),
  });
const treatment = (appointmentId: string, service: { id?: string; name: string }, clientId = `c-${appointmentId}`) => ({
  type: 'treatment.completed' as const,
  client: {
    id: clientId,
    firstName: 'Ada',
    lastName: 'Lind',
    email: 'ada@example.com',
    consent: { sms: false, email: true },
  },
  appointmentId,
  service,
  completedAt: new Date(Date.now() - 3_600_000).toISOString(),
});

describe('service mappings at ingest', () => {
  it('a mapping found by normalised name decides (here: not repeatable)', async () => {
    const [r] = await ingest().accept(CLINIC, [treatment('sm-1', { name: '  CONSULTATION ' })]);
    expect(r).toMatchObject({ enrolled: false, reason: 'not_repeatable' });
  });

  it("the vendor id's mapping wins over what the name would give", async () => {
    // The name is mapped to a treatment type: it would enroll (and reach the refusing Temporal client).
    const [r] = await ingest().accept(CLINIC, [treatment('sm-2', { id: 'svc-9', name: 'Aqua Gold Facial' })]);
    expect(r).toMatchObject({ enrolled: false, reason: 'not_repeatable' });
  });

  it("unmapped here (another clinic's mapping does not count): unclassified and reported", async () => {
    const [r] = await ingest().accept(CLINIC, [treatment('sm-3', { id: 'svc-2', name: 'Zqx Ritual' })]);
    expect(r).toMatchObject({ enrolled: false, reason: 'unclassified_service' });
  });

  it("the same lookup follows a merged profile: the treatment is recorded under the kept client's id", async () => {
    await ingest().accept(CLINIC, [treatment('sm-4', { name: 'Consultation' }, 'old-profile')]);
    const [appt] = await database.db
      .select()
      .from(appointments)
      .where(and(eq(appointments.clinicId, CLINIC), eq(appointments.externalId, 'sm-4')));
    expect(appt).toMatchObject({ clientExternalId: 'kept-profile', status: 'completed' });
    expect(
      await database.db.select({ id: clients.externalId }).from(clients).where(eq(clients.externalId, 'old-profile')),
    ).toEqual([]);
  });
});
