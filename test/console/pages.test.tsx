/**
 * The dashboard and agency page bodies rendered from data loaded out of a real (PGlite) database:
 * numbers with their meaning, the charts, the mapping form, health as words, and the empty states
 * that say what to do next.
 */
import { render } from 'preact-render-to-string';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../../src/config/load.js';
import { loadConfig } from '../../src/config/load.js';
import { loadAgencyOverview } from '../../src/console/data/agency-overview.js';
import { loadClinicDashboard } from '../../src/console/data/clinic-dashboard.js';
import { AgencyBody } from '../../src/console/pages/agency-body.js';
import { DashboardBody } from '../../src/console/pages/dashboard-body.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { seedConsoleClinic } from '../helpers/console-seed.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-10-15T16:00:00Z');
let database: Database;
let config: LoadedConfig;

beforeAll(async () => {
  database = await openDatabase({ pgliteMemory: true });
  const base = loadConfig('config');
  const demo = base.clinics.get('demo-clinic')!;
  // The demo clinic and an empty twin, both in one agency.
  config = {
    ...base,
    clinics: new Map([
      ['demo-clinic', { ...demo, agency: 'glow' }],
      ['empty-clinic', { ...demo, id: 'empty-clinic', name: 'Empty Clinic', agency: 'glow' }],
    ]),
    agencies: new Map([['glow', { id: 'glow', name: 'Glow Group', file: 'config/agencies/glow.yaml' }]]),
  };
  await seedConsoleClinic(database.db, {
    clinicId: 'demo-clinic',
    clients: 300,
    messages: 600,
    openTasks: 7,
    days: 300,
    nowMs: NOW,
    platform: 'generic',
  });
}, 120_000);
afterAll(async () => database?.close());

const period = { fromMs: NOW - 250 * DAY, toMs: NOW };
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/\s+/g, ' ');

describe('DashboardBody', () => {
  it('shows the rebook rate with its comparison, the charts, the mapping form and the connection', async () => {
    const data = await loadClinicDashboard(database.db, config, config.clinics.get('demo-clinic')!, period, NOW);
    const html = render(
      <DashboardBody
        data={data}
        nowMs={NOW}
        mapServiceAction="/app/clinics/demo-clinic/service-mappings"
        csrf={{ name: '_csrf', value: 'tok' }}
      />,
    );
    const t = data.report.totals;
    const pct = (v: number) => `${Math.round(v * 100)}%`;
    const before = data.funnel.bookedBeforeFirstTouch / t.finished;
    expect(text(html)).toContain(`${pct(t.rebookingRate!)} rebooked (${pct(before)} booked before any message)`);
    expect(text(html)).toContain(`${t.bookedOnTime} of ${t.finished} finished sequences`);
    expect(html).toContain('<title id="funnel-title">Sequence funnel</title>');
    expect(html).toContain('<title id="months-title">Rebook rate by month</title>');
    expect(html).toContain('<title id="messages-title">Messages by channel and status</title>');
    expect(html).toContain('Treatments completed Feb');
    // One form per unmapped service, carrying the key, the CSRF field and every treatment type.
    expect(html.match(/<form method="post" action="\/app\/clinics\/demo-clinic\/service-mappings"/g)).toHaveLength(5);
    expect(html).toContain('<input type="hidden" name="_csrf" value="tok"/>');
    expect(html).toContain('value="name:mystery service 1"');
    expect(html).toContain('<option value="neuromodulator">');
    expect(html).toContain('Not a repeatable treatment');
    expect(text(html)).toMatch(/Booking platform connection ✓ generic: OK working/);
    expect(html).not.toMatch(/NaN|undefined|style=|<script/);
  });

  it('an empty period says what to do next; without the mapping right no form is offered', async () => {
    const data = await loadClinicDashboard(database.db, config, config.clinics.get('empty-clinic')!, period, NOW);
    const html = render(<DashboardBody data={data} nowMs={NOW} />);
    expect(text(html)).toContain('No treatments in this period yet');
    expect(text(html)).toContain('Pick a longer period, or check the connection below');
    expect(text(html)).toContain('nothing received yet');
    expect(html).not.toContain('<form');
    expect(html).not.toMatch(/NaN/);
  });

  it('sequences all still running: the rate says when it will appear instead of 0%', async () => {
    const recent = { fromMs: NOW - 60 * DAY, toMs: NOW };
    const data = await loadClinicDashboard(database.db, config, config.clinics.get('demo-clinic')!, recent, NOW);
    const html = render(<DashboardBody data={data} nowMs={NOW} />);
    expect(text(html)).toContain('No sequence has finished yet for treatments in this period');
    expect(text(html)).not.toContain('0% rebooked');
  });
});

describe('AgencyBody', () => {
  it('one row per clinic with link, rate, tasks and health as words', async () => {
    const data = await loadAgencyOverview(database.db, config, 'glow', period, NOW);
    const html = render(<AgencyBody data={data} clinicHref={(id) => `/app/clinics/${id}/dashboard`} />);
    expect(html).toContain('<a href="/app/clinics/demo-clinic/dashboard">Glow Aesthetics (demo)</a>');
    expect(html).toContain('<a href="/app/clinics/empty-clinic/dashboard">Empty Clinic</a>');
    const demo = data.clinics.find((c) => c.clinicId === 'demo-clinic')!;
    expect(text(html)).toContain(
      `${Math.round(demo.totals.rebookingRate! * 100)}% (${demo.totals.bookedOnTime} of ${demo.totals.finished})`,
    );
    expect(text(html)).toContain('none finished yet');
    expect(html.match(/class="status status--/g)).toHaveLength(4);
    expect(text(html)).toMatch(/Needs action .*of messages failed/); // the seed fails 20% of messages
    expect(text(html)).toContain('2 clinics');
  });

  it('an agency without clinics says how to add one', () => {
    const html = render(
      <AgencyBody
        data={{
          agencyId: 'solo',
          agencyName: 'Solo',
          period,
          sendingWindow: period,
          totals: {} as never,
          clinics: [],
        }}
        clinicHref={(id) => id}
      />,
    );
    expect(text(html)).toContain('No clinics in Solo yet');
    expect(text(html)).toContain('agency: solo');
  });
});
