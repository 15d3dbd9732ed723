/**
 * The developer account's webhook subscriptions (Mindbody Push API). The create response is the
 * only place Mindbody shows `messageSignatureKey`, so it is handed back once for the caller to
 * show. A new subscription is `PendingActivation`; Mindbody sends a HEAD to the URL before
 * activation (we answer 200). The command is src/cli/mindbody-subscriptions.ts.
 * https://developers.mindbodyonline.com/WebhooksDocumentation#subscriptions
 */
import { z } from 'zod';
import type { ClinicConfig } from '../../src/config/schema.js';
import type { Logger } from '../../src/log.js';
import { ApiCallCounter, createVendorHttp } from '../http.js';
import { requireCredential } from '../shared.js';
import { MINDBODY_PUSH_API_BASE, MINDBODY_SUBSCRIBED_EVENTS } from './constants.js';
import { subscriptionListResponse, subscriptionSchema } from './schemas.js';

export type MindbodySubscription = z.infer<typeof subscriptionSchema>;

/** The Push API's subscription calls with the clinic's API key. */
export function mindbodySubscriptions(
  clinic: ClinicConfig,
  options: { secrets: NodeJS.ProcessEnv; log: Logger; pushApiBase?: string },
) {
  const apiKey = requireCredential(clinic, 'apiKey', options.secrets);
  const http = createVendorHttp({
    platform: 'mindbody',
    clinicId: clinic.id,
    baseURL: options.pushApiBase ?? MINDBODY_PUSH_API_BASE,
    counter: new ApiCallCounter(),
    log: options.log,
    headers: async () => ({ 'API-Key': apiKey }),
  });
  return {
    async list(): Promise<MindbodySubscription[]> {
      return (await http.request({ method: 'GET', url: '/subscriptions' }, subscriptionListResponse)).items;
    },
    create(webhookUrl: string): Promise<MindbodySubscription> {
      return http.request(
        {
          method: 'POST',
          url: '/subscriptions',
          data: {
            eventIds: MINDBODY_SUBSCRIBED_EVENTS,
            eventSchemaVersion: 1,
            referenceId: clinic.id,
            webhookUrl,
          },
        },
        subscriptionSchema,
      );
    },
    activate(id: string): Promise<MindbodySubscription> {
      return http.request(
        { method: 'PATCH', url: `/subscriptions/${encodeURIComponent(id)}`, data: { status: 'Active' } },
        subscriptionSchema,
      );
    },
    async remove(id: string): Promise<void> {
      await http.request({ method: 'DELETE', url: `/subscriptions/${encodeURIComponent(id)}` }, z.unknown());
    },
  };
}
