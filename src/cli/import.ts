/**
 * `rebook import`: a booking platform's CSV export enrolled as treatments. The reading and
 * planning is the CSV connector's (connectors/csv/). Sends through the running server's /v1 events
 * API, so the import works the same against `rebook dev` and production. The server: --url, else
 * REBOOK_URL, else the running `rebook dev` of this checkout, else 127.0.0.1:PORT. The key: --key,
 * else the clinic's first `apiKeys` variable that is set, else the key that running `rebook dev`
 * generated (for REBOOK_API_KEY).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type ImportPlan, planImport, progressBar, rowProblems, sendImport } from '../../connectors/csv/import.js';
import { renderImportSummary } from '../../connectors/csv/import-summary.js';
import { CSV_FORMATS, type CsvFormat, parseMapping } from '../../connectors/csv/presets.js';
import { retryAfterMs } from '../../connectors/http.js';
import { clinicOrThrow, loadConfig } from '../config/load.js';
import { CsvFormatError } from '../csv/treatments.js';
import { type CanonicalEvent, type EventResult, IMPORT_SOURCE_HEADER } from '../ingest/events.js';
import { argumentError, type CommandContext } from './command.js';
import { discoveredDev } from './dev-discovery.js';

export const usage = `usage: rebook import --clinic ID [--format FORMAT] [--map field=Header,…] [--dry-run] [--url URL] [--key KEY] [--json] FILE.csv

  --clinic ID          clinic the treatments belong to
  --format FORMAT      ${CSV_FORMATS.join(', ')} (default generic): the platform's export columns
  --map LIST           field=Header pairs for columns the preset does not know
  --dry-run            print what each row would do; send nothing
  --url URL            the running server (default $REBOOK_URL, else the running \`rebook dev\`, else
                       http://127.0.0.1:$PORT)
  --key KEY            the API key (default: the clinic's first apiKeys variable that is set, else
                       the key the running \`rebook dev\` generated)
  --json               print the summary as JSON

Rows go through the server's events API, in batches of 200; when the server is busy (429, 502–504)
or unreachable, the batch is sent again after its Retry-After (up to 8 tries).
`;

export function run(argv: string[], { env, secrets }: CommandContext): Promise<number> {
  return importCommand(argv, {
    configDir: env.REBOOK_CONFIG_DIR,
    port: env.PORT,
    secrets,
    url: env.REBOOK_URL,
    dev: discoveredDev(env.REBOOK_DATA_DIR),
  });
}

export async function importCommand(
  argv: string[],
  env: {
    configDir: string;
    port: number;
    secrets: NodeJS.ProcessEnv;
    /** REBOOK_URL. */
    url?: string | undefined;
    /** The running `rebook dev` of this checkout (src/cli/dev-discovery.ts). */
    dev?: { url: string; generatedKey?: string | undefined } | undefined;
  },
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let parsed: ReturnType<typeof parseImportArgs>;
  try {
    parsed = parseImportArgs(argv);
  } catch (e) {
    err.write(`rebook import: ${argumentError('import', e)}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const file = positionals[0];
  if (!values.clinic || !file || !(CSV_FORMATS as readonly string[]).includes(values.format!)) {
    err.write(usage);
    return 2;
  }
  const config = loadConfig(env.configDir);
  const clinic = clinicOrThrow(config, values.clinic);
  let plan: ImportPlan;
  try {
    plan = planImport({
      text: readFileSync(file, 'utf8'),
      format: values.format as CsvFormat,
      mapping: parseMapping(values.map),
      clinic,
      config,
      now: Date.now(),
    });
  } catch (e) {
    if (!(e instanceof CsvFormatError)) throw e;
    err.write(`rebook import: ${file}: ${e.message}\n`);
    return 1;
  }
  for (const w of plan.warnings) err.write(`${w}\n`);
  if (values['dry-run']) {
    // Row numbers, ids, services and types only: no client names or contact details on screen.
    for (const r of plan.rows)
      out.write(
        `line ${r.line}\t${r.outcome}\t${r.outcome === 'enroll' ? `${r.treatmentType} from stage ${r.startsAt}` : r.reason}\t${r.service ?? ''}\n`,
      );
    const enroll = plan.rows.filter((r) => r.outcome === 'enroll').length;
    out.write(
      `dry run: ${plan.rows.length} rows, ${enroll} would be enrolled, ${plan.rows.length - enroll} skipped (nothing was sent)\n`,
    );
    return 0;
  }
  const keyEnvs = clinic.apiKeys.map((k) => k.env);
  const key =
    values.key ??
    keyEnvs.map((name) => env.secrets[name]).find(Boolean) ??
    // `rebook dev` puts the key it generated in REBOOK_API_KEY, in its own process only.
    (keyEnvs.includes('REBOOK_API_KEY') ? env.dev?.generatedKey : undefined);
  if (!key) {
    err.write(
      `rebook import: no API key: give --key, or set ${keyEnvs.length ? keyEnvs.join(' or ') : "a variable listed in the clinic's apiKeys"}\n`,
    );
    return 2;
  }
  const url = (values.url ?? env.url ?? env.dev?.url ?? `http://127.0.0.1:${env.port}`).replace(/\/+$/, '');
  const send = (events: CanonicalEvent[]): Promise<EventResult[]> =>
    postBatch(`${url}/v1/clinics/${encodeURIComponent(clinic.id)}/events`, key, events, (line) =>
      err.write(`${line}\n`),
    );
  for (const p of rowProblems(plan, file)) err.write(`${p}\n`);
  const summary = await sendImport(plan, send, progressBar(err as NodeJS.WriteStream));
  out.write(
    values.json
      ? `${JSON.stringify(summary)}\n`
      : renderImportSummary(summary, { clinicId: clinic.id, url, warnings: plan.warnings }),
  );
  return 0;
}

function parseImportArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      clinic: { type: 'string' },
      format: { type: 'string', default: 'generic' },
      map: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      url: { type: 'string' },
      key: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
}

