/**
 * `rebook users totp-off EMAIL`: the operator's way out when a user (perhaps the only admin) lost
 * their authenticator. Runs the command on an embedded database in a scratch data directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { usersCommand } from '../../src/cli/users.js';
import { loadConfig } from '../../src/config/load.js';
import { createUser } from '../../src/console/accounts/users.js';
import { openDatabase } from '../../src/db/client.js';
import { auditLog, consoleUsers } from '../../src/db/schema.js';

let dataDir: string;
let env: Parameters<typeof usersCommand>[1];
let userId: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rebook-users-totp-'));
  env = { REBOOK_CONFIG_DIR: 'config', REBOOK_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: 3000 };
  const database = await openDatabase({ pgliteDir: join(dataDir, 'pglite') });
  try {
    const user = await createUser(database.db, loadConfig('config'), {
      email: 'admin@example.com',
      name: 'Only Admin',
      role: 'agency_admin',
      clinicIds: ['demo-clinic'],
    });
    userId = user.id;
    await database.db
      .update(consoleUsers)
      .set({ totpSecret: 'sealed:v1:k:lost', totpLastStep: 7 })
      .where(eq(consoleUsers.id, user.id));
  } finally {
    await database.close();
  }
}, 60_000);
afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await usersCommand(argv, env);
    return { code, out: out.mock.calls.map((c) => String(c[0])).join(''), err: err.mock.calls.join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

it('lists who has two-step sign-in, turns it off for one user, and records it', async () => {
  expect((await run(['list'])).out).toMatch(/admin@example\.com .* on /);
  const off = await run(['totp-off', 'ADMIN@example.com']);
  expect(off).toMatchObject({ code: 0, out: 'two-step sign-in turned off for admin@example.com\n' });
  expect((await run(['list'])).out).not.toMatch(/admin@example\.com .* on /);
  const database = await openDatabase({ pgliteDir: join(dataDir, 'pglite') });
  try {
    const [row] = await database.db.select().from(consoleUsers).where(eq(consoleUsers.id, userId));
    expect(row).toMatchObject({ totpSecret: null, totpPendingSecret: null, totpLastStep: null });
    const entries = await database.db.select().from(auditLog).where(eq(auditLog.target, userId));
    expect(entries.map((e) => [e.action, e.role, e.userId])).toEqual([['user.totp_reset', 'operator', null]]);
  } finally {
    await database.close();
  }
});

it('refuses an unknown user and a missing email', async () => {
  expect((await run(['totp-off', 'nobody@example.com'])).code).toBe(1);
  const missing = await run(['totp-off']);
  expect(missing.code).toBe(2);
  expect(missing.err).toContain('totp-off takes one email address');
});
