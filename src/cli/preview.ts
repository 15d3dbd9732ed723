/**
 * `rebook preview`: the timeline one treatment would produce, from the clinic's configuration
 * alone (no database, no Temporal): the same pure function the API's preview route runs.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Env } from '../env.js';
import { RebookError } from '../errors.js';
import { previewClinic } from '../preview/clinic.js';
import { renderPreview } from '../preview/render.js';
import { previewInput, previewRequestSchema, SAMPLE_CLIENT } from '../preview/request.js';
import { previewTimeline } from '../preview/timeline.js';
import { argumentError, type CommandContext } from './command.js';

export const PREVIEW_USAGE = `usage: rebook preview --clinic ID (--service NAME | --type KEY) --date DATE [options]

  --clinic ID          clinic whose configuration applies
  --service NAME       service name as the booking platform writes it ("Botox 20u")
  --type KEY           or a treatment type key (neuromodulator, lip_filler, …)
  --date DATE          treatment date: YYYY-MM-DD (local noon), "YYYY-MM-DD HH:MM" (clinic clock)
                       or an ISO 8601 instant
  --email ADDRESS      client's email     } without both: a sample client reachable
  --phone NUMBER       client's phone     } by email and SMS, consenting to both
  --consent LIST       sms,email | sms | email | none (default: the channels given)
  --name NAME          client's first name in the rendered text (default Alex)
  --price DOLLARS      treatment price (incentive tier)
  --session N[/M]      series types: the treatment was session N (of M, when not the catalog's)
  --time-zone ZONE     client's IANA time zone (send window)
  --json               print the JSON the API returns
  --config DIR         configuration directory (default $REBOOK_CONFIG_DIR)
`;

export const usage = PREVIEW_USAGE;

export function run(argv: string[], { env }: CommandContext): Promise<number> {
  return previewCommand(argv, env);
}

function fail(message: string, code = 2): number {
  process.stderr.write(`rebook preview: ${message}\n`);
  return code;
}

function parsePreviewArgs(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      clinic: { type: 'string' },
      service: { type: 'string' },
      type: { type: 'string' },
      date: { type: 'string' },
      email: { type: 'string' },
      phone: { type: 'string' },
      consent: { type: 'string' },
      name: { type: 'string' },
      price: { type: 'string' },
      session: { type: 'string' },
      'time-zone': { type: 'string' },
      json: { type: 'boolean', default: false },
      config: { type: 'string' },
    },
  });
}

export async function previewCommand(argv: string[], env: Pick<Env, 'REBOOK_CONFIG_DIR'>): Promise<number> {
  let values: ReturnType<typeof parsePreviewArgs>['values'];
  try {
    ({ values } = parsePreviewArgs(argv));
  } catch (err) {
    return fail(argumentError('preview', err));
  }
  if (!values.clinic || !values.date || (!values.service && !values.type))
    return fail(`--clinic, --date and --service or --type are required\n${PREVIEW_USAGE}`);
  let consent = { sms: !!values.phone, email: !!values.email };
  if (values.consent !== undefined) {
    const list = values.consent
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    if (list.some((c) => !['sms', 'email', 'none'].includes(c)))
      return fail('--consent takes sms, email, both (sms,email) or none');
    consent = { sms: list.includes('sms'), email: list.includes('email') };
  }
  const price = values.price === undefined ? undefined : Number(values.price.replace(/^\$/, ''));
  if (price !== undefined && !(price >= 0)) return fail('--price must be an amount in dollars');
  const sessionMatch = values.session === undefined ? undefined : /^(\d+)(?:\/(\d+))?$/.exec(values.session.trim());
  if (values.session !== undefined && !sessionMatch) return fail('--session takes N or N/M, e.g. 2 or 2/6');
  const given = values.email !== undefined || values.phone !== undefined;
  const request = {
    ...(values.type ? { treatmentType: values.type } : {}),
    ...(values.service ? { service: values.service } : {}),
    date: values.date,
    client: {
      ...(given
        ? { email: values.email ?? null, phone: values.phone ?? null, consent }
        : {
            email: SAMPLE_CLIENT.email,
            phone: SAMPLE_CLIENT.phone,
            consent: values.consent !== undefined ? consent : SAMPLE_CLIENT.consent,
          }),
      firstName: values.name ?? SAMPLE_CLIENT.firstName,
      ...(values['time-zone'] ? { timeZone: values['time-zone'] } : {}),
    },
    ...(price !== undefined ? { price } : {}),
    ...(sessionMatch
      ? { session: Number(sessionMatch[1]), ...(sessionMatch[2] ? { sessions: Number(sessionMatch[2]) } : {}) }
      : {}),
  };
  try {
    const parsed = previewRequestSchema.safeParse(request);
    if (!parsed.success)
      return fail(parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
    const config = loadConfig(values.config ?? env.REBOOK_CONFIG_DIR);
    const clinic = previewClinic(config, values.clinic);
    const result = previewTimeline(clinic, previewInput(parsed.data, clinic.timeZone));
    process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderPreview(result));
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message, 1);
    if (err instanceof RebookError)
      return fail(
        `${err.message}${err.details.issues ? `: ${err.details.issues.map((i) => i.message).join('; ')}` : ''}`,
        1,
      );
    throw err;
  }
}
