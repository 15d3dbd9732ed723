/**
 * Registers Rebook's custom search attributes (temporal.yaml) on a namespace. Used by
 * `rebook dev` and the tests; a production cluster registers them once by operator command.
 */
import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { TemporalSettings } from './settings.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;

const TYPES: Record<TemporalSettings['searchAttributes'][string], proto.temporal.api.enums.v1.IndexedValueType> = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Text: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

export async function registerSearchAttributes(
  connection: Connection,
  namespace: string,
  attributes: TemporalSettings['searchAttributes'],
): Promise<void> {
  const wanted = Object.fromEntries(Object.entries(attributes).map(([name, type]) => [name, TYPES[type]]));
  let missing = wanted;
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const have = existing.customAttributes ?? {};
    missing = Object.fromEntries(Object.entries(wanted).filter(([name]) => !(name in have)));
  } catch {
    // Some servers (the time-skipping test server) cannot list; adding is idempotent enough.
  }
  if (Object.keys(missing).length === 0) return;
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
}
