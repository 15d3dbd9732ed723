/**
 * Seeded pseudo-random numbers for the simulator and the synthetic histories: the same seed
 * gives the same numbers on every machine (no Math.random).
 */

/** mulberry32: a small 32-bit generator, plenty for sampling conversions. Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a over the UTF-16 units, finished with a murmur3 mix so close strings spread apart. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * One generator per (seed, key): a client's draws do not depend on which other clients are in
 * the file or in what order they come.
 */
export function streamFor(seed: number, key: string): () => number {
  return mulberry32(hash32(`${seed}\u0000${key}`));
}
