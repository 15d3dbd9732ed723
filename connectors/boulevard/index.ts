/**
 * The Boulevard connector (Admin API, GraphQL). Webhooks name an appointment or a client; the
 * appointment is re-read when the event is processed and its state decides what it means:
 * FINAL → treatment completed; BOOKED/CONFIRMED/ARRIVED/ACTIVE in the future → booked (created,
 * confirmed and rescheduled all land here, a reschedule with its new start); CANCELLED (a no-show
 * included: the events layer has no no-show event) → cancelled. Polling by `updatedAt` is the
 * safety net; the booking check asks the API.
 */
import { completedAppointmentIds, readState, writeState } from '../../src/db/connector-store.js';
import { RebookError } from '../../src/errors.js';
import type { CanonicalEvent } from '../../src/ingest/events.js';
import type { InboxItem, VendorEvent } from '../../src/ingest/inbox.js';
import { vendorInstant } from '../shared.js';
import { type ApiContext, type BookingConnector, type ClientRecord, requireRuntime } from '../types.js';
import { boulevardApi } from './client.js';
import {
  BOULEVARD_BOOKED,
  BOULEVARD_BOOKING_HORIZON_MS,
  BOULEVARD_CANCELLED,
  BOULEVARD_CATALOG_TTL_MS,
  BOULEVARD_COMPLETED,
  BOULEVARD_MEMBERSHIP_STATUS,
  BOULEVARD_POLL_LOOKBACK_MS,
  BOULEVARD_POLL_OVERLAP_MS,
  boulevardClientFrom,
  boulevardUpdatedSince,
} from './constants.js';
import {
  appointmentSchema,
  type BoulevardAppointment,
  type BoulevardClient,
  type BoulevardMembership,
  centsToUnits,
} from './schemas.js';
import { boulevardWebhook } from './webhook.js';

const PLATFORM = 'boulevard';
const POLL_CURSOR = 'poll.appointments';

const blank = (s: unknown) => (typeof s === 'string' && s.trim() ? s.trim() : null);

/**
 * Boulevard's marketing opt-ins are not in the fields this connector reads (unconfirmed where
 * they live): the clinic's configured assumption applies, as for Vagaro.
 */
function clientRecord(ctx: ApiContext, c: BoulevardClient): ClientRecord {
  return {
    id: c.id,
    firstName: blank(c.firstName) ?? 'there',
    lastName: blank(c.lastName) ?? '',
    email: blank(c.email),
    phone: blank(c.mobilePhone),
    consent: ctx.clinic.connector?.assumedConsent ?? { sms: false, email: true },
  };
}

async function serviceNames(ctx: ApiContext): Promise<Map<string, { name: string; price: number | null }>> {
  const holder = ctx.runtime.memo(`boulevard/${ctx.clinic.id}/catalog`, () => ({
    at: Number.NEGATIVE_INFINITY,
    map: new Map<string, { name: string; price: number | null }>(),
  }));
  if (ctx.runtime.now() - holder.at > BOULEVARD_CATALOG_TTL_MS) {
    holder.map = new Map((await boulevardApi(ctx).services()).map((s) => [s.id, { name: s.name, price: s.price }]));
    holder.at = ctx.runtime.now();
  }
  return holder.map;
}

/** The location filter: a clinic configured with a location hears only that location's appointments. */
const atClinic = (ctx: ApiContext, a: BoulevardAppointment) =>
  !ctx.clinic.connector?.locationId || !a.locationId || a.locationId === ctx.clinic.connector.locationId;

const ended = (a: BoulevardAppointment) => a.endAt ?? a.startAt;

