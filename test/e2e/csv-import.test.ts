/**
 * CSV import end to end: a Jane appointments export → planned rows (enrolled / skipped and why)
 * → the /v1 events API of the real server → sequences on the dev server at the right stage.
 * Importing the same file again changes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImport, sendImport } from '../../connectors/csv/import.js';
import { parseMapping } from '../../connectors/csv/presets.js';
import { importCommand } from '../../src/cli/import.js';
import { clinicOrThrow } from '../../src/config/load.js';
import { readCsvRecords } from '../../src/csv/records.js';
import { parseDateTime as exportInstant } from '../../src/csv/treatments.js';
import { clients, sequences } from '../../src/db/schema.js';
import type { CanonicalEvent, EventResult } from '../../src/ingest/events.js';
import { statusQuery } from '../../workflows/definitions.js';
import {
  API_KEY,
  type ConnectorStack,
  connectorConfigDir,
  SECRETS,
  startConnectorStack,
  until,
} from '../helpers/connector-stack.js';
import { sink } from '../helpers/sink.js';

const DAY = 86_400_000;
const CLINIC = 'mb-clinic';
const TZ = 'America/Los_Angeles';

/** M/D/YYYY and h:mm AM/PM in the clinic's zone, as Jane's export writes them. */
function janeDate(ms: number): [string, string] {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: TZ,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    hour12: true,
  });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return [`${p.month}/${p.day}/${p.year}`, `${p.hour}:${p.minute} ${p.dayPeriod}`];
}

function janeExport(now: number): string {
  const row = (
    id: string,
    patientId: string,
    name: string,
    email: string,
    treatment: string,
    state: string,
    atMs: number,
  ) => {
    const [d, t] = janeDate(atMs);
    return [id, patientId, `"${name}"`, email, '+16045550133', treatment, d, t, state, '525.00'].join(',');
  };
  return [
    'Appointment ID,Patient ID,Patient,Patient Email,Patient Mobile Phone,Treatment,Date,Start Time,State,Price',
    row(
      'J-1',
      'P-1',
      'Nakamura-Reilly, Siobhán',
      'shiv.nr@example.ca',
      'Botox Cosmetic – 3 areas',
      'Arrived',
      now - 10 * DAY,
    ),
    row('J-2', 'P-2', 'Okonkwo, Adaeze', 'adaeze.o@example.ca', 'Dysport', 'Arrived', now - 85 * DAY),
    row('J-3', 'P-3', 'Lindqvist, Maja', 'maja.l@example.ca', 'Juvederm Volbella – lips', 'Arrived', now - 30 * DAY),
    row('J-4', 'P-4', 'Haddad, Rami', 'rami.h@example.ca', 'Botox', 'Arrived', now - 130 * DAY),
    row('J-5', 'P-5', 'Moreau, Élise', 'elise.m@example.ca', 'Botox', 'Cancelled', now - 5 * DAY),
    row('J-6', 'P-6', 'Tanaka, Ken', 'ken.t@example.ca', 'Botox', 'Booked', now + 5 * DAY),
    row('J-7', 'P-7', 'Quispe, Rosa', 'rosa.q@example.ca', 'New patient consultation', 'Arrived', now - 3 * DAY),
    row('J-8', 'P-8', 'Byrne, Aoife', 'not-an-email', 'Botox', 'Arrived', now - 3 * DAY),
  ].join('\r\n');
}

