/**
 * A real `rebook dev` (child process: embedded Temporal dev server, PGlite on disk, worker, HTTP
 * server) on ports chosen by environment variables, and the one-shot commands of the same
 * checkout working beside it: API keys created, listed and revoked through its API and through
 * `rebook keys` (found by itself, or given --url/--key), `rebook import` finding the generated key
 * and printing a table, an outbox email whose unsubscribe link reaches the listening server, a
 * second start naming the ports in use, and the announcement gone once it stops.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openDatabase } from '../../src/db/client.js';
import { createApiKey } from '../../src/server/api-keys.js';
import { temporalBinaries } from '../helpers/binaries.js';
import { callApi, until } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DAY = 86_400_000;
let dir: string;
let dataDir: string;
let configDir: string;
let ports: { http: number; temporal: number; ui: number };
let child: ChildProcess;
let stdout = '';
let stderr = '';
let exited: Promise<number | null>;
let url: string;
let devKey: string;
let agencyKey: string;
/** A fixed-offset zone where it is about noon now, so the demo clinic's send window is open. */
let zone: { name: string; offsetHours: number };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a shell in this checkout: no key of its own, no database URL. */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { DATABASE_URL: _d, REBOOK_API_KEY: _k, REBOOK_URL: _u, ...rest } = process.env;
  return {
    ...rest,
    REBOOK_DATA_DIR: dataDir,
    REBOOK_CONFIG_DIR: configDir,
    TEMPORAL_CLI_PATH: temporalBinaries().cli,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

function rebook(args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: shellEnv(extra) },
      (err, out, errOut) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: out, stderr: errOut }),
    ),
  );
}

const api = (method: string, path: string, key: string, body?: unknown) => callApi(url, key, method, path, body);

function demoClinic(): string {
  const local = new Date(Date.now() + zone.offsetHours * 3_600_000 - 2 * 60_000);
  const sendTime = local.toISOString().slice(11, 16);
  return readFileSync(join(ROOT, 'config/clinics/demo-clinic.yaml'), 'utf8')
    .replace(/^timeZone: .*$/m, `timeZone: ${zone.name}`)
    .replace(/^sendTime: .*$/m, `sendTime: "${sendTime}"`)
    .replace(
      /^sendWindow: .*$/m,
      'sendWindow: { days: [sun, mon, tue, wed, thu, fri, sat], start: "08:00", end: "20:00" }',
    );
}

beforeAll(async () => {
  const offsetHours = 12 - new Date().getUTCHours();
  // Etc/GMT-N is UTC+N (POSIX sign).
  zone = {
    name: offsetHours === 0 ? 'Etc/UTC' : `Etc/GMT${offsetHours > 0 ? '-' : '+'}${Math.abs(offsetHours)}`,
    offsetHours,
  };
  dir = mkdtempSync(join(tmpdir(), 'rebook-dev-keys-'));
  dataDir = join(dir, 'data');
  configDir = join(dir, 'config');
  mkdirSync(join(configDir, 'clinics'), { recursive: true });
  mkdirSync(join(configDir, 'agencies'));
  mkdirSync(dataDir);
  writeFileSync(join(configDir, 'catalog.yaml'), readFileSync(join(ROOT, 'config/catalog.yaml'), 'utf8'));
  writeFileSync(join(configDir, 'agencies', 'glow.yaml'), 'name: Glow Group\n');
  writeFileSync(
    join(configDir, 'clinics', 'glow-east.yaml'),
    'id: glow-east\nname: Glow East\nagency: glow\ntimeZone: America/Chicago\nbookingUrl: https://book.example.com/east\naddress: 1 Main Street\n',
  );
  writeFileSync(join(configDir, 'clinics', 'demo-clinic.yaml'), demoClinic());
  // An agency key made on the database before dev holds it, as `rebook keys create` would.
  const database = await openDatabase({ pgliteDir: join(dataDir, 'pglite') });
  agencyKey = (await createApiKey(database.db, loadConfig(configDir), { agencyId: 'glow', role: 'admin' })).key;
  await database.close();

  ports = { http: await freePort(), temporal: await freePort(), ui: await freePort() };
  child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dev'], {
    cwd: ROOT,
    env: shellEnv({
      PORT: String(ports.http),
      HOST: '127.0.0.1',
      REBOOK_TEMPORAL_PORT: String(ports.temporal),
      REBOOK_TEMPORAL_UI_PORT: String(ports.ui),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 100_000;
  while (!/Rebook is running/.test(stdout)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`rebook dev did not start:\n${stdout}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  url = /API\s+(http:\/\/\S+?)\/v1\//.exec(stdout)![1]!;
  devKey = /API key\s+(rbk_dev_\S+)/.exec(stdout)![1]!;
}, 150_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

it('listens where the variables say, prints it, and announces itself to the checkout (0600)', async () => {
  expect(url).toBe(`http://127.0.0.1:${ports.http}`);
  // The line goes on to say whether the UI decodes payloads through our codec endpoint.
  expect(stdout).toContain(`Temporal UI  http://127.0.0.1:${ports.ui}  (frontend 127.0.0.1:${ports.temporal};`);
  expect((await fetch(`http://127.0.0.1:${ports.ui}/`)).status).toBe(200);
  const file = join(dataDir, 'dev-server.json');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ url, pid: child.pid, apiKeyFrom: 'dev-secrets' });
  expect(JSON.parse(readFileSync(join(dataDir, 'dev-secrets.json'), 'utf8')).apiKey).toBe(devKey);
});
it('prints the console URL with a one-time link that lets the first admin choose a password and work', async () => {
  const line = /Console\s+(\S+)\s+\(one-time link: choose a password\)/.exec(stdout);
  expect(line).not.toBeNull();
  const link = line![1]!;
  expect(link.startsWith(`${url}/app/link/`)).toBe(true);
  const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]!);

  const form = await fetch(link);
  expect(form.status).toBe(200);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  expect(csrf).toBeTruthy();
  const password = 'a long dev password 1';
  const chosen = await fetch(link, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(form).join('; ') },
    body: new URLSearchParams({ _csrf: csrf!, password, confirm: password }).toString(),
  });
  expect(chosen.status).toBe(303);
  const session = cookiesOf(chosen).filter((c) => !c.endsWith('='));
  expect(session.length).toBeGreaterThan(0);

  const landing = await fetch(new URL(chosen.headers.get('location')!, url), {
    headers: { cookie: session.join('; ') },
  });
  expect(landing.status).toBe(200);
  expect(await landing.text()).toContain('Call list');
  // The link works once.
  expect((await fetch(link)).status).toBe(410);
});

