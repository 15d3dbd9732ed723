/**
 * Fault scenarios against a running stack (stack.ts). Each posts Botox treatments whose day-80
 * email is due now, breaks one thing while they are taken and sent, repairs it, waits for every
 * accepted event's stage to settle in the ledger, and counts:
 *   accepted       events answered 2xx (the vendor will not send them again);
 *   lost           accepted events whose due stage never reached the ledger;
 *   duplicated     recipients the provider took more than one send for (counted at the fake
 *                  provider's HTTP boundary: answered 2xx, or never answered — it may have sent);
 *   unconfirmed    ledger rows left `unconfirmed` (a crash between call and record: surfaced to staff);
 *   recoveredAfter ms from the repair to the last accepted event's stage settled.
 */
import { sql } from 'drizzle-orm';
import { rows } from '../../src/db/client.js';
import { API_KEY, type ChaosStack, CLINIC, FLOOD_KEY } from './stack.js';

export interface ScenarioResult {
  scenario: string;
  accepted: number;
  lost: number;
  duplicated: number;
  unconfirmed: number;
  recoveredAfterMs: number;
  /** Scenario-specific figures (answers during the fault, p99, …). */
  extra: Record<string, number | string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Botox treatment 80 days ago, so the day-80 reminder (10:00 in the clinic) fell due today. */
function treatment(stack: ChaosStack, tag: string, i: number) {
  const now = Date.now();
  const day = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: stack.zone }).format(ms);
  const offset =
    new Intl.DateTimeFormat('en-US', { timeZone: stack.zone, timeZoneName: 'longOffset' })
      .formatToParts(now)
      .find((p) => p.type === 'timeZoneName')!
      .value.slice(3) || '+00:00';
  return treatmentEvent(tag, i, `${day(now - 80 * 86_400_000)}T12:00:00${offset}`, { phone: '+12125550123' });
}

/** A synthetic client's Botox treatment for the events API (email consent only), keyed by run tag and number. */
export function treatmentEvent(tag: string, i: number, completedAt: string, contact: { phone?: string } = {}) {
  return {
    type: 'treatment.completed',
    eventId: `${tag}-treatment-${i}`,
    client: {
      id: `${tag}-client-${i}`,
      firstName: 'Sam',
      lastName: `Chaos${i}`,
      email: `${tag}-${i}@example.com`,
      ...contact,
      consent: { sms: false, email: true },
    },
    appointmentId: `${tag}-appt-${i}`,
    service: { name: 'Botox 20u' },
    completedAt,
  };
}

export async function post(
  stack: ChaosStack,
  body: unknown,
  key = API_KEY,
): Promise<{ status: number; ms: number; retryAfter?: string }> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${stack.server}/v1/clinics/${CLINIC}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - t0, retryAfter: res.headers.get('retry-after') ?? undefined };
  } catch {
    return { status: 0, ms: performance.now() - t0 };
  }
}

/** Ledger rows of this scenario's clients: recipient email → statuses. */
async function ledger(stack: ChaosStack, tag: string) {
  return rows<{ client: string; status: string }>(
    await stack.database.db.execute(
      sql`select c.external_id as client, m.status from messages m join clients c on c.id = m.client_id
          where m.clinic_id = ${CLINIC} and c.external_id like ${`${tag}-client-%`}`,
    ),
  );
}

const SETTLED_NOT = new Set(['sending', 'retry_pending']);

/**
 * Waits until each accepted client has a settled ledger row, or until none more settled for
 * `timeoutMs` (a backlog still draining is slow, not lost: the flood's 3,000 accepted took longer
 * than a fixed 10 minutes at load 20), then counts.
 */
async function settle(
  stack: ChaosStack,
  tag: string,
  accepted: Set<number>,
  repairedAt: number,
  timeoutMs: number,
): Promise<Omit<ScenarioResult, 'scenario' | 'extra'>> {
  let deadline = Date.now() + timeoutMs;
  let settledAt = Date.now();
  let lastPending = Number.POSITIVE_INFINITY;
  for (;;) {
    const rowsNow = await ledger(stack, tag).catch(() => []);
    const settled = new Set(rowsNow.filter((r) => !SETTLED_NOT.has(r.status)).map((r) => r.client));
    const pending = [...accepted].filter((i) => !settled.has(`${tag}-client-${i}`));
    if (pending.length < lastPending) {
      lastPending = pending.length;
      deadline = Date.now() + timeoutMs;
    }
    if (pending.length === 0 || Date.now() > deadline) {
      settledAt = Date.now();
      const calls = stack.fake.calls.filter((c) => c.to.startsWith(`${tag}-`) && c.status !== 503);
      const perRecipient = new Map<string, number>();
      for (const c of calls) perRecipient.set(c.to, (perRecipient.get(c.to) ?? 0) + 1);
      return {
        accepted: accepted.size,
        lost: pending.length,
        duplicated: [...perRecipient.values()].filter((n) => n > 1).length,
        unconfirmed: rowsNow.filter((r) => r.status === 'unconfirmed').length,
        recoveredAfterMs: settledAt - repairedAt,
      };
    }
    await sleep(250);
  }
}

