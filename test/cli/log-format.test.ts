/**
 * Log lines: readable on a terminal in dev, JSON otherwise, LOG_FORMAT deciding when set; the
 * readable form keeps the redaction (no client data on screen either).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/env.js';
import { logFormatFor } from '../../src/log.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('logFormatFor', () => {
  it.each([
    [{}, true, 'pretty'],
    [{}, false, 'json'],
    [{ NODE_ENV: 'production' }, true, 'json'],
    [{ CI: 'true' }, true, 'json'],
    [{ CI: '1' }, true, 'json'],
    [{ CI: 'false' }, true, 'pretty'],
    [{ LOG_FORMAT: 'json' as const }, true, 'json'],
    [{ LOG_FORMAT: 'pretty' as const }, false, 'pretty'],
    [{ LOG_FORMAT: 'pretty' as const, NODE_ENV: 'production', CI: 'true' }, false, 'pretty'],
  ])('%j on a terminal: %s → %s', (env, tty, expected) => {
    expect(logFormatFor(env, tty)).toBe(expected);
  });

  it('LOG_FORMAT is validated with the rest of the environment', () => {
    expect(parseEnv({ LOG_FORMAT: 'pretty' }).LOG_FORMAT).toBe('pretty');
    expect(() => parseEnv({ LOG_FORMAT: 'yaml' })).toThrow(/LOG_FORMAT/);
  });
});

function logOnce(format: string): Promise<string> {
  const script = `import { createLogger } from './src/log.ts';
createLogger({ level: 'info', format: '${format}' }).info({ clinicId: 'demo-clinic', client: { email: 'dana@example.com' }, phone: '+12125550123' }, 'message held in outbox');`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT }, (err, out) =>
      err ? reject(err) : resolve(out),
    ),
  );
}

it('the readable form is not JSON and still redacts client fields', async () => {
  const pretty = await logOnce('pretty');
  expect(pretty).toContain('message held in outbox');
  expect(pretty).toContain('demo-clinic');
  expect(pretty.trimStart().startsWith('{')).toBe(false);
  expect(pretty).not.toMatch(/dana@example\.com|5550123/);
  expect(pretty).toContain('[redacted]');

  const json = JSON.parse(await logOnce('json'));
  expect(json).toMatchObject({ msg: 'message held in outbox', clinicId: 'demo-clinic', phone: '[redacted]' });
}, 30_000);
