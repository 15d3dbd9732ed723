/**
 * A clinic's worth of console data written straight into the database with generate_series
 * (seconds, not minutes, for 20,000 clients): clients, one sequence run per client (booked after
 * a stage, churned, not interested or still running), the ledger messages of those runs, staff
 * tasks, delivery holds, inbox rows, inbound replies, opt-outs and unmapped services. Keys follow
 * the engine's conventions (messages "workflowId|runKey|stage", escalations "…|escalation"), so
 * the report's joins see them as the engine's own. Deterministic: row i's fate is i modulo small
 * numbers, and `expectedRuns` says what the runs add up to.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';

export interface ConsoleSeed {
  clinicId: string;
  clients: number;
  /** Ledger messages: three per client (reminder email, incentive SMS, check-in email) until this many. */
  messages: number;
  openTasks: number;
  /** Treatments spread over this many days before `nowMs`, one a client. */
  days: number;
  nowMs: number;
  replies?: number;
  platform?: string;
}

const DAY = 86_400_000;
const STAGES = ['reminder', 'incentive', 'results_checkin', 'staff_escalation'] as const;

/** Run i (1-based): anchored (i % days) + 1 days before now; running when anchored within the last 120 days. */
export function runFate(i: number, s: Pick<ConsoleSeed, 'days' | 'nowMs'>) {
  const anchorAtMs = s.nowMs - ((i % s.days) + 1) * DAY;
  const running = s.nowMs - anchorAtMs < 120 * DAY;
  const k = i % 10;
  const outcome = running ? 'running' : k < 6 ? 'booked' : k < 8 ? 'churned' : 'not_interested';
  // k = 5 books before any touch; the others after the stage k % 4.
  const outcomeStage = outcome === 'booked' && k !== 5 ? STAGES[k % 4]! : null;
  return { anchorAtMs, running, outcome, outcomeStage };
}

