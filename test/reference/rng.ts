/**
 * References for shaders/rng.wgsl: Philox4x32-10 in exact 32-bit integer arithmetic (checked against
 * the Random123 known-answer vectors in the test), and the same mapping from bits to numbers:
 * element i takes word i % 4 of the block counted by (i / 4, 0, counter lo, counter hi), keyed by
 * (seed lo, seed hi). Transforms in float64.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** [hi, lo] words of the 64-bit product of two u32 */
function mulhilo(a: number, b: number): [number, number] {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  const hi = (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
  return [hi, Math.imul(a, b) >>> 0];
}

export function philox4x32_10(ctr: readonly number[], key: readonly number[]): [number, number, number, number] {
  let [c0, c1, c2, c3] = ctr.map((x) => x >>> 0);
  let [k0, k1] = key.map((x) => x >>> 0);
  for (let r = 0; r < 10; r++) {
    const [h0, l0] = mulhilo(M0, c0);
    const [h1, l1] = mulhilo(M1, c2);
    [c0, c1, c2, c3] = [(h1 ^ c1 ^ k0) >>> 0, l1, (h0 ^ c3 ^ k1) >>> 0, l0];
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** u32 words of a number in [0, 2^53): [lo, hi] */
export function words(x: number): [number, number] {
  return [x % 2 ** 32, Math.floor(x / 2 ** 32)];
}

/** the raw uniforms in (0, 1) of elements 0..n-1 (exact: the GPU must match them bit for bit) */
export function unitRef(n: number, seed: number, counter: number): Float64Array {
  const [k0, k1] = words(seed);
  const [c0, c1] = words(counter);
  const out = new Float64Array(n);
  for (let b = 0; 4 * b < n; b++) {
    const bits = philox4x32_10([b, 0, c0, c1], [k0, k1]);
    for (let j = 0; j < 4 && 4 * b + j < n; j++) out[4 * b + j] = ((bits[j] >>> 9) + 0.5) * 2 ** -23;
  }
  return out;
}

export function uniformRef(n: number, seed: number, counter: number, low = 0, high = 1): Float64Array {
  return unitRef(n, seed, counter).map((u) => low + (high - low) * u);
}

/** Box–Muller on the pairs (u0, u1), (u2, u3) of each block, angle 2π·u − π */
export function normalRef(n: number, seed: number, counter: number, mean = 0, std = 1): Float64Array {
  const u = unitRef(Math.ceil(n / 4) * 4, seed, counter);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const pair = i & ~1;
    const r = Math.sqrt(-2 * Math.log(u[pair]));
    const th = 2 * Math.PI * u[pair + 1] - Math.PI;
    out[i] = mean + std * r * (i % 2 === 0 ? Math.cos(th) : Math.sin(th));
  }
  return out;
}

export function gumbelRef(n: number, seed: number, counter: number, loc = 0, scale = 1): Float64Array {
  return unitRef(n, seed, counter).map((u) => loc - scale * Math.log(-Math.log(u)));
}

/** value where u < p, else 0 */
export function bernoulliRef(n: number, p: number, seed: number, counter: number, value = 1): Float64Array {
  return unitRef(n, seed, counter).map((u) => (u < Math.fround(p) ? value : 0));
}

/** inverted dropout with drop probability p: x/(1−p) where u < 1−p, else 0 (also its backward, on dout) */
export function dropoutRef(x: ArrayLike<number>, p: number, seed: number, counter: number): Float64Array {
  const keep = 1 - p;
  const u = unitRef(x.length, seed, counter);
  return Float64Array.from(x, (v, i) => (u[i] < Math.fround(keep) ? v * Math.fround(1 / keep) : 0));
}

/** float64 CDFs for the statistical tests */
export function normalCdf(z: number): number {
  // Abramowitz–Stegun 7.1.26 on erf, |error| < 1.5e-7
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(z * z) / 2);
  return 0.5 * (1 + (z >= 0 ? erf : -erf));
}

export function gumbelCdf(g: number): number {
  return Math.exp(-Math.exp(-g));
}
