/**
 * The database for one-shot commands: DATABASE_URL, else the embedded database under the data
 * directory. The embedded one is opened only while `rebook dev` is not running (PGlite is one
 * process's database); readers may take a snapshot instead. The database driver is loaded only
 * when there is a database to open: `rebook config validate` without one stays fast.
 */
import { existsSync } from 'node:fs';
import type { Database } from '../db/client.js';
import { embeddedDatabaseHolder, embeddedDir, snapshotEmbeddedDatabase } from '../db/embedded-lock.js';
import type { Env } from '../env.js';

export type CommandDatabase =
  | { database: Database; where: string; close(): Promise<void> }
  | { database?: undefined; why: string };

export async function openCommandDatabase(
  env: Pick<Env, 'DATABASE_URL' | 'REBOOK_DATA_DIR'>,
  mode: 'read' | 'write',
): Promise<CommandDatabase> {
  const openDatabase = async (...args: Parameters<typeof import('../db/client.js').openDatabase>) =>
    (await import('../db/client.js')).openDatabase(...args);
  if (env.DATABASE_URL) {
    const database = await openDatabase({ url: env.DATABASE_URL });
    return { database, where: 'DATABASE_URL', close: () => database.close() };
  }
  const dir = embeddedDir(env.REBOOK_DATA_DIR);
  // Readers need data to read; a writer (a key for a fresh dev setup) creates the database.
  if (mode === 'read' && !existsSync(dir))
    return { why: `no database (set DATABASE_URL, or run \`rebook dev\` once to create ${dir})` };
  const holder = embeddedDatabaseHolder(env.REBOOK_DATA_DIR);
  if (holder === undefined) {
    const database = await openDatabase({ pgliteDir: dir });
    return { database, where: dir, close: () => database.close() };
  }
  if (mode === 'write')
    return {
      why: `\`rebook dev\` (pid ${holder}) is using the embedded database in ${dir}: stop it first, or set DATABASE_URL`,
    };
  const snapshot = snapshotEmbeddedDatabase(env.REBOOK_DATA_DIR);
  try {
    const database = await openDatabase({ pgliteDir: snapshot.dir });
    return {
      database,
      where: `a snapshot of ${dir} (rebook dev is running)`,
      close: async () => {
        await database.close();
        snapshot.remove();
      },
    };
  } catch (err) {
    snapshot.remove();
    throw err;
  }
}