let stack: ConnectorStack;
beforeAll(async () => {
  // One ingest request at a time: the busy-server test below holds the slot to be answered 429.
  stack = await startConnectorStack({ env: { REBOOK_INGEST_MAX_IN_FLIGHT: '1' } });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

describe('CSV parsing', () => {
  it('handles quotes, doubled quotes, commas and CRLF, and a BOM', () => {
    const parseCsv = (text: string) => readCsvRecords(text).records.map((r) => r.fields);
    expect(parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\r\n\r\nlast,\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['last', ''],
    ]);
  });
  it('reads export dates in the clinic zone unless they carry an offset', () => {
    expect(new Date(exportInstant('3/8/2026', '9:30 AM', TZ)!).toISOString()).toBe('2026-03-08T16:30:00.000Z');
    expect(new Date(exportInstant('2026-03-08 21:30', undefined, TZ)!).toISOString()).toBe('2026-03-09T04:30:00.000Z');
    expect(new Date(exportInstant('2026-03-08T09:30:00-05:00', undefined, TZ)!).toISOString()).toBe(
      '2026-03-08T14:30:00.000Z',
    );
    expect(exportInstant('13/45/2026', undefined, TZ)).toBeUndefined();
  });
  it('--map names columns a preset does not know, and refuses unknown fields', () => {
    expect(parseMapping('service=Procedure,date=Visit Day')).toEqual({ service: ['Procedure'], date: ['Visit Day'] });
    expect(() => parseMapping('colour=Red')).toThrow(/not field=Header/);
  });
});

describe('rebook import', () => {
  it('--dry-run prints what would be enrolled, skipped and why, and sends nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebook-csv-'));
    const configDir = connectorConfigDir();
    try {
      writeFileSync(join(dir, 'export.csv'), janeExport(Date.now()));
      let printed = '';
      const out = {
        write: (s: string) => {
          printed += s;
          return true;
        },
      } as unknown as NodeJS.WriteStream;
      const code = await importCommand(
        ['--clinic', CLINIC, '--format', 'jane', '--dry-run', join(dir, 'export.csv')],
        { configDir, port: 1, secrets: SECRETS },
        out,
        out,
      );
      expect(code).toBe(0);
      const lines = printed.trim().split('\n');
      expect(lines.slice(0, 8)).toEqual([
        // Treated 10 days ago: the day-1 care check-in is past (never sent late), the day-12 results email is next.
        expect.stringMatching(/^line 2\tenroll\tneuromodulator from stage care_results\t/),
        expect.stringMatching(/^line 3\tenroll\tneuromodulator from stage incentive\t/),
        // Treated 30 days ago: both filler care touches (days 1 and 14) are past.
        expect.stringMatching(/^line 4\tenroll\tlip_filler from stage reminder\t/),
        expect.stringMatching(/^line 5\tskip\twindow_passed\t/),
        expect.stringMatching(/^line 6\tskip\tnot_completed\t/),
        expect.stringMatching(/^line 7\tskip\tnot_completed\t/),
        expect.stringMatching(/^line 8\tskip\tunclassified_service\t/),
        expect.stringMatching(/^line 9\tskip\tinvalid_row: client.email\t/),
      ]);
      expect(lines[8]).toBe('dry run: 8 rows, 3 would be enrolled, 5 skipped (nothing was sent)');
      expect(printed).not.toMatch(/Siobhán|Nakamura|example\.ca|555/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(configDir, { recursive: true, force: true });
    }
  });

  it('enrolls open windows at the right stage through the API; a second import changes nothing', async () => {
    const now = Date.now();
    const text = janeExport(now);
    const cfg = stack.config.current();
    const plan = planImport({ text, format: 'jane', clinic: clinicOrThrow(cfg, CLINIC), config: cfg, now });
    const send = async (events: CanonicalEvent[]): Promise<EventResult[]> => {
      const res = await fetch(`${stack.url}/v1/clinics/${CLINIC}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { results: EventResult[] }).results;
    };
    const progress: string[] = [];
    const first = await sendImport(plan, send, (d, t) => progress.push(`${d}/${t}`), 2);
    expect(first).toMatchObject({ rows: 8, enrolled: 3, duplicates: 0, queued: 0 });
    expect(first.skipped).toMatchObject({
      window_passed: 1,
      not_completed: 2,
      unclassified_service: 1,
      invalid_row: 1,
    });
    expect(progress).toEqual(['2/4', '4/4']);

    const wf = async (patientId: string, type: string) => {
      const [row] = await stack.database.db
        .select({ id: sequences.workflowId })
        .from(sequences)
        .innerJoin(clients, eq(clients.id, sequences.clientId))
        .where(
          and(eq(sequences.clinicId, CLINIC), eq(clients.externalId, patientId), eq(sequences.treatmentType, type)),
        );
      return row?.id;
    };
    // Treated 85 days ago: the day-80 reminder is past, so the next action is the day-90 incentive.
    const late = stack.client.workflow.getHandle((await wf('P-2', 'neuromodulator'))!);
    const s = await until('P-2 scheduled', async () => {
      const st = await late.query(statusQuery);
      return st.nextActionAt ? st : undefined;
    });
    expect(s.history.map((h) => `${h.stage}:${h.event}`)).not.toContain('reminder:sent');
    expect(Date.parse(s.nextActionAt!) - now).toBeGreaterThan(3 * DAY);
    expect(Date.parse(s.nextActionAt!) - now).toBeLessThan(6 * DAY);
    // Treated 10 days ago, as the dry run said: the day-1 care check-in is not sent late; next is the day-12 email.
    const recent = stack.client.workflow.getHandle((await wf('P-1', 'neuromodulator'))!);
    const r = await until('P-1 scheduled', async () => {
      const st = await recent.query(statusQuery);
      return st.nextActionAt ? st : undefined;
    });
    expect(r.history.map((h) => `${h.stage}:${h.event}`)).not.toContain('care_checkin:sent');
    expect(Date.parse(r.nextActionAt!) - now).toBeGreaterThan(DAY);
    expect(Date.parse(r.nextActionAt!) - now).toBeLessThan(3 * DAY);
    expect(await wf('P-3', 'lip_filler')).toBeDefined();
    expect(await wf('P-4', 'neuromodulator')).toBeUndefined();

    const before = await stack.database.db.select().from(sequences);
    const second = await sendImport(
      planImport({ text, format: 'jane', clinic: clinicOrThrow(cfg, CLINIC), config: cfg, now: Date.now() }),
      send,
    );
    expect(second).toMatchObject({ enrolled: 0, duplicates: 4 });
    expect((await stack.database.db.select().from(sequences)).map((r) => r.workflowId).sort()).toEqual(
      before.map((r) => r.workflowId).sort(),
    );
  });

  it('waits for a busy server (429, Retry-After) and sends the same batch again: nothing lost, nothing twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebook-csv-'));
    const now = Date.now();
    const [d, t] = janeDate(now - 20 * DAY);
    writeFileSync(
      join(dir, 'busy.csv'),
      [
        'Appointment ID,Patient ID,Patient,Patient Email,Patient Mobile Phone,Treatment,Date,Start Time,State,Price',
        `B-1,PB-1,"Ferreira, Inês",ines.f@example.ca,+16045550140,Botox,${d},${t},Arrived,410.00`,
        `B-2,PB-2,"Walsh, Orla",orla.w@example.ca,+16045550141,Dysport,${d},${t},Arrived,390.00`,
      ].join('\n'),
    );
    // Another sender holds the server's only ingest slot: its body is not finished yet.
    const held = httpRequest(`${stack.url}/v1/clinics/${CLINIC}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'content-length': '2' },
    });
    const heldAnswer = new Promise<number>((resolve, reject) => {
      held.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      held.on('error', reject);
    });
    held.write('{');
    held.flushHeaders();
    await new Promise((r) => setTimeout(r, 300));
    const out = sink();
    const err = sink();
    const configDir = connectorConfigDir();
    try {
      const importing = importCommand(
        ['--clinic', CLINIC, '--format', 'jane', '--url', stack.url, '--key', API_KEY, '--json', join(dir, 'busy.csv')],
        { configDir, port: 1, secrets: {} },
        out.stream,
        err.stream,
      );
      // The import's first try is refused while the slot is held; then the slot frees.
      await until('the import was told to wait', async () => (/busy \(429\)/.test(err.text()) ? true : undefined));
      held.end('}');
      expect(await heldAnswer).toBe(400);
      expect(await importing).toBe(0);
      expect(err.text()).toMatch(/server busy \(429\): sending the batch again in 1 s/);
      expect(JSON.parse(out.text())).toMatchObject({ rows: 2, enrolled: 2, duplicates: 0 });
      const enrolled = await stack.database.db
        .select({ id: sequences.workflowId })
        .from(sequences)
        .innerJoin(clients, eq(clients.id, sequences.clientId))
        .where(and(eq(sequences.clinicId, CLINIC), inArray(clients.externalId, ['PB-1', 'PB-2'])));
      expect(enrolled).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(configDir, { recursive: true, force: true });
    }
  });
});
