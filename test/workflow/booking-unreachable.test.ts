/**
 * The booking platform unreachable at send time, on the time-skipping server. The decision: the
 * booking check throws a retryable coded error (provider_unavailable), Temporal retries the
 * activity with backoff (2 s doubling, at most 10 minutes, no attempt limit), and the stage waits —
 * it is never sent blind. When the platform answers again the stage goes on from there: sent if
 * the client has not booked, the sequence ended if they have.
 */
import { Context } from '@temporalio/activity';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBookingChecker } from '../../connectors/registry.js';
import { createConnectorRuntime } from '../../connectors/shared.js';
import { RebookError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { statusQuery } from '../../workflows/definitions.js';
import { demoDue, treatmentSlot } from '../helpers/clinic-time.js';
import { DAY_MS, type Engine, perWorkflow, startEngine, treatment } from '../helpers/engine.js';

const HOUR = 3_600_000;
let e: Engine;
/**
 * Server time from which the platform answers again, per client. Per client, not per test: the
 * first test's sequence keeps running through the second, and one shared instant pushed far ahead
 * failed its later checks too — ten thousand retries 10 minutes apart that made the second test
 * take a minute, time out or miss its own attempts on a loaded machine.
 */
const recoversAt = new Map<string, number>();
/** From then on, what the platform says about each client (by external id). */
const platformBookings = new Map<string, { appointmentId: string; startAt: string }>();
const attemptsWhileDown = new Map<string, number[]>();

beforeAll(async () => {
  const database = createBookingChecker(
    createConnectorRuntime({ secrets: {}, log: createLogger({ level: 'silent' }) }),
  );
  e = await startEngine({
    async checkBooking(ctx, q) {
      // The server time this attempt was scheduled at: deterministic under time skipping.
      const at = Context.current().info.currentAttemptScheduledTimestampMs;
      if (at < (recoversAt.get(q.clientExternalId) ?? Number.POSITIVE_INFINITY)) {
        attemptsWhileDown.set(q.clientExternalId, [...(attemptsWhileDown.get(q.clientExternalId) ?? []), at]);
        throw new RebookError('provider_unavailable', 'booking platform API unavailable (HTTP 503) after 4 attempts');
      }
      const booked = platformBookings.get(q.clientExternalId);
      return booked ? { booked: true, ...booked } : database(ctx, q);
    },
  });
});
afterAll(async () => e?.stop());
const { ledger: fullLedger } = perWorkflow(() => e);
/**
 * The marketing messages: what this file's schedule is about. The day-1 and day-12 care touches
 * (issue 11) go out besides them; test/workflow/lifecycle.test.ts asserts those.
 */
const ledger = async (wf: string) => (await fullLedger(wf)).filter((m) => !m.stage.startsWith('care_'));

async function enroll(clientId: string) {
  const t0 = await treatmentSlot(e);
  const [res] = await e.send(
    treatment({ clientId, appointmentId: `${clientId}-appt`, completedAt: new Date(t0).toISOString() }),
  );
  expect(res).toMatchObject({ status: 'accepted', enrolled: true });
  return { t0, wf: await e.workflowIdFor(clientId) };
}

it('platform down when the day-80 reminder is due: nothing is sent while the check fails, retries back off, and the reminder goes out once it answers "not booked"', async () => {
  const { t0, wf } = await enroll('unreach-free');
  const due = demoDue(t0, 80);
  const recovers = due + 26 * HOUR;
  recoversAt.set('unreach-free', recovers);
  await e.sleepUntil(recovers - 60_000);
  // A day of failed checks: no reminder, not even a ledger reservation.
  expect(await ledger(wf)).toEqual([]);
  const attempts = attemptsWhileDown.get('unreach-free') ?? [];
  expect(attempts.length).toBeGreaterThan(10);
  expect(attempts[0]).toBeGreaterThanOrEqual(due);
  // Backoff: the gaps grow, then stay at Temporal's 10-minute ceiling.
  const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
  expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
  expect(Math.max(...gaps)).toBeLessThanOrEqual(10 * 60_000 + 1_000);
  expect(gaps.at(-1)!).toBeGreaterThanOrEqual(9 * 60_000);

  await e.sleepUntil(recovers + 3 * HOUR);
  const sent = await ledger(wf);
  expect(sent.map((m) => m.stage)).toEqual(['reminder']);
  // Sent after the platform answered, never before.
  expect(sent[0]!.sentAt!.getTime()).toBeGreaterThanOrEqual(recovers);
  expect((await e.sequences()).find((s) => s.workflowId === wf)).toMatchObject({ running: true });
}, 180_000);

it('platform down, and the client books meanwhile (seen only by the platform): once it answers, the sequence ends booked and nothing was ever sent', async () => {
  const { t0, wf } = await enroll('unreach-booked');
  const due = demoDue(t0, 80);
  const recovers = due + 30 * HOUR;
  recoversAt.set('unreach-booked', recovers);
  platformBookings.set('unreach-booked', {
    appointmentId: 'platform-only-1',
    startAt: new Date(due + 10 * DAY_MS).toISOString(),
  });
  await e.sleepUntil(recovers + HOUR);
  expect((attemptsWhileDown.get('unreach-booked') ?? []).length).toBeGreaterThan(10);
  const result = await e.client.workflow.getHandle(wf).query(statusQuery);
  expect(result).toMatchObject({ outcome: 'booked', outcomeStage: 'before_first_touch' });
  expect(await ledger(wf)).toEqual([]);
}, 180_000); // many retried activities: on a loaded 2-core CI machine this took over 60 s
