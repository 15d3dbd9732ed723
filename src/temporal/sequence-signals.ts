/** Signals the messaging side sends to running sequences: replies, staff outcomes. */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import {
  type BookingSignal,
  bookedSignal,
  type EndSignal,
  endSignal,
  type SnoozeSignal,
  snoozeSignal,
} from '../../workflows/definitions.js';

export interface SequenceSignals {
  /** Each resolves false when the workflow is no longer running. */
  snooze(workflowId: string, s: SnoozeSignal): Promise<boolean>;
  booked(workflowId: string, b: BookingSignal): Promise<boolean>;
  end(workflowId: string, e: EndSignal): Promise<boolean>;
}

export function createSequenceSignals(client: Client): SequenceSignals {
  const send = async <T>(
    workflowId: string,
    signal: Parameters<ReturnType<Client['workflow']['getHandle']>['signal']>[0],
    arg: T,
  ) => {
    try {
      await client.workflow.getHandle(workflowId).signal(signal as never, arg as never);
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  };
  return {
    snooze: (id, s) => send(id, snoozeSignal, s),
    booked: (id, b) => send(id, bookedSignal, b),
    end: (id, e) => send(id, endSignal, e),
  };
}
