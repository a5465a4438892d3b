/**
 * Counter-based hashing for data-order bookkeeping: per-epoch permutations are a pure function of
 * (seed, epoch), so a run reproduces its batches without storing them. The augmentation draws of the
 * gather kernel use the same hash in WGSL (shaders/data.wgsl: hash_u32, aug_key), with another salt.
 */

/** A 32-bit integer hash with good avalanche (xorshift-multiply, constants by C. Wellons' hash-prospector). */
export function hashU32(v: number): number {
  let x = v >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const PERM_SALT = 0x243f6a88;

/**
 * A seeded permutation of 0..n-1 for one epoch (Fisher-Yates driven by hash(key ^ i)); the same
 * (n, seed, epoch) always gives the same order, different epochs give unrelated orders.
 */
export function permutation(n: number, seed: number, epoch: number): Uint32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`permutation: n must be a non-negative integer, got ${n}`);
  const key = hashU32(hashU32((seed ^ PERM_SALT) >>> 0) ^ (epoch >>> 0));
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor((hashU32(key ^ i) / 4294967296) * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