describe('API keys while rebook dev runs', () => {
  it('through the API: created (shown once), listed, revoked; the revoked key gets 401', async () => {
    const created = await api('POST', '/v1/clinics/demo-clinic/api-keys', devKey, {
      role: 'staff',
      label: 'front desk',
    });
    expect(created.status).toBe(201);
    const { key, apiKey } = created.body;
    expect(apiKey).toMatchObject({ clinicId: 'demo-clinic', agencyId: null, role: 'staff', label: 'front desk' });
    expect((await api('GET', '/v1/clinics/demo-clinic/messages', key)).status).toBe(200);
    const listed = await api('GET', '/v1/api-keys', devKey);
    expect(listed.body.apiKeys.map((k: { id: string }) => k.id)).toContain(apiKey.id);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect((await api('DELETE', `/v1/api-keys/${apiKey.id}`, devKey)).status).toBe(200);
    expect(await api('GET', '/v1/clinics/demo-clinic/messages', key)).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthorized' } },
    });

    const agencyWide = await api('POST', '/v1/agencies/glow/api-keys', agencyKey, {});
    expect(agencyWide).toMatchObject({ status: 201, body: { apiKey: { agencyId: 'glow', clinicId: null } } });
    expect((await api('POST', '/v1/agencies/glow/api-keys', devKey, {})).status).toBe(404);
    expect((await api('POST', '/v1/clinics/glow-east/api-keys', devKey, {})).status).toBe(404);
  });

  it('through `rebook keys`, which finds the running dev and its key by itself', async () => {
    const created = await rebook(['keys', 'create', '--clinic', 'demo-clinic', '--label', 'cli']);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^rbk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const id = key.split('_')[1]!;
    expect(created.stderr).toContain(`through the running rebook dev at ${url}`);
    expect(created.stderr).toContain(`created key ${id}: admin of clinic demo-clinic`);
    expect((await api('GET', '/v1/clinics/demo-clinic/messages', key)).status).toBe(200);

    const listed = await rebook(['keys', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^id\s+role\s+agency\s+clinic\s+label/);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+admin\\s+-\\s+demo-clinic\\s+cli`, 'm'));

    expect(await rebook(['keys', 'revoke', id])).toMatchObject({ code: 0, stdout: `revoked ${id}\n` });
    expect((await api('GET', '/v1/clinics/demo-clinic/messages', key)).status).toBe(401);
    const again = await rebook(['keys', 'revoke', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no live key "${id}"`);
  }, 120_000);

  it('through `rebook keys --url --key` (and REBOOK_URL / REBOOK_API_KEY) with an agency key', async () => {
    const created = await rebook([
      'keys',
      'create',
      '--agency',
      'glow',
      '--role',
      'staff',
      '--url',
      url,
      '--key',
      agencyKey,
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('staff of agency glow');
    const listed = await rebook(['keys', 'list', '--all'], { REBOOK_URL: url, REBOOK_API_KEY: agencyKey });
    expect(listed.code, listed.stderr).toBe(0);
    const rows = listed.stdout.trim().split('\n').slice(1);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.every((r) => /^\S+\s+(admin|staff)\s+glow\s/.test(r))).toBe(true);
    const refused = await rebook([
      'keys',
      'create',
      '--agency',
      'glow',
      '--url',
      url,
      '--key',
      'rbk_000000000000_wrong',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/answered 401 unauthorized/);
  }, 120_000);
});

