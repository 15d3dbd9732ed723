/**
 * The Zenoti connector (REST API v1, API key per organisation's backend app; one center = one
 * clinic). Webhooks name appointments and guests, re-read when processed; the appointment's status
 * decides what it means (closed → treatment completed; booked/checked-in/confirmed in the future →
 * booked; cancelled, deleted or no-show → cancelled). Polling by date window is the safety net;
 * the booking check reads the guest's appointments. Endpoint paths are (unconfirmed): constants.ts.
 */
import { completedAppointmentIds } from '../../src/db/connector-store.js';
import { RebookError } from '../../src/errors.js';
import type { CanonicalEvent } from '../../src/ingest/events.js';
import type { InboxItem, VendorEvent } from '../../src/ingest/inbox.js';
import { createVendorHttp, type VendorHttp } from '../http.js';
import { SharedRateLimiter } from '../rate-budget.js';
import { requireCredential, vendorInstant } from '../shared.js';
import { type ApiContext, type BookingConnector, type ClientRecord, requireRuntime } from '../types.js';
import {
  ZENOTI_API_BASE,
  ZENOTI_BOOKED,
  ZENOTI_BOOKING_HORIZON_MS,
  ZENOTI_CANCELLED,
  ZENOTI_CATALOG_TTL_MS,
  ZENOTI_COMPLETED,
  ZENOTI_PLAN_PATHS,
  ZENOTI_PLAN_STATUS,
  ZENOTI_POLL_AHEAD_DAYS,
  ZENOTI_POLL_BACK_DAYS,
  ZENOTI_RATE_LIMIT,
  zenotiAuthorization,
} from './constants.js';
import { siteLocalDate } from './dates.js';
import {
  appointmentSchema,
  appointmentsResponse,
  guestMembershipsResponse,
  guestPackagesResponse,
  guestSchema,
  servicesResponse,
  type ZenotiAppointment,
  type ZenotiGuest,
  type ZenotiGuestMembership,
  type ZenotiGuestPackage,
} from './schemas.js';
import { zenotiWebhook } from './webhook.js';

const PLATFORM = 'zenoti';
const DAY = 86_400_000;

interface ZenotiApi {
  appointment(id: string): Promise<ZenotiAppointment | undefined>;
  appointments(q: { startDate: string; endDate: string }): Promise<ZenotiAppointment[]>;
  guestAppointments(guestId: string): Promise<ZenotiAppointment[]>;
  guest(id: string): Promise<ZenotiGuest | undefined>;
  services(): Promise<{ id: string; name: string; price: number | null }[]>;
  memberships(guestId: string): Promise<ZenotiGuestMembership[]>;
  packages(guestId: string): Promise<ZenotiGuestPackage[]>;
}

