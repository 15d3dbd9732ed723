/**
 * How one-shot commands find a running `rebook dev` of this checkout: it writes
 * `<data dir>/dev-server.json` (its URL and pid, mode 0600) once it listens and removes it when it
 * stops; the generated admin key is in `dev-secrets.json` next to it. A file left by a process
 * that died is ignored (its pid is gone).
 */
import { chmodSync, existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Env } from '../env.js';

const FILE = 'dev-server.json';

const devServerFile = z.object({
  url: z.url(),
  pid: z.number().int().positive(),
  /** Where the key `rebook dev` accepts came from: generated (dev-secrets.json) or REBOOK_API_KEY. */
  apiKeyFrom: z.enum(['dev-secrets', 'REBOOK_API_KEY']),
});

export type DevServerInfo = z.infer<typeof devServerFile>;

/** Announces this process's server; `remove` takes the file away again (only if it is still ours). */
export function announceDevServer(dataDir: string, info: DevServerInfo): { remove(): void } {
  const file = join(dataDir, FILE);
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  // The mode of writeFileSync applies to a new file only.
  chmodSync(file, 0o600);
  return {
    remove() {
      try {
        if (devServerFile.parse(JSON.parse(readFileSync(file, 'utf8'))).pid === info.pid) unlinkSync(file);
      } catch {
        // gone already, or another process's
      }
    },
  };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive but someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The `rebook dev` running on this data directory, if any. */
export function runningDevServer(dataDir: string): DevServerInfo | undefined {
  const file = join(dataDir, FILE);
  if (!existsSync(file)) return undefined;
  try {
    const info = devServerFile.parse(JSON.parse(readFileSync(file, 'utf8')));
    return info.pid !== process.pid && alive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/** The key a running `rebook dev` generated (undefined when it was started with its own REBOOK_API_KEY). */
export function devGeneratedKey(dataDir: string, dev: DevServerInfo): string | undefined {
  if (dev.apiKeyFrom !== 'dev-secrets') return undefined;
  try {
    const stored = JSON.parse(readFileSync(join(dataDir, 'dev-secrets.json'), 'utf8')) as { apiKey?: unknown };
    return typeof stored.apiKey === 'string' ? stored.apiKey : undefined;
  } catch {
    return undefined;
  }
}

export interface ApiTarget {
  url: string;
  key: string;
  /** How it was found, for the one line a command prints about it. */
  found: 'given' | 'rebook dev';
}

export type ApiTargetChoice = { target: ApiTarget } | { error: string } | { local: true };

/**
 * Where a command that can work on the database or through the API should go. Through the API
 * when --url/--key (or REBOOK_URL) are given, or when a running `rebook dev` holds the embedded
 * database; on the database otherwise. REBOOK_API_KEY alone does not switch (it is also the
 * variable `rebook dev` reads its key from, so it is often exported) but is the key's default.
 */
export function chooseApiTarget(
  given: { url?: string | undefined; key?: string | undefined },
  env: Pick<Env, 'REBOOK_URL' | 'REBOOK_API_KEY' | 'REBOOK_DATA_DIR' | 'DATABASE_URL'>,
): ApiTargetChoice {
  const dev = runningDevServer(env.REBOOK_DATA_DIR);
  const givenUrl = given.url ?? env.REBOOK_URL;
  if (!givenUrl && !given.key && (env.DATABASE_URL || !dev)) return { local: true };
  const url = givenUrl ?? dev?.url;
  if (!url)
    return {
      error: `no running \`rebook dev\` found in ${env.REBOOK_DATA_DIR}/: give the server with --url (or REBOOK_URL)`,
    };
  const key = given.key ?? env.REBOOK_API_KEY ?? (dev ? devGeneratedKey(env.REBOOK_DATA_DIR, dev) : undefined);
  if (!key)
    return {
      error: dev
        ? '`rebook dev` runs with the key from its own REBOOK_API_KEY: set the same variable here, or give --key'
        : '--key (or REBOOK_API_KEY) is required with --url',
    };
  return { target: { url: url.replace(/\/+$/, ''), key, found: givenUrl || given.key ? 'given' : 'rebook dev' } };
}

/** The running `rebook dev` of this data directory with the key it generated, for `rebook import`. */
export function discoveredDev(dataDir: string): { url: string; generatedKey?: string | undefined } | undefined {
  const dev = runningDevServer(dataDir);
  return dev ? { url: dev.url, generatedKey: devGeneratedKey(dataDir, dev) } : undefined;
}
