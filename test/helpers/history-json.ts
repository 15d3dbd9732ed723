/**
 * Workflow histories as proto3 JSON (the format `temporal workflow show --output json` writes),
 * for the replay fixtures.
 *
 * Why not `historyToJSON` from @temporalio/common/lib/proto-utils: it checks
 * `type instanceof Type` against its own protobufjs copy, and npm nests one protobufjs@8 under
 * @temporalio/common and another under @temporalio/proto (a hoisted protobufjs@7 for grpc sits
 * at the root), so it throws "type must be a Type". The worker's replay path calls the same
 * function for JSON input. Taking protojson from the copy @temporalio/proto is built on avoids it.
 */
import { createRequire } from 'node:module';
import type { temporal } from '@temporalio/proto';
import proto from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const require = createRequire(import.meta.url);
const protojson = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as ProtoJson;
const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as {
  patchProtobufRoot: (root: unknown) => { lookupType(name: string): unknown };
};
const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): string {
  return `${JSON.stringify(protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2)}\n`;
}

/** A History with Long event ids, which `Worker.runReplayHistories` takes as is. */
export function historyFromJson(json: unknown): History {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History | null;
  if (!history?.events?.length) throw new TypeError('not a workflow history');
  return history;
}
