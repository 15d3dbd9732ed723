/**
 * `rebook dev`'s first console user: an agency admin of every configured clinic, created on the
 * first start. Until they choose a password, each start prints a fresh one-time setup link.
 */
import type { LoadedConfig } from '../../config/load.js';
import type { Db } from '../../db/client.js';
import { createLink, linkPath } from './links.js';
import { createUser, findUserByEmail } from './users.js';

export const DEV_ADMIN_EMAIL = 'admin@rebook.local';

/** The console line for the dev banner: a setup link, or who to sign in as. */
export async function ensureDevAdmin(db: Db, config: LoadedConfig, baseUrl: string): Promise<string> {
  let user = await findUserByEmail(db, DEV_ADMIN_EMAIL);
  user ??= await createUser(db, config, {
    email: DEV_ADMIN_EMAIL,
    name: 'Dev Admin',
    role: 'agency_admin',
    clinicIds: [...config.clinics.keys()],
  });
  if (user.passwordHash) return `${baseUrl}/app  (sign in as ${DEV_ADMIN_EMAIL})`;
  return `${baseUrl}${linkPath(await createLink(db, user.id, 'setup', new Date()))}  (one-time link: choose a password)`;
}