async function postAll(stack: ChaosStack, tag: string, from: number, to: number, accepted: Set<number>) {
  const answers = await Promise.all(
    Array.from({ length: to - from }, (_, k) => post(stack, treatment(stack, tag, from + k))),
  );
  answers.forEach((a, k) => {
    if (a.status >= 200 && a.status < 300) accepted.add(from + k);
  });
  return answers;
}

/**
 * kill -9 the worker while sends are in flight (the provider answers slowly), start another: no
 * recipient is sent twice; the sends the dead worker had made are left `unconfirmed`.
 */
export async function workerKill(stack: ChaosStack, o: { clients: number; holdMs: number }): Promise<ScenarioResult> {
  const tag = `kill${Date.now().toString(36)}`;
  const accepted = new Set<number>();
  stack.fake.delayMs = o.holdMs;
  await postAll(stack, tag, 0, o.clients, accepted);
  const inFlight = () => stack.fake.calls.filter((c) => c.to.startsWith(`${tag}-`) && c.status === 0).length;
  const deadline = Date.now() + 120_000;
  while (inFlight() < Math.max(1, Math.floor(o.clients / 3)) && Date.now() < deadline) await sleep(50);
  const worker = stack.processes.filter((p) => p.name.startsWith('worker') && p.alive()).at(-1)!;
  stack.kill9(worker);
  await new Promise((r) => (worker.alive() ? worker.child.once('exit', r) : r(undefined)));
  stack.fake.delayMs = 0;
  const repairedAt = Date.now();
  stack.startWorker();
  const r = await settle(stack, tag, accepted, repairedAt, 240_000);
  // Calls the dead worker made and never heard back from (the provider took them).
  const unanswered = stack.fake.calls.filter((c) => c.to.startsWith(`${tag}-`) && c.status === 0).length;
  return {
    scenario: 'worker kill -9 with sends in flight',
    ...r,
    extra: {
      'sends in flight at kill': unanswered,
      // Reserved as `sending` but killed before the request left: also unconfirmed (at most once).
      'unconfirmed never sent': r.unconfirmed - unanswered,
    },
  };
}

/**
 * The Temporal server down while treatments arrive at a steady rate: every answer 2xx (queued in
 * the inbox), and once it is back every accepted treatment's sequence starts and sends.
 */
export async function temporalDown(
  stack: ChaosStack,
  o: {
    clients: number;
    downMs: number;
    /** The worker restarted while the cluster is down (a deploy, a reboot): it must wait for the cluster. */
    workerStartsDuringOutage?: boolean;
  },
): Promise<ScenarioResult> {
  const tag = `tdown${Date.now().toString(36)}`;
  const accepted = new Set<number>();
  const before = stack.processes.filter((p) => p.name.startsWith('worker') && p.alive());
  if (o.workerStartsDuringOutage) for (const w of before) await stack.terminate(w);
  await stack.stopTemporal();
  if (o.workerStartsDuringOutage) stack.startWorker();
  const statuses: number[] = [];
  const gap = o.downMs / o.clients;
  const t0 = Date.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < o.clients; i++) {
    pending.push(
      post(stack, treatment(stack, tag, i)).then((a) => {
        statuses.push(a.status);
        if (a.status >= 200 && a.status < 300) accepted.add(i);
      }),
    );
    await sleep(Math.max(0, t0 + (i + 1) * gap - Date.now()));
  }
  await Promise.all(pending);
  await stack.startTemporal();
  const repairedAt = Date.now();
  const r = await settle(stack, tag, accepted, repairedAt, 240_000);
  const stopped = new Set(o.workerStartsDuringOutage ? before : []);
  const workers = stack.processes.filter((p) => p.name.startsWith('worker') && !stopped.has(p));
  const workersAlive = workers.filter((p) => p.alive()).length;
  // A worker that died during the outage: its last words, so the cause is in the run's output.
  for (const w of workers.filter((p) => !p.alive()))
    process.stdout.write(
      `--- ${w.name} exited (${w.child.exitCode ?? w.child.signalCode})\n${w.output().slice(-4000)}\n`,
    );
  return {
    scenario: `Temporal down ${Math.round(o.downMs / 1000)} s, treatments arriving${o.workerStartsDuringOutage ? ', worker started during it' : ''}`,
    ...r,
    extra: {
      'answers non-2xx while down': statuses.filter((s) => s < 200 || s >= 300).length,
      'workers alive after': workersAlive,
    },
  };
}

