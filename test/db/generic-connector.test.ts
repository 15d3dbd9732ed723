/**
 * The generic connector answers "has this client booked again?" from the appointments table,
 * right before every client-facing send. A wrong "no" sends a reminder to someone who already
 * booked; a wrong "yes" silently ends the sequence.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { genericConnector } from '../../connectors/generic/index.js';
import { clinicSchema } from '../../src/config/schema.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { appointments } from '../../src/db/schema.js';
import { engines, type ScratchDatabase } from './engines.js';

const clinic = clinicSchema.parse({
  id: 'clinic-a',
  name: 'Clinic A',
  timeZone: 'America/New_York',
  bookingUrl: 'https://book.example.com/clinic-a',
  address: '1 Main Street',
});
const anchor = { id: 'appt-anchor', at: '2026-01-10T15:00:00.000Z' };
const query = { clientExternalId: 'c-1', after: anchor.at, excludeAppointmentId: anchor.id };

type Row = typeof appointments.$inferInsert;
const appt = (externalId: string, status: Row['status'], startAt: string | null, over: Partial<Row> = {}): Row => ({
  clinicId: clinic.id,
  externalId,
  clientExternalId: 'c-1',
  status,
  startAt: startAt === null ? null : new Date(startAt),
  ...over,
});

describe.each(engines)('generic connector hasUpcomingAppointment on $name', (engine) => {
  let scratch: ScratchDatabase;
  let database: Database;
  const check = () => genericConnector.hasUpcomingAppointment({ db: database.db, clinic }, query);

  beforeAll(async () => {
    scratch = await engine.create();
    database = await openDatabase(scratch.options);
  });
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
  });
  beforeEach(async () => {
    await database.db.delete(appointments);
    // The treatment that anchors the sequence, as ingest records it.
    await database.db.insert(appointments).values(appt(anchor.id, 'completed', anchor.at));
  });

  it('says no when the client has nothing but the anchor treatment', async () => {
    expect(await check()).toEqual({ booked: false });
  });

  it('finds a booking after the anchor, and answers with the earliest one', async () => {
    await database.db
      .insert(appointments)
      .values([
        appt('appt-late', 'booked', '2026-04-20T14:00:00-04:00'),
        appt('appt-next', 'booked', '2026-03-02T10:30:00-05:00'),
      ]);
    expect(await check()).toEqual({ booked: true, appointmentId: 'appt-next', startAt: '2026-03-02T15:30:00.000Z' });
  });

  it('counts a booking one millisecond after the anchor, not one at or before it', async () => {
    await database.db
      .insert(appointments)
      .values([appt('appt-before', 'booked', '2026-01-03T15:00:00.000Z'), appt('appt-same', 'booked', anchor.at)]);
    expect(await check()).toEqual({ booked: false });
    await database.db.insert(appointments).values(appt('appt-just-after', 'booked', '2026-01-10T15:00:00.001Z'));
    expect(await check()).toMatchObject({ booked: true, appointmentId: 'appt-just-after' });
  });

  it('ignores the anchor appointment itself even while it is still marked booked', async () => {
    await database.db.delete(appointments);
    await database.db.insert(appointments).values(appt(anchor.id, 'booked', '2026-01-10T16:00:00.000Z'));
    expect(await check()).toEqual({ booked: false });
  });

  it('ignores cancelled and completed appointments', async () => {
    await database.db
      .insert(appointments)
      .values([
        appt('appt-cancelled', 'cancelled', '2026-03-01T15:00:00.000Z'),
        appt('appt-done', 'completed', '2026-02-01T15:00:00.000Z'),
      ]);
    expect(await check()).toEqual({ booked: false });
  });

  it("ignores other clients' and other clinics' bookings", async () => {
    await database.db
      .insert(appointments)
      .values([
        appt('appt-other-client', 'booked', '2026-03-01T15:00:00.000Z', { clientExternalId: 'c-2' }),
        appt('appt-other-clinic', 'booked', '2026-03-01T15:00:00.000Z', { clinicId: 'clinic-b' }),
      ]);
    expect(await check()).toEqual({ booked: false });
  });
});
