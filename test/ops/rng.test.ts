import { describe, expect, it } from 'vitest';
import { mul, sum } from '../../src/ops/elementwise.js';
import { bernoulliMask, dropout, gumbel, normal, RngStream, uniform } from '../../src/ops/rng.js';
import { checkFiniteDiff, expectClose, randArray, testDevice } from '../helpers.js';
import { bernoulliRef, dropoutRef, gumbelCdf, gumbelRef, normalCdf, normalRef, philox4x32_10, unitRef } from '../reference/rng.js';

const N = 100_000;
const SEED = 2 ** 40 + 12345; // uses both key words
const EULER_GAMMA = 0.5772156649015329;

/** Kolmogorov–Smirnov distance between the samples and a CDF */
function ksDistance(xs: Float32Array, cdf: (x: number) => number): number {
  const s = Float64Array.from(xs).sort();
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const f = cdf(s[i]);
    d = Math.max(d, Math.abs(f - i / s.length), Math.abs((i + 1) / s.length - f));
  }
  return d;
}

/** Pearson χ² of the samples over `bins` equal-probability bins of the CDF */
function chiSquare(xs: Float32Array, cdf: (x: number) => number, bins = 20): number {
  const counts = new Array<number>(bins).fill(0);
  for (const x of xs) counts[Math.min(bins - 1, Math.floor(cdf(x) * bins))]++;
  const e = xs.length / bins;
  return counts.reduce((a, c) => a + (c - e) ** 2 / e, 0);
}

function moments(xs: Float32Array): [number, number] {
  let m = 0;
  for (const x of xs) m += x;
  m /= xs.length;
  let v = 0;
  for (const x of xs) v += (x - m) ** 2;
  return [m, v / (xs.length - 1)];
}

// KS at 1e5 samples: the 1% critical value is 1.63/sqrt(n) = 0.0052; χ² with 19 d.o.f.: 0.1% is 43.8.
// Mean/variance within ~5 standard errors.
const KS_MAX = 1.63 / Math.sqrt(N);
const CHI2_MAX = 43.8;

