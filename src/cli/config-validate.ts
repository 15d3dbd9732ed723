/**
 * `rebook config validate [dir]`: loads the configuration as the processes do and prints every
 * error at once (file:line path: message; exit 1), then the warnings. With a database at hand
 * (DATABASE_URL, or the embedded one of `rebook dev`) it also lists the services seen in
 * treatments of the last 30 days that this configuration still cannot classify.
 */

import { parseArgs } from 'node:util';
import {
  ConfigError,
  type ConfigProblem,
  classificationRulesFor,
  type LoadedConfig,
  loadConfig,
} from '../config/load.js';
import { classifyService } from '../core/classify.js';
import type { Db } from '../db/client.js';
import type { Env } from '../env.js';
import { argumentError, type CommandContext } from './command.js';
import { openCommandDatabase } from './database.js';

const DAY_MS = 86_400_000;
export const UNMAPPED_WINDOW_DAYS = 30;

export const usage = `usage: rebook config validate [DIR]

Loads the configuration in DIR (default $REBOOK_CONFIG_DIR) as the processes do and prints every
error at once with its file, line and path (exit 1), then the warnings. With a database at hand
(DATABASE_URL, or the embedded one of \`rebook dev\`) it also lists the services seen in the last
${UNMAPPED_WINDOW_DAYS} days that no treatment type matches.
`;

export async function run(argv: string[], { env }: CommandContext): Promise<number> {
  let positionals: string[];
  try {
    ({ positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: {} }));
  } catch (err) {
    process.stderr.write(`rebook config validate: ${argumentError('config validate', err)}\n`);
    return 2;
  }
  if (positionals.length > 1) {
    process.stderr.write(`rebook config validate: one directory at most. See 'rebook config validate --help'.\n`);
    return 2;
  }
  return validateConfigCommand(positionals[0] ?? env.REBOOK_CONFIG_DIR, env);
}

const line = (p: ConfigProblem) => `${p.file}${p.line ? `:${p.line}` : ''} ${p.path || '(root)'}: ${p.message}`;

/** Services recorded as unclassified in the window that neither a staff mapping nor this configuration classifies. */
export async function unmappedServiceWarnings(
  db: Db,
  config: LoadedConfig,
  now = Date.now(),
): Promise<ConfigProblem[]> {
  // The query module loads the database layer: only when there is a database to read.
  const { unmappedServicesOf } = await import('../ingest/service-mappings.js');
  const out: ConfigProblem[] = [];
  const since = new Date(now - UNMAPPED_WINDOW_DAYS * DAY_MS);
  for (const clinic of config.clinics.values()) {
    const rules = classificationRulesFor(config, clinic);
    for (const s of await unmappedServicesOf(db, clinic.id, { since })) {
      if (classifyService({ id: s.serviceId, name: s.serviceName }, rules).matched) continue;
      out.push({
        file: config.clinicFiles.get(clinic.id) ?? clinic.id,
        path: 'services',
        message: `service "${s.serviceName}"${s.serviceId ? ` (id ${s.serviceId})` : ''} seen ${s.occurrences}× (last ${s.lastSeenAt.toISOString().slice(0, 10)}) matches no treatment type: add a synonym or service id, or map ${s.serviceKey} through the API`,
      });
    }
  }
  return out;
}

export async function validateConfigCommand(
  dir: string,
  env: Pick<Env, 'DATABASE_URL' | 'REBOOK_DATA_DIR'>,
): Promise<number> {
  let config: LoadedConfig;
  try {
    config = loadConfig(dir);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const warnings = [...config.warnings];
  let unmappedNote: string;
  try {
    const opened = await openCommandDatabase(env, 'read');
    if (!opened.database) unmappedNote = `unmapped services: not checked: ${opened.why}`;
    else {
      try {
        const found = await unmappedServiceWarnings(opened.database.db, config);
        warnings.push(...found);
        unmappedNote = `unmapped services of the last ${UNMAPPED_WINDOW_DAYS} days: ${found.length} (from ${opened.where})`;
      } finally {
        await opened.close();
      }
    }
  } catch (err) {
    unmappedNote = `unmapped services: not checked: the database could not be read (${(err as Error).name})`;
  }
  process.stdout.write(
    `config ok: ${Object.keys(config.catalog.treatmentTypes).length} treatment types, ${config.clinics.size} clinic(s), ${config.agencies.size} agency(ies)\n`,
  );
  if (warnings.length > 0)
    process.stdout.write(`${warnings.length} warning(s):\n${warnings.map((w) => `  ${line(w)}`).join('\n')}\n`);
  process.stdout.write(`${unmappedNote}\n`);
  return 0;
}
