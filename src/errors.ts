/**
 * The closed set of errors Rebook reports. Each code carries its HTTP status and whether a
 * retry can help; the fastify error handler and the Temporal activity boundary both map from
 * here, so a code means the same thing everywhere. Messages never carry client data.
 */
export const errorCodes = {
  validation_failed: { status: 400, retryable: false },
  invalid_json: { status: 400, retryable: false },
  unauthorized: { status: 401, retryable: false },
  forbidden: { status: 403, retryable: false },
  clinic_not_found: { status: 404, retryable: false },
  not_found: { status: 404, retryable: false },
  conflict: { status: 409, retryable: false },
  incentive_redeemed: { status: 409, retryable: false },
  incentive_expired: { status: 410, retryable: false },
  payload_too_large: { status: 413, retryable: false },
  unsupported_media_type: { status: 415, retryable: false },
  unclassified_service: { status: 422, retryable: false },
  rate_limited: { status: 429, retryable: true },
  // Retryable: a stage blocked by a config mistake resumes once the config is fixed and reloaded,
  // instead of failing its sequence for good.
  config_invalid: { status: 500, retryable: true },
  database_unavailable: { status: 503, retryable: true },
  temporal_unavailable: { status: 503, retryable: true },
  provider_unavailable: { status: 503, retryable: true },
  internal: { status: 500, retryable: true },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof errorCodes;

export interface ErrorIssue {
  path: string;
  message: string;
}

export class RebookError extends Error {
  readonly status: number;
  readonly retryable: boolean;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; issues?: ErrorIssue[] } = {},
  ) {
    super(message);
    this.name = 'RebookError';
    this.status = errorCodes[code].status;
    this.retryable = errorCodes[code].retryable;
  }

  toJSON() {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}
