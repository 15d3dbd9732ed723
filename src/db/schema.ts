/** Drizzle table definitions mirroring migrations/*.sql (the SQL files are the source of truth). */
import { pgTable, text, uuid, boolean, timestamp, integer, jsonb, bigserial, primaryKey } from 'drizzle-orm/pg-core';

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
});

export const appointments = pgTable(
  'appointments',
  {
    clinicId: text('clinic_id').notNull(),
    externalId: text('external_id').notNull(),
    clientExternalId: text('client_external_id').notNull(),
    status: text('status', { enum: ['booked', 'cancelled', 'completed'] }).notNull(),
    startAt: tz('start_at'),
    serviceName: text('service_name'),
    treatmentType: text('treatment_type'),
    priceCents: integer('price_cents'),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    /** 0002: event time of the last vendor update applied. */
    sourceUpdatedAt: tz('source_updated_at'),
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
  status: text('status', { enum: ['pending', 'done', 'rejected'] }).notNull().default('pending'),
  result: jsonb('result'),
  attempts: integer('attempts').notNull().default(0),
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
  outcome: text('outcome').notNull().default('running'),
  outcomeStage: text('outcome_stage'),
  running: boolean('running').notNull().default(true),
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
});

export const staffTasks = pgTable('staff_tasks', {
  id: uuid('id').primaryKey().defaultRandom(),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  clinicId: text('clinic_id').notNull(),
  clientId: uuid('client_id').notNull(),
  workflowId: text('workflow_id'),
  treatmentType: text('treatment_type'),
  reason: text('reason').notNull(),
  status: text('status', { enum: ['open', 'claimed', 'resolved'] }).notNull().default('open'),
  details: jsonb('details').notNull().default({}),
  dueAt: tz('due_at'),
  createdAt: tz('created_at').notNull().defaultNow(),
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
