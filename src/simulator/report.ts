/** The simulation's summary as a plain-text table for the terminal. */
import type { SimulationResult } from './engine.js';

const num = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
const oneDecimal = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const money = (cents: number) => `$${Math.round(cents / 100).toLocaleString('en-US')}`;

function table(rows: (string | number)[][], align: ('l' | 'r')[]): string[] {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? num(c) : c)));
  const widths = align.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) =>
    r
      .map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd(),
  );
}

export function renderSummary(result: SimulationResult, extra: { malformedRows: number }): string {
  const s = result.summary;
  const lines: string[] = [];
  lines.push(`Rebook simulation: ${result.clinic} (${result.timeZone})`);
  lines.push(
    `Period    ${result.from} to ${result.to}, ${result.weekly.length} weeks; seed ${result.seed}; history appointments booked ${result.leadDays} days ahead`,
  );
  lines.push(
    `History   ${num(s.input.rows)} rows, ${num(s.input.clients)} clients, ${num(s.input.treatmentsEnrolled)} treatments enrolled, ${num(s.input.unclassifiedRows)} unclassified, ${num(s.input.duplicateRows)} duplicates, ${num(s.input.rowsAfterPeriod)} after the period, ${num(extra.malformedRows)} malformed`,
  );
  lines.push('');
  const pw = s.perWeek;
  lines.push(
    ...table(
      [
        ['', 'total', 'per week (mean)', 'peak week'],
        ['Client messages', s.messages.total, pw.messages.mean, pw.messages.peak],
        ['  email', s.messages.email, pw.email.mean, pw.email.peak],
        ['  SMS', s.messages.sms, pw.sms.mean, pw.sms.peak],
        ['  sent on the fallback channel', s.messages.viaFallback, '', ''],
        ['Staff tasks (front desk)', s.staffTasks.total, pw.staffTasks.mean, pw.staffTasks.peak],
        ['  no response to the touches', s.staffTasks.noResponse, '', ''],
        ['  no touch delivered', s.staffTasks.noTouchDelivered, '', ''],
        ['  no usable channel', s.staffTasks.noUsableChannel, '', ''],
        ['Offers issued', s.offers.issued, '', ''],
        ['Deferred by the send window', s.deferred.sendWindow, '', ''],
        ['Deferred by caps', s.deferred.caps, '', ''],
        ['Suppressed by caps', s.suppressed.caps, '', ''],
        ['Suppressed: no usable channel for the stage', s.suppressed.noChannel, '', ''],
        ...(s.suppressed.noTemplate
          ? [['Not sent: no template for the channel (config)', s.suppressed.noTemplate, '', '']]
          : []),
      ],
      ['l', 'r', 'r', 'r'],
    ),
  );
  lines.push('');
  lines.push(
    `Sequences ${num(s.sequences.enrolled)} enrolled, ${num(s.sequences.restarted)} restarted, ${num(s.sequences.bookedSimulated)} ended by a simulated booking, ${num(s.sequences.bookedInHistory)} by a booking in the history, ${num(s.sequences.churned)} churned, ${num(s.sequences.runningAtEnd)} still running at the end`,
  );
  lines.push('');
  lines.push(
    ...table(
      [
        ['Rebookings by stage', 'rate', 'reached', 'booked', 'expected'],
        ...result.byStage
          .filter((r) => r.reached > 0 || r.rate > 0)
          .map((r) => [`  ${r.stage}`, r.rate.toFixed(2), r.reached, r.rebookings, oneDecimal(r.expectedRebookings)]),
        ['  total', '', '', s.rebookings.simulated, oneDecimal(s.rebookings.expected)],
      ],
      ['l', 'r', 'r', 'r', 'r'],
    ),
  );
  lines.push(
    `Rebooked treatments' value ${money(s.rebookings.revenueCents)}${s.rebookings.withoutPrice ? ` (+${num(s.rebookings.withoutPrice)} without a price)` : ''}`,
  );
  const offers = Object.entries(s.offers.byOffer).sort((a, b) => b[1] - a[1]);
  if (offers.length) lines.push(`Offers    ${offers.map(([o, n]) => `${o}: ${num(n)}`).join(', ')}`);
  if (result.unclassifiedServices.length) {
    const top = result.unclassifiedServices.slice(0, 5).map((u) => `"${u.service}" (${num(u.rows)})`);
    lines.push(
      `Unclassified services (map them in the clinic's services.synonyms): ${top.join(', ')}${result.unclassifiedServices.length > 5 ? `, and ${result.unclassifiedServices.length - 5} more` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