function zenotiApi(ctx: ApiContext): ZenotiApi {
  const { clinic, runtime, db } = ctx;
  return runtime.memo(`zenoti/${clinic.id}`, () => {
    const apiKey = requireCredential(clinic, 'apiKey', runtime.secrets);
    const centerId = clinic.connector!.centerId!;
    const http: VendorHttp = createVendorHttp({
      platform: PLATFORM,
      clinicId: clinic.id,
      baseURL: clinic.connector?.apiBaseUrl ?? ZENOTI_API_BASE,
      counter: runtime.counter,
      log: runtime.log,
      sleep: runtime.sleep,
      // One window per center across every process (the key is the organisation's: a group with
      // many centers shares it; unconfirmed whether Zenoti counts per key or per center).
      limiter: new SharedRateLimiter({ db, clinicId: clinic.id, platform: PLATFORM, rate: ZENOTI_RATE_LIMIT, runtime }),
      ...(runtime.retry ? { retry: runtime.retry } : {}),
      headers: async () => ({ authorization: zenotiAuthorization(apiKey), accept: 'application/json' }),
    });
    return {
      async appointment(id) {
        return http.request({ method: 'GET', url: `/appointments/${encodeURIComponent(id)}` }, appointmentSchema, {
          allow404: true,
        });
      },
      async appointments(q) {
        return (
          await http.request(
            {
              method: 'GET',
              url: '/appointments',
              params: { center_id: centerId, start_date: q.startDate, end_date: q.endDate },
            },
            appointmentsResponse,
          )
        ).appointments;
      },
      async guestAppointments(guestId) {
        return (
          await http.request(
            {
              method: 'GET',
              url: `/guests/${encodeURIComponent(guestId)}/appointments`,
              params: { center_id: centerId },
            },
            appointmentsResponse,
          )
        ).appointments;
      },
      async guest(id) {
        return http.request({ method: 'GET', url: `/guests/${encodeURIComponent(id)}` }, guestSchema, {
          allow404: true,
        });
      },
      // (unconfirmed paths) https://docs.zenoti.com — guest memberships and packages at the center.
      async memberships(guestId) {
        return (
          await http.request(
            { method: 'GET', url: ZENOTI_PLAN_PATHS.memberships(guestId), params: { center_id: centerId } },
            guestMembershipsResponse,
          )
        ).memberships;
      },
      async packages(guestId) {
        return (
          await http.request(
            { method: 'GET', url: ZENOTI_PLAN_PATHS.packages(guestId), params: { center_id: centerId } },
            guestPackagesResponse,
          )
        ).packages;
      },
      async services() {
        const out: { id: string; name: string; price: number | null }[] = [];
        for (let page = 1; ; page++) {
          const r = await http.request(
            { method: 'GET', url: `/centers/${encodeURIComponent(centerId)}/services`, params: { page, size: 100 } },
            servicesResponse,
          );
          out.push(...r.services.map((s) => ({ id: s.id, name: s.name, price: s.price_info?.sale_price ?? null })));
          if (r.services.length < 100 || !r.page_info || page * r.page_info.size >= r.page_info.total) return out;
        }
      },
    };
  });
}

const blank = (s: unknown) => (typeof s === 'string' && s.trim() ? s.trim() : null);

/** Zenoti's marketing preferences where the guest record has them; else the clinic's assumption. */
export function guestRecord(ctx: ApiContext, g: ZenotiGuest): ClientRecord {
  const assumed = ctx.clinic.connector?.assumedConsent ?? { sms: false, email: true };
  const p = g.preferences;
  return {
    id: g.id,
    firstName: blank(g.personal_info.first_name) ?? 'there',
    lastName: blank(g.personal_info.last_name) ?? '',
    email: blank(g.personal_info.email),
    phone: blank(g.personal_info.mobile_phone?.number),
    consent: {
      email: p?.receive_marketing_email ?? assumed.email,
      sms: p?.receive_marketing_sms ?? assumed.sms,
    },
  };
}

async function serviceNames(ctx: ApiContext) {
  const holder = ctx.runtime.memo(`zenoti/${ctx.clinic.id}/catalog`, () => ({
    at: Number.NEGATIVE_INFINITY,
    map: new Map<string, { name: string; price: number | null }>(),
  }));
  if (ctx.runtime.now() - holder.at > ZENOTI_CATALOG_TTL_MS) {
    holder.map = new Map((await zenotiApi(ctx).services()).map((s) => [s.id, { name: s.name, price: s.price }]));
    holder.at = ctx.runtime.now();
  }
  return holder.map;
}

const guestOf = (a: ZenotiAppointment) => a.guest?.id ?? a.guest_id ?? undefined;
/** Zenoti times are center-local without an offset (unconfirmed); with an offset they are taken as is. */
const instant = (ctx: ApiContext, t: string) => vendorInstant(t, ctx.clinic.timeZone);

