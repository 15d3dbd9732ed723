/**
 * `rebook demo`: the demo clinic's first 130 days in about a minute. The story's inputs enter
 * where production's do (the ingest service for treatments and bookings, the inbound SMS handler
 * for replies); after each clinic day the ledger, the staff tasks, the replies and the workflows'
 * status are read back and printed. Nothing printed comes from the story's own expectations.
 */
import type { Writable } from 'node:stream';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { SequenceStatus } from '../../workflows/definitions.js';
import { treatmentTypesFor } from '../config/load.js';
import { addDays, fromLocal, localDate, parseClock } from '../core/zoned-time.js';
import {
  appointments,
  clientChannels,
  clients,
  inboundMessages,
  incentives,
  messages,
  sequences,
  staffTasks,
} from '../db/schema.js';
import type { CanonicalEvent } from '../ingest/events.js';
import { type DemoEngine, startDemoEngine } from './engine.js';
import {
  type Calendar,
  type DemoEvent,
  dateLabel,
  dayBlock,
  type LedgerTotals,
  type NextAction,
  type SequenceSummary,
  summary,
} from './print.js';
import {
  DEMO_CLIENTS,
  DEMO_CLINIC,
  DEMO_DAYS,
  DEMO_INPUTS,
  DEMO_START,
  type DemoClient,
  type DemoInput,
} from './story.js';

export interface DemoIo {
  stdout: Writable;
  stderr: Writable;
  env?: NodeJS.ProcessEnv;
}

/** Ledger statuses a client never received: they are not counted as sent. */
const NOT_DELIVERED = new Set(['rejected', 'failed', 'undelivered', 'bounced', 'dropped', 'retry_pending', 'sending']);

const NEXT_STATUS_EVENTS = new Set(['planned', 'restarted', 'snoozed', 'suppressed', 'deferred']);

