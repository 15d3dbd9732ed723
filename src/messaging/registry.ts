/**
 * Which provider sends for which clinic. Built once per process from the configuration and the
 * injected secrets (env-var values): a clinic whose credentials are present gets the real
 * provider, every other clinic the outbox. One SDK client per account, shared by its clinics.
 */

import type { LoadedConfig } from '../config/load.js';
import type { ClinicConfig } from '../config/schema.js';
import { createSendgridProvider } from './sendgrid/index.js';
import { createTwilioClient, createTwilioProvider, type TwilioClient } from './twilio/index.js';
import type { MessageProvider, ProviderSet } from './types.js';

export const TWILIO_STATUS_PATH = '/webhooks/twilio/status';
export const TWILIO_INBOUND_PATH = '/webhooks/twilio/inbound';
export const SENDGRID_EVENTS_PATH = '/webhooks/sendgrid/events';

export const publicUrl = (clinic: Pick<ClinicConfig, 'publicBaseUrl'>, path: string) =>
  clinic.publicBaseUrl ? `${clinic.publicBaseUrl.replace(/\/$/, '')}${path}` : undefined;

export interface ProviderRegistryOptions {
  secrets: NodeJS.ProcessEnv;
  /** Twilio https.Agent keep-alive (tests behind nock turn it off). */
  keepAlive?: boolean;
}

/** Twilio credentials per clinic, for the webhooks (the auth token signs Twilio's requests). */
export function twilioAccountOf(
  clinic: ClinicConfig,
  secrets: NodeJS.ProcessEnv,
): { accountSid: string; authToken: string } | undefined {
  const t = clinic.providers.twilio;
  if (!t) return undefined;
  const accountSid = secrets[t.accountSidEnv];
  const authToken = secrets[t.authTokenEnv];
  return accountSid && authToken ? { accountSid, authToken } : undefined;
}

export function createProviderRegistry(
  config: () => LoadedConfig,
  opts: ProviderRegistryOptions,
): (clinicId: string) => Partial<ProviderSet> | undefined {
  const twilioClients = new Map<string, TwilioClient>();
  const byClinic = new Map<string, { source: ClinicConfig; set: Partial<ProviderSet> }>();
  return (clinicId) => {
    const clinic = config().clinics.get(clinicId);
    if (!clinic) return undefined;
    const cached = byClinic.get(clinicId);
    if (cached && cached.source === clinic) return cached.set;
    const set: Partial<ProviderSet> = {};
    const account = twilioAccountOf(clinic, opts.secrets);
    if (account && clinic.providers.twilio) {
      let client = twilioClients.get(account.accountSid);
      if (!client) client = createTwilioClient({ ...account, keepAlive: opts.keepAlive });
      twilioClients.set(account.accountSid, client);
      set.sms = createTwilioProvider(
        {
          ...account,
          ...(clinic.providers.twilio.messagingServiceSid
            ? { messagingServiceSid: clinic.providers.twilio.messagingServiceSid }
            : { from: clinic.providers.twilio.from! }),
          statusCallbackUrl: publicUrl(clinic, TWILIO_STATUS_PATH),
        },
        client,
      );
    }
    const sg = clinic.providers.sendgrid;
    const apiKey = sg ? opts.secrets[sg.apiKeyEnv] : undefined;
    if (sg && apiKey) {
      set.email = createSendgridProvider({
        apiKey,
        from: sg.from,
        ...(sg.fromName ? { fromName: sg.fromName } : {}),
        ...(sg.unsubscribeGroupId ? { unsubscribeGroupId: sg.unsubscribeGroupId } : {}),
        sandbox: sg.sandbox,
        ...(sg.apiBaseUrl ? { apiBaseUrl: sg.apiBaseUrl } : {}),
      });
    }
    byClinic.set(clinicId, { source: clinic, set });
    return set;
  };
}

export type { MessageProvider };