/** One appointment as it stands now → what it means for us. */
export async function fromAppointment(
  ctx: ApiContext,
  a: BoulevardAppointment,
  occurredAt: string | undefined,
): Promise<CanonicalEvent[]> {
  if (!atClinic(ctx, a)) return [];
  const now = ctx.runtime.now();
  const at = occurredAt ? { occurredAt } : {};
  if (!a.clientId) throw new RebookError('validation_failed', 'appointment has no clientId');
  if (a.cancelled || BOULEVARD_CANCELLED.has(a.state))
    return [{ type: 'appointment.cancelled', ...at, clientId: a.clientId, appointmentId: a.id }];
  if (BOULEVARD_COMPLETED.has(a.state)) {
    const c = await boulevardApi(ctx).client(a.clientId);
    if (!c) throw new RebookError('validation_failed', 'client not found on re-read');
    // The first service is the treatment; its name from the appointment, else the catalog.
    const s = a.appointmentServices?.[0];
    const serviceId = s?.service?.id ?? s?.serviceId ?? null;
    const fromCatalog = serviceId && !s?.service?.name ? (await serviceNames(ctx)).get(serviceId) : undefined;
    const price = s?.price != null ? centsToUnits(s.price) : (fromCatalog?.price ?? null);
    return [
      {
        type: 'treatment.completed',
        ...at,
        client: clientRecord(ctx, c),
        appointmentId: a.id,
        service: { id: serviceId, name: s?.service?.name ?? fromCatalog?.name ?? 'unknown service' },
        completedAt: new Date(Math.min(Date.parse(ended(a)), now)).toISOString(),
        ...(price != null ? { price } : {}),
      },
    ];
  }
  if (BOULEVARD_BOOKED.has(a.state) && Date.parse(a.startAt) > now)
    return [
      {
        type: 'appointment.booked',
        ...at,
        clientId: a.clientId,
        appointmentId: a.id,
        startAt: new Date(a.startAt).toISOString(),
      },
    ];
  return [];
}

/** A `YYYY-MM-DD` on the clinic's calendar at `hh:mm`, as an instant (Boulevard dates carry no zone). */
const onDay = (ctx: ApiContext, day: string | null | undefined, hhmm: string) =>
  day ? vendorInstant(/^\d{4}-\d{2}-\d{2}$/.test(day) ? `${day}T${hhmm}` : day, ctx.clinic.timeZone) : null;

/**
 * A membership as the client fact offers follow (issue 14 §3): its vouchers are sessions left per
 * service (classified at ingest), its discount the member price on every service.
 */
export function fromMembership(ctx: ApiContext, m: BoulevardMembership, occurredAt?: string): CanonicalEvent[] {
  if (ctx.clinic.connector?.locationId && m.locationId && m.locationId !== ctx.clinic.connector.locationId) return [];
  const credits = (m.vouchers ?? []).flatMap((v) =>
    v.services.map((s) => ({ service: { id: s.id, name: s.name }, creditsLeft: v.quantity })),
  );
  return [
    {
      type: 'client.membership',
      ...(occurredAt ? { occurredAt } : {}),
      clientId: m.clientId,
      plan: {
        id: m.id,
        kind: 'membership',
        name: m.name,
        status: BOULEVARD_MEMBERSHIP_STATUS[m.status.toUpperCase()] ?? 'expired',
        renewsAt: onDay(ctx, m.nextChargeOn, '00:00'),
        endsAt: onDay(ctx, m.endOn, '23:59'),
        benefits: [...(m.discountPercentage ? [{ percentOff: m.discountPercentage }] : []), ...credits],
      },
    },
  ];
}

