/**
 * In `rebook dev`, links the product writes (unsubscribe links in emails, the URLs webhook
 * signatures cover) point at the server that is actually listening, whatever PORT and HOST say. A
 * clinic whose publicBaseUrl is unset or a loopback address (the demo clinic's
 * http://127.0.0.1:3000) gets the listening URL; a public address (a tunnel for real provider
 * webhooks) is an explicit choice and stays.
 */
import type { LoadedConfig } from '../config/load.js';
import type { ConfigStore } from '../config/store.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0', '[::]']);

export function isLoopbackUrl(url: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** The listening URL as a link: a wildcard address is reached on loopback. */
export function linkBaseOf(listeningUrl: string): string {
  const u = new URL(listeningUrl);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.origin;
}

function withPublicBaseUrl(config: LoadedConfig, base: string): LoadedConfig {
  const clinics = new Map(
    [...config.clinics].map(([id, c]) => [
      id,
      !c.publicBaseUrl || isLoopbackUrl(c.publicBaseUrl) ? { ...c, publicBaseUrl: base } : c,
    ]),
  );
  return { ...config, clinics };
}

/**
 * The store as the dev server's parts see it: the same configuration, reloads included, with
 * publicBaseUrl following `listening()` once the server listens.
 */
export function followListeningUrl(store: ConfigStore, listening: () => string | undefined): ConfigStore {
  let source: LoadedConfig | undefined;
  let base: string | undefined;
  let derived: LoadedConfig | undefined;
  const current = (): LoadedConfig => {
    const config = store.current();
    const url = listening();
    if (!url) return config;
    if (config !== source || url !== base) {
      source = config;
      base = url;
      derived = withPublicBaseUrl(config, url);
    }
    return derived!;
  };
  return {
    current,
    reload: () => {
      store.reload();
      return current();
    },
  };
}
