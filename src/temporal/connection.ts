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

/**
 * True when the worker side (the SDK's native core) failed because the cluster could not be
 * reached: it reports the gRPC status in the error's text ("Status { code: Unavailable, …",
 * "tcp connect error"), not as a status object. A refused namespace or credential is not this.
 */
export function isNativeTemporalUnreachable(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /code: (Unavailable|DeadlineExceeded)\b|tcp connect error|Connection refused/i.test(message);
}

/**
 * Runs a worker start step (connecting, creating the worker) again while the cluster cannot be
 * reached, with backoff up to 10 s (about as far as the SDK's own polls back off), instead of
 * exiting: a worker started during a cluster outage (a deploy, a reboot where Temporal comes up
 * later) then takes work soon after it is back, as a running worker does. Anything else (a
 * misconfigured namespace, a refused key) still fails at once.
 */
export async function retryWhileUnreachable<T>(
  step: string,
  start: () => Promise<T>,
  onRetry: (info: { step: string; attempt: number; retryInMs: number }) => void,
  maxDelayMs = 10_000,
): Promise<T> {
  for (let attempt = 1, delay = 1000; ; attempt++, delay = Math.min(delay * 2, maxDelayMs)) {
    try {
      return await start();
    } catch (err) {
      if (!isNativeTemporalUnreachable(err)) throw err;
      onRetry({ step, attempt, retryInMs: delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
