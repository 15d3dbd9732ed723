/**
 * The Vagaro connector. Webhooks are the primary feed: Vagaro's API cannot list appointments
 * by date publicly, so there is no polling and the booking check answers from the bookings we
 * received (like the generic connector). The API is used to re-read an appointment or a
 * customer a webhook did not fully describe.
 * https://docs.vagaro.com/public/reference
 */
import { knownClient } from '../../src/db/connector-store.js';
import { RebookError } from '../../src/errors.js';
import type { CanonicalEvent } from '../../src/ingest/events.js';
import type { VendorEvent } from '../../src/ingest/inbox.js';
import { genericConnector } from '../generic/index.js';
import { createVendorHttp, type VendorHttp } from '../http.js';
import { requireCredential, vendorInstant } from '../shared.js';
import type { ApiContext, BookingConnector, ClientRecord } from '../types.js';
import {
  VAGARO_API_BASE,
  VAGARO_BOOKED,
  VAGARO_CANCELLED,
  VAGARO_COMPLETED,
  VAGARO_NAIVE_TIME_ZONE,
  VAGARO_NO_SHOW,
  VAGARO_TOKEN_EARLY_RENEW_MS,
  VAGARO_TOKEN_SCOPE,
} from './constants.js';
import { type AppointmentPayload, appointmentResponse, customerResponse, tokenResponse } from './schemas.js';
import { vagaroWebhook } from './webhook.js';

const PLATFORM = 'vagaro';

interface VagaroClient {
  appointment(id: string): Promise<AppointmentPayload | undefined>;
  customer(id: string): Promise<
    | {
        customerId: string;
        customerFirstName?: string | null;
        customerLastName?: string | null;
        email?: string | null;
        mobilePhone?: string | null;
      }
    | undefined
  >;
}

