/**
 * `rebook mindbody subscriptions`: lists, creates, activates and deletes the developer account's
 * webhook subscription through the Mindbody connector (connectors/mindbody/subscriptions.ts).
 * The signature key of a new subscription is printed once, with the variable to store it in.
 */
import { parseArgs } from 'node:util';
import { mindbodySubscriptions } from '../../connectors/mindbody/subscriptions.js';
import { clinicOrThrow, loadConfig } from '../config/load.js';
import { createLogger, type Logger, logFormatFor } from '../log.js';
import { argumentError, type CommandContext } from './command.js';

const ACTIONS = ['list', 'create', 'activate', 'delete'] as const;

export const usage = `usage: rebook mindbody subscriptions <list|create|activate|delete> --clinic ID [--webhook-url URL] [--id ID]

  list                 the account's subscriptions: id, status, URL, events
  create               a subscription to the events Rebook reads (--webhook-url: the public https
                       URL of POST /webhooks/mindbody); prints the signature key once
  activate             a pending subscription (--id), once Mindbody has checked the URL
  delete               a subscription (--id)
  --clinic ID          the Mindbody clinic whose API key variable is used
`;

export function run(argv: string[], { env, secrets }: CommandContext): Promise<number> {
  return subscriptionsCommand(argv, {
    configDir: env.REBOOK_CONFIG_DIR,
    secrets,
    log: createLogger({ level: env.LOG_LEVEL, format: logFormatFor(env, process.stdout.isTTY === true) }),
  });
}

export async function subscriptionsCommand(
  argv: string[],
  env: { configDir: string; secrets: NodeJS.ProcessEnv; log: Logger; pushApiBase?: string },
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let parsed: ReturnType<typeof parseSubscriptionArgs>;
  try {
    parsed = parseSubscriptionArgs(argv);
  } catch (e) {
    err.write(`rebook mindbody subscriptions: ${argumentError('mindbody subscriptions', e)}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const action = positionals[0];
  if (!values.clinic || !ACTIONS.some((a) => a === action)) {
    err.write(usage);
    return 2;
  }
  const clinic = clinicOrThrow(loadConfig(env.configDir), values.clinic);
  const api = mindbodySubscriptions(clinic, env);
  switch (action) {
    case 'list': {
      for (const s of await api.list())
        out.write(`${s.subscriptionId}\t${s.status}\t${s.webhookUrl}\t${s.eventIds.join(',')}\n`);
      return 0;
    }
    case 'create': {
      if (!values['webhook-url'])
        throw new Error('--webhook-url is required (the public https URL of POST /webhooks/mindbody)');
      const s = await api.create(values['webhook-url']);
      out.write(`created ${s.subscriptionId} (${s.status})\n`);
      out.write(
        `messageSignatureKey (shown once; store it in ${clinic.connector?.credentials.webhookSignatureKey ?? 'the variable named by connector.credentials.webhookSignatureKey'}): ${s.messageSignatureKey ?? '(not returned)'}\n`,
      );
      out.write(`then: rebook mindbody subscriptions activate --clinic ${clinic.id} --id ${s.subscriptionId}\n`);
      return 0;
    }
    case 'activate': {
      if (!values.id) throw new Error('--id is required');
      const s = await api.activate(values.id);
      out.write(`${s.subscriptionId} ${s.status}\n`);
      return 0;
    }
    default: {
      if (!values.id) throw new Error('--id is required');
      await api.remove(values.id);
      out.write(`deleted ${values.id}\n`);
      return 0;
    }
  }
}

function parseSubscriptionArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { clinic: { type: 'string' }, 'webhook-url': { type: 'string' }, id: { type: 'string' } },
  });
}
