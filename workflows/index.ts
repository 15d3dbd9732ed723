/** Everything the worker registers: deterministic workflow code only. */
export { rebookSequence } from './rebook-sequence.js';
