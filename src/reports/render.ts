/** The rebooking report as a terminal table or as CSV (one row per treatment type and stage). */

import { csvField } from '../text/csv.js';
import { textTable } from '../text/table.js';
import type { LiftRow } from './lift.js';
import type { Counts, Rates, RebookingReport, StageRow } from './rebooking.js';
import { liftCell } from './render-lift.js';

const pct = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);
const money = (cents: number) => `$${(cents / 100).toLocaleString('en-US', { maximumFractionDigits: 0 })}`;

function summary(c: Counts & Rates): string {
  return [
    `${c.enrolled} enrolled, ${c.finished} finished, ${c.running} running (${c.snoozed} snoozed, ${c.awaitingVisit} booked with the visit ahead)`,
    `${c.bookedOnTime} rebooked on time (${pct(c.rebookingRate)} of finished), ${c.booked} booked in all (${c.attended} visits attended), ${c.churned} churned, ${c.notInterested} not interested`,
    `staff converted ${c.staffConverted} of ${c.escalated} escalated (${pct(c.staffConversionRate)}); revenue ${money(c.revenueCents)} (${c.bookingsWithPrice} booking(s) with a price, ${c.bookingsWithoutPrice} without)`,
    `sent ${c.sent.email} email, ${c.sent.sms} SMS; delivered ${c.delivered}, opened ${c.opened} (${pct(c.openRate)}), clicked ${c.clicked}`,
    `held back: send window ${c.heldBack.sendWindow}, caps ${c.heldBack.capsDeferred} deferred / ${c.heldBack.capsSuppressed} suppressed, consent ${c.heldBack.consent}, other ${c.heldBack.other}`,
  ].join('\n    ');
}

const day = (iso: string) => iso.slice(0, 16).replace('T', ' ');

/** An agency roll-up carries each clinic's totals; the table lists them after the roll-up. */
type WithClinics = RebookingReport & { byClinic?: { clinicId: string; totals: Counts & Rates; lift?: LiftRow }[] };

export function renderReportTable(r: WithClinics): string {
  const lines: string[] = [];
  lines.push(
    `Rebooking report: ${r.clinics.join(', ')} — treatments completed ${day(r.from)} to ${day(r.to)} UTC${r.treatmentType ? `, ${r.treatmentType} only` : ''}`,
  );
  if (r.types.length === 0) lines.push('', 'No sequences in this period.');
  for (const t of r.types) {
    lines.push(
      '',
      `${t.label} (${t.treatmentType}${t.intervalDays ? `, every ${t.intervalDays} days` : ''})`,
      `    ${summary(t)}`,
      '',
    );
    const rows = t.stages.map((s: StageRow) => [
      `  ${s.stage}`,
      s.reached,
      s.sent.email,
      s.sent.sms,
      s.delivered,
      s.opened,
      s.clicked,
      s.bookings,
      pct(s.bookingRate),
      s.escalated ? `${s.staffConverted}/${s.escalated}` : '',
      s.heldBack.sendWindow,
      s.heldBack.capsDeferred + s.heldBack.capsSuppressed,
      s.heldBack.consent,
    ]);
    lines.push(
      ...textTable(
        [
          [
            '  stage',
            'reached',
            'email',
            'SMS',
            'delivered',
            'opened',
            'clicked',
            'booked',
            'rate',
            'staff',
            'window',
            'caps',
            'consent',
          ],
          ...rows,
        ],
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
  }
  if (r.types.length > 1) lines.push('', 'All treatment types', `    ${summary(r.totals)}`);
  if (r.byClinic) {
    const rows = r.byClinic.map(({ clinicId, totals: c, lift }) => [
      `  ${clinicId}`,
      c.enrolled,
      c.finished,
      c.bookedOnTime,
      pct(c.rebookingRate),
      c.booked,
      c.churned,
      c.staffConverted,
      money(c.revenueCents),
      lift ? liftCell(lift) : '—',
    ]);
    lines.push(
      '',
      'By clinic',
      '',
      ...textTable(
        [
          ['  clinic', 'enrolled', 'finished', 'on time', 'rate', 'booked', 'churned', 'staff', 'revenue', 'lift'],
          ...rows,
        ],
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

export const REPORT_CSV_COLUMNS = [
  'clinics',
  'from',
  'to',
  'treatment_type',
  'stage',
  'enrolled',
  'finished',
  'running',
  'booked',
  'booked_on_time',
  'rebooking_rate',
  'churned',
  'escalated',
  'staff_converted',
  'reached',
  'sent_email',
  'sent_sms',
  'delivered',
  'opened',
  'clicked',
  'bookings',
  'booking_rate',
  'held_send_window',
  'held_caps_deferred',
  'held_caps_suppressed',
  'held_consent',
  'held_other',
  'revenue_cents',
] as const;

/** One row per treatment type (stage "all") and per stage; type-level columns are empty on stage rows. */
export function renderReportCsv(r: RebookingReport): string {
  const out: string[] = [REPORT_CSV_COLUMNS.join(',')];
  const head = [r.clinics.join(' '), r.from, r.to];
  for (const t of r.types) {
    out.push(
      [
        ...head,
        t.treatmentType,
        'all',
        t.enrolled,
        t.finished,
        t.running,
        t.booked,
        t.bookedOnTime,
        t.rebookingRate ?? '',
        t.churned,
        t.escalated,
        t.staffConverted,
        '',
        t.sent.email,
        t.sent.sms,
        t.delivered,
        t.opened,
        t.clicked,
        t.booked,
        '',
        t.heldBack.sendWindow,
        t.heldBack.capsDeferred,
        t.heldBack.capsSuppressed,
        t.heldBack.consent,
        t.heldBack.other,
        t.revenueCents,
      ]
        .map(csvField)
        .join(','),
    );
    for (const s of t.stages) {
      out.push(
        [
          ...head,
          t.treatmentType,
          s.stage,
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          s.escalated,
          s.staffConverted,
          s.reached,
          s.sent.email,
          s.sent.sms,
          s.delivered,
          s.opened,
          s.clicked,
          s.bookings,
          s.bookingRate ?? '',
          s.heldBack.sendWindow,
          s.heldBack.capsDeferred,
          s.heldBack.capsSuppressed,
          s.heldBack.consent,
          s.heldBack.other,
          '',
        ]
          .map(csvField)
          .join(','),
      );
    }
  }
  return `${out.join('\n')}\n`;
}