async function fromAppointment(ctx: ApiContext, a: ZenotiAppointment, occurredAt?: string): Promise<CanonicalEvent[]> {
  if (a.center_id && a.center_id !== ctx.clinic.connector?.centerId) return [];
  const guestId = guestOf(a);
  if (!guestId) throw new RebookError('validation_failed', 'appointment has no guest');
  const now = ctx.runtime.now();
  const at = occurredAt ? { occurredAt } : {};
  if (ZENOTI_CANCELLED.has(a.status))
    return [{ type: 'appointment.cancelled', ...at, clientId: guestId, appointmentId: a.appointment_id }];
  const start = instant(ctx, a.start_time);
  if (ZENOTI_COMPLETED.has(a.status)) {
    const g = await zenotiApi(ctx).guest(guestId);
    if (!g) throw new RebookError('validation_failed', 'guest not found on re-read');
    const serviceId = a.service?.id ?? null;
    const fromCatalog = serviceId && !a.service?.name ? (await serviceNames(ctx)).get(serviceId) : undefined;
    const price = a.price ?? fromCatalog?.price ?? null;
    const end = a.end_time ? instant(ctx, a.end_time) : start;
    return [
      {
        type: 'treatment.completed',
        ...at,
        client: guestRecord(ctx, g),
        appointmentId: a.appointment_id,
        service: { id: serviceId, name: a.service?.name ?? fromCatalog?.name ?? 'unknown service' },
        completedAt: new Date(Math.min(Date.parse(end), now)).toISOString(),
        ...(price != null ? { price } : {}),
      },
    ];
  }
  if (ZENOTI_BOOKED.has(a.status) && Date.parse(start) > now)
    return [{ type: 'appointment.booked', ...at, clientId: guestId, appointmentId: a.appointment_id, startAt: start }];
  return [];
}

const planStatus = (s: string) => ZENOTI_PLAN_STATUS[s.trim().toLowerCase()] ?? 'expired';

/**
 * A guest's memberships and packages at this center, each as the client fact offers follow: a
 * membership's discount (on every service, or on the services it lists, classified at ingest), a
 * package's sessions left per service. Re-read whole on any plan event, so a missed one heals.
 */
async function guestPlans(ctx: ApiContext, guestId: string, occurredAt?: string): Promise<CanonicalEvent[]> {
  const api = zenotiApi(ctx);
  const here = (p: { center_id?: string | null | undefined }) =>
    !p.center_id || p.center_id === ctx.clinic.connector?.centerId;
  const at = occurredAt ? { occurredAt } : {};
  const when = (t: string | null | undefined) => (t ? instant(ctx, t) : null);
  const out: CanonicalEvent[] = [];
  for (const m of (await api.memberships(guestId)).filter(here)) {
    const d = m.discount;
    const benefits = !d
      ? []
      : d.applies_to === 'all'
        ? [{ percentOff: d.percentage }]
        : d.services.map((s) => ({ service: { id: s.id, name: s.name }, percentOff: d.percentage }));
    out.push({
      type: 'client.membership',
      ...at,
      clientId: guestId,
      plan: {
        id: `membership:${m.id}`,
        kind: 'membership',
        name: m.membership.name,
        status: planStatus(m.status),
        renewsAt: when(m.next_billing_date),
        endsAt: when(m.expiry_date),
        benefits,
      },
    });
  }
  for (const p of (await api.packages(guestId)).filter(here)) {
    out.push({
      type: 'client.membership',
      ...at,
      clientId: guestId,
      plan: {
        id: `package:${p.id}`,
        kind: 'package',
        name: p.package.name,
        status: planStatus(p.status),
        endsAt: when(p.expiry_date),
        benefits: p.services.map((s) => ({
          service: { id: s.service.id, name: s.service.name },
          creditsLeft: s.remaining_quantity,
        })),
      },
    });
  }
  return out;
}

