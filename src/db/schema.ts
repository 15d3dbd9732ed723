/** Drizzle table definitions mirroring migrations/*.sql (the SQL files are the source of truth). */
import {
  bigint,
  bigserial,
  boolean,
  date,
  doublePrecision,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const clients = pgTable('clients', {
  id: uuid('id').primaryKey().defaultRandom(),
  clinicId: text('clinic_id').notNull(),
  externalId: text('external_id').notNull(),
  firstName: text('first_name').notNull(),
  lastName: text('last_name').notNull(),
  email: text('email'),
  phone: text('phone'),
  consentSms: boolean('consent_sms').notNull().default(false),
  consentEmail: boolean('consent_email').notNull().default(false),
  updatedAt: tz('updated_at').notNull().defaultNow(),
  /** 0002: event time of the last vendor update applied. */
  sourceUpdatedAt: tz('source_updated_at'),
  /** 0003: the phone as E.164 (clinic's default country), set when first validated. */
  phoneE164: text('phone_e164'),
  /** 0003: the client's IANA zone when known (send windows use it over the clinic's). */
  timeZone: text('time_zone'),
});

export const appointments = pgTable(
  'appointments',
  {
    clinicId: text('clinic_id').notNull(),
    externalId: text('external_id').notNull(),
    clientExternalId: text('client_external_id').notNull(),
    status: text('status', { enum: ['booked', 'cancelled', 'completed', 'no_show'] }).notNull(),
    startAt: tz('start_at'),
    serviceName: text('service_name'),
    treatmentType: text('treatment_type'),
    priceCents: integer('price_cents'),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    /** 0002: event time of the last vendor update applied. */
    sourceUpdatedAt: tz('source_updated_at'),
    /** 0020: the series session this completed appointment was, and of how many, when the platform says. */
    seriesSession: integer('series_session'),
    seriesSessions: integer('series_sessions'),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.externalId] })],
);

export const inboxEvents = pgTable('inbox_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  clinicId: text('clinic_id').notNull(),
  source: text('source').notNull(),
  dedupeKey: text('dedupe_key').notNull(),
  eventType: text('event_type').notNull(),
  payload: jsonb('payload'),
  status: text('status', { enum: ['pending', 'done', 'rejected', 'dead'] })
    .notNull()
    .default('pending'),
  result: jsonb('result'),
  attempts: integer('attempts').notNull().default(0),
  /** 0007: failures that count toward dead-lettering (not Temporal being unreachable), and since when. */
  failures: integer('failures').notNull().default(0),
  failingSince: tz('failing_since'),
  lastError: text('last_error'),
  lockedUntil: tz('locked_until'),
  receivedAt: tz('received_at').notNull().defaultNow(),
  processedAt: tz('processed_at'),
  /** 0002: the vendor's event time. */
  occurredAt: tz('occurred_at'),
});

