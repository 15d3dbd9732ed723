/**
 * Connector health of one or several clinics, from what is recorded durably: the inbox (last
 * webhook, dead letters, rows failing or rejected), the poller's success stamp and its errors
 * (connector_state, connector_errors), and today's vendor API calls (vendor_api_calls). One query
 * of each kind for all the clinics asked.
 */
import { and, eq, gte, inArray, sql } from 'drizzle-orm';
// Shared with connectors/ (the poller writes them; the budget and day are the API call log's).
import { utcDay, VENDOR_DAILY_CALL_BUDGET } from '../../../connectors/api-call-log.js';
import { POLL_SUCCEEDED_KEY } from '../../../connectors/poller.js';
import { connectors } from '../../../connectors/registry.js';
import type { BookingConnector } from '../../../connectors/types.js';
import type { ClinicConfig } from '../../config/schema.js';
import { type Db, rows } from '../../db/client.js';
import { connectorErrors, connectorState, vendorApiCalls } from '../../db/schema.js';
import { type ConnectorFigures, connectorVerdict, type RagVerdict } from './health-rules.js';

export interface ConnectorHealth extends ConnectorFigures, RagVerdict {
  clinicId: string;
  platform: string;
  errors: { poll: number; inboxFailing: number; inboxRejected: number; lastPollErrorCode: string | null };
  /** Accepted events not applied yet (Temporal or the vendor API unreachable). */
  pendingInbox: number;
}

const DAY_MS = 86_400_000;

export async function loadConnectorHealth(
  db: Db,
  clinics: readonly ClinicConfig[],
  nowMs: number,
): Promise<ConnectorHealth[]> {
  if (clinics.length === 0) return [];
  const ids = clinics.map((c) => c.id);
  const since = new Date(nowMs - DAY_MS).toISOString();
  const idList = sql.join(
    ids.map((id) => sql`(${id})`),
    sql`, `,
  );

  // The newest pushed (not polled) and the newest of any kind, walking each clinic's index backwards.
  const last = rows<{ clinic_id: string; last_pushed: string | null; last_any: string | null }>(
    await db.execute(sql`select c.clinic_id,
        (select i.received_at from inbox_events i where i.clinic_id = c.clinic_id and i.source <> 'api'
           and i.source <> 'import' and i.dedupe_key not like '%:poll:%' order by i.received_at desc limit 1) as last_pushed,
        (select i.received_at from inbox_events i where i.clinic_id = c.clinic_id order by i.received_at desc limit 1) as last_any
      from (values ${idList}) as c(clinic_id)`),
  );
  const inbox = rows<{ clinic_id: string; dead: string; pending: string; failing: string; rejected: string }>(
    await db.execute(sql`select clinic_id,
        count(*) filter (where status = 'dead') as dead,
        count(*) filter (where status = 'pending') as pending,
        count(*) filter (where status = 'pending' and failures > 0 and failing_since >= ${since}::timestamptz) as failing,
        count(*) filter (where status = 'rejected' and received_at >= ${since}::timestamptz) as rejected
      from inbox_events
      where clinic_id in (${sql.join(
        ids.map((id) => sql`${id}`),
        sql`, `,
      )}) and (status in ('dead', 'pending') or (status = 'rejected' and received_at >= ${since}::timestamptz))
      group by clinic_id`),
  );
  const polls = await db
    .select({ clinicId: connectorState.clinicId, platform: connectorState.platform, value: connectorState.value })
    .from(connectorState)
    .where(and(inArray(connectorState.clinicId, ids), eq(connectorState.key, POLL_SUCCEEDED_KEY)));
  const errors = await db
    .select({
      clinicId: connectorErrors.clinicId,
      n: sql<number>`count(*)::int`,
      lastCode: sql<string | null>`(array_agg(${connectorErrors.code} order by ${connectorErrors.occurredAt} desc))[1]`,
    })
    .from(connectorErrors)
    .where(and(inArray(connectorErrors.clinicId, ids), gte(connectorErrors.occurredAt, new Date(since))))
    .groupBy(connectorErrors.clinicId);
  const calls = await db
    .select({ clinicId: vendorApiCalls.clinicId, platform: vendorApiCalls.platform, calls: vendorApiCalls.calls })
    .from(vendorApiCalls)
    .where(and(inArray(vendorApiCalls.clinicId, ids), eq(vendorApiCalls.day, utcDay(nowMs))));

  const date = (v: string | Date | null | undefined) => (v ? new Date(v) : null);
  return clinics.map((clinic) => {
    const l = last.find((r) => r.clinic_id === clinic.id);
    const i = inbox.find((r) => r.clinic_id === clinic.id);
    const p = polls.find((r) => r.clinicId === clinic.id && r.platform === clinic.platform);
    const e = errors.find((r) => r.clinicId === clinic.id);
    const c = calls.find((r) => r.clinicId === clinic.id && r.platform === clinic.platform);
    const connector = connectors[clinic.platform] as BookingConnector;
    const errs = {
      poll: Number(e?.n ?? 0),
      inboxFailing: Number(i?.failing ?? 0),
      inboxRejected: Number(i?.rejected ?? 0),
      lastPollErrorCode: e?.lastCode ?? null,
    };
    const figures: ConnectorFigures = {
      polls: typeof connector.poll === 'function',
      pollIntervalMinutes: clinic.connector?.pollIntervalMinutes ?? 15,
      lastWebhookAt: date(l?.last_pushed),
      lastEventAt: date(l?.last_any),
      lastPollAt: date(p?.value),
      errors24h: errs.poll + errs.inboxFailing + errs.inboxRejected,
      deadLetters: Number(i?.dead ?? 0),
      apiCallsToday: c?.calls ?? 0,
      apiCallBudget: VENDOR_DAILY_CALL_BUDGET[clinic.platform] ?? null,
    };
    return {
      clinicId: clinic.id,
      platform: clinic.platform,
      ...figures,
      errors: errs,
      pendingInbox: Number(i?.pending ?? 0),
      ...connectorVerdict(figures, nowMs),
    };
  });
}
