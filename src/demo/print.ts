/**
 * The demo's printout: one block per clinic day with what the ledger, the staff tasks and the
 * workflows say happened, then a summary. Recipients are masked; links that carry ids (the
 * unsubscribe link) are shown as placeholders so two runs print the same text.
 */
import { textTable } from '../text/table.js';
import type { DemoClient } from './story.js';

export interface DemoEventBase {
  /** Server time of the event (ms), as recorded by what is read back. */
  at: number;
  client: DemoClient;
}

export type DemoEvent = DemoEventBase &
  (
    | { kind: 'sequence'; sequence: string; event: string; stage: string; detail?: string; next?: NextAction }
    | {
        kind: 'message';
        channel: string;
        stage: string;
        status: string;
        recipient: string | null;
        subject: string | null;
        body: string | null;
        /** Incentive codes (random per run): shown as a placeholder. */
        codes: string[];
      }
    | { kind: 'task'; reason: string; stage?: string; touches: string[] }
    | { kind: 'reply'; from: string; body: string; intent: string; effects: string[] }
    | { kind: 'appointment'; startAt: number | null; service: string | null }
  );

export interface NextAction {
  stage: string;
  at: number;
}

export interface SequenceSummary {
  client: DemoClient;
  sequence: string;
  outcome: string;
  outcomeStage?: string;
  next?: NextAction;
  messagesSent: number;
  staffTasks: number;
}

export interface LedgerTotals {
  messages: { channel: string; status: string; count: number }[];
  tasks: { reason: string; count: number }[];
  replies: { intent: string; count: number }[];
}

export interface Calendar {
  timeZone: string;
  /** The clinic day (0 = the demo's first) of an instant. */
  dayOf(ms: number): number;
}

export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

/** `+1 ••• ••• 0123`: the country code and the last four digits only. */
export function maskPhone(number: string): string {
  const digits = number.replace(/\D/g, '');
  const last4 = digits.slice(-4);
  if (number.startsWith('+1') && digits.length === 11) return `+1 ••• ••• ${last4}`;
  return `${number.startsWith('+') ? '+' : ''}••• ${last4}`;
}

export function maskRecipient(recipient: string | null): string {
  if (!recipient) return '(no recipient)';
  return recipient.includes('@') ? maskEmail(recipient) : maskPhone(recipient);
}

const EMAIL_IN_TEXT = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g;
const PHONE_IN_TEXT = /\+?\d[\d ().-]{8,}\d/g;
const ID_LINK = /https?:\/\/\S*\/unsubscribe\S*/g;

/**
 * Rendered message text as shown: what differs per run (links carrying ids, incentive codes)
 * replaced by placeholders, any address or number masked.
 */
export function displayText(text: string, codes: string[] = []): string {
  return codes
    .reduce((t, code) => t.replaceAll(code, '<incentive code>'), text)
    .replace(ID_LINK, '<unsubscribe link>')
    .replace(EMAIL_IN_TEXT, maskEmail)
    .replace(PHONE_IN_TEXT, maskPhone);
}

const who = (c: DemoClient) => `${c.firstName} ${c.lastName[0]}.`;
const CHANNEL: Record<string, string> = { email: 'email', sms: 'SMS', staff_email: 'staff email' };

function clock(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    ms,
  );
}

export function dateLabel(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
  }).format(ms);
}

const bookedAfter = (stage: string | undefined) =>
  !stage || stage === 'before_first_touch' ? 'booked before any touch' : `booked after the ${stage}`;

function nextLabel(next: NextAction | undefined, cal: Calendar): string {
  if (!next) return 'nothing scheduled';
  const what = next.stage === 'window_close' ? 'rebooking window closes' : next.stage;
  return `next: ${what}, day ${cal.dayOf(next.at)} ${clock(next.at, cal.timeZone)}`;
}

