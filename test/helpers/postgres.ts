/**
 * A real PostgreSQL for tests that need separate processes sharing one database (PGlite is one
 * process's database). TEST_DATABASE_URL when set (CI starts a cluster); otherwise a throwaway
 * cluster from the installed server binaries, in a temp dir, on a free port. No server binaries:
 * an error saying what to install, never a silent skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface TestPostgres {
  url: string;
  /** A fresh, empty database on that server (tests sharing a server do not see each other's rows). */
  createDatabase(name: string): string;
  stop(): void;
  /** Stops and starts the server (same data, same port): a PostgreSQL restart. Absent for TEST_DATABASE_URL. */
  halt?(): void;
  resume?(): void;
}

function serverBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

export async function startTestPostgres(
  opts: {
    /** A throwaway cluster even when TEST_DATABASE_URL is set: for tests that stop and start it (halt/resume). */
    own?: boolean;
  } = {},
): Promise<TestPostgres> {
  const bin = serverBinDir();
  const given = opts.own ? undefined : process.env.TEST_DATABASE_URL;
  const psql = (url: string, sql: string) =>
    execFileSync(bin ? join(bin, 'psql') : 'psql', [url, '-v', 'ON_ERROR_STOP=1', '-qc', sql], { stdio: 'pipe' });
  const on = (base: string) => (name: string) => {
    psql(base, `drop database if exists ${name}`);
    psql(base, `create database ${name}`);
    const u = new URL(base);
    u.pathname = `/${name}`;
    return u.toString();
  };
  if (given) return { url: given, createDatabase: on(given), stop: () => undefined };
  if (!bin)
    throw new Error(
      'PostgreSQL is needed: set TEST_DATABASE_URL, or install the server (apt-get install postgresql), as .ci/run does',
    );
  const dir = mkdtempSync(join(tmpdir(), 'rebook-test-pg-'));
  const port = await freePort();
  // The server refuses to run as root: as root, run it as the `postgres` user the package created.
  const asPg = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const r = asPg
      ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { cwd: '/', encoding: 'utf8' })
      : spawnSync(join(bin, cmd), args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  if (asPg) {
    const ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(dir, Number(ids), Number(gid));
  }
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-locale', '--encoding=UTF8', '--no-sync']);
  const start = () =>
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off`,
      'start',
    ]);
  start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    createDatabase: on(url),
    halt: () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    resume: start,
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