/**
 * The provider failing (503) for a while: sends retry with backoff, none twice, all sent after
 * it recovers.
 */
export async function providerOutage(
  stack: ChaosStack,
  o: { clients: number; outageMs: number; mode: 'fail' | 'hang' },
): Promise<ScenarioResult> {
  const tag = `prov${o.mode}${Date.now().toString(36)}`;
  const accepted = new Set<number>();
  stack.fake.mode = o.mode;
  await postAll(stack, tag, 0, o.clients, accepted);
  await sleep(o.outageMs);
  stack.fake.mode = 'ok';
  const repairedAt = Date.now();
  const r = await settle(stack, tag, accepted, repairedAt, 15 * 60_000);
  const failed = stack.fake.calls.filter((c) => c.to.startsWith(`${tag}-`) && c.status !== 202).length;
  return {
    scenario: `provider ${o.mode === 'fail' ? '503' : 'hanging'} for ${Math.round(o.outageMs / 1000)} s`,
    ...r,
    extra: { 'provider calls refused or unanswered': failed },
  };
}

/**
 * PostgreSQL stopped and started while treatments arrive: answers 503 during the gap (the harness
 * retries them after it, as vendors do), nothing accepted is lost, the processes recover alone.
 */
export async function postgresRestart(
  stack: ChaosStack,
  o: { clients: number; downMs: number },
): Promise<ScenarioResult> {
  if (!stack.pg.halt || !stack.pg.resume) throw new Error('PostgreSQL restart needs a PostgreSQL the harness started');
  const tag = `pgdown${Date.now().toString(36)}`;
  const accepted = new Set<number>();
  const running = stack.processes.filter((p) => p.alive());
  stack.pg.halt();
  const statuses: number[] = [];
  const refused: number[] = [];
  const gap = o.downMs / o.clients;
  const t0 = Date.now();
  for (let i = 0; i < o.clients; i++) {
    const a = await post(stack, treatment(stack, tag, i));
    statuses.push(a.status);
    if (a.status >= 200 && a.status < 300) accepted.add(i);
    else refused.push(i);
    await sleep(Math.max(0, t0 + (i + 1) * gap - Date.now()));
  }
  stack.pg.resume();
  const repairedAt = Date.now();
  // The vendor's retries of what was refused.
  for (const i of refused) {
    for (let attempt = 0; attempt < 60; attempt++) {
      const a = await post(stack, treatment(stack, tag, i));
      if (a.status >= 200 && a.status < 300) {
        accepted.add(i);
        break;
      }
      await sleep(1000);
    }
  }
  const r = await settle(stack, tag, accepted, repairedAt, 240_000);
  const alive = running.filter((p) => p.alive()).length;
  return {
    scenario: `PostgreSQL stopped ${Math.round(o.downMs / 1000)} s, treatments arriving`,
    ...r,
    extra: {
      'answers 503 while down': statuses.filter((s) => s === 503).length,
      'other non-2xx while down': statuses.filter((s) => s !== 503 && (s < 200 || s >= 300)).length,
      'processes alive after (of running before)': `${alive}/${running.length}`,
    },
  };
}

/**
 * A flood on the events API at a fixed rate (open loop: requests are sent on schedule whatever
 * the answers) for a while, from one API key: the per-key limit and the in-flight cap answer
 * 429 with Retry-After for what is beyond them, the answers stay fast, and every event answered
 * 2xx is started and sent. Refused events are not retried here (the figure is what was taken).
 */
