/**
 * Mindbody exports and client keys: a UniqueId column keys clients as webhooks and the API do; an
 * export with only the editable "Client ID" keys them apart (never mistaken for a UniqueId) and
 * says so in the plan (the command's stderr: test/cli/import.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clinicOrThrow, type LoadedConfig, loadConfig } from '../../src/config/load.js';
import { connectorConfigDir } from '../../test/helpers/connector-stack.js';
import { planImport } from './import.js';

const NOW = Date.parse('2026-06-09T18:00:00Z');
let configDir: string;
let config: LoadedConfig;
let dir: string;

const clientIdsOf = (text: string, mapping = {}) =>
  planImport({
    text,
    format: 'mindbody',
    mapping,
    clinic: clinicOrThrow(config, 'mb-clinic'),
    config,
    now: NOW,
  }).events.map((e) => (e.event.type === 'treatment.completed' ? e.event.client.id : undefined));

beforeAll(() => {
  configDir = connectorConfigDir();
  config = loadConfig(configDir);
  dir = mkdtempSync(join(tmpdir(), 'rebook-csv-'));
});
afterAll(() => {
  rmSync(configDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('Mindbody CSV client keys', () => {
  const header =
    'Appointment ID,Client ID,Unique ID,First Name,Last Name,Email,Appointment Type,Date,Start Time,Status';
  const row = (appt: string, id: string, unique: string) =>
    `${appt},${id},${unique},Imogen,Faulkner,imogen.f@example.com,Botox 20u,6/1/2026,10:00 AM,Completed`;

  it('keys clients on the UniqueId column when the export has one (what webhooks and the API use)', () => {
    const plan = planImport({
      text: [header, row('A-1', '1207', '100045812')].join('\n'),
      format: 'mindbody',
      clinic: clinicOrThrow(config, 'mb-clinic'),
      config,
      now: NOW,
    });
    expect(plan.columns).toMatchObject({ clientId: 'Unique ID', editableClientId: 'Client ID' });
    expect(plan.warnings).toEqual([]);
    expect(clientIdsOf([header, row('A-1', '1207', '100045812')].join('\n'))).toEqual(['100045812']);
  });

  it('without one, keys them apart on the editable Client ID and warns that webhooks will not match', () => {
    const text = [
      'Appointment ID,Client ID,First Name,Last Name,Email,Appointment Type,Date,Start Time,Status',
      'A-2,1207,Imogen,Faulkner,imogen.f@example.com,Botox 20u,6/1/2026,10:00 AM,Completed',
    ].join('\n');
    const plan = planImport({ text, format: 'mindbody', clinic: clinicOrThrow(config, 'mb-clinic'), config, now: NOW });
    // "1207" could be somebody else's UniqueId: never taken for one.
    expect(clientIdsOf(text)).toEqual(['mindbody-client-id:1207']);
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toMatch(/no unique client id column.*"Client ID"/);
    expect(plan.warnings[0]).toMatch(/will NOT match .* webhooks/);
    expect(plan.warnings[0]).toMatch(/--map clientId=/);
    // Mapping a UniqueId column by hand (any header) is taken as given.
    const mapped = [
      'Appointment ID,Client ID,MB Unique,First Name,Last Name,Appointment Type,Date,Status',
      'A-3,1207,100045812,Imogen,Faulkner,Botox 20u,6/1/2026,Completed',
    ].join('\n');
    expect(clientIdsOf(mapped, { clientId: ['MB Unique'] })).toEqual(['100045812']);
  });
});

describe('Boulevard and Zenoti presets', () => {
  const plan = (format: 'boulevard' | 'zenoti', clinicId: string, text: string) =>
    planImport({ text, format, mapping: {}, clinic: clinicOrThrow(config, clinicId), config, now: NOW });

  it('Boulevard: client URNs as ids, FINAL is a completed visit, CANCELLED is not', () => {
    const p = plan(
      'boulevard',
      'bl-clinic',
      [
        'Appointment ID,Client ID,Client First Name,Client Last Name,Client Email,Service,Appointment Date,Start Time,Appointment State,Service Price',
        'urn:blvd:Appointment:a1,urn:blvd:Client:c1,Marisol,Okafor,marisol@example.com,Botox – 3 areas,6/1/2026,10:00 AM,FINAL,525',
        'urn:blvd:Appointment:a2,urn:blvd:Client:c2,Dana,Ruiz,dana@example.com,Botox – 3 areas,6/2/2026,11:00 AM,CANCELLED,525',
      ].join('\n'),
    );
    expect(p.columns).toMatchObject({ clientId: 'Client ID', status: 'Appointment State', price: 'Service Price' });
    expect(p.events.map((e) => e.event)).toEqual([
      expect.objectContaining({
        type: 'treatment.completed',
        appointmentId: 'urn:blvd:Appointment:a1',
        client: expect.objectContaining({ id: 'urn:blvd:Client:c1', firstName: 'Marisol' }),
        price: 525,
      }),
    ]);
  });

  it('Zenoti: guest ids, Closed is a completed visit', () => {
    const p = plan(
      'zenoti',
      'zn-clinic',
      [
        'Appointment ID,Guest ID,Guest First Name,Guest Last Name,Guest Email,Service Name,Appointment Date,Start Time,Status,Sale Price',
        'z-a1,g-1,Ingrid,Valdés,ingrid@example.com,Botox Cosmetic (3 areas),6/1/2026,10:00 AM,Closed,540',
        'z-a2,g-2,Pia,Lund,pia@example.com,Botox Cosmetic (3 areas),6/20/2026,10:00 AM,Booked,540',
      ].join('\n'),
    );
    expect(p.columns).toMatchObject({ clientId: 'Guest ID', service: 'Service Name', price: 'Sale Price' });
    expect(p.events.map((e) => e.event)).toEqual([
      expect.objectContaining({
        type: 'treatment.completed',
        appointmentId: 'z-a1',
        client: expect.objectContaining({ id: 'g-1', firstName: 'Ingrid' }),
        price: 540,
      }),
    ]);
  });
});