describe('rng', () => {
  it('Philox4x32-10 reference reproduces the Random123 known-answer vectors', () => {
    const hex = (w: number[]): string[] => w.map((x) => x.toString(16).padStart(8, '0'));
    expect(hex(philox4x32_10([0, 0, 0, 0], [0, 0]))).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    expect(hex(philox4x32_10([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]))).toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    expect(hex(philox4x32_10([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))).toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });

  it('uniform is bit-exact against the reference (odd sizes, 53-bit seed and counter)', async () => {
    const dev = await testDevice();
    for (const [n, counter] of [[1, 0], [5, 7], [4097, 2 ** 33 + 1], [3 * 5 * 7, 2 ** 32 - 1]]) {
      const got = await dev.tidy(() => uniform(dev, [n], SEED, counter)).read();
      expectClose(got, unitRef(n, SEED, counter), 0, 0, `uniform n=${n} counter=${counter}`);
    }
    const ranged = await dev.tidy(() => uniform(dev, [3, 11], 9, 1, -2, 3)).read();
    expectClose(ranged, unitRef(33, 9, 1).map((u) => -2 + 5 * u), 1e-6, 1e-6, 'uniform(-2, 3)');
  });

  it('uniform: moments, KS and χ² on 1e5 samples', async () => {
    const dev = await testDevice();
    const u = await dev.tidy(() => uniform(dev, [N], SEED, 1)).read();
    const [m, v] = moments(u);
    expect(Math.abs(m - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(v - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / N));
    expect(u.every((x) => x > 0 && x < 1)).toBe(true);
    expect(ksDistance(u, (x) => x)).toBeLessThan(KS_MAX);
    expect(chiSquare(u, (x) => x)).toBeLessThan(CHI2_MAX);
  });

  it('normal: matches Box–Muller reference; moments, KS and χ² on 1e5 samples', async () => {
    const dev = await testDevice();
    const got = await dev.tidy(() => normal(dev, [7, 11], SEED, 3, 1.5, 2)).read();
    expectClose(got, normalRef(77, SEED, 3, 1.5, 2), 2e-5, 1e-5, 'normal(1.5, 2)');
    const z = await dev.tidy(() => normal(dev, [N], SEED, 4)).read();
    expectClose(z, normalRef(N, SEED, 4), 2e-5, 1e-5, 'normal 1e5');
    const [m, v] = moments(z);
    expect(Math.abs(m)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(v - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(ksDistance(z, normalCdf)).toBeLessThan(KS_MAX);
    expect(chiSquare(z, normalCdf)).toBeLessThan(CHI2_MAX);
  });

  it('gumbel: matches −log(−log u) reference; moments, KS and χ² on 1e5 samples', async () => {
    const dev = await testDevice();
    const got = await dev.tidy(() => gumbel(dev, [77], SEED, 5, 0.5, 2)).read();
    expectClose(got, gumbelRef(77, SEED, 5, 0.5, 2), 2e-5, 1e-5, 'gumbel(0.5, 2)');
    const g = await dev.tidy(() => gumbel(dev, [N], SEED, 6)).read();
    expect(g.every(Number.isFinite)).toBe(true);
    const [m, v] = moments(g);
    const varG = Math.PI ** 2 / 6;
    expect(Math.abs(m - EULER_GAMMA)).toBeLessThan(5 * Math.sqrt(varG / N));
    expect(Math.abs(v - varG)).toBeLessThan(5 * Math.sqrt((4.4 * varG ** 2) / N)); // excess kurtosis 2.4
    // every sample, including u near 1 where −log u takes the series branch
    expectClose(g, gumbelRef(N, SEED, 6), 2e-5, 1e-5, 'gumbel 1e5');
    expect(ksDistance(g, gumbelCdf)).toBeLessThan(KS_MAX);
    expect(chiSquare(g, gumbelCdf)).toBeLessThan(CHI2_MAX);
  });

  it('is deterministic in (seed, counter); other counters and seeds give other numbers', async () => {
    const dev = await testDevice();
    const draw = (seed: number, counter: number): Promise<Float32Array> => dev.tidy(() => normal(dev, [4099], seed, counter)).read();
    const a = await draw(SEED, 10);
    expectClose(await draw(SEED, 10), a, 0, 0, 'same seed and counter');
    for (const b of [await draw(SEED, 11), await draw(SEED + 1, 10), await draw(SEED, 10 + 2 ** 32)]) {
      const same = a.filter((x, i) => x === b[i]).length;
      expect(same).toBeLessThan(5);
    }
  });

  it('bernoulliMask: exact against the reference, frequency ≈ p', async () => {
    const dev = await testDevice();
    for (const p of [0, 0.2, 0.5, 1]) {
      const got = await dev.tidy(() => bernoulliMask(dev, [N], p, SEED, 20, 1 / Math.max(p, 1e-9))).read();
      expectClose(got, bernoulliRef(N, p, SEED, 20, Math.fround(1 / Math.max(p, 1e-9))), 0, 0, `mask p=${p}`);
      const freq = got.filter((x) => x !== 0).length / N;
      expect(Math.abs(freq - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N) + 1e-12);
    }
    expect(() => bernoulliMask(dev, [3], 1.5, 1, 1)).toThrow(/bernoulli_mask/);
  });

  it('dropout forward/backward match the reference and finite differences; mean is preserved', async () => {
    const dev = await testDevice();
    const cases: [number[], number][] = [[[3, 5, 7], 0.3], [[1], 0.5], [[2, 33], 0], [[9], 1]];
    for (const [shape, p] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const xs = randArray(n, n);
      const ds = randArray(n, n + 1);
      const x = dev.tensor(xs, shape, { requiresGrad: true });
      const y = dropout(x, p, SEED, 30).retain();
      expectClose(await y.read(), dropoutRef(xs, p, SEED, 30), 1e-7, 1e-6, `dropout fwd p=${p}`);
      await y.backward(dev.tensor(ds, shape));
      const g = await x.grad!.read();
      expectClose(g, dropoutRef(ds, p, SEED, 30), 1e-7, 1e-6, `dropout bwd p=${p}`);
      await checkFiniteDiff(dev, xs, shape, (t) => sum(mul(dropout(t, p, SEED, 30), dev.tensor(ds, shape))), g, { eps: 1e-2, atol: 1e-4, rtol: 1e-3, count: 6 });
      x.dispose();
      y.dispose();
    }
    const kept = await dev.tidy(() => sum(dropout(dev.full([N], 1), 0.25, SEED, 31))).read();
    expect(Math.abs(kept[0] / N - 1)).toBeLessThan(5 * Math.sqrt(0.25 / 0.75 / N));
  });

  it('RngStream hands out fresh counters', () => {
    const s = new RngStream(7, 5);
    expect([s.next(), s.next(), s.counter]).toEqual([5, 6, 7]);
    expect(() => new RngStream(-1)).toThrow(/seed/);
  });
});
