// Apart from src/errors.ts so that importing an error code does not load the Temporal SDK
// (one-shot CLI commands start without it).
import { ApplicationFailure } from '@temporalio/common';
import { RebookError } from '../errors.js';

/**
 * Turns anything thrown inside an activity into what Temporal should do with it: coded
 * non-retryable errors fail the activity for good; everything else is retried by policy.
 * The message is our own (never the vendor's or the database's text, which may quote PHI).
 */
export function toActivityFailure(err: unknown): Error {
  if (err instanceof RebookError) {
    return err.retryable
      ? ApplicationFailure.retryable(err.message, err.code)
      : ApplicationFailure.nonRetryable(err.message, err.code);
  }
  if (err instanceof ApplicationFailure) return err;
  const name = err instanceof Error ? err.name : 'Error';
  return ApplicationFailure.retryable(`activity failed (${name})`, 'internal');
}