export const sequences = pgTable('sequences', {
  workflowId: text('workflow_id').primaryKey(),
  clinicId: text('clinic_id').notNull(),
  clientId: uuid('client_id').notNull(),
  treatmentType: text('treatment_type').notNull(),
  anchorAppointmentId: text('anchor_appointment_id'),
  anchorAt: tz('anchor_at'),
  stage: text('stage'),
  nextActionAt: tz('next_action_at'),
  /** 0008: the stage due at next_action_at. */
  nextStage: text('next_stage'),
  outcome: text('outcome').notNull().default('running'),
  outcomeStage: text('outcome_stage'),
  running: boolean('running').notNull().default(true),
  /** 0016: holdout arm assigned at enrolment (null: before holdouts, treated). */
  arm: text('arm', { enum: ['treated', 'holdout'] }),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

export const messages = pgTable('messages', {
  id: uuid('id').primaryKey().defaultRandom(),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  clinicId: text('clinic_id').notNull(),
  clientId: uuid('client_id').notNull(),
  workflowId: text('workflow_id').notNull(),
  treatmentType: text('treatment_type').notNull(),
  stage: text('stage').notNull(),
  channel: text('channel').notNull(),
  status: text('status').notNull(),
  provider: text('provider').notNull(),
  providerMessageId: text('provider_message_id'),
  recipient: text('recipient'),
  subject: text('subject'),
  body: text('body'),
  dueAt: tz('due_at').notNull(),
  sentAt: tz('sent_at'),
  createdAt: tz('created_at').notNull().defaultNow(),
  /** 0003: workflow time of the send attempt (what frequency caps count). */
  attemptedAt: tz('attempted_at'),
  /** 0003: the provider's error code, if any. */
  errorCode: text('error_code'),
  statusUpdatedAt: tz('status_updated_at'),
  /** 0006: a provider-side email template (SendGrid dynamic template id) instead of subject/body. */
  templateId: text('template_id'),
  /** 0006: the token values the template is filled with. */
  templateData: jsonb('template_data').$type<Record<string, string>>(),
  /** 0016: the client's holdout arm when the row was written. */
  arm: text('arm', { enum: ['treated', 'holdout'] }),
  /** 0022: the stage variant this row was sent as (null: the stage had no variants). */
  variant: text('variant'),
  /** 0015: `care` or `marketing` (core/message-category.ts): what caps count. */
  category: text('category', { enum: ['care', 'marketing'] })
    .notNull()
    .default('marketing'),
  /** 0023: why the client got the offer this message carries (core/offers.ts reason code). */
  offerReason: text('offer_reason'),
});

export const staffTasks = pgTable('staff_tasks', {
  id: uuid('id').primaryKey().defaultRandom(),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  clinicId: text('clinic_id').notNull(),
  clientId: uuid('client_id').notNull(),
  workflowId: text('workflow_id'),
  treatmentType: text('treatment_type'),
  reason: text('reason').notNull(),
  status: text('status', { enum: ['open', 'claimed', 'resolved'] })
    .notNull()
    .default('open'),
  details: jsonb('details').notNull().default({}),
  dueAt: tz('due_at'),
  createdAt: tz('created_at').notNull().defaultNow(),
  /** 0003: staff task workflow and links to the ledger and to the reply that raised it. */
  claimedBy: text('claimed_by'),
  claimedAt: tz('claimed_at'),
  resolvedAt: tz('resolved_at'),
  outcome: text('outcome'),
  messageId: uuid('message_id'),
  inboundMessageId: uuid('inbound_message_id'),
});

export const unmappedServices = pgTable(
  'unmapped_services',
  {
    clinicId: text('clinic_id').notNull(),
    serviceKey: text('service_key').notNull(),
    serviceId: text('service_id'),
    serviceName: text('service_name').notNull(),
    occurrences: integer('occurrences').notNull().default(1),
    firstSeenAt: tz('first_seen_at').notNull().defaultNow(),
    lastSeenAt: tz('last_seen_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.serviceKey] })],
);

// 0002_connectors.sql

export const connectorState = pgTable(
  'connector_state',
  {
    clinicId: text('clinic_id').notNull(),
    platform: text('platform').notNull(),
    key: text('key').notNull(),
    value: text('value').notNull(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.platform, t.key] })],
);

export const connectorClientRefs = pgTable(
  'connector_client_refs',
  {
    clinicId: text('clinic_id').notNull(),
    platform: text('platform').notNull(),
    externalId: text('external_id').notNull(),
    vendorRef: text('vendor_ref').notNull(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.platform, t.externalId] })],
);

export const clientAliases = pgTable(
  'client_aliases',
  {
    clinicId: text('clinic_id').notNull(),
    aliasExternalId: text('alias_external_id').notNull(),
    externalId: text('external_id').notNull(),
    mergedAt: tz('merged_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.aliasExternalId] })],
);

// 0003_messaging.sql

export const consentEvents = pgTable('consent_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  clinicId: text('clinic_id').notNull(),
  clientId: uuid('client_id').notNull(),
  channel: text('channel', { enum: ['sms', 'email'] }).notNull(),
  action: text('action', { enum: ['granted', 'revoked'] }).notNull(),
  source: text('source').notNull(),
  ref: text('ref'),
  occurredAt: tz('occurred_at').notNull().defaultNow(),
});

export const clientChannels = pgTable(
  'client_channels',
  {
    clientId: uuid('client_id').notNull(),
    channel: text('channel', { enum: ['sms', 'email'] }).notNull(),
    optedOutAt: tz('opted_out_at'),
    optOutSource: text('opt_out_source'),
    undeliverableAt: tz('undeliverable_at'),
    undeliverableCode: text('undeliverable_code'),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.clientId, t.channel] })],
);

