/**
 * `rebook config validate [dir]` as a user runs it (a child process through tsx): "config ok"
 * then the warnings (SMS segments, caps a sequence can never meet, discreet wording), exit 0 with
 * warnings; every error on stderr and a non-zero exit.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const CATALOG = `treatmentTypes:
  neuromodulator:
    label: Botox
    intervalDays: 90
    stages:
      - { key: reminder, day: 80, channel: email, purpose: reminder }
      - { key: incentive, day: 90, channel: sms, purpose: incentive }
      - { key: results_checkin, day: 95, channel: email, purpose: checkin }
      - { key: staff_escalation, day: 100, channel: staff, purpose: escalation }
    synonyms: [botox]
`;
const CLINIC = `id: x
name: Clinic X
timeZone: America/Chicago
bookingUrl: https://book.example.com/x
address: 1 Main Street, Springfield
`;

function configDir(clinic: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rebook-validate-cli-'));
  made.push(dir);
  mkdirSync(join(dir, 'clinics'));
  writeFileSync(join(dir, 'catalog.yaml'), CATALOG);
  writeFileSync(join(dir, 'clinics', 'x.yaml'), clinic);
  return dir;
}

function validate(dir: string) {
  // No database for the unmapped-services check: an empty data directory and no DATABASE_URL.
  const dataDir = mkdtempSync(join(tmpdir(), 'rebook-validate-data-'));
  made.push(dataDir);
  const env: NodeJS.ProcessEnv = { ...process.env, REBOOK_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', 'config', 'validate', dir], {
    encoding: 'utf8',
    env,
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter(Boolean) };
}

describe('rebook config validate', () => {
  it('prints "config ok", then every warning with file, line and path, and exits 0', () => {
    const dir = configDir(`${CLINIC}discreet: true
caps:
  - { max: 2, window: 30d }
templates:
  incentive:
    sms:
      body: "{{clinicName}}: your Botox top-up is due, {{firstName}}! {{bookingUrl}} Reply STOP to opt out."
`);
    const r = validate(dir);
    expect(r.stderr).not.toMatch(/invalid configuration/);
    expect(r.status).toBe(0);
    expect(r.lines[0]).toMatch(/^config ok: 1 treatment types, 1 clinic\(s\)/);
    const expected = [
      'clinics/x.yaml:12 templates.incentive.sms.body: about 96 characters → 1 GSM-7 segment(s) per message',
      'clinics/x.yaml:12 templates.incentive.sms.body: discreet clinic: the SMS names the treatment "Botox"',
      'clinics/x.yaml:7 caps: neuromodulator stage "results_checkin" can never be sent: at most 2 automated message(s) per 30d always holds it past the next stage',
    ];
    for (const w of expected) {
      // After the "config ok" line, one line each.
      expect(
        r.lines.slice(1).filter((l) => l.endsWith(w)),
        w,
      ).toHaveLength(1);
    }
  });

  it('a configuration without warnings prints no warning lines', () => {
    const r = validate(configDir(CLINIC));
    expect(r.status).toBe(0);
    expect(r.lines[0]).toMatch(/^config ok:/);
    expect(r.stdout).not.toMatch(/warning|x\.yaml:/);
  });

  it('errors go to stderr, all at once, with a non-zero exit and no "config ok"', () => {
    const r = validate(
      configDir(`${CLINIC}templates:
  reminder:
    email:
      body: "Book: {{bookingUrl}}"
`),
    );
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain('config ok');
    expect(r.stderr).toContain(
      'clinics/x.yaml:9 templates.reminder.email.body: email must include the clinic address ({{clinicAddress}}, CAN-SPAM)',
    );
    expect(r.stderr).toContain(
      'clinics/x.yaml:9 templates.reminder.email.body: email must include an unsubscribe link ({{unsubscribeUrl}})',
    );
  });

  it("the repository's own config/ validates, with its SMS segment counts", () => {
    const r = validate('config');
    expect(r.status).toBe(0);
    expect(r.lines[0]).toMatch(/^config ok:/);
    expect(r.stdout).toMatch(
      /demo-clinic\.yaml:\d+ templates\.incentive\.sms\.body: about \d+ characters → \d GSM-7 segment\(s\) per message/,
    );
  });
});