function vagaroClient({ clinic, runtime }: ApiContext): VagaroClient {
  return runtime.memo(`vagaro/${clinic.id}`, () => {
    const region = clinic.connector?.region ?? 'us';
    const baseURL = `${clinic.connector?.apiBaseUrl ?? VAGARO_API_BASE}/${region}/api/v2`;
    const common = {
      platform: PLATFORM,
      clinicId: clinic.id,
      baseURL,
      counter: runtime.counter,
      log: runtime.log,
      sleep: runtime.sleep,
      ...(runtime.retry ? { retry: runtime.retry } : {}),
    };
    let token: { value: string; expiresAt: number } | undefined;
    const tokenHttp = createVendorHttp(common);
    // https://docs.vagaro.com/public/reference/generate-access-token
    async function accessToken(): Promise<string> {
      if (token && token.expiresAt > runtime.now()) return token.value;
      const r = await tokenHttp.request(
        {
          method: 'POST',
          url: '/merchants/generate-access-token',
          data: {
            clientId: requireCredential(clinic, 'clientId', runtime.secrets),
            clientSecretKey: requireCredential(clinic, 'clientSecret', runtime.secrets),
            scope: VAGARO_TOKEN_SCOPE,
          },
        },
        tokenResponse,
      );
      token = {
        value: r.data.access_token,
        expiresAt: runtime.now() + r.data.expires_in * 1000 - VAGARO_TOKEN_EARLY_RENEW_MS,
      };
      return token.value;
    }
    const http: VendorHttp = createVendorHttp({
      ...common,
      headers: async () => ({ accessToken: await accessToken() }),
      onUnauthorized: async () => {
        token = undefined;
        return true;
      },
    });
    return {
      // https://docs.vagaro.com/public/reference/get-appointment
      async appointment(id) {
        return (
          await http.request(
            { method: 'GET', url: `/merchants/appointments/${encodeURIComponent(id)}` },
            appointmentResponse,
            { allow404: true },
          )
        )?.data;
      },
      // (unconfirmed) customer read: https://docs.vagaro.com/public/reference/get-customer
      async customer(id) {
        return (
          await http.request(
            { method: 'GET', url: `/merchants/customers/${encodeURIComponent(id)}` },
            customerResponse,
            { allow404: true },
          )
        )?.data;
      },
    };
  });
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
const blank = (s: unknown) => (typeof s === 'string' && s.trim() ? s.trim() : null);

/** The client for a completed treatment: ours if we heard of them, else re-read from Vagaro. */
async function clientFor(ctx: ApiContext, customerId: string): Promise<ClientRecord> {
  const known = await knownClient(ctx.db, ctx.clinic.id, customerId);
  if (known)
    return {
      id: customerId,
      firstName: known.firstName,
      lastName: known.lastName,
      email: known.email,
      phone: known.phone,
      consent: { sms: known.consentSms, email: known.consentEmail },
    };
  const c = await vagaroClient(ctx).customer(customerId);
  if (!c || !blank(c.customerFirstName))
    throw new RebookError('validation_failed', 'customer unknown and not readable from the Vagaro API');
  // Vagaro exposes no marketing-consent flag: the clinic's configured assumption applies.
  const consent = ctx.clinic.connector?.assumedConsent ?? { sms: false, email: true };
  return {
    id: customerId,
    firstName: blank(c.customerFirstName)!,
    lastName: blank(c.customerLastName) ?? '',
    email: blank(c.email),
    phone: blank(c.mobilePhone),
    consent,
  };
}

async function resolve(ctx: ApiContext, e: VendorEvent): Promise<CanonicalEvent[]> {
  const d = e.data;
  const occurredAt = str(d.occurredAt);
  const at = occurredAt ? { occurredAt } : {};
  if (e.kind.startsWith('customer.')) {
    // Appointment events name only the customer id: keep the contact so a completion can use it.
    // Vagaro has no marketing-consent flag: a new customer gets the clinic's assumed consent,
    // updates never touch consent (an opt-out recorded by us must survive them).
    const consent =
      e.kind === 'customer.created'
        ? { consent: ctx.clinic.connector?.assumedConsent ?? { sms: false, email: true } }
        : {};
    return [
      {
        type: 'client.updated',
        ...at,
        createIfMissing: true,
        client: {
          ...consent,
          id: str(d.customerId)!,
          ...(blank(d.customerFirstName) ? { firstName: blank(d.customerFirstName)! } : {}),
          ...(typeof d.customerLastName === 'string' ? { lastName: d.customerLastName.trim() } : {}),
          ...(d.email !== undefined ? { email: blank(d.email) } : {}),
          ...(d.mobilePhone !== undefined ? { phone: blank(d.mobilePhone) } : {}),
        },
      },
    ];
  }
  let a: Record<string, unknown> = d;
  const appointmentId = str(d.appointmentId)!;
  // Fields we need and the delivery lacks: re-read the appointment.
  const status0 = str(a.bookingStatus);
  const needsTime = !status0 || VAGARO_COMPLETED.has(status0) || VAGARO_BOOKED.has(status0);
  if (!status0 || !str(a.customerId) || (needsTime && !str(a.startTime))) {
    const read = e.kind === 'appointment.deleted' ? undefined : await vagaroClient(ctx).appointment(appointmentId);
    if (read) a = { ...read, ...Object.fromEntries(Object.entries(d).filter(([, v]) => v != null)) };
  }
  const status = str(a.bookingStatus);
  const customerId = str(a.customerId);
  if (!customerId)
    throw new RebookError('validation_failed', 'customerId missing and not readable from the Vagaro API');
  if (e.kind !== 'appointment.deleted' && status && VAGARO_NO_SHOW.has(status))
    return [{ type: 'appointment.no_show', ...at, clientId: customerId, appointmentId }];
  if (e.kind === 'appointment.deleted' || (status && VAGARO_CANCELLED.has(status)))
    return [{ type: 'appointment.cancelled', ...at, clientId: customerId, appointmentId }];
  if (!status) throw new RebookError('validation_failed', 'bookingStatus missing and not readable from the Vagaro API');
  const start = str(a.startTime);
  if (VAGARO_COMPLETED.has(status)) {
    const endOrStart = str(a.endTime) ?? start;
    if (!endOrStart) throw new RebookError('validation_failed', 'appointment time missing');
    const completedAt = new Date(
      Math.min(Date.parse(vendorInstant(endOrStart, VAGARO_NAIVE_TIME_ZONE)), ctx.runtime.now()),
    ).toISOString();
    return [
      {
        type: 'treatment.completed',
        ...at,
        client: await clientFor(ctx, customerId),
        appointmentId,
        service: { id: str(a.serviceId) ?? null, name: str(a.serviceTitle) ?? 'unknown service' },
        completedAt,
        ...(typeof a.amount === 'number' ? { price: a.amount } : {}),
      },
    ];
  }
  if (VAGARO_BOOKED.has(status) && start) {
    const startAt = vendorInstant(start, VAGARO_NAIVE_TIME_ZONE);
    const reference = occurredAt ? Date.parse(occurredAt) : ctx.runtime.now();
    if (Date.parse(startAt) > reference)
      return [{ type: 'appointment.booked', ...at, clientId: customerId, appointmentId, startAt }];
  }
  return [];
}

export const vagaroConnector: BookingConnector = {
  platform: PLATFORM,
  webhook: vagaroWebhook,
  resolve,
  // No public appointment listing by date: the booking check uses the bookings we received.
  hasUpcomingAppointment: (ctx, q) => genericConnector.hasUpcomingAppointment(ctx, q),
  async lookupClient(ctx, externalId) {
    const c = await vagaroClient(ctx).customer(externalId);
    if (!c) return undefined;
    const consent = ctx.clinic.connector?.assumedConsent ?? { sms: false, email: true };
    return {
      id: externalId,
      firstName: blank(c.customerFirstName) ?? 'there',
      lastName: blank(c.customerLastName) ?? '',
      email: blank(c.email),
      phone: blank(c.mobilePhone),
      consent,
    };
  },
};