export const providerEvents = pgTable(
  'provider_events',
  {
    provider: text('provider').notNull(),
    eventId: text('event_id').notNull(),
    receivedAt: tz('received_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.eventId] })],
);

export const messageEvents = pgTable('message_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  messageId: uuid('message_id').notNull(),
  event: text('event').notNull(),
  occurredAt: tz('occurred_at').notNull(),
});

export const inboundMessages = pgTable('inbound_messages', {
  id: uuid('id').primaryKey().defaultRandom(),
  clinicId: text('clinic_id').notNull(),
  clientId: uuid('client_id'),
  provider: text('provider').notNull(),
  providerMessageId: text('provider_message_id').notNull(),
  fromAddress: text('from_address').notNull(),
  body: text('body').notNull(),
  intent: text('intent').notNull(),
  receivedAt: tz('received_at').notNull().defaultNow(),
  /** 0009: staff marked the reply handled in the console (a reply that raised a task is also handled once the task is resolved). */
  handledAt: tz('handled_at'),
  handledBy: text('handled_by'),
});

export const incentives = pgTable('incentives', {
  id: uuid('id').primaryKey().defaultRandom(),
  code: text('code').notNull().unique(),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  clinicId: text('clinic_id').notNull(),
  clientId: uuid('client_id').notNull(),
  workflowId: text('workflow_id').notNull(),
  runKey: text('run_key').notNull(),
  offer: jsonb('offer').notNull(),
  description: text('description').notNull(),
  expiresAt: tz('expires_at').notNull(),
  messageId: uuid('message_id'),
  redeemedAt: tz('redeemed_at'),
  redeemedRef: text('redeemed_ref'),
  createdAt: tz('created_at').notNull().defaultNow(),
  /** 0023: why the client got this offer (core/offers.ts reason code). */
  reason: text('reason'),
});

// 0004_reports.sql

/** One row per sequence run (workflow × anchor appointment); times are workflow time. */
export const sequenceRuns = pgTable(
  'sequence_runs',
  {
    workflowId: text('workflow_id').notNull(),
    runKey: text('run_key').notNull(),
    clinicId: text('clinic_id').notNull(),
    clientId: uuid('client_id').notNull(),
    treatmentType: text('treatment_type').notNull(),
    anchorAt: tz('anchor_at'),
    outcome: text('outcome').notNull().default('running'),
    outcomeStage: text('outcome_stage'),
    running: boolean('running').notNull().default(true),
    startedAt: tz('started_at').notNull(),
    endedAt: tz('ended_at'),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    /** 0016: the sequence's holdout arm (null: before holdouts, treated). */
    arm: text('arm', { enum: ['treated', 'holdout'] }),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.runKey] })],
);

/** A stage deferred (send window, caps) or suppressed (caps, consent, …): first occurrence per reason. */
export const deliveryHolds = pgTable('delivery_holds', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  clinicId: text('clinic_id').notNull(),
  workflowId: text('workflow_id').notNull(),
  runKey: text('run_key').notNull(),
  treatmentType: text('treatment_type').notNull(),
  stage: text('stage').notNull(),
  kind: text('kind', { enum: ['deferred', 'suppressed'] }).notNull(),
  reason: text('reason').notNull(),
  occurredAt: tz('occurred_at').notNull(),
  until: tz('until'),
});

// 0005_admin_api.sql

/** Admin API keys: SHA-256 of the key, looked up by its public prefix `id`. */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  keyHash: text('key_hash').notNull(),
  agencyId: text('agency_id'),
  clinicId: text('clinic_id'),
  role: text('role', { enum: ['admin', 'staff'] }).notNull(),
  label: text('label'),
  createdAt: tz('created_at').notNull().defaultNow(),
  revokedAt: tz('revoked_at'),
  lastUsedAt: tz('last_used_at'),
});

/** Staff decisions on unrecognised services: service key → treatment type (null: not repeatable). */
export const serviceMappings = pgTable(
  'service_mappings',
  {
    clinicId: text('clinic_id').notNull(),
    serviceKey: text('service_key').notNull(),
    treatmentType: text('treatment_type'),
    mappedBy: text('mapped_by'),
    mappedAt: tz('mapped_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.serviceKey] })],
);

// 0009_console_data.sql

/** Vendor API calls per clinic, platform and UTC day, across every process (the budget is per clinic). */
export const vendorApiCalls = pgTable(
  'vendor_api_calls',
  {
    clinicId: text('clinic_id').notNull(),
    platform: text('platform').notNull(),
    /** YYYY-MM-DD (UTC). */
    day: date('day', { mode: 'string' }).notNull(),
    calls: integer('calls').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.platform, t.day] })],
);

/** Connector failures that were only logged before (a failed poll): codes, never vendor bodies. */
export const connectorErrors = pgTable('connector_errors', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  clinicId: text('clinic_id').notNull(),
  platform: text('platform').notNull(),
  source: text('source').notNull(),
  code: text('code').notNull(),
  occurredAt: tz('occurred_at').notNull().defaultNow(),
});

// 0010_console.sql

export const consoleRoles = ['agency_admin', 'clinic_manager', 'front_desk'] as const;
export type ConsoleRole = (typeof consoleRoles)[number];

