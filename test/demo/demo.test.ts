/**
 * (Its --help and argument errors are checked with every command's in test/cli/dispatch.test.ts.)
 * `rebook demo` run for real (time-skipping server, worker, PGlite, outbox), twice: the story it
 * prints is checked line by line, and the second run must print exactly the same.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { demoCommand } from '../../src/demo/run.js';
import { sink } from '../helpers/sink.js';

async function runDemo() {
  const out = sink();
  const err = sink();
  const code = await demoCommand({}, { stdout: out.stream, stderr: err.stream });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** The printed story as { day, lines } blocks, then the summary rows by client and sequence. */
function parse(stdout: string) {
  const days: { day: number; lines: string[] }[] = [];
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    const head = /^Day (\d+) · /.exec(line);
    if (head) {
      current = [];
      days.push({ day: Number(head[1]), lines: current });
    } else if (line === 'Summary') current = undefined;
    else if (current && line.trim()) current.push(line);
  }
  const summary = stdout.slice(stdout.indexOf('\nSummary\n'));
  const row = (client: string, sequence: string) =>
    summary.split('\n').find((l) => l.includes(client) && l.includes(` ${sequence} `)) ?? '';
  /** Event lines of one client ("HH:MM  Dana R.  what  text"), with their day. */
  const of = (client: string) =>
    days.flatMap(({ day, lines }) =>
      lines.filter((l) => new RegExp(`^  \\d\\d:\\d\\d  ${client}`).test(l)).map((l) => ({ day, line: l })),
    );
  return { days, summary, row, of };
}

let first: Awaited<ReturnType<typeof runDemo>>;
let story: ReturnType<typeof parse>;
beforeAll(async () => {
  first = await runDemo();
  story = parse(first.stdout);
}, 240_000);

