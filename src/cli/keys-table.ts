/** `rebook keys list` output, the same whether the keys come from the database or the API. */
import type { ApiKeyRecord } from '../server/api-keys.js';
import { textTable } from '../text/table.js';

const minute = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : '-');

export function renderKeysTable(keys: ApiKeyRecord[]): string {
  const rows = [
    ['id', 'role', 'agency', 'clinic', 'label', 'created', 'last used', 'revoked'],
    ...keys.map((k) => [
      k.id,
      k.role,
      k.agencyId ?? '-',
      k.clinicId ?? '(all)',
      k.label ?? '',
      minute(k.createdAt),
      minute(k.lastUsedAt),
      minute(k.revokedAt),
    ]),
  ];
  return `${textTable(rows, ['l', 'l', 'l', 'l', 'l', 'l', 'l', 'l']).join('\n')}\n`;
}
