/** The simulation's summary as a plain-text table for the terminal. */
import type { SimulationResult } from './engine.js';

const num = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
const oneDecimal = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const pct = (share: number) => `${(share * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })}%`;
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
        ['  of which care touches (no offer, sent after a booking too)', s.messages.care, '', ''],
        ['  sent on the fallback channel', s.messages.viaFallback, '', ''],
        ['Staff tasks (front desk)', s.staffTasks.total, pw.staffTasks.mean, pw.staffTasks.peak],
        ['  no response to the touches', s.staffTasks.noResponse, '', ''],
        ['  no touch delivered', s.staffTasks.noTouchDelivered, '', ''],
        ['  no usable channel', s.staffTasks.noUsableChannel, '', ''],
        ['  after a cancellation or no-show', s.staffTasks.appointmentChange, '', ''],
        ['Offers issued', s.offers.issued, '', ''],
        ['Deferred by the send window', s.deferred.sendWindow, '', ''],
        ['Deferred by caps', s.deferred.caps, '', ''],
        ['Suppressed by caps', s.suppressed.caps, '', ''],
        ['Suppressed: no usable channel for the stage', s.suppressed.noChannel, '', ''],
        ...(s.suppressed.holdout
          ? [['Held back: held-out clients (care touches only)', s.suppressed.holdout, '', '']]
          : []),
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
  const l = s.lifecycle;
  const r = result.lifecycleRates;
  lines.push(
    ...table(
      [
        [
          `Bookings (no-show ${pct(r.noShow)}, cancel ${pct(r.cancel)}, rebooked after a cancel ${pct(r.rebookAfterCancel)})`,
          'total',
        ],
        ['  booked', l.booked],
        ['  attended (became visits)', l.attended],
        ['  cancelled', l.cancelled],
        ['    rebooked within the grace', l.rebookedAfterCancel],
        ['  no-show', l.noShows],
        ['  recovery touches sent', l.recoveryTouches],
        ['  recovered (a visit after a cancel or no-show)', l.recovered],
        ['  reactivated (a visit after the reactivation touch)', l.reactivated],
        ['  won back (a visit after a win-back touch)', l.wonBack],
        ['  overtaken by a visit in the history', l.overtakenByHistory],
        ['  still open at the end', l.openAtEnd],
      ],
      ['l', 'r'],
    ),
  );
  lines.push('');
  lines.push(
    ...table(
      [
        [
          'Rebookings by stage (care touches are no conversion stage)',
          'rate',
          'reached',
          'booked',
          'visits',
          'expected',
        ],
        ...result.byStage
          .filter((x) => x.reached > 0 || x.rate > 0)
          .map((x) => [
            `  ${x.stage}`,
            x.rate.toFixed(2),
            x.reached,
            x.rebookings,
            x.visits,
            oneDecimal(x.expectedRebookings),
          ]),
        ['  total', '', '', s.rebookings.simulated, l.attended, oneDecimal(s.rebookings.expected)],
      ],
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  if (result.byVariant.length) {
    lines.push('');
    lines.push(
      ...table(
        [
          ['Stage variants', 'share', 'rate', 'reached', 'booked', 'visits'],
          ...result.byVariant.map((v) => [
            `  ${v.stage} / ${v.variant}`,
            pct(v.share),
            v.rate.toFixed(2),
            v.reached,
            v.rebookings,
            v.visits,
          ]),
        ],
        ['l', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
  }
  lines.push('');
  lines.push(
    ...table(
      [
        [
          `Rebook rate by arm (sequences that finished; held out: baseline ${pct(r.baseline)})`,
          'enrolled',
          'visits',
          'churned',
          'rate',
        ],
        ...s.arms.map((a) => [
          `  ${a.arm === 'treated' ? 'in the program' : 'held out'}`,
          a.enrolled,
          a.visits,
          a.churned,
          a.rebookRate === null ? '–' : pct(a.rebookRate),
        ]),
      ],
      ['l', 'r', 'r', 'r', 'r'],
    ),
  );
  lines.push(
    `Value of the simulated visits ${money(s.rebookings.revenueCents)}${s.rebookings.withoutPrice ? ` (+${num(s.rebookings.withoutPrice)} without a price)` : ''}`,
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
