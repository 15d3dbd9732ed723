/**
 * `rebook mindbody subscriptions <list|create|activate|delete> --clinic X [--webhook-url URL] [--id ID]`
 * Manages the developer account's webhook subscription. The create response is the only place
 * Mindbody shows `messageSignatureKey`: it is printed once, to be stored in the variable the
 * clinic config names (connector.credentials.webhookSignatureKey). A new subscription is
 * `PendingActivation`; Mindbody sends a HEAD to the URL before activation (we answer 200).
 * https://developers.mindbodyonline.com/WebhooksDocumentation#subscriptions
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { clinicOrThrow, loadConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/log.js';
import { ApiCallCounter, createVendorHttp } from '../http.js';
import { requireCredential } from '../shared.js';
import { MINDBODY_PUSH_API_BASE, MINDBODY_SUBSCRIBED_EVENTS } from './constants.js';
import { subscriptionListResponse, subscriptionSchema } from './schemas.js';

export async function subscriptionsCommand(
  argv: string[],
  env: { configDir: string; secrets: NodeJS.ProcessEnv; log: Logger; pushApiBase?: string },
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { clinic: { type: 'string' }, 'webhook-url': { type: 'string' }, id: { type: 'string' } },
  });
  const action = positionals[0];
  if (!values.clinic || !['list', 'create', 'activate', 'delete'].includes(action ?? '')) {
    out.write(
      'usage: rebook mindbody subscriptions <list|create|activate|delete> --clinic <id> [--webhook-url URL] [--id SUBSCRIPTION]\n',
    );
    return 2;
  }
  const clinic = clinicOrThrow(loadConfig(env.configDir), values.clinic);
  const apiKey = requireCredential(clinic, 'apiKey', env.secrets);
  const http = createVendorHttp({
    platform: 'mindbody',
    clinicId: clinic.id,
    baseURL: env.pushApiBase ?? MINDBODY_PUSH_API_BASE,
    counter: new ApiCallCounter(),
    log: env.log,
    headers: async () => ({ 'API-Key': apiKey }),
  });
  switch (action) {
    case 'list': {
      const r = await http.request({ method: 'GET', url: '/subscriptions' }, subscriptionListResponse);
      for (const s of r.items)
        out.write(`${s.subscriptionId}\t${s.status}\t${s.webhookUrl}\t${s.eventIds.join(',')}\n`);
      return 0;
    }
    case 'create': {
      if (!values['webhook-url'])
        throw new Error('--webhook-url is required (the public https URL of POST /webhooks/mindbody)');
      const s = await http.request(
        {
          method: 'POST',
          url: '/subscriptions',
          data: {
            eventIds: MINDBODY_SUBSCRIBED_EVENTS,
            eventSchemaVersion: 1,
            referenceId: clinic.id,
            webhookUrl: values['webhook-url'],
          },
        },
        subscriptionSchema,
      );
      out.write(`created ${s.subscriptionId} (${s.status})\n`);
      out.write(
        `messageSignatureKey (shown once; store it in ${clinic.connector?.credentials.webhookSignatureKey ?? 'the variable named by connector.credentials.webhookSignatureKey'}): ${s.messageSignatureKey ?? '(not returned)'}\n`,
      );
      out.write(`then: rebook mindbody subscriptions activate --clinic ${clinic.id} --id ${s.subscriptionId}\n`);
      return 0;
    }
    case 'activate': {
      if (!values.id) throw new Error('--id is required');
      const s = await http.request(
        { method: 'PATCH', url: `/subscriptions/${encodeURIComponent(values.id)}`, data: { status: 'Active' } },
        subscriptionSchema,
      );
      out.write(`${s.subscriptionId} ${s.status}\n`);
      return 0;
    }
    default: {
      if (!values.id) throw new Error('--id is required');
      await http.request({ method: 'DELETE', url: `/subscriptions/${encodeURIComponent(values.id)}` }, z.unknown());
      out.write(`deleted ${values.id}\n`);
      return 0;
    }
  }
}