export async function flood(
  stack: ChaosStack,
  o: { ratePerSecond: number; durationMs: number; maxOpen?: number },
): Promise<ScenarioResult> {
  const tag = `flood${Date.now().toString(36)}`;
  const accepted = new Set<number>();
  const latencies: number[] = [];
  const statuses: number[] = [];
  let limitedWithoutRetryAfter = 0;
  const total = Math.round((o.ratePerSecond * o.durationMs) / 1000);
  const maxOpen = o.maxOpen ?? 256;
  const pending = new Set<Promise<void>>();
  // Built before the clock starts: the sender's own CPU must not set the pace.
  const bodies = Array.from({ length: total }, (_, i) => treatment(stack, tag, i));
  const t0 = Date.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / o.ratePerSecond;
    if (due > Date.now()) await sleep(due - Date.now());
    // At most maxOpen requests open (a sender's connection pool): beyond, the schedule slips and
    // the achieved rate says so.
    while (pending.size >= maxOpen) await Promise.race(pending);
    const p: Promise<void> = post(stack, bodies[i], FLOOD_KEY).then((a) => {
      pending.delete(p);
      latencies.push(a.ms);
      statuses.push(a.status);
      if (a.status >= 200 && a.status < 300) accepted.add(i);
      if (a.status === 429 && !(Number(a.retryAfter) > 0)) limitedWithoutRetryAfter++;
    });
    pending.add(p);
  }
  await Promise.all(pending);
  const seconds = (Date.now() - t0) / 1000;
  const repairedAt = Date.now();
  const r = await settle(stack, tag, accepted, repairedAt, 240_000);
  // Every request the server answered since the flood began is the flood's (settling reads the
  // database, not the API). Read after settling: a log line can reach us after its answer does.
  const inServer = stack.serverAnswers.filter((a) => a.at >= t0);
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => percentile(sorted, p);
  const byClass = (ms: number[], st: number[], want: (s: number) => boolean) =>
    ms.filter((_, k) => want(st[k]!)).sort((a, b) => a - b);
  const is2xx = (s: number) => s >= 200 && s < 300;
  const is429 = (s: number) => s === 429;
  const sent2xx = byClass(latencies, statuses, is2xx);
  const sent429 = byClass(latencies, statuses, is429);
  const srvMs = inServer.map((a) => a.ms);
  const srvSt = inServer.map((a) => a.status);
  const srv2xx = byClass(srvMs, srvSt, is2xx);
  const srv429 = byClass(srvMs, srvSt, is429);
  const serverFigures: Record<string, number> =
    inServer.length === 0
      ? {}
      : {
          'server: answers logged': inServer.length,
          'server: 2xx p50 ms': percentile(srv2xx, 50),
          'server: 2xx p99 ms': percentile(srv2xx, 99),
          'server: 429 p50 ms': percentile(srv429, 50),
          'server: 429 p99 ms': percentile(srv429, 99),
        };
  return {
    scenario: `flood: ${o.ratePerSecond} treatments/s for ${Math.round(o.durationMs / 1000)} s, one API key (events API)`,
    ...r,
    extra: {
      sent: total,
      'sent/s (achieved)': Math.round(total / seconds),
      'answers 429 (limited)': statuses.filter((s) => s === 429).length,
      '429 without Retry-After': limitedWithoutRetryAfter,
      'other non-2xx': statuses.filter((s) => s !== 429 && (s < 200 || s >= 300)).length,
      'answers by status': [...new Set(statuses)]
        .sort()
        .map((st) => `${st}:${statuses.filter((x) => x === st).length}`)
        .join(' '),
      'answer p50 ms': pct(50),
      'answer p99 ms': pct(99),
      // Per status as the sender saw them (its own queueing included)…
      '2xx p50 ms': percentile(sent2xx, 50),
      '2xx p99 ms': percentile(sent2xx, 99),
      '429 p50 ms': percentile(sent429, 50),
      '429 p99 ms': percentile(sent429, 99),
      // …and inside the server (fastify's responseTime; with the stack's requestLog only).
      ...serverFigures,
    },
  };
}

/** The p-th percentile of sorted values (nearest rank), rounded; -1 when there are none. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return -1;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
}

export function formatResult(r: ScenarioResult): string {
  const figures: Record<string, number | string> = {
    accepted: r.accepted,
    lost: r.lost,
    duplicated: r.duplicated,
    unconfirmed: r.unconfirmed,
    'recovered after (ms)': r.recoveredAfterMs,
    ...r.extra,
  };
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  return `${r.scenario}\n${Object.entries(figures)
    .map(([k, v]) => `  ${k.padEnd(width)}  ${String(v).padStart(8)}`)
    .join('\n')}`;
}
