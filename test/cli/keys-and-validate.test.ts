/**
 * `rebook keys` and `rebook config validate` as child processes over an embedded database:
 * keys shown once and stored hashed, scope checked against the configuration, revocation; the
 * embedded database left alone while `rebook dev` holds it; validation errors with file and
 * line, warnings, and the unmapped services of the last 30 days read from the database.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { apiKeys, serviceMappings, unmappedServices } from '../../src/db/schema.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DAY = 86_400_000;
let dir: string;
let configDir: string;
let dataDir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function rebook(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const { DATABASE_URL: _ignored, ...rest } = process.env;
    execFile(
      'npx',
      ['tsx', 'src/cli/main.ts', ...args],
      {
        cwd: ROOT,
        env: { ...rest, LOG_LEVEL: 'silent', REBOOK_CONFIG_DIR: configDir, REBOOK_DATA_DIR: dataDir, ...env },
      },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const clinic = (id: string, extra = '') =>
  `id: ${id}\nname: Clinic ${id}\ntimeZone: America/Chicago\nbookingUrl: https://book.example.com/${id}\naddress: 1 Main Street\n${extra}`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rebook-cli-keys-'));
  configDir = join(dir, 'config');
  dataDir = join(dir, 'data');
  mkdirSync(join(configDir, 'clinics'), { recursive: true });
  mkdirSync(join(configDir, 'agencies'));
  mkdirSync(dataDir);
  writeFileSync(join(configDir, 'catalog.yaml'), readFileSync(join(ROOT, 'config/catalog.yaml'), 'utf8'));
  writeFileSync(join(configDir, 'agencies', 'glow.yaml'), 'name: Glow Group\ndefaults:\n  sendTime: "09:30"\n');
  // "aqua gold" is a synonym here: treatments recorded as unclassified before it was added no longer count.
  writeFileSync(
    join(configDir, 'clinics', 'glow-east.yaml'),
    clinic('glow-east', 'agency: glow\nservices:\n  synonyms:\n    hydrafacial: [aqua gold]\n'),
  );
  writeFileSync(join(configDir, 'clinics', 'glow-west.yaml'), clinic('glow-west', 'agency: glow\n'));
  writeFileSync(join(configDir, 'clinics', 'solo.yaml'), clinic('solo'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rebook keys', () => {
  let key: string;
  let id: string;

  it('creates an agency key, prints it once and stores only its hash', { timeout: 120_000 }, async () => {
    const run = await rebook(['keys', 'create', '--agency', 'glow', '--label', 'ops team']);
    expect(run.code, run.stderr).toBe(0);
    key = run.stdout.trim();
    expect(key).toMatch(/^rbk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    id = key.split('_')[1]!;
    expect(run.stderr).toContain(`created key ${id}: admin of agency glow`);
    expect(run.stderr).not.toContain(key);

    const database = await openDatabase({ pgliteDir: join(dataDir, 'pglite') });
    const rows = await database.db.select().from(apiKeys);
    await database.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id,
      agencyId: 'glow',
      clinicId: null,
      role: 'admin',
      label: 'ops team',
      revokedAt: null,
    });
    expect(rows[0]!.keyHash).toBe(createHash('sha256').update(key).digest('hex'));
    // The secret is all after the id; base64url may itself hold '_' (split('_')[2] was flaky: a one-letter piece).
    const secret = key.slice(`rbk_${id}_`.length);
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('checks the scope against the configuration (the full table is in test/server/api-keys.test.ts)', async () => {
    const wrong = await rebook(['keys', 'create', '--agency', 'glow', '--clinic', 'solo']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/clinic "solo" has no agency/);
    expect(wrong.stdout).toBe('');
    const staff = await rebook(['keys', 'create', '--agency', 'glow', '--clinic', 'glow-west', '--role', 'staff']);
    expect(staff.code, staff.stderr).toBe(0);
    expect(staff.stderr).toContain('staff of clinic glow-west (agency glow)');
  }, 120_000);

  it('lists and revokes', async () => {
    const listed = await rebook(['keys', 'list', '--agency', 'glow']);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^${id}\\s+admin\\s+glow\\s+\\(all\\)\\s+ops team`));
    expect(lines[2]).toMatch(/staff\s+glow\s+glow-west/);
    expect(listed.stdout).not.toContain(key);

    const revoked = await rebook(['keys', 'revoke', id]);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked ${id}\n` });
    const again = await rebook(['keys', 'revoke', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no live key "${id}"`);
    const all = await rebook(['keys', 'list', '--agency', 'glow', '--all']);
    const row = all.stdout.split('\n').find((l) => l.startsWith(id));
    expect(row).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
  }, 180_000);

  it('leaves the embedded database alone while rebook dev holds it', async () => {
    // This test process stands in for a running `rebook dev`.
    writeFileSync(join(dataDir, 'dev.pid'), String(process.pid));
    try {
      const run = await rebook(['keys', 'create', '--agency', 'glow']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`rebook dev\` (pid ${process.pid}) is using the embedded database`);
      expect(run.stdout).toBe('');
    } finally {
      rmSync(join(dataDir, 'dev.pid'));
    }
  });
});

describe('rebook config validate', () => {
  beforeAll(async () => {
    const database = await openDatabase({ pgliteDir: join(dataDir, 'pglite') });
    const now = Date.now();
    await database.db.insert(unmappedServices).values([
      {
        clinicId: 'glow-east',
        serviceKey: 'name:aqua gold facial',
        serviceName: 'Aqua Gold Facial',
        occurrences: 4,
        lastSeenAt: new Date(now - 2 * DAY),
      },
      {
        clinicId: 'glow-east',
        serviceKey: 'name:vampire facial',
        serviceName: 'Vampire Facial',
        occurrences: 3,
        lastSeenAt: new Date(now - 5 * DAY),
      },
      {
        clinicId: 'glow-west',
        serviceKey: 'id:svc-77',
        serviceId: 'svc-77',
        serviceName: 'Skin Booster',
        occurrences: 1,
        lastSeenAt: new Date(now - 1 * DAY),
      },
      {
        clinicId: 'glow-west',
        serviceKey: 'name:old thing',
        serviceName: 'Old Thing',
        occurrences: 9,
        lastSeenAt: new Date(now - 45 * DAY),
      },
      {
        clinicId: 'solo',
        serviceKey: 'name:consultation',
        serviceName: 'Consultation',
        occurrences: 12,
        lastSeenAt: new Date(now - 1 * DAY),
      },
    ]);
    await database.db
      .insert(serviceMappings)
      .values({ clinicId: 'solo', serviceKey: 'name:consultation', treatmentType: null });
    await database.close();
  });

  it('reports the configuration, its warnings and the services of the last 30 days that still match nothing', async () => {
    const run = await rebook(['config', 'validate']);
    expect(run.code, run.stderr).toBe(0);
    // Ten types: laser hair removal is a series type of its own (issue 11 §4).
    expect(run.stdout).toContain('config ok: 10 treatment types, 3 clinic(s), 1 agency(ies)');
    const unmapped = run.stdout.split('\n').filter((l) => l.includes('matches no treatment type'));
    // Aqua Gold now matches a synonym, Old Thing is older than 30 days, Consultation was mapped by staff.
    expect(unmapped).toHaveLength(2);
    expect(unmapped[0]).toMatch(
      /clinics[/\\]glow-east\.yaml services: service "Vampire Facial" seen 3× .* map name:vampire facial/,
    );
    expect(unmapped[1]).toMatch(/clinics[/\\]glow-west\.yaml services: service "Skin Booster" \(id svc-77\) seen 1×/);
    expect(run.stdout).toMatch(/unmapped services of the last 30 days: 2 \(from .*pglite\)/);
  });

  it('reads a snapshot while rebook dev holds the embedded database', async () => {
    writeFileSync(join(dataDir, 'dev.pid'), String(process.pid));
    try {
      const run = await rebook(['config', 'validate']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(
        /unmapped services of the last 30 days: 2 \(from a snapshot of .*rebook dev is running/,
      );
    } finally {
      rmSync(join(dataDir, 'dev.pid'));
    }
  });

  it('says when there is no database to check', async () => {
    const run = await rebook(['config', 'validate'], { REBOOK_DATA_DIR: join(dir, 'empty') });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/unmapped services: not checked: no database/);
  });

  it('prints every error with file, line and path and exits 1', async () => {
    const bad = join(dir, 'bad-config');
    mkdirSync(join(bad, 'clinics'), { recursive: true });
    mkdirSync(join(bad, 'agencies'));
    writeFileSync(join(bad, 'catalog.yaml'), readFileSync(join(ROOT, 'config/catalog.yaml'), 'utf8'));
    writeFileSync(join(bad, 'agencies', 'glow.yaml'), 'name: Glow\ndefaults:\n  sendTime: "25:00"\n');
    writeFileSync(join(bad, 'clinics', 'a.yaml'), clinic('a', 'agency: glow\nsendtime: "09:00"\n'));
    writeFileSync(join(bad, 'clinics', 'b.yaml'), 'id: b\nname: [unclosed\n');
    const run = await rebook(['config', 'validate', bad]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/agencies[/\\]glow\.yaml:3 defaults\.sendTime: /);
    expect(run.stderr).toMatch(/clinics[/\\]a\.yaml:7 sendtime: unknown key "sendtime"/);
    expect(run.stderr).toMatch(/clinics[/\\]b\.yaml:\d+ \(root\): YAML: /);
  });
});
