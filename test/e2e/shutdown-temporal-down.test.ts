/**
 * Shutdown with Temporal unreachable: the server's forwarder is stuck on a cluster that accepts
 * connections and never answers (the worst case: nothing fails fast), inbox rows are pending, and
 * stop() still returns within the drain bound, leaving the rows pending for the next process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { afterAll, expect, it } from 'vitest';
import { createConfigStore } from '../../src/config/store.js';
import { openDatabase } from '../../src/db/client.js';
import { inboxEvents } from '../../src/db/schema.js';
import { parseEnv } from '../../src/env.js';
import { createLogger } from '../../src/log.js';
import { runServer } from '../../src/processes.js';
import { loadTemporalSettings } from '../../src/temporal/settings.js';
import { API_KEY, connectorConfigDir, SECRETS } from '../helpers/connector-stack.js';

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A TCP server that accepts and never says a word: every gRPC call to it waits. */
async function silentServer(): Promise<{ server: Server; port: number }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => void sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { server, port: (server.address() as { port: number }).port };
}

it('stops within the drain bound with Temporal unreachable and leaves pending inbox rows for the next process', async () => {
  const configDir = connectorConfigDir();
  const dataDir = mkdtempSync(join(tmpdir(), 'rebook-drain-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanup.push(() => rmSync(configDir, { recursive: true, force: true }));
  const database = await openDatabase({ pgliteDir: join(dataDir, 'pglite') });
  cleanup.push(() => database.close());
  const { port } = await silentServer();
  const temporal = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${port}` }) });
  const drainMs = 1_500;
  const env = parseEnv({
    PORT: '0',
    HOST: '127.0.0.1',
    REBOOK_FORWARD_INTERVAL_MS: '100',
    REBOOK_SHUTDOWN_DRAIN_MS: String(drainMs),
    REBOOK_API_KEY: API_KEY,
  });
  const server = await runServer({
    env,
    settings: loadTemporalSettings('temporal.yaml', {}),
    database,
    config: createConfigStore(configDir),
    temporal,
    log: createLogger({ level: 'silent' }),
    secrets: SECRETS,
  });

  // Events arrive while the cluster does not answer: each is stored in the inbox and answered
  // "queued" once the call's deadline passes, instead of holding the answer.
  const answers = [];
  for (const i of [1, 2, 3]) {
    const res = await fetch(`${server.url}/v1/clinics/mb-clinic/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'treatment.completed',
        eventId: `drain-${i}`,
        client: {
          id: `c-${i}`,
          firstName: 'Drain',
          email: `drain${i}@example.com`,
          consent: { sms: false, email: true },
        },
        appointmentId: `a-${i}`,
        service: { name: 'Botox 20u' },
        completedAt: new Date(Date.now() - 86_400_000).toISOString(),
      }),
      signal: AbortSignal.timeout(20_000),
    });
    const body = await res.json();
    answers.push([res.status, body.results?.[0]?.status ?? body]);
  }
  expect(answers).toEqual([
    [202, 'queued'],
    [202, 'queued'],
    [202, 'queued'],
  ]);
  const stored = await database.db.select({ id: inboxEvents.id }).from(inboxEvents);
  // Let the forwarder claim them and get stuck on the silent cluster.
  const claimedBy = Date.now() + 10_000;
  for (;;) {
    const rows = await database.db.select().from(inboxEvents);
    if (rows.some((r) => r.lockedUntil)) break;
    if (Date.now() > claimedBy) throw new Error('the forwarder never claimed the rows');
    await new Promise((r) => setTimeout(r, 50));
  }

  const started = Date.now();
  await server.stop();
  const took = Date.now() - started;
  // No lower bound: since a forwarder pass gives up at the first row the cluster cannot take (and
  // releases the rest), the stop may come while a pass waits out its call deadline (then it waits
  // drainMs) or between passes (then at once). Either way it is bounded and loses nothing.
  expect(took).toBeLessThan(drainMs + 2_000);
  for (const { id } of stored) {
    const [row] = await database.db.select().from(inboxEvents).where(eq(inboxEvents.id, id));
    expect(row).toMatchObject({ status: 'pending' });
    expect(row!.payload).not.toBeNull();
  }
}, 60_000);
