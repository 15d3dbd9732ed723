/** The preview as a readable terminal report: the timeline table, then each message's text. */
import { textTable } from '../text/table.js';
import type { PreviewResult, PreviewStage } from './timeline.js';

const channelName = (c?: string) => (c === 'sms' ? 'SMS' : (c ?? ''));

function outcomeText(s: PreviewStage): string {
  if (s.outcome === 'sent') return s.fallback ? 'sent (fallback)' : 'sent';
  if (s.outcome === 'staff_task') return `staff task (${s.reason})`;
  return s.reason ? `${s.outcome}: ${s.reason}` : s.outcome;
}

function holdsText(s: PreviewStage): string {
  return s.holds.map((h) => (h.reason === 'send_window' ? 'send window' : `caps (${h.rule})`)).join(', ');
}

export function renderPreview(r: PreviewResult): string {
  const lines: string[] = [];
  const matched = r.classification
    ? `, "${r.classification.service}" matched by ${r.classification.by === 'synonym' ? `synonym "${r.classification.synonym}"` : 'service id'}`
    : '';
  lines.push(`Rebook preview: ${r.clinicId} — ${r.label} (${r.treatmentType}, every ${r.intervalDays} days)${matched}`);
  lines.push(`Treatment   ${r.completedAt.local} (${r.clinicTimeZone}); send window applied in ${r.sendTimeZone}`);
  const ch = (['email', 'sms'] as const).map(
    (c) => `${channelName(c)} ${r.channels[c].usable ? 'usable' : `not usable (${r.channels[c].reason})`}`,
  );
  lines.push(`Channels    ${ch.join(', ')}`);
  const code = r.incentive.code ? ` with code ${r.incentive.code} (placeholder)` : ' (no code, no discount)';
  lines.push(`Incentive   ${r.incentive.description}${code}, expires ${r.incentive.expiresAt.local}`);
  const tier = r.incentive.tier ? ` "${r.incentive.tier}"` : '';
  lines.push(`Why         ${r.incentive.reason}${tier}: ${r.incentive.why}`);
  if (r.series)
    lines.push(
      r.series.phase === 'series'
        ? `Series      session ${r.series.completed} of ${r.series.sessions} done: reminders for session ${r.series.completed + 1} of ${r.series.sessions}`
        : `Series      course complete (session ${r.series.completed} of ${r.series.sessions}): maintenance cadence`,
    );
  lines.push(`Window      rebooked on time until ${r.windowEndsAt.local}`);
  lines.push('');
  const row = (s: PreviewStage, key = s.key) => [
    s.series ? `${key} (session ${s.series.session} of ${s.series.sessions})` : key,
    s.day,
    s.due.local,
    s.at?.local ?? '—',
    channelName(s.channel) || (s.outcome === 'staff_task' ? 'staff' : '—'),
    holdsText(s) || '—',
    outcomeText(s),
  ];
  lines.push(
    ...textTable(
      [
        ['stage', 'day', 'due', 'goes out', 'channel', 'held by', 'outcome'],
        ...r.stages.map((s) => row(s)),
        row(r.reactivation, `${r.reactivation.key} *`),
      ],
      ['l', 'r', 'l', 'l', 'l', 'l', 'l'],
    ),
  );
  lines.push('  * only after a "not now" reply');
  for (const s of [...r.stages, r.reactivation]) {
    if (!s.content) continue;
    lines.push('');
    const seg = s.content.sms
      ? ` — ${s.content.sms.units} ${s.content.sms.encoding === 'GSM-7' ? 'characters' : 'UCS-2 units'}, ${s.content.sms.segments} segment(s)`
      : '';
    const variant = s.variant
      ? ` — variant ${s.variant} (of ${s.variants!.map((v) => `${v.name} ${Math.round(v.share * 100)}%`).join(', ')})`
      : '';
    lines.push(`${s.key} (${channelName(s.channel)}, ${s.at!.local})${seg}${variant}`);
    if (s.content.subject) lines.push(`  Subject: ${s.content.subject}`);
    for (const l of s.content.body.replace(/\n$/, '').split('\n')) lines.push(`  ${l}`);
  }
  lines.push('');
  lines.push('Assumes:');
  for (const a of r.assumptions) lines.push(`  - ${a}`);
  return `${lines.join('\n')}\n`;
}
