/**
 * The ports `rebook dev` listens on: PORT/HOST for the API, REBOOK_TEMPORAL_PORT and
 * REBOOK_TEMPORAL_UI_PORT (else temporal.yaml's devServer) for the embedded Temporal dev server.
 * Each is checked before anything starts, so a port in use is named with the variable that moves it
 * instead of surfacing as a failed start of some child process.
 */
import { createServer } from 'node:net';
import type { Env } from '../env.js';
import type { TemporalSettings } from '../temporal/settings.js';

export interface DevPort {
  port: number;
  host: string;
  what: string;
  variable: string;
}

export function withDevServerPorts(
  settings: TemporalSettings,
  env: Pick<Env, 'REBOOK_TEMPORAL_PORT' | 'REBOOK_TEMPORAL_UI_PORT'>,
): TemporalSettings {
  return {
    ...settings,
    devServer: {
      ...settings.devServer,
      port: env.REBOOK_TEMPORAL_PORT ?? settings.devServer.port,
      uiPort: env.REBOOK_TEMPORAL_UI_PORT ?? settings.devServer.uiPort,
    },
  };
}

export function devPorts(settings: TemporalSettings, env: Pick<Env, 'PORT' | 'HOST'>): DevPort[] {
  return [
    // 0 asks the system for a free port: nothing to check.
    ...(env.PORT > 0 ? [{ port: env.PORT, host: env.HOST, what: 'the HTTP API', variable: 'PORT' }] : []),
    // The dev server binds 127.0.0.1 (src/temporal/dev-server.ts).
    {
      port: settings.devServer.port,
      host: '127.0.0.1',
      what: 'the Temporal dev server',
      variable: 'REBOOK_TEMPORAL_PORT',
    },
    {
      port: settings.devServer.uiPort,
      host: '127.0.0.1',
      what: 'the Temporal web UI',
      variable: 'REBOOK_TEMPORAL_UI_PORT',
    },
  ];
}

/** Why this port cannot be bound now, or undefined when it can. */
function bindProblem(p: DevPort): Promise<string | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.name));
    srv.listen({ port: p.port, host: p.host, exclusive: true }, () => srv.close(() => resolve(undefined)));
  });
}

export function portInUseMessage(p: Pick<DevPort, 'port' | 'host' | 'what' | 'variable'>, code = 'EADDRINUSE'): string {
  const why =
    code === 'EADDRINUSE' ? 'is already in use' : code === 'EACCES' ? 'is not allowed' : `cannot be used (${code})`;
  return `port ${p.port} on ${p.host} (${p.what}) ${why}: stop what uses it, or choose another port with ${p.variable}=<port>`;
}

/** Throws one message naming every port of ours that cannot be bound. */
export async function assertPortsFree(ports: DevPort[]): Promise<void> {
  const seen = new Map<number, DevPort>();
  const problems: string[] = [];
  for (const p of ports) {
    const twice = seen.get(p.port);
    if (twice) {
      problems.push(`port ${p.port} is given to both ${twice.what} (${twice.variable}) and ${p.what} (${p.variable})`);
      continue;
    }
    seen.set(p.port, p);
    const code = await bindProblem(p);
    if (code) problems.push(portInUseMessage(p, code));
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}
