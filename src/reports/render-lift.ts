/** The lift report as a terminal table or CSV, and the one-cell summary the agency roll-up shows. */
import { csvField } from '../text/csv.js';
import { textTable } from '../text/table.js';
import type { ArmStats, LiftReport, LiftRow } from './lift.js';
import type { VariantRow, VariantStats } from './variants.js';

const pts = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}`;
const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
const money = (cents: number) =>
  `${cents < 0 ? '-' : ''}$${Math.abs(cents / 100).toLocaleString('en-US', { maximumFractionDigits: 0 })}`;
const day = (iso: string) => iso.slice(0, 10);

function arm(a: ArmStats): string {
  if (!a.finished) return `— (0 finished${a.enrolled ? `, ${a.enrolled} running` : ''})`;
  return `${pct(a.rate)} ${a.rebooked}/${a.finished} (${pct(a.interval!.lower)}–${pct(a.interval!.upper)})`;
}

/** What the row lets anyone say, in words: the lift with its interval, or why there is none. */
export function liftVerdict(r: LiftRow): string {
  if (r.status === 'no_holdout') return 'no held-out client has finished: no comparison';
  if (r.status === 'too_small')
    return `too few to tell: needs ${r.needed.moreTreated} more treated and ${r.needed.moreHoldout} more held-out finished sequences to see a 20-point lift (95% confidence, 80% power)`;
  const d = r.difference!;
  const head = `${pts(d.estimate)} points (95% CI ${pts(d.lower)} to ${pts(d.upper)})`;
  if (!r.significant) return `${head}: not distinguishable from no lift`;
  const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(0)}`;
  const visits = r.visits
    ? `, ${signed(r.visits.estimate)} visits (${signed(r.visits.lower)} to ${signed(r.visits.upper)})`
    : '';
  const revenue = r.revenueCents
    ? `, ${r.revenueCents.estimate >= 0 ? '+' : ''}${money(r.revenueCents.estimate)} (${money(r.revenueCents.lower)} to ${money(r.revenueCents.upper)}${r.priceSource ? `, ${r.priceSource} price` : ''})`
    : r.status === 'measured' && r.treatmentType !== 'all'
      ? ', revenue unknown (no price from the platform and no lift.averagePrice)'
      : '';
  return `${head}${visits}${revenue}`;
}

/** The agency roll-up's lift cell. */
export function liftCell(r: LiftRow): string {
  if (r.status === 'no_holdout') return 'no holdout';
  if (r.status === 'too_small') return `too small (+${r.needed.moreHoldout} held out)`;
  const d = r.difference!;
  return `${pts(d.estimate)} pts (${pts(d.lower)} to ${pts(d.upper)})${r.significant ? '' : ' n.s.'}`;
}

export function renderLiftTable(r: LiftReport): string {
  const lines = [
    `Lift report: ${r.clinics.join(', ')} — treatments completed ${day(r.from)} to ${day(r.to)}${r.treatmentType ? `, ${r.treatmentType} only` : ''}`,
    'Rebook rate of finished sequences (95% Wilson interval); lift = treated − held out (95% Newcombe interval).',
    '',
  ];
  const rows = [...r.types, ...(r.types.length > 1 ? [r.totals] : [])];
  if (!rows.length) return `${[...lines, 'No sequences in this period.'].join('\n')}\n`;
  lines.push(
    ...textTable(
      [
        ['type', 'treated', 'held out', 'lift'],
        ...rows.map((t) => [t.treatmentType, arm(t.treated), arm(t.holdout), liftVerdict(t)]),
      ],
      ['l', 'l', 'l', 'l'],
    ),
  );
  const variants = renderVariantTable(r);
  return `${lines.join('\n')}\n${variants ? `\n${variants}` : ''}`;
}

export const LIFT_CSV_COLUMNS = [
  'clinics',
  'from',
  'to',
  'treatment_type',
  'status',
  'treated_finished',
  'treated_rebooked',
  'treated_rate',
  'treated_lower',
  'treated_upper',
  'holdout_finished',
  'holdout_rebooked',
  'holdout_rate',
  'holdout_lower',
  'holdout_upper',
  'lift',
  'lift_lower',
  'lift_upper',
  'significant',
  'needed_treated',
  'needed_holdout',
  'more_treated',
  'more_holdout',
  'price_cents',
  'price_source',
  'visits',
  'visits_lower',
  'visits_upper',
  'revenue_cents',
  'revenue_lower_cents',
  'revenue_upper_cents',
] as const;

const num = (v: number | null | undefined, digits = 4) =>
  v === null || v === undefined ? '' : String(Math.round(v * 10 ** digits) / 10 ** digits);

/** One row per treatment type, and one for all types pooled (treatment_type "all"). */
export function renderLiftCsv(r: LiftReport): string {
  return csv(
    r.types.concat([r.totals]).map((t) => [r.clinics.join(' '), t]),
    r,
  );
}

/** An agency: one row per clinic, its treatment types pooled (clinics are not pooled together). */
export function renderAgencyLiftCsv(a: AgencyLift): string {
  return csv(
    a.byClinic.map((c) => [c.clinicId, c.lift]),
    a,
  );
}

