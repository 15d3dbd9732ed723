/**
 * Payload encryption end to end: ingest's client and the worker share the AES-GCM codec, the
 * sequence runs as usual, and the history stored by the server holds only ciphertext (search
 * attributes, which must be readable to be indexed, carry no client data).
 */
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AesGcmPayloadCodec, parseEncryptionKeys } from '../../src/temporal/codec.js';
import { statusQuery } from '../../workflows/definitions.js';
import { demoDue, treatmentSlot } from '../helpers/clinic-time.js';
import { type Engine, startEngine, treatment } from '../helpers/engine.js';

const KEY_ID = 'wftest';
const codec = new AesGcmPayloadCodec(parseEncryptionKeys(`${KEY_ID}:${Buffer.alloc(32, 7).toString('base64')}`));

let e: Engine;
beforeAll(async () => {
  e = await startEngine({ dataConverter: { payloadCodecs: [codec] } });
});
afterAll(async () => {
  await e?.stop();
});

interface FoundPayload {
  path: string;
  payload: Payload;
}

/** Every Payload in a raw history, with the path it was found at. */
function payloadsIn(node: unknown, path = ''): FoundPayload[] {
  if (!node || typeof node !== 'object') return [];
  if (node instanceof Uint8Array) return [];
  const obj = node as Record<string, unknown>;
  if (obj.data instanceof Uint8Array && obj.metadata && typeof obj.metadata === 'object')
    return [{ path, payload: obj as Payload }];
  return Object.entries(obj).flatMap(([k, v]) => payloadsIn(v, `${path}.${k}`));
}

async function rawHistory(workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await e.env.connection.workflowService.getWorkflowExecutionHistory({
      namespace: e.env.namespace ?? 'default',
      execution: { workflowId },
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

it('stores only encrypted payloads in the history while the sequence runs normally', async () => {
  const t0 = await treatmentSlot(e);
  const person = {
    firstName: 'Ingrid',
    lastName: 'Kowalczyk',
    email: 'ingrid.kowalczyk@example.com',
    phone: '+16175550188',
  };
  const [res] = await e.send(
    treatment({
      clientId: 'enc-client',
      appointmentId: 'enc-appt-5521',
      completedAt: new Date(t0).toISOString(),
      ...person,
    }),
  );
  expect(res).toMatchObject({ status: 'accepted', enrolled: true });
  const wf = await e.workflowIdFor('enc-client');

  await e.sleepUntil(demoDue(t0, 90) + 60_000);
  // Through the codec everything reads as usual.
  expect(await e.client.workflow.getHandle(wf).query(statusQuery)).toMatchObject({
    anchorAppointmentId: 'enc-appt-5521',
    stage: 'incentive',
    nextActionAt: new Date(demoDue(t0, 95)).toISOString(),
  });
  const msgs = (await e.messages()).filter((m) => m.workflowId === wf);
  // The day-1 and day-12 care touches come first (issue 11), then the rebooking stages.
  expect(msgs.map((m) => [m.stage, m.recipient])).toEqual([
    ['care_checkin', person.phone],
    ['care_results', person.email],
    ['reminder', person.email],
    ['incentive', person.phone],
  ]);

  const events = await rawHistory(wf);
  const found = payloadsIn(events);
  // Search attributes are indexed by the server, so they stay plain: and carry no client data.
  const isSearchAttribute = (p: FoundPayload) => /searchAttributes/i.test(p.path);
  // A patched() marker's data is the patch id, written by the SDK's core without the codec: plain, and
  // nothing but the id (checked below with every other byte of the history).
  const isPatchMarker = (p: FoundPayload) => /markerRecordedEventAttributes\.details\.patch-data/.test(p.path);
  // A local activity's marker (the sequence-row writes run as ones) carries its result through the codec, and
  // beside it the core's bookkeeping, plain: sequence number, attempt, activity type, instants.
  const isLocalActivityData = (p: FoundPayload) => /markerRecordedEventAttributes\.details\.data\./.test(p.path);
  const data = found.filter((p) => !isSearchAttribute(p) && !isPatchMarker(p) && !isLocalActivityData(p));
  for (const { payload } of found.filter(isPatchMarker))
    expect(JSON.parse(text(payload.data))).toMatchObject({ id: expect.stringMatching(/^[a-z-]+$/) });
  const localActivities = found.filter(isLocalActivityData);
  expect(localActivities.length).toBeGreaterThan(0);
  for (const { payload } of localActivities) {
    const bookkeeping = JSON.parse(text(payload.data)) as Record<string, unknown>;
    expect(Object.keys(bookkeeping).sort()).toEqual(
      ['activity_id', 'activity_type', 'attempt', 'backoff', 'complete_time', 'original_schedule_time', 'seq'].sort(),
    );
    expect(['beginSequence', 'recordProgress']).toContain(bookkeeping.activity_type);
  }
  expect(data.length).toBeGreaterThan(10);
  expect(found.some(isSearchAttribute)).toBe(true);
  for (const { payload, path } of data) {
    expect([path, text(payload.metadata?.encoding)]).toEqual([path, 'binary/encrypted']);
    expect(text(payload.metadata?.['encryption-key-id'])).toBe(KEY_ID);
  }

  // Neither the JSON-ish dump of the events nor any payload's bytes reveal the client or the appointment.
  const serialized = JSON.stringify(events) + found.map((p) => text(p.payload.data)).join('\n');
  for (const secret of [person.firstName, person.lastName, person.email, person.phone, 'enc-appt-5521']) {
    expect(serialized).not.toContain(secret);
  }

  // The ciphertext really is the workflow's data: the codec opens the treatment signal.
  const signal = events.find((ev) => ev.workflowExecutionSignaledEventAttributes?.signalName === 'treatmentCompleted');
  const [plain] = await codec.decode(signal!.workflowExecutionSignaledEventAttributes!.input!.payloads as Payload[]);
  expect(text(plain!.metadata?.encoding)).toBe('json/plain');
  expect(JSON.parse(text(plain!.data))).toEqual({
    appointmentId: 'enc-appt-5521',
    completedAt: new Date(t0).toISOString(),
  });

  // A client without the key cannot read the workflow's answers.
  const keyless = new Client({ connection: e.env.connection, namespace: e.env.namespace ?? 'default' });
  await expect(keyless.workflow.getHandle(wf).query(statusQuery)).rejects.toThrow(/binary\/encrypted/);
});
