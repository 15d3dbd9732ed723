/**
 * PGlite is one process's database: two processes opening the same directory both write to it
 * and can corrupt it. `rebook dev` records its pid next to the data while it runs; one-shot
 * commands (`rebook keys`, `rebook config validate`) check it before opening the directory.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOCK_FILE = 'dev.pid';

export const embeddedDir = (dataDir: string) => join(dataDir, 'pglite');

/** Marks the embedded database as in use by this process until `release`. */
export function holdEmbeddedDatabase(dataDir: string): { release(): void } {
  const file = join(dataDir, LOCK_FILE);
  writeFileSync(file, String(process.pid));
  return {
    release() {
      try {
        if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
      } catch {
        // already gone
      }
    },
  };
}

/** The pid of another live process holding the embedded database, if any. */
export function embeddedDatabaseHolder(dataDir: string): number | undefined {
  const file = join(dataDir, LOCK_FILE);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive but someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/**
 * A throwaway copy of the embedded database for reading while `rebook dev` runs (the live
 * directory is never opened twice). The copy may miss the last moments' writes.
 */
export function snapshotEmbeddedDatabase(dataDir: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'rebook-pglite-snapshot-'));
  cpSync(embeddedDir(dataDir), dir, { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
