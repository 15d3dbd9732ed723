/**
 * Why a client got their offer, as staff see it (issue 14 §3): the reason code on the ledger row
 * read back from a real PGlite database into the client page's timeline, and the preview page.
 */
import { render } from 'preact-render-to-string';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ClientPage } from '../../src/console/pages/client.js';
import { PreviewPage } from '../../src/console/pages/preview.js';
import { clientDetail } from '../../src/console/queries/client.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { clients, messages } from '../../src/db/schema.js';
import { previewClinic } from '../../src/preview/clinic.js';
import { previewTimeline } from '../../src/preview/timeline.js';

let database: Database;
beforeAll(async () => {
  database = await openDatabase({ pgliteMemory: true });
});
afterAll(async () => database?.close());

const viewer = {
  userName: 'Front desk',
  role: 'clinic_manager' as const,
  clinics: [{ id: 'demo-clinic', name: 'Glow' }],
  clinicId: 'demo-clinic',
  csrf: 'x',
};

describe('the offer reason in the console', () => {
  it('the client timeline says why each offer message carried the offer it did', async () => {
    const [client] = await database.db
      .insert(clients)
      .values({ clinicId: 'demo-clinic', externalId: 'c-1', firstName: 'Avery', lastName: 'Q', consentSms: true })
      .returning();
    const row = (stage: string, body: string, offerReason: string | null) => ({
      idempotencyKey: `k-${stage}`,
      clinicId: 'demo-clinic',
      clientId: client!.id,
      workflowId: 'wf-1',
      treatmentType: 'neuromodulator',
      stage,
      channel: 'sms',
      status: 'outbox',
      provider: 'outbox',
      body,
      dueAt: new Date('2026-05-30T14:00:00Z'),
      offerReason,
    });
    await database.db
      .insert(messages)
      .values([
        row('incentive', 'Hi Avery, your credit is waiting, valid until Jun 29.', 'package_credit'),
        row('care_checkin', 'How are you feeling?', null),
      ]);
    const html = render(
      <ClientPage
        viewer={viewer}
        client={client!}
        clinicName="Glow"
        timeZone="America/New_York"
        detail={await clientDetail(database.db, client!)}
      />,
    );
    expect(html).toContain('your credit is waiting, valid until Jun 29. · Why this offer: credits left on a package');
    expect(html.match(/Why this offer/g)).toHaveLength(1);
  });

  it('the preview page shows the offer and why', () => {
    const clinic = previewClinic(loadConfig('config'), 'demo-clinic');
    const result = previewTimeline(
      { ...clinic, loyaltyTiers: [{ name: 'VIP', minVisits: 6, offer: { kind: 'gift', label: 'a free add-on' } }] },
      {
        treatmentType: 'neuromodulator',
        completedAtMs: Date.parse('2026-03-01T17:00:00Z'),
        client: { consent: { sms: true, email: true }, phone: '+12125550123', email: 'a@example.com' },
        offerFacts: { history: { visits12m: 7, spend12mCents: 0 } },
      },
    );
    const html = render(
      <PreviewPage
        viewer={viewer}
        clinics={viewer.clinics}
        values={{ clinicId: 'demo-clinic', service: 'Botox', date: '2026-03-01' }}
        result={result}
      />,
    );
    expect(html).toMatch(/<strong>Offer:<\/strong> a free add-on/);
    expect(html).toContain("Why: the clinic's loyalty tier (visits or spend over 12 months) (&quot;VIP&quot;)");
  });
});