/** People who sign in to the console (not API keys). */
export const consoleUsers = pgTable('console_users', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: text('email').notNull(),
  name: text('name').notNull(),
  role: text('role', { enum: consoleRoles }).notNull(),
  agencyId: text('agency_id'),
  clinicIds: text('clinic_ids').array().notNull().default([]),
  passwordHash: text('password_hash'),
  /** Sealed base32 TOTP secret once enrolled (two-step.ts); the pending one awaits its first code. */
  totpSecret: text('totp_secret'),
  totpPendingSecret: text('totp_pending_secret'),
  /** The last 30-second TOTP step accepted: a code works once (0011). */
  totpLastStep: bigint('totp_last_step', { mode: 'number' }),
  failedLogins: integer('failed_logins').notNull().default(0),
  lockedUntil: tz('locked_until'),
  createdAt: tz('created_at').notNull().defaultNow(),
  revokedAt: tz('revoked_at'),
});

/** Server-side sessions, keyed by the SHA-256 of the cookie's id. */
export const consoleSessions = pgTable('console_sessions', {
  idHash: text('id_hash').primaryKey(),
  userId: uuid('user_id').notNull(),
  csrfToken: text('csrf_token').notNull(),
  clinicId: text('clinic_id'),
  createdAt: tz('created_at').notNull(),
  lastSeenAt: tz('last_seen_at').notNull(),
  expiresAt: tz('expires_at').notNull(),
  revokedAt: tz('revoked_at'),
});

/** One-time links: invitation, password reset, the first admin's setup. */
export const consoleLinks = pgTable('console_links', {
  tokenHash: text('token_hash').primaryKey(),
  userId: uuid('user_id').notNull(),
  purpose: text('purpose', { enum: ['invite', 'reset', 'setup'] }).notNull(),
  createdAt: tz('created_at').notNull().defaultNow(),
  expiresAt: tz('expires_at').notNull(),
  usedAt: tz('used_at'),
});

/** A right password waiting for its TOTP code, keyed by the SHA-256 of the cookie's token (0011). */
export const consoleSignInSteps = pgTable('console_sign_in_steps', {
  tokenHash: text('token_hash').primaryKey(),
  userId: uuid('user_id').notNull(),
  createdAt: tz('created_at').notNull(),
  expiresAt: tz('expires_at').notNull(),
  usedAt: tz('used_at'),
});

/** Append-only record of views and actions, ids only. */
export const auditLog = pgTable('audit_log', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  at: tz('at').notNull().defaultNow(),
  userId: uuid('user_id'),
  role: text('role').notNull(),
  clinicId: text('clinic_id'),
  clientId: uuid('client_id'),
  action: text('action').notNull(),
  target: text('target'),
});

// 0013_vendor_rate_buckets.sql

/** A shared sliding window per clinic, platform and scope: the instants (epoch ms) of the calls granted in the last window. */
export const vendorRateBuckets = pgTable(
  'vendor_rate_buckets',
  {
    clinicId: text('clinic_id').notNull(),
    platform: text('platform').notNull(),
    scope: text('scope').notNull(),
    callTimes: bigint('call_times', { mode: 'number' }).array().notNull().default([]),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.platform, t.scope] })],
);

// 0018_vendor_cost_buckets.sql

/** A shared query-cost bucket per clinic and platform: the level `available` at `atMs`, refilling per second up to `capacity`. */
export const vendorCostBuckets = pgTable(
  'vendor_cost_buckets',
  {
    clinicId: text('clinic_id').notNull(),
    platform: text('platform').notNull(),
    available: doublePrecision('available').notNull(),
    capacity: doublePrecision('capacity').notNull(),
    restorePerSecond: doublePrecision('restore_per_second').notNull(),
    atMs: bigint('at_ms', { mode: 'number' }).notNull(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.platform] })],
);

// 0023_client_plans.sql

/** One benefit of a plan, resolved to our treatment type (null: every treatment). */
export interface PlanBenefit {
  treatmentType: string | null;
  percentOff?: number;
  creditsLeft?: number;
}

/** A client's membership or package as last reported (client.membership events). */
export const clientPlans = pgTable(
  'client_plans',
  {
    clinicId: text('clinic_id').notNull(),
    clientExternalId: text('client_external_id').notNull(),
    planId: text('plan_id').notNull(),
    kind: text('kind', { enum: ['membership', 'package'] }).notNull(),
    name: text('name').notNull(),
    status: text('status', { enum: ['active', 'paused', 'cancelled', 'expired'] }).notNull(),
    renewsAt: tz('renews_at'),
    endsAt: tz('ends_at'),
    benefits: jsonb('benefits').$type<PlanBenefit[]>().notNull().default([]),
    sourceUpdatedAt: tz('source_updated_at'),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.clientExternalId, t.planId] })],
);
