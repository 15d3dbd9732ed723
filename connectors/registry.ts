/** Every booking platform Rebook speaks to. Adding one is one folder and one line here. */
import { genericConnector } from './generic/index.js';
import type { BookingConnector } from './types.js';

export const connectors = {
  generic: genericConnector,
} satisfies Record<string, BookingConnector>;

export type Platform = keyof typeof connectors;