async function resolve(ctx: ApiContext, e: VendorEvent): Promise<CanonicalEvent[]> {
  const occurredAt = typeof e.data.occurredAt === 'string' ? e.data.occurredAt : undefined;
  if (e.kind === 'webhook.plans') return guestPlans(ctx, String(e.data.guestId), occurredAt);
  if (e.kind === 'poll.appointment')
    return fromAppointment(ctx, appointmentSchema.parse(e.data.appointment), occurredAt);
  if (e.kind === 'webhook.guest') {
    const g = await zenotiApi(ctx).guest(String(e.data.guestId));
    if (!g) return [];
    const r = guestRecord(ctx, g);
    return [
      {
        type: 'client.updated',
        ...(occurredAt ? { occurredAt } : {}),
        createIfMissing: true,
        client: {
          id: r.id,
          ...(blank(g.personal_info.first_name) ? { firstName: r.firstName } : {}),
          lastName: r.lastName,
          email: r.email,
          phone: r.phone,
          // Zenoti's own flags always apply; the assumption only for a guest we first hear of.
          ...(g.preferences || e.data.created ? { consent: r.consent } : {}),
        },
      },
    ];
  }
  const ids = Array.isArray(e.data.appointmentIds) ? (e.data.appointmentIds as string[]) : [];
  const out: CanonicalEvent[] = [];
  for (const id of ids) {
    const a = await zenotiApi(ctx).appointment(id);
    if (!a) throw new RebookError('validation_failed', 'appointment not found on re-read');
    out.push(...(await fromAppointment(ctx, a, occurredAt)));
  }
  return out;
}

/**
 * Zenoti lists appointments by date, not by change: each poll reads a window around today and
 * keeps what is not already known in that state (the inbox dedupes on id + status + update time).
 */
async function poll(ctx: ApiContext) {
  const { db, clinic, runtime } = ctx;
  const now = runtime.now();
  const listed = await zenotiApi(ctx).appointments({
    startDate: siteLocalDate(now - ZENOTI_POLL_BACK_DAYS * DAY, clinic.timeZone),
    endDate: siteLocalDate(now + ZENOTI_POLL_AHEAD_DAYS * DAY, clinic.timeZone),
  });
  const done = await completedAppointmentIds(
    db,
    clinic.id,
    listed.filter((a) => ZENOTI_COMPLETED.has(a.status)).map((a) => a.appointment_id),
  );
  const items: InboxItem[] = [];
  for (const a of listed) {
    if (done.has(a.appointment_id)) continue;
    const stamp = a.last_updated_date ?? a.start_time;
    items.push({
      dedupeKey: `zenoti:poll:${a.appointment_id}:${a.status}:${stamp}`,
      eventType: `zenoti:poll.appointment.${a.status}`,
      vendor: { platform: PLATFORM, kind: 'poll.appointment', data: { appointment: a } },
    });
  }
  return { items, commit: async () => undefined };
}

export const zenotiConnector: BookingConnector = {
  platform: PLATFORM,
  remoteBookingCheck: true,
  webhook: zenotiWebhook,
  resolve,
  poll,
  async hasUpcomingAppointment(ctx, q) {
    const api = requireRuntime(ctx);
    const now = api.runtime.now();
    const next = (await zenotiApi(api).guestAppointments(q.clientExternalId))
      .filter((a) => a.appointment_id !== q.excludeAppointmentId && ZENOTI_BOOKED.has(a.status))
      .filter((a) => !a.center_id || a.center_id === api.clinic.connector?.centerId)
      .map((a) => ({ a, start: Date.parse(instant(api, a.start_time)) }))
      .filter(({ start }) => start > Date.parse(q.after) && start < now + ZENOTI_BOOKING_HORIZON_MS)
      .sort((x, y) => x.start - y.start)[0];
    return next
      ? { booked: true, appointmentId: next.a.appointment_id, startAt: new Date(next.start).toISOString() }
      : { booked: false };
  },
  async lookupClient(ctx, externalId) {
    const g = await zenotiApi(ctx).guest(externalId);
    return g ? guestRecord(ctx, g) : undefined;
  },
  async serviceCatalog(ctx) {
    return zenotiApi(ctx).services();
  },
};