describe('rebook demo', () => {
  it('runs to the end and prints the days in order, from day 0 to at most day 130', () => {
    expect(first.code).toBe(0);
    const order = story.days.map((d) => d.day);
    expect(order[0]).toBe(0);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(order.length);
    expect(order.at(-1)).toBeLessThanOrEqual(130);
    expect(first.stderr).toMatch(/130 days played in [\d.]+ s/);
  });

  it('books after the day-80 email: marketing stops at the booking, the visit is attended and starts the next cycle', () => {
    const dana = story.of('Dana R.');
    const reminder = dana.find((e) => / email +reminder → d\*\*\*@example\.com/.test(e.line));
    expect(reminder?.day).toBe(80);
    const booked = dana.findIndex((e) => e.line.includes('Botox booked after the reminder: marketing stops'));
    expect(booked).toBeGreaterThan(-1);
    expect(dana[booked]!.day).toBeGreaterThan(80);
    const attended = dana.findIndex((e) => e.line.includes('Botox visit attended (booked after the reminder)'));
    expect(dana[attended]?.day).toBe(88);
    // Between the booking and the visit nothing is sent; after it, only the new cycle's care touches.
    expect(dana.slice(booked + 1, attended).filter((e) => / (email|SMS) +\w+ → /.test(e.line))).toEqual([]);
    expect(dana[attended + 1]?.line).toContain('Botox sequence restarted by a newer treatment; next: care_checkin');
    const after = dana.slice(attended + 1).filter((e) => / (email|SMS) +\w+ → /.test(e.line));
    expect(after.map((e) => /(email|SMS) +(\w+)/.exec(e.line)![2])).toEqual(['care_checkin', 'care_results']);
    expect(story.row('Dana R.', 'Botox')).toMatch(/\s5\s+0\s+running; next: reminder, day \d+/);
  });

  it('replies "not now" after the day-90 SMS: snoozed, one snooze touch by SMS on day 120', () => {
    const maya = story.of('Maya O.');
    const reply = maya.find((e) => e.line.includes('reply') && e.line.includes('→ snooze'));
    expect(reply?.day).toBe(90);
    // "Maybe in the spring" said in April names no date ahead: the touch goes out at interval + 30 days.
    expect(maya.find((e) => e.line.includes('Botox sequence snoozed; next: snooze_reactivation, day 120'))?.day).toBe(
      90,
    );
    expect(maya.filter((e) => / SMS +snooze_reactivation → /.test(e.line)).map((e) => e.day)).toEqual([120]);
    // Nothing between the snooze and the reactivation touch.
    expect(maya.filter((e) => e.day > 90 && e.day < 120)).toEqual([]);
    // Then the win-back touches (issue 11 §3), past the demo's 130 days.
    expect(story.row('Maya O.', 'Botox')).toContain('running; next: winback_1, day 180');
  });

  it('replies STOP after the day-90 SMS: SMS opted out, no SMS after it, email and staff go on', () => {
    const sam = story.of('Sam L.');
    const stop = sam.findIndex((e) => e.line.includes('"STOP" → opt_out'));
    expect(sam[stop]?.day).toBe(90);
    expect(sam.findIndex((e) => / SMS +incentive → /.test(e.line))).toBeLessThan(stop);
    expect(sam.slice(stop + 1).filter((e) => / SMS /.test(e.line))).toEqual([]);
    expect(first.stdout).toContain('→ SMS opted out (reply)');
    expect(sam.find((e) => / email +results_checkin → /.test(e.line))?.day).toBe(95);
  });

  it('never answers: every touch, a staff task on day 100, the reactivation SMS on day 120, win-back next', () => {
    const noor = story.of('Noor H.');
    const touches = noor.filter((e) => / (email|SMS) +\w+ → /.test(e.line) && !e.line.includes('staff email'));
    expect(touches.map((e) => [e.day, /(email|SMS) +(\w+)/.exec(e.line)!.slice(1).join(' ')])).toEqual([
      [1, 'SMS care_checkin'],
      [12, 'email care_results'],
      [80, 'email reminder'],
      [90, 'SMS incentive'],
      [95, 'email results_checkin'],
      [120, 'SMS reactivation'],
    ]);
    const task = noor.find((e) => e.line.includes('staff task'));
    expect(task?.day).toBe(100);
    expect(task?.line).toContain('no_response after care_checkin, care_results, reminder, incentive, results_checkin');
    expect(story.row('Noor H.', 'Botox')).toMatch(/\s6\s+1\s+running; next: winback_1, day 180/);
  });

  it('Botox + lip filler on one day: two sequences, both stopped by one booking, both ended by its visit', () => {
    const lena = story.of('Lena M.');
    expect(lena.filter((e) => e.day === 0 && e.line.includes('sequence started')).map((e) => e.line)).toEqual([
      expect.stringContaining('Botox sequence started; next: care_checkin, day 1'),
      expect.stringContaining('lip filler sequence started; next: care_swelling, day 1'),
    ]);
    expect(lena.find((e) => e.line.includes('Botox booked after the incentive'))?.day).toBe(91);
    expect(lena.find((e) => e.line.includes('lip filler booked before any touch'))?.day).toBe(91);
    expect(lena.find((e) => e.line.includes('Botox visit attended'))?.day).toBe(96);
    expect(story.row('Lena M.', 'lip filler')).toContain('visit attended, booked before any touch');
  });

  it('no phone on file: email only, the incentive by email, a staff task on day 100', () => {
    const omar = story.of('Omar C.');
    expect(omar.filter((e) => / SMS /.test(e.line))).toEqual([]);
    expect(omar.find((e) => / email +incentive → o\*\*\*@example\.com/.test(e.line))?.day).toBe(90);
    expect(omar.find((e) => e.line.includes('staff task'))?.day).toBe(100);
  });

  it('ends with the ledger totals, read back', () => {
    expect(first.stdout).toMatch(/\nLedger\n {2}messages: \d+ messages \(email outbox \d+, SMS outbox \d+/);
    expect(first.stdout).toMatch(/staff tasks: 3 tasks \(no_response 3\)/);
    expect(first.stdout).toMatch(/replies: 2 replies \(opt_out 1, snooze 1\)/);
  });

  it('prints no unmasked phone number or email address', () => {
    const emails = first.stdout.match(/\S+@[\w-]+(\.[\w-]+)+/g) ?? [];
    expect(emails.length).toBeGreaterThan(10);
    for (const e of emails) expect(e).toMatch(/^\w\*\*\*@/);
    // Seven digits or more, however separated, would be a phone number.
    expect(first.stdout).not.toMatch(/\d(?:[\s().-]?\d){6,}/);
    for (const digits of ['2125550123', '5550147', '5550168', '5550179', '5550186'])
      expect(first.stdout).not.toContain(digits);
    expect(first.stdout).toContain('+1 ••• ••• 0168');
  });

  it('prints the same story on a second run', async () => {
    const second = await runDemo();
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  }, 240_000);
});
