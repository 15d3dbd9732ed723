/**
 * Proof of lift in the console (issue 13): the clinic dashboard's panel and the agency overview's
 * cell. Both print a lift only when the lift report measured one; on small samples they say how
 * many more clients are needed instead, because a difference read off 12 clients is noise that a
 * clinic owner would take for a result.
 */
import type { ArmStats, LiftReport, LiftRow } from '../../reports/lift.js';
import type { VariantRow, VariantStats } from '../../reports/variants.js';
import { percent } from './status-badge.js';

/** 0.187 → "+19"; −0.05 → "−5" (percentage points). */
const pts = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(0)}`;
const money = (cents: number) =>
  `${cents < 0 ? '−' : '+'}$${Math.abs(cents / 100).toLocaleString('en-US', { maximumFractionDigits: 0 })}`;
const count = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(0)}`;

/** Finished sequences still needed, both arms, before a 20-point lift can be seen. */
export const moreNeeded = (r: LiftRow): number => r.needed.moreTreated + r.needed.moreHoldout;

/** "Not enough clients yet — 412 more needed". */
export const notEnoughText = (r: LiftRow): string => `Not enough clients yet — ${moreNeeded(r)} more needed`;

function armText(a: ArmStats): string {
  if (!a.finished) return a.enrolled ? `none finished (${a.enrolled} running)` : 'none yet';
  return `${percent(a.rate)} (${a.rebooked} of ${a.finished})`;
}

/** The agency overview's lift cell: the measured lift, or why there is none. */
export function LiftCell({ lift, holdoutConfigured }: { lift: LiftRow; holdoutConfigured: boolean }) {
  if (!holdoutConfigured && lift.holdout.enrolled === 0) return <span class="muted">no holdout set</span>;
  if (lift.status !== 'measured') return <span class="lift-cell lift-cell--small">{notEnoughText(lift)}</span>;
  const d = lift.difference!;
  const ci = `95% CI ${pts(d.lower)} to ${pts(d.upper)}`;
  return lift.significant ? (
    <span class="lift-cell">
      <strong>{pts(d.estimate)} pts</strong> <span class="muted">({ci})</span>
    </span>
  ) : (
    <span class="lift-cell">
      no measurable lift{' '}
      <span class="muted">
        ({pts(d.estimate)} pts, {ci})
      </span>
    </span>
  );
}

function Headline({ r }: { r: LiftRow }) {
  if (r.status !== 'measured')
    return (
      <div class="lift-figure">
        <p class="lift-figure__number">{notEnoughText(r)}</p>
        <p class="lift-figure__meaning">
          A 20-point lift shows at 95% confidence once {r.needed.treated} clients in the program and {r.needed.holdout}{' '}
          held out have finished their sequences (now {r.treated.finished} and {r.holdout.finished}
          ). Until then no lift is shown: an early difference is mostly chance.
        </p>
      </div>
    );
  const d = r.difference!;
  const rates = `${percent(r.treated.rate)} rebooked in the program, ${percent(r.holdout.rate)} of comparable clients held out of it`;
  const ci = `95% CI of the difference ${pts(d.lower)} to ${pts(d.upper)} points`;
  if (!r.significant)
    return (
      <div class="lift-figure">
        <p class="lift-figure__number">No measurable lift</p>
        <p class="lift-figure__meaning">
          {rates}: {pts(d.estimate)} points ({ci}), which may be zero.
        </p>
      </div>
    );
  return (
    <div class="lift-figure">
      <p class="lift-figure__number">{pts(d.estimate)} points rebooked</p>
      <p class="lift-figure__meaning">
        {rates} ({ci}).
        {r.visits ? ` ${count(r.visits.estimate)} visits` : ''}
        {r.revenueCents ? `, ${money(r.revenueCents.estimate)}` : ''}
        {r.visits ? ' from the program in this period.' : ''}
      </p>
    </div>
  );
}

function variantText(v: VariantStats): string {
  return v.sends ? `${v.variant} ${percent(v.rate)} (${v.bookings} of ${v.sends})` : `${v.variant}: no sends yet`;
}

function VariantVerdict({ v }: { v: VariantRow }) {
  if (v.status === 'too_small') return <>Not enough sends yet — {v.needed.more} more needed per variant</>;
  if (v.better) return <strong>{v.better} is better</strong>;
  return <>No variant is better yet</>;
}

/** The clinic dashboard's panel: the pooled lift first, then each treatment type, then stage variants. */
export function LiftPanel({ lift, holdoutConfigured }: { lift: LiftReport; holdoutConfigured: boolean }) {
  const t = lift.totals;
  const types = lift.types.filter((x) => x.treated.enrolled + x.holdout.enrolled > 0);
  return (
    <section class="dash-section lift" aria-labelledby="dash-lift-h">
      <h2 id="dash-lift-h">Proof of lift</h2>
      {!holdoutConfigured && t.holdout.enrolled === 0 ? (
        <p class="empty-state">
          No clients are held out, so what the program itself causes cannot be measured. Set{' '}
          <code>lift: {'{ holdout: 0.1 }'}</code> in the clinic's configuration: one new client in ten then gets care
          touches only, and this panel compares the two groups.
        </p>
      ) : (
        <>
          <Headline r={t} />
          {types.length > 0 && (
            <div class="table-scroll">
              <table class="dash-table lift__table">
                <caption class="visually-hidden">Lift by treatment type</caption>
                <thead>
                  <tr>
                    <th scope="col">Treatment</th>
                    <th scope="col">In the program</th>
                    <th scope="col">Held out</th>
                    <th scope="col">Lift</th>
                  </tr>
                </thead>
                <tbody>
                  {types.map((r) => (
                    <tr>
                      <th scope="row">{r.label}</th>
                      <td data-label="In the program">{armText(r.treated)}</td>
                      <td data-label="Held out">{armText(r.holdout)}</td>
                      <td data-label="Lift">
                        <LiftCell lift={r} holdoutConfigured={true} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      {lift.variants.length > 0 && (
        <>
          <h3 class="lift__sub">Stage variants</h3>
          <div class="table-scroll">
            <table class="dash-table lift__variants">
              <caption class="visually-hidden">Booking rate after each stage variant</caption>
              <thead>
                <tr>
                  <th scope="col">Stage</th>
                  <th scope="col">Booked after it</th>
                  <th scope="col">Verdict</th>
                </tr>
              </thead>
              <tbody>
                {lift.variants.map((v) => (
                  <tr>
                    <th scope="row">{v.stage.replace(/_/g, ' ')}</th>
                    <td data-label="Booked after it">
                      <ul class="lift__variant-list">
                        {v.variants.map((x) => (
                          <li>{variantText(x)}</li>
                        ))}
                      </ul>
                    </td>
                    <td data-label="Verdict">
                      <VariantVerdict v={v} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
