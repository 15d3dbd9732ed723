/** Client-side operations on sequence workflows (the server and the forwarder use these). */
import { type Client, ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import {
  type AppointmentLapsedSignal,
  appointmentLapsedSignal,
  type BookingSignal,
  bookedSignal,
  type EndSignal,
  endSignal,
  SEQUENCE_WORKFLOW,
  type SequenceInput,
  searchAttributes,
  type TreatmentSignal,
  treatmentCompletedSignal,
} from '../../workflows/definitions.js';

/**
 * Every client call here has a deadline: a cluster that accepts connections and never answers
 * would otherwise hold a webhook's answer (and a stopping server's drain) for as long as the
 * gRPC retries last. Past the deadline the call fails as DEADLINE_EXCEEDED, which
 * isTemporalUnavailable reads as "keep the event in the inbox": nothing is lost.
 */
export const TEMPORAL_CALL_DEADLINE_MS = 5_000;

const bounded = <R>(client: Client, fn: () => Promise<R>): Promise<R> =>
  client.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, fn);

export async function enrollSequence(
  client: Client,
  taskQueue: string,
  input: SequenceInput,
  workflowId: string,
  treatment: TreatmentSignal,
): Promise<void> {
  // signal-with-start: starts the workflow if it is not running, else only signals it; the
  // workflow itself dedupes repeated appointments (the call is not idempotent on its own).
  await bounded(client, () =>
    client.workflow.signalWithStart(SEQUENCE_WORKFLOW, {
      workflowId,
      taskQueue,
      args: [input],
      signal: treatmentCompletedSignal,
      signalArgs: [treatment],
      typedSearchAttributes: [
        { key: searchAttributes.clinicId, value: input.clinicId },
        { key: searchAttributes.treatmentType, value: input.treatmentType },
        // Set here, at start, it is free (https://docs.temporal.io/cloud/actions); the workflow
        // upserts it once more only when the run ends with another outcome.
        { key: searchAttributes.outcome, value: 'running' },
      ],
    }),
  );
}

/** Signals a booking; false when the workflow is no longer running. */
export async function signalBooking(client: Client, workflowId: string, booking: BookingSignal): Promise<boolean> {
  try {
    await bounded(client, () => client.workflow.getHandle(workflowId).signal(bookedSignal, booking));
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Tells a sequence its watched booking was cancelled or missed; false when it is no longer running. */
export async function signalLapsed(client: Client, workflowId: string, l: AppointmentLapsedSignal): Promise<boolean> {
  try {
    await bounded(client, () => client.workflow.getHandle(workflowId).signal(appointmentLapsedSignal, l));
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Ends a sequence (its profile was merged into another, …); false when it is no longer running. */
export async function signalEnd(client: Client, workflowId: string, e: EndSignal): Promise<boolean> {
  try {
    await bounded(client, () => client.workflow.getHandle(workflowId).signal(endSignal, e));
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** gRPC codes meaning the cluster cannot take the call now: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED. */
const UNREACHABLE = new Set([14, 4, 8]);

/** True when a client call failed because Temporal could not be reached (not because the call was wrong). */
export function isTemporalUnavailable(err: unknown): boolean {
  if (!(err instanceof ServiceError)) return false;
  for (
    let e: unknown = err.cause, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if (UNREACHABLE.has((e as { code?: unknown }).code as number)) return true;
  }
  return false;
}