export async function seedConsoleClinic(db: Db, s: ConsoleSeed): Promise<void> {
  const now = new Date(s.nowMs).toISOString();
  const c = s.clinicId;
  const platform = s.platform ?? 'mindbody';
  const days = s.days;
  // One transaction: the temporary table lives on one connection.
  await db.transaction(async (tx) => {
    const ex = (q: ReturnType<typeof sql>) => tx.execute(q);
    await ex(sql`create temporary table seed_ids on commit drop as
    select i, gen_random_uuid() as client_id,
      ${now}::timestamptz - (((i % ${days}) + 1) * interval '1 day') as anchor_at
    from generate_series(1, ${s.clients}) as i`);
    await ex(sql`insert into clients (id, clinic_id, external_id, first_name, last_name, email, phone, phone_e164, consent_sms, consent_email)
    select client_id, ${c}, 'c-' || i, 'First' || i, 'Last' || i, 'c' || i || '@example.com',
      '+1212555' || lpad((i % 10000)::text, 4, '0'), '+1212555' || lpad((i % 10000)::text, 4, '0'), i % 7 <> 0, true
    from seed_ids`);
    // Run fate in SQL, mirroring runFate.
    const wf = sql.raw(`'rebook/' || '${c.replace(/'/g, "''")}' || '/' || client_id || '/neuromodulator'`);
    const running = sql`(${now}::timestamptz - anchor_at < interval '120 days')`;
    const outcome = sql`case when ${running} then 'running' when i % 10 < 6 then 'booked' when i % 10 < 8 then 'churned' else 'not_interested' end`;
    const outcomeStage = sql`case when not ${running} and i % 10 < 6 and i % 10 <> 5 then (array['reminder','incentive','results_checkin','staff_escalation'])[(i % 10) % 4 + 1] end`;
    await ex(sql`insert into appointments (clinic_id, external_id, client_external_id, status, start_at, service_name, treatment_type, price_cents)
    select ${c}, 'a-' || i, 'c-' || i, 'completed', anchor_at, 'Botox 20u', 'neuromodulator', 42000 from seed_ids`);
    await ex(sql`insert into sequence_runs (workflow_id, run_key, clinic_id, client_id, treatment_type, anchor_at, outcome, outcome_stage, running, started_at, ended_at)
    select ${wf}, 'a-' || i, ${c}, client_id, 'neuromodulator', anchor_at, ${outcome}, ${outcomeStage}, ${running}, anchor_at,
      case when ${running} then null else anchor_at + interval '100 days' end
    from seed_ids`);
    await ex(sql`insert into sequences (workflow_id, clinic_id, client_id, treatment_type, anchor_appointment_id, anchor_at, stage, outcome, outcome_stage, running)
    select ${wf}, ${c}, client_id, 'neuromodulator', 'a-' || i, anchor_at, 'reminder', ${outcome}, ${outcomeStage}, ${running} from seed_ids`);
    // Three messages per client while they last: stage j of client i, statuses cycling.
    await ex(sql`insert into messages (idempotency_key, clinic_id, client_id, workflow_id, treatment_type, stage, channel, status, provider, recipient, subject, body, due_at, sent_at, attempted_at)
    select ${wf} || '|a-' || i || '|' || st.stage, ${c}, client_id, ${wf}, 'neuromodulator', st.stage, st.channel,
      (array['delivered','delivered','delivered','sent','outbox','failed','delivered','bounced','delivered','read'])[(i + st.j) % 10 + 1],
      'outbox', 'masked', case when st.channel = 'email' then 'Your next visit' end, 'Time for your next visit',
      anchor_at + st.day * interval '1 day', anchor_at + st.day * interval '1 day', anchor_at + st.day * interval '1 day'
    from seed_ids cross join (values (0, 'reminder', 'email', 80), (1, 'incentive', 'sms', 90), (2, 'results_checkin', 'email', 95)) as st(j, stage, channel, day)
    where (i - 1) * 3 + st.j < ${s.messages}`);
    await ex(sql`insert into staff_tasks (idempotency_key, clinic_id, client_id, workflow_id, treatment_type, reason, status, details, due_at, created_at)
    select ${wf} || '|a-' || i || '|escalation', ${c}, client_id, ${wf}, 'neuromodulator',
      (array['no_response','hot_lead','reply_needs_human','undeliverable'])[i % 4 + 1], 'open',
      '{"stage":"staff_escalation"}'::jsonb, ${now}::timestamptz - (i % 5) * interval '1 day', ${now}::timestamptz - (i % 5) * interval '1 day'
    from seed_ids where i <= ${s.openTasks}`);
    // Escalations staff resolved, on the booked-after-staff runs.
    await ex(sql`insert into staff_tasks (idempotency_key, clinic_id, client_id, workflow_id, treatment_type, reason, status, details, due_at, resolved_at, outcome)
    select ${wf} || '|a-' || i || '|escalation', ${c}, client_id, ${wf}, 'neuromodulator', 'no_response', 'resolved',
      '{"stage":"staff_escalation"}'::jsonb, anchor_at + interval '100 days', anchor_at + interval '100 days', 'booked'
    from seed_ids where i > ${s.openTasks} and not ${running} and i % 10 = 3`);
    await ex(sql`insert into delivery_holds (clinic_id, workflow_id, run_key, treatment_type, stage, kind, reason, occurred_at)
    select ${c}, ${wf}, 'a-' || i, 'neuromodulator', 'incentive',
      (array['deferred','deferred','suppressed'])[i % 3 + 1], (array['send_window','capped','sms_no_consent'])[i % 3 + 1], anchor_at + interval '90 days'
    from seed_ids where i % 7 = 0`);
    await ex(sql`insert into inbox_events (clinic_id, source, dedupe_key, event_type, status, received_at, processed_at)
    select ${c}, ${platform}, ${platform} || ':evt-' || i, 'treatment.completed', 'done', anchor_at, anchor_at from seed_ids`);
    await ex(sql`insert into inbound_messages (clinic_id, client_id, provider, provider_message_id, from_address, body, intent, received_at)
    select ${c}, client_id, 'twilio', 'SM' || ${c} || i, '+1212555' || lpad((i % 10000)::text, 4, '0'), 'Reply ' || i,
      (array['other','hot_lead','snooze','opt_out','appointment_change'])[i % 5 + 1], anchor_at + interval '91 days'
    from seed_ids where i <= ${s.replies ?? 200}`);
    await ex(sql`insert into consent_events (clinic_id, client_id, channel, action, source, occurred_at)
    select ${c}, client_id, 'sms', 'revoked', 'reply', anchor_at + interval '91 days' from seed_ids where i % 50 = 0`);
    await ex(sql`insert into unmapped_services (clinic_id, service_key, service_name, occurrences, first_seen_at, last_seen_at)
    select ${c}, 'name:mystery service ' || g, 'Mystery Service ' || g, g * 3, ${now}::timestamptz - g * interval '1 day', ${now}::timestamptz - g * interval '1 hour'
    from generate_series(1, 5) as g`);
  });
}
