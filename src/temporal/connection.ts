/**
 * Connections to Temporal for the client (server process) and the worker, built from
 * temporal.yaml: plain for the dev server, TLS/mTLS for self-hosted clusters, API key for
 * Temporal Cloud. Payload encryption is attached to both sides when a key is configured.
 */
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { AesGcmPayloadCodec, parseEncryptionKeys } from './codec.js';
import type { TemporalSettings } from './settings.js';

function tlsAndAuth(s: TemporalSettings, env: NodeJS.ProcessEnv) {
  const apiKey = s.apiKeyEnv ? env[s.apiKeyEnv] : undefined;
  const cert = s.tls.clientCertEnv ? env[s.tls.clientCertEnv] : undefined;
  const key = s.tls.clientKeyEnv ? env[s.tls.clientKeyEnv] : undefined;
  const ca = s.tls.serverRootCaEnv ? env[s.tls.serverRootCaEnv] : undefined;
  const useTls = s.tls.enabled || !!apiKey;
  const tls = useTls
    ? {
        ...(s.tls.serverNameOverride ? { serverNameOverride: s.tls.serverNameOverride } : {}),
        ...(ca ? { serverRootCACertificate: Buffer.from(ca) } : {}),
        ...(cert && key ? { clientCertPair: { crt: Buffer.from(cert), key: Buffer.from(key) } } : {}),
      }
    : undefined;
  return { tls, apiKey };
}

export function dataConverterFor(s: TemporalSettings, env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const spec = env[s.encryption.keysEnv];
  return spec ? { payloadCodecs: [new AesGcmPayloadCodec(parseEncryptionKeys(spec))] } : undefined;
}

export async function connectClient(s: TemporalSettings, env: NodeJS.ProcessEnv = process.env): Promise<Client> {
  const { tls, apiKey } = tlsAndAuth(s, env);
  const opts: ConnectionOptions = { address: s.address, ...(tls ? { tls } : {}), ...(apiKey ? { apiKey } : {}) };
  const connection = await Connection.connect(opts);
  const dataConverter = dataConverterFor(s, env);
  return new Client({ connection, namespace: s.namespace, ...(dataConverter ? { dataConverter } : {}) });
}

export async function connectWorker(
  s: TemporalSettings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<NativeConnection> {
  const { tls, apiKey } = tlsAndAuth(s, env);
  const opts: NativeConnectionOptions = { address: s.address, ...(tls ? { tls } : {}), ...(apiKey ? { apiKey } : {}) };
  return NativeConnection.connect(opts);
}
