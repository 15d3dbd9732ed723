/**
 * The ports of `rebook dev`: set by environment variables (validated with the rest of the
 * environment), overriding temporal.yaml, and checked before anything starts so that a port in
 * use is named with the variable that moves it. (A real second start: test/e2e/keys-while-dev-runs.test.ts.)
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPortsFree, devPorts, withDevServerPorts } from '../../src/cli/dev-ports.js';
import { followListeningUrl, isLoopbackUrl, linkBaseOf } from '../../src/cli/dev-public-base-url.js';
import { createConfigStore } from '../../src/config/store.js';
import { parseEnv } from '../../src/env.js';
import { loadTemporalSettings } from '../../src/temporal/settings.js';

describe('port variables', () => {
  it('override temporal.yaml and are validated, each error naming its variable', () => {
    const env = parseEnv({ PORT: '4100', REBOOK_TEMPORAL_PORT: '17233', REBOOK_TEMPORAL_UI_PORT: '18233' });
    const settings = withDevServerPorts(loadTemporalSettings('temporal.yaml', {}), env);
    expect(settings.devServer).toMatchObject({ port: 17233, uiPort: 18233 });
    expect(devPorts(settings, env).map((p) => [p.port, p.variable])).toEqual([
      [4100, 'PORT'],
      [17233, 'REBOOK_TEMPORAL_PORT'],
      [18233, 'REBOOK_TEMPORAL_UI_PORT'],
    ]);
    expect(withDevServerPorts(loadTemporalSettings('temporal.yaml', {}), parseEnv({})).devServer).toMatchObject({
      port: 7233,
      uiPort: 8233,
    });
    expect(() => parseEnv({ REBOOK_TEMPORAL_PORT: '70000' })).toThrow(/REBOOK_TEMPORAL_PORT/);
    expect(() => parseEnv({ REBOOK_TEMPORAL_UI_PORT: 'ui' })).toThrow(/REBOOK_TEMPORAL_UI_PORT/);
    expect(() => parseEnv({ PORT: '-1' })).toThrow(/PORT/);
    expect(() => parseEnv({ REBOOK_URL: 'localhost:3000' })).toThrow(/REBOOK_URL/);
    // PORT=0 (any free port) has nothing to check.
    expect(devPorts(settings, parseEnv({ PORT: '0' })).map((p) => p.variable)).not.toContain('PORT');
  });
});

describe('assertPortsFree', () => {
  let busy: Server;
  let port: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    port = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => busy.close(() => r())));

  it('names a port in use with what it is for and the variable that moves it', async () => {
    await expect(
      assertPortsFree([{ port, host: '127.0.0.1', what: 'the Temporal web UI', variable: 'REBOOK_TEMPORAL_UI_PORT' }]),
    ).rejects.toThrow(
      `port ${port} on 127.0.0.1 (the Temporal web UI) is already in use: stop what uses it, or choose another port with REBOOK_TEMPORAL_UI_PORT=<port>`,
    );
  });

  it('refuses one port given twice, and passes free ports', async () => {
    const free = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    await expect(
      assertPortsFree([
        { port: free, host: '127.0.0.1', what: 'the HTTP API', variable: 'PORT' },
        { port: free, host: '127.0.0.1', what: 'the Temporal dev server', variable: 'REBOOK_TEMPORAL_PORT' },
      ]),
    ).rejects.toThrow(
      `port ${free} is given to both the HTTP API (PORT) and the Temporal dev server (REBOOK_TEMPORAL_PORT)`,
    );
    await expect(
      assertPortsFree([{ port: free, host: '127.0.0.1', what: 'the HTTP API', variable: 'PORT' }]),
    ).resolves.toBeUndefined();
  });
});

describe('publicBaseUrl in dev', () => {
  it('unset or loopback follows the listening server once it listens; a public address stays', () => {
    const store = createConfigStore('config');
    let listening: string | undefined;
    const followed = followListeningUrl(store, () => listening);
    expect(followed.current().clinics.get('demo-clinic')!.publicBaseUrl).toBe('http://127.0.0.1:3000');
    listening = linkBaseOf('http://0.0.0.0:4123');
    expect(listening).toBe('http://127.0.0.1:4123');
    expect(followed.current().clinics.get('demo-clinic')!.publicBaseUrl).toBe('http://127.0.0.1:4123');
    expect(followed.current()).toBe(followed.current());
    expect(isLoopbackUrl('http://localhost:3000')).toBe(true);
    expect(isLoopbackUrl('https://glow.example.com')).toBe(false);
    const pub = { ...store.current(), clinics: new Map([['x', { publicBaseUrl: 'https://tunnel.example.com' }]]) };
    const kept = followListeningUrl({ current: () => pub as never, reload: () => pub as never }, () => listening);
    expect(kept.current().clinics.get('x')!.publicBaseUrl).toBe('https://tunnel.example.com');
  });
});