async function resolve(ctx: ApiContext, e: VendorEvent): Promise<CanonicalEvent[]> {
  const occurredAt = typeof e.data.occurredAt === 'string' ? e.data.occurredAt : undefined;
  if (e.kind === 'poll.appointment')
    return fromAppointment(ctx, appointmentSchema.parse(e.data.appointment), occurredAt);
  const id = e.data.resourceId;
  if (typeof id !== 'string') throw new RebookError('validation_failed', 'resource id missing');
  if (e.kind === 'webhook.membership') {
    const m = await boulevardApi(ctx).membership(id);
    return m ? fromMembership(ctx, m, occurredAt) : [];
  }
  if (e.kind === 'webhook.client') {
    const c = await boulevardApi(ctx).client(id);
    if (!c) return [];
    const r = clientRecord(ctx, c);
    // Updates never touch consent (an opt-out recorded by us must survive them); a new client gets the assumption.
    return [
      {
        type: 'client.updated',
        ...(occurredAt ? { occurredAt } : {}),
        createIfMissing: true,
        client: {
          id: r.id,
          ...(blank(c.firstName) ? { firstName: r.firstName } : {}),
          lastName: r.lastName,
          email: r.email,
          phone: r.phone,
          ...(e.data.event === 'CLIENT_CREATED' ? { consent: r.consent } : {}),
        },
      },
    ];
  }
  const a = await boulevardApi(ctx).appointment(id);
  if (!a) throw new RebookError('validation_failed', 'appointment not found on re-read');
  return fromAppointment(ctx, a, occurredAt);
}

async function poll(ctx: ApiContext) {
  const { db, clinic, runtime } = ctx;
  const now = runtime.now();
  const cursor = await readState(db, clinic.id, PLATFORM, POLL_CURSOR);
  const since = new Date(
    cursor ? Date.parse(cursor) - BOULEVARD_POLL_OVERLAP_MS : now - BOULEVARD_POLL_LOOKBACK_MS,
  ).toISOString();
  const changed = (await boulevardApi(ctx).appointments(boulevardUpdatedSince(since))).filter((a) => atClinic(ctx, a));
  const done = await completedAppointmentIds(
    db,
    clinic.id,
    changed.filter((a) => BOULEVARD_COMPLETED.has(a.state)).map((a) => a.id),
  );
  const items: InboxItem[] = [];
  for (const a of changed) {
    if (done.has(a.id)) continue;
    const stamp = a.updatedAt ?? a.startAt;
    const occurredAt = a.updatedAt ? new Date(a.updatedAt).toISOString() : undefined;
    items.push({
      dedupeKey: `boulevard:poll:${a.id}:${a.state}:${stamp}`,
      eventType: `boulevard:poll.appointment.${a.state}`,
      ...(occurredAt ? { occurredAt } : {}),
      vendor: {
        platform: PLATFORM,
        kind: 'poll.appointment',
        data: { appointment: a, ...(occurredAt ? { occurredAt } : {}) },
      },
    });
  }
  const stamp = new Date(now).toISOString();
  return { items, commit: () => writeState(db, clinic.id, PLATFORM, POLL_CURSOR, stamp) };
}

export const boulevardConnector: BookingConnector = {
  platform: PLATFORM,
  remoteBookingCheck: true,
  webhook: boulevardWebhook,
  resolve,
  poll,
  async hasUpcomingAppointment(ctx, q) {
    const api = requireRuntime(ctx);
    const now = api.runtime.now();
    const listed = await boulevardApi(api).appointments(boulevardClientFrom(q.clientExternalId, q.after));
    const next = listed
      .filter(
        (a) =>
          a.id !== q.excludeAppointmentId &&
          a.clientId === q.clientExternalId &&
          !a.cancelled &&
          BOULEVARD_BOOKED.has(a.state) &&
          atClinic(api, a) &&
          Date.parse(a.startAt) > Date.parse(q.after) &&
          Date.parse(a.startAt) < now + BOULEVARD_BOOKING_HORIZON_MS,
      )
      .sort((x, y) => Date.parse(x.startAt) - Date.parse(y.startAt))[0];
    return next
      ? { booked: true, appointmentId: next.id, startAt: new Date(next.startAt).toISOString() }
      : { booked: false };
  },
  async lookupClient(ctx, externalId) {
    const c = await boulevardApi(ctx).client(externalId);
    return c ? clientRecord(ctx, c) : undefined;
  },
  async serviceCatalog(ctx) {
    return boulevardApi(ctx).services();
  },
};
