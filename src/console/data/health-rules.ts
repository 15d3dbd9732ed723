/**
 * Red / amber / green for a clinic's connector and sending health, with the thresholds as named
 * constants and a one-line reason. Pure: the figures come from connector-health.ts and
 * sending-health.ts.
 */

export type Rag = 'red' | 'amber' | 'green';

export interface RagVerdict {
  status: Rag;
  /** One line a clinic manager can act on. */
  why: string;
}

/** A polling connector whose last successful poll is older than this many intervals is late (amber)… */
export const POLL_LATE_INTERVALS = 3;
/** …and down (red) past this many: webhooks lost meanwhile are not caught up. */
export const POLL_DOWN_INTERVALS = 12;
/** Share of the vendor's daily call budget used today that turns the connector amber. */
export const API_BUDGET_AMBER_SHARE = 0.8;

/**
 * Sending health. Delivery failures: carriers and mailbox providers throttle senders above a few
 * percent. Opt-outs: share of the clients messaged who opted out. Spam reports: Google's and
 * Yahoo's bulk-sender rules ask to stay under 0.1 % and never reach 0.3 %
 * (https://support.google.com/a/answer/81126).
 */
export const DELIVERY_FAILURE_AMBER = 0.05;
export const DELIVERY_FAILURE_RED = 0.1;
export const OPT_OUT_AMBER = 0.02;
export const OPT_OUT_RED = 0.05;
export const SPAM_REPORT_AMBER = 0.001;
export const SPAM_REPORT_RED = 0.003;
/** Below this many messages sent in the window a rate says nothing yet. */
export const SENDING_MIN_SAMPLE = 20;

export interface ConnectorFigures {
  /** The platform has an API the poller reads (webhooks alone otherwise). */
  polls: boolean;
  pollIntervalMinutes: number;
  lastWebhookAt: Date | null;
  lastEventAt: Date | null;
  lastPollAt: Date | null;
  errors24h: number;
  deadLetters: number;
  apiCallsToday: number;
  apiCallBudget: number | null;
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

export function ago(at: Date, nowMs: number): string {
  const min = Math.max(0, Math.round((nowMs - at.getTime()) / 60_000));
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

export function connectorVerdict(f: ConnectorFigures, nowMs: number): RagVerdict {
  const intervalMs = f.pollIntervalMinutes * 60_000;
  const pollAge = f.lastPollAt ? nowMs - f.lastPollAt.getTime() : Number.POSITIVE_INFINITY;
  if (f.deadLetters > 0)
    return {
      status: 'red',
      why: `${f.deadLetters} event${f.deadLetters === 1 ? '' : 's'} failed for good: fix the cause, then retry them (rebook inbox retry)`,
    };
  if (f.apiCallBudget !== null && f.apiCallsToday > f.apiCallBudget)
    return { status: 'red', why: `${f.apiCallsToday} API calls today, over the ${f.apiCallBudget} a day budget` };
  if (f.polls && f.lastPollAt && pollAge > POLL_DOWN_INTERVALS * intervalMs)
    return { status: 'red', why: `no successful poll since ${ago(f.lastPollAt, nowMs)}: check the credentials` };
  if (f.polls && !f.lastPollAt && f.errors24h > 0)
    return { status: 'red', why: 'polling has never succeeded: check the credentials' };
  if (f.errors24h > 0)
    return { status: 'amber', why: `${f.errors24h} error${f.errors24h === 1 ? '' : 's'} in the last 24 h` };
  if (f.polls && f.lastPollAt && pollAge > POLL_LATE_INTERVALS * intervalMs)
    return { status: 'amber', why: `last successful poll ${ago(f.lastPollAt, nowMs)}` };
  if (f.apiCallBudget !== null && f.apiCallsToday >= API_BUDGET_AMBER_SHARE * f.apiCallBudget)
    return {
      status: 'amber',
      why: `${f.apiCallsToday} of ${f.apiCallBudget} API calls used today (${pct(f.apiCallsToday / f.apiCallBudget)})`,
    };
  if (!f.lastEventAt && !f.lastPollAt)
    return { status: 'amber', why: 'nothing received yet: check the webhook subscription or send a test event' };
  const last = [f.lastWebhookAt, f.lastEventAt, f.lastPollAt].filter((d): d is Date => d !== null);
  const newest = new Date(Math.max(...last.map((d) => d.getTime())));
  return { status: 'green', why: `working: last event or poll ${ago(newest, nowMs)}` };
}

export interface SendingFigures {
  sent: number;
  /**
   * Sends whose outcome is unknown after a crash (ledger `unconfirmed`: the provider may have taken
   * them; never sent again). A provider status callback fills in the truth and takes them out.
   */
  unconfirmed: number;
  emailsSent: number;
  failed: number;
  clientsMessaged: number;
  optOuts: number;
  spamReports: number;
}

export interface SendingRates {
  failureRate: number | null;
  optOutRate: number | null;
  spamRate: number | null;
}

const ratio = (n: number, d: number): number | null => (d > 0 ? n / d : null);

export function sendingRates(f: SendingFigures): SendingRates {
  return {
    failureRate: ratio(f.failed, f.sent),
    optOutRate: ratio(f.optOuts, f.clientsMessaged),
    spamRate: ratio(f.spamReports, f.emailsSent),
  };
}

export function sendingVerdict(f: SendingFigures): RagVerdict {
  // Staff must look whatever the sample: each one is a client who may or may not have been messaged.
  if (f.unconfirmed > 0)
    return {
      status: 'red',
      why: `${f.unconfirmed} ${f.unconfirmed === 1 ? 'send has' : 'sends have'} an unknown outcome after a crash (not resent): check with the provider`,
    };
  if (f.sent < SENDING_MIN_SAMPLE) return { status: 'green', why: `${f.sent} messages sent: too few to judge yet` };
  const r = sendingRates(f);
  const checks: { rate: number | null; amber: number; red: number; what: string }[] = [
    { rate: r.spamRate, amber: SPAM_REPORT_AMBER, red: SPAM_REPORT_RED, what: 'of emails reported as spam' },
    { rate: r.failureRate, amber: DELIVERY_FAILURE_AMBER, red: DELIVERY_FAILURE_RED, what: 'of messages failed' },
    { rate: r.optOutRate, amber: OPT_OUT_AMBER, red: OPT_OUT_RED, what: 'of clients messaged opted out' },
  ];
  for (const level of ['red', 'amber'] as const)
    for (const c of checks)
      if (c.rate !== null && c.rate >= c[level])
        return { status: level, why: `${pct(c.rate)} ${c.what} (${level} from ${pct(c[level])})` };
  return {
    status: 'green',
    why: `${pct(r.failureRate ?? 0)} failed, ${pct(r.optOutRate ?? 0)} opted out, ${f.spamReports} spam reports`,
  };
}