it('`rebook import` finds the generated key and prints a table; --json keeps the machine form', async () => {
  const file = join(dir, 'visits.csv');
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  writeFileSync(
    file,
    [
      'appointment_id,client_id,first_name,last_name,email,service,date,status',
      `imp-1,imp-c1,Ines,Okafor,ines@example.com,Botox 20u,${day(Date.now() - 10 * DAY)},completed`,
      `imp-2,imp-c2,Theo,Larsen,theo@example.com,Botox 20u,${day(Date.now() - 12 * DAY)},cancelled`,
      `imp-3,imp-c3,Mara,Quint,mara@example.com,Botox 20u,${day(Date.now() - 300 * DAY)},completed`,
    ].join('\n'),
  );
  const run = await rebook(['import', '--clinic', 'demo-clinic', '--format', 'generic', file]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toContain(`Imported 3 row(s) into demo-clinic through ${url}`);
  expect(run.stdout).toMatch(/^\s+enrolled\s+1\s/m);
  expect(run.stdout).toMatch(/^\s+skipped\s+2$/m);
  expect(run.stdout).toMatch(/^\s+not_completed\s+1\s+not a completed visit/m);
  expect(run.stdout).toMatch(/^\s+window_passed\s+1\s/m);
  expect(run.stdout).not.toMatch(/Ines|Okafor|example\.com|^\{/m);

  const again = await rebook(['import', '--clinic', 'demo-clinic', '--format', 'generic', '--json', file]);
  expect(again.code, again.stderr).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ rows: 3, enrolled: 0, duplicates: 1 });
}, 120_000);

it('an outbox email’s unsubscribe link points at the listening server and answers', async () => {
  // Treated 80 days ago: the reminder email is due two minutes ago (sendTime), inside the window.
  const enrolled = await api('POST', '/v1/clinics/demo-clinic/events', devKey, {
    type: 'treatment.completed',
    client: { id: 'unsub-1', firstName: 'Lena', email: 'lena@example.com', consent: { sms: false, email: true } },
    appointmentId: 'unsub-1-a',
    service: { name: 'Botox 20u' },
    completedAt: new Date(Date.now() - 80 * DAY - 3 * 3_600_000).toISOString(),
  });
  expect(enrolled.body.results[0]).toMatchObject({ enrolled: true });
  const email = await until('the reminder in the outbox', async () => {
    const r = await api('GET', '/v1/clinics/demo-clinic/messages?clientId=unsub-1', devKey);
    // The ledger row is written as 'sending' before the provider call and settled after it, so a
    // poll can land between the two; wait for the settled row rather than the first one seen.
    return r.body.messages.find(
      (m: { channel: string; body: string | null; status: string }) =>
        m.channel === 'email' && m.body && m.status !== 'sending',
    );
  });
  expect(email.status).toBe('outbox');
  const link = /(http\S+\/unsubscribe\/\S+)/.exec(email.body)![1]!;
  expect(link.startsWith(`${url}/unsubscribe/`)).toBe(true);
  const page = await fetch(link);
  expect(page.status).toBe(200);
  expect(await page.text()).toMatch(/<form/i);
}, 90_000);

it('a second start names every port in use and the variable that moves it', async () => {
  const second = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dev'], {
    cwd: ROOT,
    env: shellEnv({
      REBOOK_DATA_DIR: join(dir, 'second'),
      PORT: String(ports.http),
      REBOOK_TEMPORAL_PORT: String(ports.temporal),
      REBOOK_TEMPORAL_UI_PORT: String(ports.ui),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  second.stderr!.on('data', (d) => (err += d));
  const code = await new Promise((resolve) => second.once('exit', resolve));
  expect(code).toBe(1);
  expect(err).toContain(`port ${ports.http} on 127.0.0.1 (the HTTP API) is already in use`);
  expect(err).toContain('PORT=<port>');
  expect(err).toContain(`port ${ports.temporal} on 127.0.0.1 (the Temporal dev server) is already in use`);
  expect(err).toContain('REBOOK_TEMPORAL_PORT=<port>');
  expect(err).toContain('REBOOK_TEMPORAL_UI_PORT=<port>');
}, 60_000);

it('stops on SIGTERM and takes its announcement away', async () => {
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(existsSync(join(dataDir, 'dev-server.json'))).toBe(false);
  // Without a running dev, `rebook keys` works on the database again.
  const listed = await rebook(['keys', 'list', '--agency', 'glow']);
  expect(listed.code, listed.stderr).toBe(0);
  expect(listed.stderr).not.toContain('through the running rebook dev');
}, 60_000);