function sequenceLine(e: Extract<DemoEvent, { kind: 'sequence' }>, cal: Calendar): string {
  const detail = e.detail ? ` (${e.detail})` : '';
  switch (e.event) {
    case 'planned':
      return `${e.sequence} sequence started; ${nextLabel(e.next, cal)}`;
    case 'restarted':
      return `${e.sequence} sequence restarted by a newer treatment; ${nextLabel(e.next, cal)}`;
    case 'booked':
      // Since issue 11 a booking stops the marketing stages; the sequence watches the visit.
      return `${e.sequence} ${bookedAfter(e.stage)}: marketing stops, the visit is watched`;
    case 'attended':
      return `${e.sequence} visit attended (${bookedAfter(e.stage)})`;
    case 'snoozed':
      return `${e.sequence} sequence snoozed; ${nextLabel(e.next, cal)}`;
    case 'ended':
      return `${e.sequence} sequence ended: ${e.detail ?? 'ended'} (last stage ${e.stage})`;
    case 'suppressed':
      return `${e.sequence} ${e.stage} not sent${detail}; ${nextLabel(e.next, cal)}`;
    case 'deferred':
      return `${e.sequence} ${e.stage} held${detail}; ${nextLabel(e.next, cal)}`;
    default:
      return `${e.sequence} ${e.stage}: ${e.event}${detail}`;
  }
}

function eventLines(e: DemoEvent, cal: Calendar): string[] {
  const head = (what: string, text: string) =>
    `  ${clock(e.at, cal.timeZone)}  ${who(e.client).padEnd(9)} ${what.padEnd(12)} ${text}`;
  const indent = ' '.repeat(2 + 5 + 2 + 9 + 1 + 12 + 1);
  switch (e.kind) {
    case 'sequence':
      return [head('sequence', sequenceLine(e, cal))];
    case 'message': {
      const lines = [head(CHANNEL[e.channel] ?? e.channel, `${e.stage} → ${maskRecipient(e.recipient)} (${e.status})`)];
      if (e.subject) lines.push(`${indent}Subject: ${displayText(e.subject, e.codes)}`);
      for (const l of displayText(e.body ?? '', e.codes).split('\n'))
        if (l.trim()) lines.push(`${indent}│ ${l.trimEnd()}`);
      return lines;
    }
    case 'task': {
      const after = e.touches.length ? ` after ${e.touches.join(', ')}` : '';
      return [head('staff task', `call the client: ${e.reason}${after}${e.stage ? ` (stage ${e.stage})` : ''}`)];
    }
    case 'reply':
      return [
        head('reply', `from ${maskPhone(e.from)}: "${displayText(e.body)}" → ${e.intent}`),
        ...e.effects.map((x) => `${indent}→ ${x}`),
      ];
    case 'appointment':
      return [
        head(
          'booking',
          `${e.service ?? 'appointment'} booked for ${e.startAt === null ? 'an unknown date' : `day ${cal.dayOf(e.startAt)} ${clock(e.startAt, cal.timeZone)}`}`,
        ),
      ];
  }
}

export function dayBlock(day: number, dayStartMs: number, events: DemoEvent[], cal: Calendar): string[] {
  if (events.length === 0) return [];
  return [`Day ${day} · ${dateLabel(dayStartMs, cal.timeZone)}`, ...events.flatMap((e) => eventLines(e, cal)), ''];
}

function outcomeText(s: SequenceSummary, cal: Calendar): string {
  switch (s.outcome) {
    case 'booked':
      return bookedAfter(s.outcomeStage);
    case 'attended':
      return `visit attended, ${bookedAfter(s.outcomeStage)}`;
    case 'running':
    case 'snoozed':
      return `${s.outcome}; ${nextLabel(s.next, cal)}`;
    default:
      return s.outcomeStage ? `${s.outcome} after ${s.outcomeStage}` : s.outcome;
  }
}

export function summary(rows: SequenceSummary[], totals: LedgerTotals, cal: Calendar): string[] {
  const table = textTable(
    [
      ['Client', 'Story', 'Sequence', 'Sent', 'Staff tasks', 'Outcome'],
      ...rows.map((r) => [
        who(r.client),
        r.client.story,
        r.sequence,
        r.messagesSent,
        r.staffTasks,
        outcomeText(r, cal),
      ]),
    ],
    ['l', 'l', 'l', 'r', 'r', 'l'],
  );
  const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const sum = (xs: { count: number }[]) => xs.reduce((a, x) => a + x.count, 0);
  return [
    'Summary',
    ...table.map((l) => `  ${l}`),
    '',
    'Ledger',
    `  messages: ${count(sum(totals.messages), 'message')} (${totals.messages.map((m) => `${CHANNEL[m.channel] ?? m.channel} ${m.status} ${m.count}`).join(', ')})`,
    `  staff tasks: ${count(sum(totals.tasks), 'task')} (${totals.tasks.map((t) => `${t.reason} ${t.count}`).join(', ')})`,
    `  replies: ${count(sum(totals.replies), 'reply', 'replies')} (${totals.replies.map((r) => `${r.intent} ${r.count}`).join(', ')})`,
  ];
}