export function renderAgencyLiftTable(a: AgencyLift): string {
  const lines = [
    `Lift by clinic: agency ${a.agency} — treatments completed ${day(a.from)} to ${day(a.to)}${a.treatmentType ? `, ${a.treatmentType} only` : ''}`,
    '',
  ];
  if (!a.byClinic.length) return `${[...lines, 'No clinics.'].join('\n')}\n`;
  lines.push(
    ...textTable(
      [
        ['clinic', 'treated', 'held out', 'lift'],
        ...a.byClinic.map((c) => [c.clinicId, arm(c.lift.treated), arm(c.lift.holdout), liftVerdict(c.lift)]),
      ],
      ['l', 'l', 'l', 'l'],
    ),
  );
  return `${lines.join('\n')}\n`;
}

interface AgencyLift {
  agency: string;
  from: string;
  to: string;
  treatmentType: string | null;
  byClinic: { clinicId: string; lift: LiftRow }[];
}

function csv(rows: [string, LiftRow][], r: { from: string; to: string }): string {
  const out = [LIFT_CSV_COLUMNS.join(',')];
  for (const [clinics, t] of rows)
    out.push(
      [
        clinics,
        r.from,
        r.to,
        t.treatmentType,
        t.status,
        t.treated.finished,
        t.treated.rebooked,
        num(t.treated.rate),
        num(t.treated.interval?.lower),
        num(t.treated.interval?.upper),
        t.holdout.finished,
        t.holdout.rebooked,
        num(t.holdout.rate),
        num(t.holdout.interval?.lower),
        num(t.holdout.interval?.upper),
        num(t.difference?.estimate),
        num(t.difference?.lower),
        num(t.difference?.upper),
        t.status === 'measured' ? String(t.significant) : '',
        t.needed.treated,
        t.needed.holdout,
        t.needed.moreTreated,
        t.needed.moreHoldout,
        t.priceCents ?? '',
        t.priceSource ?? '',
        num(t.visits?.estimate, 1),
        num(t.visits?.lower, 1),
        num(t.visits?.upper, 1),
        t.revenueCents?.estimate ?? '',
        t.revenueCents?.lower ?? '',
        t.revenueCents?.upper ?? '',
      ]
        .map((v) => csvField(String(v)))
        .join(','),
    );
  return `${out.join('\n')}\n`;
}

/** What a variant comparison lets anyone say, in words. */
export function variantVerdict(v: VariantRow): string {
  if (v.variants.length < 2) return 'one variant only: nothing to compare';
  if (v.status === 'too_small')
    return `too few to tell: each variant needs ${v.needed.perVariant} sends to see a 10-point difference (95% confidence, 80% power); ${v.needed.more} more`;
  const d = v.difference!;
  const head = `${v.variants[0]!.variant} leads by ${pts(d.estimate)} points (95% CI ${pts(d.lower)} to ${pts(d.upper)})`;
  return v.better ? `${head}: ${v.better} is better` : `${head}: no variant is better yet`;
}

function variantCell(s: VariantStats): string {
  if (!s.sends) return `${s.variant}: no sends`;
  return `${s.variant}: ${pct(s.rate)} ${s.bookings}/${s.sends} (${pct(s.interval!.lower)}–${pct(s.interval!.upper)})`;
}

/** The per stage and variant section of the lift table (nothing when the clinic has no variants). */
export function renderVariantTable(r: LiftReport): string {
  if (!r.variants.length) return '';
  const lines = [
    'Variants: bookings attributed ÷ sends per stage variant (95% Wilson interval); a variant is better only when the 95% Newcombe interval of its lead excludes 0.',
    '',
    ...textTable(
      [
        ['stage', 'variants', 'verdict'],
        ...r.variants.map((v) => [v.stage, v.variants.map(variantCell).join('; '), variantVerdict(v)]),
      ],
      ['l', 'l', 'l'],
    ),
  ];
  return `${lines.join('\n')}\n`;
}

export const VARIANT_CSV_COLUMNS = [
  'clinics',
  'from',
  'to',
  'stage',
  'variant',
  'sends',
  'bookings',
  'rate',
  'rate_lower',
  'rate_upper',
  'status',
  'lead',
  'lead_lower',
  'lead_upper',
  'better',
  'needed_per_variant',
  'more_needed',
] as const;

/** One row per stage and variant; the stage's comparison repeated on each of its rows. */
export function renderVariantCsv(r: LiftReport, header = true): string {
  const out: string[] = header ? [VARIANT_CSV_COLUMNS.join(',')] : [];
  for (const v of r.variants)
    for (const s of v.variants)
      out.push(
        [
          r.clinics.join(' '),
          r.from,
          r.to,
          v.stage,
          s.variant,
          s.sends,
          s.bookings,
          num(s.rate),
          num(s.interval?.lower),
          num(s.interval?.upper),
          v.status,
          num(v.difference?.estimate),
          num(v.difference?.lower),
          num(v.difference?.upper),
          v.better ?? '',
          v.needed.perVariant,
          v.needed.more,
        ]
          .map((x) => csvField(String(x)))
          .join(','),
      );
  return out.length ? `${out.join('\n')}\n` : '';
}
