/**
 * Staff service mappings: looked up in one query for a completed treatment's service, by the
 * vendor's service id first, then by the normalised name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { findServiceMapping, saveServiceMapping } from '../../src/ingest/service-mappings.js';

let dir: string;
let database: Database;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-service-mappings-'));
  database = await openDatabase({ pgliteDir: dir });
  await saveServiceMapping(database.db, 'clinic-a', { serviceKey: 'name:aqua gold facial', treatmentType: 'hydrafacial', mappedBy: null });
  await saveServiceMapping(database.db, 'clinic-a', { serviceKey: 'id:svc-9', treatmentType: null, mappedBy: null });
});
afterAll(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('findServiceMapping', () => {
  it('finds a mapping by normalised name when the service has no mapped id', async () => {
    expect(await findServiceMapping(database.db, 'clinic-a', { name: '  AQUA Gold   facial ' })).toMatchObject({ treatmentType: 'hydrafacial' });
    expect(await findServiceMapping(database.db, 'clinic-a', { id: 'svc-1', name: 'Aqua Gold Facial' })).toMatchObject({ serviceKey: 'name:aqua gold facial' });
  });

  it("the vendor id's mapping wins over the name's", async () => {
    expect(await findServiceMapping(database.db, 'clinic-a', { id: 'svc-9', name: 'Aqua Gold Facial' })).toMatchObject({ serviceKey: 'id:svc-9', treatmentType: null });
  });

  it('nothing for an unmapped service or another clinic', async () => {
    expect(await findServiceMapping(database.db, 'clinic-a', { id: 'svc-2', name: 'Consultation' })).toBeUndefined();
    expect(await findServiceMapping(database.db, 'clinic-b', { id: 'svc-9', name: 'Aqua Gold Facial' })).toBeUndefined();
  });
});
