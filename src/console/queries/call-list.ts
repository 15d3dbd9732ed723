/**
 * The call list: open and claimed staff tasks of the viewer's clinics that are due, with who to
 * call and what the sequence already did. Most urgent first: people waiting on us (hot leads,
 * replies), then by how long the task has waited.
 */
import { and, asc, eq, inArray, isNull, lte, ne, or } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { appointments, clients, messages, sequences, staffTasks } from '../../db/schema.js';
import type { CallLogEntry } from '../../staff/tasks.js';
import { taskReasonRank } from '../components/format.js';

export interface CallListItem {
  taskId: string;
  clinicId: string;
  clientId: string;
  name: string;
  phone: string | null;
  email: string | null;
  reason: string;
  status: 'open' | 'claimed' | 'resolved';
  claimedBy: string | null;
  dueAt: Date | null;
  createdAt: Date;
  treatmentType: string | null;
  treatmentAt: Date | null;
  serviceName: string | null;
  touches: { stage: string; channel: string; status: string; at: Date | null }[];
  voicemails: number;
  lastNote: string | null;
}

export async function callList(db: Db, clinicIds: string[], now: Date, limit = 200): Promise<CallListItem[]> {
  if (clinicIds.length === 0) return [];
  const rows = await db
    .select({ t: staffTasks, c: clients, s: sequences })
    .from(staffTasks)
    .innerJoin(clients, eq(clients.id, staffTasks.clientId))
    .leftJoin(sequences, eq(sequences.workflowId, staffTasks.workflowId))
    .where(
      and(
        inArray(staffTasks.clinicId, clinicIds),
        ne(staffTasks.status, 'resolved'),
        or(isNull(staffTasks.dueAt), lte(staffTasks.dueAt, now)),
      ),
    )
    .orderBy(asc(staffTasks.dueAt), asc(staffTasks.createdAt))
    .limit(limit);
  if (rows.length === 0) return [];
  const clientIds = [...new Set(rows.map((r) => r.c.id))];
  const sent = await db
    .select({
      clientId: messages.clientId,
      workflowId: messages.workflowId,
      stage: messages.stage,
      channel: messages.channel,
      status: messages.status,
      at: messages.sentAt,
    })
    .from(messages)
    .where(and(inArray(messages.clientId, clientIds), inArray(messages.channel, ['sms', 'email'])))
    .orderBy(asc(messages.dueAt));
  const anchors = rows.flatMap((r) => (r.s?.anchorAppointmentId ? [[r.s.clinicId, r.s.anchorAppointmentId]] : []));
  const appts = anchors.length
    ? await db
        .select({ clinicId: appointments.clinicId, id: appointments.externalId, service: appointments.serviceName })
        .from(appointments)
        .where(
          and(
            inArray(appointments.clinicId, [...new Set(anchors.map((a) => a[0]!))]),
            inArray(
              appointments.externalId,
              anchors.map((a) => a[1]!),
            ),
          ),
        )
    : [];
  const items = rows.map(({ t, c, s }): CallListItem => {
    const details = (t.details ?? {}) as { voicemails?: number; log?: CallLogEntry[] };
    const log = details.log ?? [];
    return {
      taskId: t.id,
      clinicId: t.clinicId,
      clientId: c.id,
      name: `${c.firstName} ${c.lastName}`.trim(),
      phone: c.phoneE164 ?? c.phone,
      email: c.email,
      reason: t.reason,
      status: t.status,
      claimedBy: t.claimedBy,
      dueAt: t.dueAt,
      createdAt: t.createdAt,
      treatmentType: t.treatmentType ?? s?.treatmentType ?? null,
      treatmentAt: s?.anchorAt ?? null,
      serviceName: appts.find((a) => s && a.clinicId === s.clinicId && a.id === s.anchorAppointmentId)?.service ?? null,
      touches: sent
        .filter((m) => m.clientId === c.id && (!t.workflowId || m.workflowId === t.workflowId))
        .map((m) => ({ stage: m.stage, channel: m.channel, status: m.status, at: m.at })),
      voicemails: Number(details.voicemails ?? 0),
      lastNote: [...log].reverse().find((e) => e.note)?.note ?? null,
    };
  });
  return items.sort(
    (a, b) =>
      (taskReasonRank[a.reason] ?? 9) - (taskReasonRank[b.reason] ?? 9) ||
      (a.dueAt?.getTime() ?? 0) - (b.dueAt?.getTime() ?? 0),
  );
}
