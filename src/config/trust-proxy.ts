/**
 * Which proxies the server trusts for the client's address (`REBOOK_TRUST_PROXY`), in the forms
 * fastify's `trustProxy` takes: `true` (every hop: only when nothing reaches the server but a
 * proxy that overwrites X-Forwarded-For), or addresses and CIDR ranges of the load balancers (or
 * proxy-addr's names `loopback`, `linklocal`, `uniquelocal`). A hop count is refused: fastify 5
 * ignores it (it cannot check the immediate peer, so a direct client could choose its address),
 * and a setting that silently does nothing is worse than an error at start. The per-IP rate
 * limits of the public routes key on the address this yields; without it, every request behind
 * a load balancer comes from the balancer's address and all clients share one bucket.
 * https://fastify.dev/docs/latest/Reference/Server/#trustproxy
 */
import { isIP } from 'node:net';
import { z } from 'zod';

export type TrustProxy = boolean | string[];

const NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, a CIDR range (`10.0.0.0/8`, `fd00::/8`) or one of proxy-addr's names. */
function isProxyAddress(entry: string): boolean {
  if (NAMES.has(entry) || isIP(entry) !== 0) return true;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (!m) return false;
  const family = isIP(m[1]!);
  return family !== 0 && Number(m[2]) <= (family === 4 ? 32 : 128);
}

/** The environment value (unset or empty: trust no proxy, the socket's address counts). */
export const trustProxySchema = z
  .string()
  .trim()
  .optional()
  .transform((raw, ctx): TrustProxy => {
    if (raw === undefined || raw === '' || raw === 'false') return false;
    if (raw === 'true') return true;
    if (/^\d+$/.test(raw)) {
      ctx.addIssue({
        code: 'custom',
        message:
          "a hop count is not trusted (fastify ignores it: a direct client could spoof X-Forwarded-For); name the load balancers' addresses or CIDR ranges, or true",
      });
      return z.NEVER;
    }
    const entries = raw.split(',').map((s) => s.trim());
    const bad = entries.filter((e) => !isProxyAddress(e));
    if (bad.length === 0) return entries;
    ctx.addIssue({
      code: 'custom',
      message: `not an IP address or CIDR range: ${bad.map((b) => JSON.stringify(b)).join(', ')} (expected true, false, or comma-separated addresses / CIDR ranges)`,
    });
    return z.NEVER;
  });
