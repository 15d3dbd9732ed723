/**
 * Many sleeping sequences under a worker with a small sticky cache: its memory must follow the
 * cache setting, not the number of sequences, and stay flat while they sleep; after kill -9 a new
 * worker must pick them up again (a history replay each, from the server).
 *
 * Treatments completed an hour ago are posted in batches through the events API (the ingest path
 * a connector or `rebook import` uses); each sequence plans and sleeps on its first timer (the
 * day-1 care touch). The worker's RSS (its process group) is sampled throughout. Then the worker
 * is killed, a booking is posted for a sample of the clients while no worker runs, a new worker
 * is started, and the time until the sample's sequences record the booking is measured.
 *   accepted       treatments answered 2xx;
 *   lost           accepted treatments whose sequence never reached its first timer, plus sampled
 *                  bookings never recorded by their sequence after the restart;
 *   duplicated     clients with more than one sequence row for the treatment, plus provider calls
 *                  (nothing is due: any send is one too many);
 *   recoveredAfter ms from the new worker's spawn to the last sampled sequence's booking recorded.
 */
import { sql } from 'drizzle-orm';
import { rows } from '../../src/db/client.js';
import { post, type ScenarioResult, treatmentEvent } from './scenarios.js';
import type { ChaosStack, Proc, WorkerTuning } from './stack.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SleepingOptions {
  sequences: number;
  /** Events per request (the events API takes up to 500, applied one after another). */
  batch: number;
  /** Requests open at once (the server refuses more than REBOOK_INGEST_MAX_IN_FLIGHT). */
  concurrency: number;
  /** The worker's sticky cache (maxCachedWorkflows) and any other worker setting. */
  tuning: Partial<WorkerTuning> & { maxCachedWorkflows: number };
  /**
   * Sending stops after this long (the N reached is reported): on a shared 2-core machine the
   * dev server plans a few sequences a second, and a run must end.
   */
  loadForMs?: number;
  /** Accepted but not yet sleeping at most this many: the sender waits (keeps the drain short). */
  maxAhead?: number;
  /** How long to watch the worker once every sequence sleeps. */
  observeMs: number;
  /** Clients given a booking across the restart. */
  resumeSample: number;
  rssEveryMs?: number;
  /** Gives up waiting for the sequences to plan after this long without one more planned. */
  stallMs?: number;
  /** Progress lines (started, planned, RSS) while it runs; the full run takes a while. */
  progress?: (line: string) => void;
}

export interface RssSample {
  atMs: number;
  mb: number;
}

/** Least-squares slope of the samples, in MB per minute. */
export function slopeMbPerMinute(samples: RssSample[]): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const mx = samples.reduce((a, s) => a + s.atMs, 0) / n;
  const my = samples.reduce((a, s) => a + s.mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.atMs - mx) * (s.mb - my);
    den += (s.atMs - mx) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60_000;
}

/** Sequence rows of this run's clients: how many sleep on a future timer, how many booked. */
async function sequenceCounts(stack: ChaosStack, tag: string) {
  const [c] = rows<{ sleeping: number; booked: number; rows: number; clients: number }>(
    await stack.database.db.execute(
      sql`select count(*) filter (where s.running and s.next_action_at > now())::int as sleeping,
                 count(*) filter (where s.outcome = 'booked')::int as booked,
                 count(*)::int as rows, count(distinct s.client_id)::int as clients
          from sequences s join clients c on c.id = s.client_id
          where s.clinic_id = ${'demo-clinic'} and c.external_id like ${`${tag}-client-%`}`,
    ),
  );
  return c ?? { sleeping: 0, booked: 0, rows: 0, clients: 0 };
}

/** Booked among the sampled clients. */
async function sampleBooked(stack: ChaosStack, tag: string, sample: number[]) {
  const ids = sample.map((i) => `${tag}-client-${i}`);
  const [c] = rows<{ n: number }>(
    await stack.database.db.execute(
      sql`select count(*)::int as n from sequences s join clients c on c.id = s.client_id
          where s.clinic_id = ${'demo-clinic'} and s.outcome = 'booked'
            and c.external_id in (${sql.join(
              ids.map((id) => sql`${id}`),
              sql`, `,
            )})`,
    ),
  );
  return c?.n ?? 0;
}

