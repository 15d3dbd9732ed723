/** The shared vendor HTTP layer: retries, Retry-After, refresh on 401, coded errors without vendor text. */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../src/log.js';
import { ApiCallCounter, backoffDelay, createVendorHttp, retryAfterMs } from './http.js';

const BASE = 'https://vendor.test';
beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(() => nock.enableNetConnect());

function client(o: { onUnauthorized?: () => Promise<boolean>; headers?: () => Promise<Record<string, string>> } = {}) {
  const waits: number[] = [];
  const counter = new ApiCallCounter();
  const http = createVendorHttp({
    platform: 'vendor',
    clinicId: 'c1',
    baseURL: BASE,
    counter,
    log: createLogger({ level: 'silent' }),
    retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
    timeoutMs: 2000,
    sleep: async (ms) => void waits.push(ms),
    ...o,
  });
  return { http, waits, counter };
}

describe('vendor HTTP', () => {
  it('Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('7')).toBe(7000);
    expect(retryAfterMs(new Date(10_000 + 3000).toUTCString(), 10_000)).toBe(3000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });

  it('backoff doubles per attempt within jitter bounds and is capped', () => {
    const p = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, p, () => 0)).toBe(50);
    expect(backoffDelay(3, p, () => 1)).toBe(400);
    expect(backoffDelay(10, p, () => 1)).toBe(1000);
  });

  it('retries 5xx and network errors, honours Retry-After on 429, counts every attempt', async () => {
    const { http, waits, counter } = client();
    nock(BASE).get('/x').reply(502);
    nock(BASE).get('/x').replyWithError({ code: 'ECONNRESET' });
    nock(BASE).get('/x').reply(429, {}, { 'Retry-After': '2' });
    nock(BASE).get('/x').reply(200, { ok: true });
    expect(await http.request({ url: '/x' }, z.object({ ok: z.boolean() }))).toEqual({ ok: true });
    expect(waits).toHaveLength(3);
    expect(waits[2]).toBe(2000);
    expect(counter.get('vendor', 'c1')).toBe(4);
  });

  it('gives up after the attempts with a retryable coded error that quotes nothing from the vendor', async () => {
    const { http } = client();
    nock(BASE).get('/x').times(4).reply(503, 'client Jane Doe jane@example.com');
    const err = (await http.request({ url: '/x' }, z.unknown()).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: 'provider_unavailable', retryable: true });
    expect(err.message).not.toMatch(/Jane|example/);
  });

  it('refreshes credentials once on 401; 404 is undefined when allowed; an unexpected shape is an error', async () => {
    let token = 'old';
    let refreshes = 0;
    const { http } = client({
      headers: async () => ({ authorization: token }),
      onUnauthorized: async () => {
        token = 'new';
        refreshes++;
        return true;
      },
    });
    nock(BASE).get('/y').matchHeader('authorization', 'old').reply(401);
    nock(BASE).get('/y').matchHeader('authorization', 'new').reply(200, { id: 1 });
    expect(await http.request({ url: '/y' }, z.object({ id: z.number() }))).toEqual({ id: 1 });
    expect(refreshes).toBe(1);
    nock(BASE).get('/z').reply(404);
    expect(await http.request({ url: '/z' }, z.object({}), { allow404: true })).toBeUndefined();
    nock(BASE).get('/w').reply(200, { id: 'not a number' });
    await expect(http.request({ url: '/w' }, z.object({ id: z.number() }))).rejects.toMatchObject({
      code: 'provider_unavailable',
    });
  });
});