/** How often a batch is sent again while the server says "later", and the longest wait between. */
const BATCH_ATTEMPTS = 8;
const MAX_WAIT_MS = 60_000;

/**
 * One batch to the events API. A busy server (429: its rate limit or its in-flight cap; 502–504:
 * a proxy in front of a restarting server) or one that cannot be reached is waited for — its
 * Retry-After, else 1, 2, 4… seconds — and the same batch is sent again, so an import of a large
 * export never stops half way because the clinic's webhooks were busy at the same moment. Events
 * are keyed by appointment: a batch applied in part before a failure answers `duplicate` for what
 * was already taken, never twice. Any other refusal (a bad key, a validation error) stops the import.
 */
export async function postBatch(
  url: string,
  key: string,
  events: CanonicalEvent[],
  say: (line: string) => void,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<EventResult[]> {
  for (let attempt = 1; ; attempt++) {
    let status = 0;
    let waitMs: number | undefined;
    let body: { results?: EventResult[]; error?: { code: string; message: string } } | undefined;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          [IMPORT_SOURCE_HEADER]: 'import',
        },
        body: JSON.stringify({ events }),
      });
      status = res.status;
      waitMs = retryAfterMs(res.headers.get('retry-after') ?? undefined);
      body = (await res.json().catch(() => undefined)) as typeof body;
      if (res.ok && body?.results) return body.results;
    } catch {
      // Unreachable (refused, reset): retried like a busy answer.
    }
    const busy = status === 0 || status === 429 || (status >= 502 && status <= 504);
    if (!busy || attempt >= BATCH_ATTEMPTS)
      throw new Error(
        status === 0
          ? `server unreachable at ${new URL(url).origin} after ${attempt} attempts`
          : `server answered ${status} ${body?.error?.code ?? ''}: ${body?.error?.message ?? ''}`,
      );
    const ms = Math.min(MAX_WAIT_MS, waitMs ?? 1000 * 2 ** (attempt - 1));
    say(
      `server ${status === 0 ? 'unreachable' : `busy (${status})`}: sending the batch again in ${Math.ceil(ms / 1000)} s`,
    );
    await sleep(ms);
  }
}