export async function sleepingSequences(stack: ChaosStack, o: SleepingOptions): Promise<ScenarioResult> {
  const tag = `sleep${Date.now().toString(36)}`;
  const say = o.progress ?? (() => undefined);
  const rssEvery = o.rssEveryMs ?? 5_000;
  const stallMs = o.stallMs ?? 180_000;

  // The worker this scenario measures: the stack's ones stopped, one started with the small cache.
  for (const w of stack.processes.filter((p) => p.name.startsWith('worker') && p.alive())) await stack.terminate(w);
  let worker: Proc = stack.startWorker(o.tuning);
  await stack.workerPolling(180_000, worker);

  const samples: RssSample[] = [];
  const t0 = Date.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push({ atMs: Date.now() - t0, mb: stack.rssMb(worker) });
      await sleep(rssEvery);
    }
  })();
  const rssStart = stack.rssMb(worker);

  // Load: batches of treatments, `concurrency` requests open at once.
  const completedAt = new Date(Date.now() - 3_600_000).toISOString();
  const accepted = new Set<number>();
  const statuses = new Map<number, number>();
  let next = 0;
  let sleepingNow = 0;
  const loadUntil = t0 + (o.loadForMs ?? Number.POSITIVE_INFINITY);
  const maxAhead = o.maxAhead ?? Number.POSITIVE_INFINITY;
  const sender = async () => {
    for (;;) {
      while (next - sleepingNow > maxAhead && Date.now() < loadUntil) await sleep(500);
      const from = next;
      if (from >= o.sequences || Date.now() >= loadUntil) return;
      next = Math.min(o.sequences, from + o.batch);
      const to = next;
      const events = Array.from({ length: to - from }, (_, k) => treatmentEvent(tag, from + k, completedAt));
      for (let attempt = 0; ; attempt++) {
        const a = await post(stack, { events });
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        if (a.status >= 200 && a.status < 300) {
          for (let k = from; k < to; k++) accepted.add(k);
          break;
        }
        // 429 (limits) or a timeout: sent again as a vendor would; the inbox drops what it already has.
        if (attempt >= 20) break;
        await sleep(1_000);
      }
    }
  };
  const loading = Promise.all(Array.from({ length: o.concurrency }, sender)).then(() => Date.now());
  let loadedAt: number | undefined;
  void loading.then((at) => (loadedAt = at));

  // Until every accepted treatment's sequence sleeps (or no progress for stallMs).
  let counts = await sequenceCounts(stack, tag);
  let lastProgress = Date.now();
  let lastSleeping = 0;
  let lastSay = 0;
  while (loadedAt === undefined || counts.sleeping < accepted.size) {
    await sleep(2_000);
    counts = await sequenceCounts(stack, tag);
    sleepingNow = counts.sleeping;
    if (counts.sleeping > lastSleeping) {
      lastSleeping = counts.sleeping;
      lastProgress = Date.now();
    }
    if (Date.now() - lastSay > 30_000) {
      lastSay = Date.now();
      const s = Math.round((Date.now() - t0) / 1000);
      say(
        `  ${s} s: ${accepted.size} accepted, ${counts.sleeping} sleeping, worker RSS ${samples.at(-1)?.mb.toFixed(0)} MB`,
      );
    }
    if (Date.now() - lastProgress > stallMs) break;
  }
  await loading;
  const sleepingAt = Date.now();
  const loadSeconds = ((loadedAt ?? sleepingAt) - t0) / 1000;
  const planSeconds = (sleepingAt - t0) / 1000;
  const sleepingBefore = counts.sleeping;

  // Watched while they sleep.
  await sleep(o.observeMs);
  sampling = false;
  await sampler;
  const lastWindow = samples.filter((s) => s.atMs >= Date.now() - t0 - Math.min(180_000, o.observeMs));
  const peak = Math.max(...samples.map((s) => s.mb));
  const rssEnd = samples.at(-1)?.mb ?? 0;

  // kill -9, bookings for a sample while no worker runs, a new worker.
  const sample = Array.from({ length: Math.min(o.resumeSample, accepted.size) }, (_, k) =>
    Math.floor((k * accepted.size) / Math.min(o.resumeSample, accepted.size)),
  ).filter((i) => accepted.has(i));
  stack.kill9(worker);
  await new Promise((r) => (worker.alive() ? worker.child.once('exit', r) : r(undefined)));
  const startAt = new Date(Date.now() + 7 * 86_400_000).toISOString();
  for (let k = 0; k < sample.length; k += 50) {
    const events = sample.slice(k, k + 50).map((i) => ({
      type: 'appointment.booked',
      eventId: `${tag}-booked-${i}`,
      clientId: `${tag}-client-${i}`,
      appointmentId: `${tag}-next-${i}`,
      startAt,
    }));
    const a = await post(stack, { events });
    if (a.status < 200 || a.status >= 300) throw new Error(`bookings answered ${a.status}`);
  }
  const restartedAt = Date.now();
  worker = stack.startWorker(o.tuning);
  await stack.workerPolling(180_000, worker);
  const pollingAfter = Date.now() - restartedAt;
  let firstBookedAfter: number | undefined;
  let booked = 0;
  const resumeDeadline = Date.now() + 600_000;
  while (Date.now() < resumeDeadline) {
    booked = await sampleBooked(stack, tag, sample);
    if (booked > 0) firstBookedAfter ??= Date.now() - restartedAt;
    if (booked >= sample.length) break;
    await sleep(500);
  }
  const recoveredAfterMs = Date.now() - restartedAt;
  const rssAfterRestart = stack.rssMb(worker);
  const after = await sequenceCounts(stack, tag);
  const sends = stack.fake.calls.filter((c) => c.to.startsWith(`${tag}-`)).length;

  return {
    scenario: `${accepted.size} of ${o.sequences} sleeping sequences, worker cache ${o.tuning.maxCachedWorkflows}, kill -9 and restart`,
    accepted: accepted.size,
    lost: accepted.size - sleepingBefore + (sample.length - booked),
    duplicated: after.rows - after.clients + sends,
    unconfirmed: 0,
    recoveredAfterMs,
    extra: {
      'answers by status': [...statuses.entries()]
        .sort()
        .map(([s, n]) => `${s}:${n}`)
        .join(' '),
      'accepted/s': Math.round(accepted.size / loadSeconds),
      'sleeping/s (planned to the first timer)': Math.round((sleepingBefore / planSeconds) * 10) / 10,
      'all sleeping after s': Math.round(planSeconds),
      'RSS MB at start': Math.round(rssStart),
      'RSS MB peak': Math.round(peak),
      'RSS MB at end': Math.round(rssEnd),
      [`RSS slope last ${Math.round(Math.min(180_000, o.observeMs) / 1000)} s (MB/min)`]:
        Math.round(slopeMbPerMinute(lastWindow) * 10) / 10,
      'RSS samples': samples.length,
      'bookings across restart': sample.length,
      'new worker polling after ms': pollingAfter,
      'first booking recorded after ms': firstBookedAfter ?? -1,
      'new worker RSS MB': Math.round(rssAfterRestart),
      'still sleeping after restart': after.sleeping,
    },
  };
}
