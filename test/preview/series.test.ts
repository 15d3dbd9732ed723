/**
 * The preview of a treatment series (issue 11 §4): given the session the treatment was, the
 * between-session reminders say "session 3 of 6" (rendered with the clinic's templates, looked up
 * by stage key as delivery does); after the last session, the maintenance cadence. Through the
 * request schema the API and the CLI share, and through the CLI's text report.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { previewCommand } from '../../src/cli/preview.js';
import { loadConfig } from '../../src/config/load.js';
import { previewClinic } from '../../src/preview/clinic.js';
import { renderPreview } from '../../src/preview/render.js';
import { previewInput, previewRequestSchema } from '../../src/preview/request.js';
import { previewTimeline } from '../../src/preview/timeline.js';
import { demoDue } from '../helpers/clinic-time.js';

const config = loadConfig('config');
const clinic = previewClinic(config, 'demo-clinic');
const T0 = Date.parse('2026-03-02T17:00:00Z'); // Monday noon in New York
const preview = (body: Record<string, unknown>) =>
  previewTimeline(
    clinic,
    previewInput(
      previewRequestSchema.parse({
        service: 'Laser Hair Removal - Full Legs',
        completedAt: new Date(T0).toISOString(),
        ...body,
      }),
      clinic.timeZone,
    ),
  );

describe('preview of a series', () => {
  it('after session 2 of 6: reminder, SMS and staff call for session 3 of 6, no offer', () => {
    const r = preview({ session: 2 });
    expect(r).toMatchObject({
      treatmentType: 'laser_hair_removal',
      intervalDays: 35,
      series: { phase: 'series', completed: 2, sessions: 6 },
    });
    expect(r.stages.map((s) => [s.key, s.outcome, s.at?.at, s.series])).toEqual([
      ['series_reminder', 'sent', new Date(demoDue(T0, 28)).toISOString(), { session: 3, sessions: 6 }],
      ['series_sms', 'sent', new Date(demoDue(T0, 35)).toISOString(), { session: 3, sessions: 6 }],
      ['series_staff', 'staff_task', new Date(demoDue(T0, 42)).toISOString(), { session: 3, sessions: 6 }],
      // A client who drops out of the course gets the reactivation and win-back touches (issue 11 §3),
      // timed from the series interval (window: day 35 + 30).
      ['reactivation', 'sent', new Date(demoDue(T0, 65)).toISOString(), undefined],
      ['winback_1', 'sent', new Date(demoDue(T0, 125)).toISOString(), undefined],
      ['winback_2', 'sent', new Date(demoDue(T0, 155)).toISOString(), undefined],
    ]);
    expect(r.stages[0]!.content!.subject).toBe('Alex, time to book session 3 of 6');
    expect(r.stages[1]!.content!.body).toContain('session 3 of 6 of your laser hair removal is due');
    // No offer between sessions (the win-backs after a dropped course carry their own).
    expect(
      r.stages
        .filter((s) => s.series)
        .map((s) => s.content?.body ?? '')
        .join('\n'),
    ).not.toContain('XXXX-XXXX');

    const text = renderPreview(r);
    expect(text).toContain('Series      session 2 of 6 done: reminders for session 3 of 6');
    expect(text).toMatch(/series_reminder \(session 3 of 6\) +28/);
    expect(text).toContain('Subject: Alex, time to book session 3 of 6');
  });

  it("takes the platform's course length (a package of 4): session 4 of 4 ends the course", () => {
    expect(preview({ session: 2, sessions: 4 }).stages[0]!.content!.subject).toBe('Alex, time to book session 3 of 4');
    expect(preview({ session: 4, sessions: 4 }).series).toEqual({ phase: 'maintenance', completed: 4, sessions: 4 });
  });

  it('after session 6 of 6: the maintenance touch-up cadence, no session wording', () => {
    const r = preview({ session: 6 });
    expect(r).toMatchObject({ intervalDays: 270, series: { phase: 'maintenance', completed: 6, sessions: 6 } });
    expect(r.stages.map((s) => [s.key, s.day])).toEqual([
      ['reminder', 180],
      ['incentive', 265],
      ['results_checkin', 270],
      ['staff_escalation', 280],
      ['reactivation', 300],
      ['winback_1', 360],
      ['winback_2', 390],
    ]);
    expect(r.stages.every((s) => !s.series)).toBe(true);
    expect(renderPreview(r)).toContain('course complete (session 6 of 6): maintenance cadence');
  });

  it('refuses sessions without session, or a session past the last, naming the field', () => {
    const bad = (body: Record<string, unknown>) =>
      previewRequestSchema
        .safeParse({ treatmentType: 'kybella', date: '2026-03-02', ...body })
        .error?.issues.map((i) => i.path.join('.'));
    expect(bad({ sessions: 4 })).toEqual(['sessions']);
    expect(bad({ session: 5, sessions: 4 })).toEqual(['sessions']);
    expect(bad({ session: 0 })).toEqual(['session']);
    expect(bad({ session: 2, sessions: 4 })).toBeUndefined();
  });
});

describe('rebook preview --session', () => {
  const out: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    out.length = 0;
  });
  const run = async (...argv: string[]) => {
    const capture = (s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    return previewCommand(['--clinic', 'demo-clinic', ...argv], { REBOOK_CONFIG_DIR: 'config' });
  };

  it('prints "session 3 of 6" for --session 2', async () => {
    expect(await run('--service', 'Laser Hair Removal - Full Legs', '--date', '2026-03-02', '--session', '2')).toBe(0);
    expect(out.join('')).toContain('session 3 of 6');
  });

  it('refuses a malformed --session', async () => {
    expect(await run('--type', 'kybella', '--date', '2026-03-02', '--session', 'third')).toBe(2);
    expect(out.join('')).toContain('--session takes N or N/M');
  });
});
