/**
 * Each connector's no-show status maps to the canonical `appointment.no_show` (issue 11), from a
 * fixture of the vendor's own payload shape: Mindbody `NoShow`, Vagaro `No Show`, Jane `no_show`.
 */
import { readFileSync, rmSync } from 'node:fs';
import nock from 'nock';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { janeConnector } from '../../connectors/jane/index.js';
import { mindbodyConnector } from '../../connectors/mindbody/index.js';
import { createConnectorRuntime, saveClientRef } from '../../connectors/shared.js';
import type { ApiContext } from '../../connectors/types.js';
import { vagaroConnector } from '../../connectors/vagaro/index.js';
import type { ClinicConfig } from '../../src/config/schema.js';
import { createConfigStore } from '../../src/config/store.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { canonicalEventSchema } from '../../src/ingest/events.js';
import { createLogger } from '../../src/log.js';
import { connectorConfigDir, SECRETS } from '../helpers/connector-stack.js';

const fixture = (platform: string, name: string) =>
  JSON.parse(readFileSync(new URL(`../../connectors/${platform}/fixtures/${name}.json`, import.meta.url), 'utf8'));

let database: Database;
let configDir: string;
let clinics: Map<string, ClinicConfig>;
const ctx = (clinicId: string): ApiContext => ({
  db: database.db,
  clinic: clinics.get(clinicId)!,
  runtime: createConnectorRuntime({ secrets: SECRETS, log: createLogger({ level: 'silent' }) }),
});

beforeAll(async () => {
  nock.disableNetConnect();
  configDir = connectorConfigDir();
  clinics = createConfigStore(configDir).current().clinics;
  database = await openDatabase({ pgliteMemory: true });
});
afterAll(async () => {
  await database?.close();
  rmSync(configDir, { recursive: true, force: true });
  nock.enableNetConnect();
});

it('Mindbody: an appointment updated to NoShow → appointment.no_show', async () => {
  const c = ctx('mb-clinic');
  const body = fixture('mindbody', 'webhook-appointment-updated-noshow');
  // The client is known by its Mindbody id (no API call needed to name them).
  await saveClientRef(database.db, c.clinic.id, 'mindbody', '100000456', body.eventData.clientId);
  const { items } = mindbodyConnector.webhook!.toInbox(body, c.clinic);
  const events = await mindbodyConnector.resolve!(c, items[0]!.vendor);
  expect(events).toMatchObject([{ type: 'appointment.no_show', appointmentId: '1043', clientId: '100000456' }]);
  expect(canonicalEventSchema.parse(events[0])).toBeTruthy();
});

it('Vagaro: bookingStatus "No Show" → appointment.no_show; "Cancel" stays a cancellation', async () => {
  const c = ctx('vg-clinic');
  for (const [name, type] of [
    ['webhook-appointment-no-show', 'appointment.no_show'],
    ['webhook-appointment-cancelled', 'appointment.cancelled'],
  ] as const) {
    const body = fixture('vagaro', name);
    const { items } = vagaroConnector.webhook!.toInbox(body, c.clinic);
    const events = await vagaroConnector.resolve!(c, items[0]!.vendor);
    expect(events).toMatchObject([
      { type, appointmentId: body.payload.appointmentId, clientId: body.payload.customerId },
    ]);
    expect(canonicalEventSchema.parse(events[0])).toBeTruthy();
  }
});

it('Jane: an appointment in state no_show → appointment.no_show', async () => {
  const c = ctx('jane-clinic');
  const a = fixture('jane', 'api-appointment-no-show');
  const events = await janeConnector.resolve!(c, {
    platform: 'jane',
    kind: 'poll.appointment',
    data: { appointment: a, occurredAt: new Date(a.updated_at).toISOString() },
  });
  expect(events).toMatchObject([
    { type: 'appointment.no_show', appointmentId: String(a.id), clientId: String(a.patient_id) },
  ]);
  expect(canonicalEventSchema.parse(events[0])).toBeTruthy();
});