/** Plays the story to io.stdout; 0, or 1 with the reason on io.stderr. `configDir` defaults to $REBOOK_CONFIG_DIR, else config. */
export async function demoCommand(options: { configDir?: string | undefined }, io: DemoIo): Promise<number> {
  const env = io.env ?? process.env;
  const started = performance.now();
  try {
    const engine = await startDemoEngine({
      configDir: options.configDir ?? env.REBOOK_CONFIG_DIR ?? 'config',
      temporalConfig: env.REBOOK_TEMPORAL_CONFIG ?? 'temporal.yaml',
      stderr: io.stderr,
      env,
    });
    try {
      await playDemo(engine, (line) => io.stdout.write(`${line}\n`));
    } finally {
      await engine.stop();
    }
  } catch (err) {
    io.stderr.write(`rebook demo: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  io.stderr.write(`rebook demo: ${DEMO_DAYS} days played in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}

async function playDemo(engine: DemoEngine, print: (line: string) => void): Promise<void> {
  const { db } = engine.database;
  const clinic = engine.config.current().clinics.get(DEMO_CLINIC);
  if (!clinic) throw new Error(`the configuration has no clinic "${DEMO_CLINIC}"`);
  const tz = clinic.timeZone;
  const types = treatmentTypesFor(engine.config.current(), clinic);
  const instantOn = (day: number, hhmm: string) => fromLocal({ ...addDays(DEMO_START, day), ...parseClock(hhmm) }, tz);
  const dayZero = Date.UTC(DEMO_START.year, DEMO_START.month - 1, DEMO_START.day);
  const cal: Calendar = {
    timeZone: tz,
    dayOf: (ms) => {
      const d = localDate(ms, tz);
      return Math.round((Date.UTC(d.year, d.month - 1, d.day) - dayZero) / 86_400_000);
    },
  };
  const storyOrder = new Map(DEMO_CLIENTS.map((c, i) => [c.id, i]));
  const byExternalId = new Map(DEMO_CLIENTS.map((c) => [c.id, c]));
  const label = (treatmentType: string) => types.get(treatmentType)?.label ?? treatmentType;

  // Our client uuids, read back once the treatments created the rows.
  const byUuid = new Map<string, DemoClient>();
  async function clientOf(uuid: string | null): Promise<DemoClient | undefined> {
    if (!uuid) return undefined;
    if (!byUuid.has(uuid)) {
      const rows = await db.select({ id: clients.id, externalId: clients.externalId }).from(clients);
      for (const r of rows) {
        const c = byExternalId.get(r.externalId);
        if (c) byUuid.set(r.id, c);
      }
    }
    return byUuid.get(uuid);
  }

  async function apply(input: DemoInput, at: number): Promise<void> {
    const client = byExternalId.get(input.client)!;
    if (input.kind === 'reply') {
      await engine.inbound.twilioInbound(clinic!, {
        MessageSid: `SMdemo${String(at)}`,
        From: client.phone ?? '',
        Body: input.body,
      });
      return;
    }
    const event: CanonicalEvent =
      input.kind === 'treatment'
        ? {
            type: 'treatment.completed',
            client: {
              id: client.id,
              firstName: client.firstName,
              lastName: client.lastName,
              email: client.email,
              phone: client.phone,
              consent: client.consent,
            },
            appointmentId: input.appointmentId,
            service: { name: input.service },
            completedAt: new Date(at).toISOString(),
          }
        : {
            type: 'appointment.booked',
            clientId: client.id,
            appointmentId: input.appointmentId,
            startAt: new Date(instantOn(input.startDay, input.startAt)).toISOString(),
          };
    const [result] = await engine.ingest.accept(DEMO_CLINIC, [event]);
    if (result && result.status !== 'accepted')
      throw new Error(`the demo's ${input.kind} on day ${input.day} was not accepted (${result.status})`);
  }

  const seen = {
    messages: new Set<string>(),
    tasks: new Set<string>(),
    replies: new Set<string>(),
    appointments: new Set<string>(),
    rows: new Map<string, string>(),
    history: new Map<string, number>(),
  };
  const nextOf = (s: SequenceStatus): NextAction | undefined =>
    s.nextStage && s.nextActionAt ? { stage: s.nextStage, at: Date.parse(s.nextActionAt) } : undefined;

  /** What happened since the last read, from the database and the workflows. */
  async function readBack(opts: { sequences: boolean }): Promise<DemoEvent[]> {
    const events: DemoEvent[] = [];
    const codes = (await db.select({ code: incentives.code }).from(incentives)).map((i) => i.code);
    for (const m of await db.select().from(messages).orderBy(asc(messages.dueAt))) {
      if (seen.messages.has(m.id)) continue;
      seen.messages.add(m.id);
      const client = await clientOf(m.clientId);
      if (!client) continue;
      events.push({
        kind: 'message',
        at: (m.sentAt ?? m.attemptedAt ?? m.dueAt).getTime(),
        client,
        channel: m.channel,
        stage: m.stage,
        status: m.status,
        recipient: m.recipient,
        subject: m.subject,
        body: m.body,
        codes,
      });
    }
    for (const t of await db.select().from(staffTasks)) {
      if (seen.tasks.has(t.id)) continue;
      seen.tasks.add(t.id);
      const client = await clientOf(t.clientId);
      if (!client) continue;
      const details = t.details as { stage?: string; touches?: string[] };
      events.push({
        kind: 'task',
        at: (t.dueAt ?? t.createdAt).getTime(),
        client,
        reason: t.reason,
        ...(details.stage ? { stage: details.stage } : {}),
        touches: details.touches ?? [],
      });
    }
    for (const r of await db.select().from(inboundMessages)) {
      if (seen.replies.has(r.id)) continue;
      seen.replies.add(r.id);
      const client = await clientOf(r.clientId);
      if (!client) continue;
      const effects: string[] = [];
      const channels = await db.select().from(clientChannels).where(eq(clientChannels.clientId, r.clientId!));
      for (const c of channels)
        if (c.optedOutAt) effects.push(`${c.channel === 'sms' ? 'SMS' : c.channel} opted out (${c.optOutSource})`);
      const tasks = await db.select().from(staffTasks).where(eq(staffTasks.inboundMessageId, r.id));
      for (const t of tasks) effects.push(`staff task: ${t.reason}`);
      events.push({
        kind: 'reply',
        at: r.receivedAt.getTime(),
        client,
        from: r.fromAddress,
        body: r.body,
        intent: r.intent,
        effects,
      });
    }
    const demoIds = DEMO_CLIENTS.map((c) => c.id);
    for (const a of await db
      .select()
      .from(appointments)
      .where(
        and(
          eq(appointments.clinicId, DEMO_CLINIC),
          eq(appointments.status, 'booked'),
          inArray(appointments.clientExternalId, demoIds),
        ),
      )) {
      if (seen.appointments.has(a.externalId)) continue;
      seen.appointments.add(a.externalId);
      events.push({
        kind: 'appointment',
        at: engine.now(),
        client: byExternalId.get(a.clientExternalId)!,
        startAt: a.startAt?.getTime() ?? null,
        service: a.serviceName,
      });
    }
    // Once the day has settled: right after an input a workflow may not have planned yet.
    for (const row of opts.sequences ? await db.select().from(sequences) : []) {
      const key = [row.stage, row.nextStage, row.nextActionAt?.getTime(), row.outcome, row.running].join('|');
      if (seen.rows.get(row.workflowId) === key) continue;
      seen.rows.set(row.workflowId, key);
      const client = await clientOf(row.clientId);
      const live = await engine.status(row.workflowId);
      if (!client || live.state !== 'ok') continue;
      const history = live.status.history;
      const from = seen.history.get(row.workflowId) ?? 0;
      seen.history.set(row.workflowId, history.length);
      for (const h of history.slice(from)) {
        if (h.event === 'sent' || h.event === 'escalated') continue; // their ledger row and task say it
        events.push({
          kind: 'sequence',
          at: Date.parse(h.at),
          client,
          sequence: label(row.treatmentType),
          event: h.event,
          stage: h.stage,
          ...(h.detail && h.event !== 'booked' ? { detail: h.detail } : {}),
          ...(NEXT_STATUS_EVENTS.has(h.event) && nextOf(live.status) ? { next: nextOf(live.status) } : {}),
        });
      }
    }
    return events;
  }

  /**
   * By clinic minute (instants within one minute differ by processing order only), then story
   * order, then what comes first in a story: the booking or reply, the message, the task, the
   * sequence's reaction.
   */
  const rank = { appointment: 0, reply: 1, message: 2, task: 3, sequence: 4 } as const;
  const tieBreak = (e: DemoEvent) =>
    e.kind === 'sequence' ? `${e.sequence}|${e.event}` : e.kind === 'message' ? `${e.stage}|${e.channel}` : '';
  const chronological = (a: DemoEvent, b: DemoEvent) =>
    Math.floor(a.at / 60_000) - Math.floor(b.at / 60_000) ||
    (storyOrder.get(a.client.id) ?? 0) - (storyOrder.get(b.client.id) ?? 0) ||
    rank[a.kind] - rank[b.kind] ||
    tieBreak(a).localeCompare(tieBreak(b));

  print(`Rebook demo: ${clinic.name}, ${tz}. Day 0 is ${dateLabel(instantOn(0, '12:00'), tz)}.`);
  print(
    `${DEMO_CLIENTS.length} clients are treated on day 0; every line below is read back from the message ledger, the staff tasks and the workflows.`,
  );
  print(
    'Recipients are masked; unsubscribe links and incentive codes (different on every run) are shown as placeholders.',
  );
  print('');
  await engine.sleepUntil(instantOn(0, '00:00'));
  for (let day = 0; day <= DEMO_DAYS; day++) {
    const events: DemoEvent[] = [];
    for (const input of DEMO_INPUTS.filter((i) => i.day === day)) {
      const at = instantOn(day, input.at);
      await engine.sleepUntil(at);
      await apply(input, at);
      // Read at once: a booking's row keeps no server time, so it is dated by this read.
      events.push(...(await readBack({ sequences: false })));
    }
    await engine.sleepUntil(instantOn(day + 1, '00:00'));
    events.push(...(await readBack({ sequences: true })));
    events.sort(chronological);
    for (const d of [...new Set(events.map((e) => cal.dayOf(e.at)))].sort((a, b) => a - b))
      for (const line of dayBlock(
        d,
        instantOn(d, '12:00'),
        events.filter((e) => cal.dayOf(e.at) === d),
        cal,
      ))
        print(line);
  }

  const rows = await db.select().from(sequences);
  const ledger = await db.select().from(messages);
  const tasks = await db.select().from(staffTasks);
  const summaries: SequenceSummary[] = [];
  for (const row of rows) {
    const client = await clientOf(row.clientId);
    if (!client) continue;
    const live = await engine.status(row.workflowId);
    const status = live.state === 'ok' ? live.status : undefined;
    const next = status ? nextOf(status) : undefined;
    summaries.push({
      client,
      sequence: label(row.treatmentType),
      outcome: status?.outcome ?? row.outcome,
      ...((status?.outcomeStage ?? row.outcomeStage)
        ? { outcomeStage: status?.outcomeStage ?? row.outcomeStage! }
        : {}),
      ...(next ? { next } : {}),
      messagesSent: ledger.filter(
        (m) => m.workflowId === row.workflowId && m.channel !== 'staff_email' && !NOT_DELIVERED.has(m.status),
      ).length,
      staffTasks: tasks.filter((t) => t.workflowId === row.workflowId).length,
    });
  }
  summaries.sort(
    (a, b) =>
      (storyOrder.get(a.client.id) ?? 0) - (storyOrder.get(b.client.id) ?? 0) || a.sequence.localeCompare(b.sequence),
  );
  const tally = <K extends string>(items: Record<K, string>[], keys: K[]) => {
    const counts = new Map<string, number>();
    for (const it of items) {
      const k = keys.map((key) => it[key]).join('\u0000');
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return [...counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, count]) => ({ parts: k.split('\u0000'), count }));
  };
  const replies = await db.select().from(inboundMessages);
  const totals: LedgerTotals = {
    messages: tally(ledger, ['channel', 'status']).map((t) => ({
      channel: t.parts[0]!,
      status: t.parts[1]!,
      count: t.count,
    })),
    tasks: tally(tasks, ['reason']).map((t) => ({ reason: t.parts[0]!, count: t.count })),
    replies: tally(replies, ['intent']).map((t) => ({ intent: t.parts[0]!, count: t.count })),
  };
  for (const line of summary(summaries, totals, cal)) print(line);
}
