/** deriveUnderBudget against brute-force enumeration on random problems. */
import { describe, expect, it } from 'vitest';
import { deriveUnderBudget } from '../../src/nas/budget.js';
import { rng } from '../helpers.js';

function randomProblem(seed: number, rows: number, cols: number) {
  const r = rng(seed);
  const probs = Array.from({ length: rows }, () => {
    const v = Array.from({ length: cols }, () => Math.exp(3 * r()));
    const s = v.reduce((a, b) => a + b, 0);
    return v.map((x) => x / s);
  });
  const cost = Float32Array.from({ length: rows * cols }, () => Math.round(100 * r()) / 10);
  return { probs, cost };
}

/** every assignment: the exact optimum (nearest to the band, then most likely) */
function brute(probs: number[][], cost: Float32Array, offset: number, lo: number, hi: number, allowed: number[][]) {
  const rows = probs.length;
  const cols = probs[0].length;
  let best: { columns: number[]; d: number; lp: number; c: number } | undefined;
  const rec = (r: number, columns: number[], c: number, lp: number): void => {
    if (r === rows) {
      const t = offset + c;
      const d = t < lo ? lo - t : t > hi ? t - hi : 0;
      if (!best || d < best.d - 1e-9 || (Math.abs(d - best.d) <= 1e-9 && lp > best.lp)) best = { columns, d, lp, c: t };
      return;
    }
    for (const k of allowed[r]) rec(r + 1, [...columns, k], c + cost[r * cols + k], lp + Math.log(probs[r][k]));
  };
  rec(0, [], 0, 0);
  return best!;
}

describe('deriveUnderBudget', () => {
  it('matches brute force: most likely architecture within the band, else the nearest', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rows = 2 + (seed % 4);
      const cols = 3 + (seed % 3);
      const { probs, cost } = randomProblem(seed, rows, cols);
      const allowed = probs.map((_, r) => [...Array(cols).keys()].filter((c) => !(c === 0 && r % 2 === 0)));
      const offset = 1.5;
      const mid = offset + (rows * 10) * rng(seed + 99)() / 2;
      const [lo, hi] = seed % 5 === 0 ? [1e6, 2e6] : [mid * 0.95, mid * 1.05]; // every 5th: nothing reachable
      const got = deriveUnderBudget({ probs, cost, offset, lo, hi, allowed });
      const want = brute(probs, cost, offset, lo, hi, allowed);
      expect(got.cost, `seed ${seed}`).toBeCloseTo(want.c, 4);
      expect(got.logProb, `seed ${seed}`).toBeCloseTo(want.lp, 6);
      expect(got.inBudget).toBe(want.d === 0);
      got.columns.forEach((c, r) => expect(allowed[r]).toContain(c));
    }
  });

  it('is the plain argmax when the argmax is within the band', () => {
    const probs = [[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]];
    const cost = [1, 2, 3, 4, 5, 6];
    const got = deriveUnderBudget({ probs, cost, offset: 0, lo: 5, hi: 7 });
    expect(got.columns).toEqual([1, 0]);
    expect(got.inBudget).toBe(true);
    // a band that excludes the argmax (cost 6): the next most likely inside [8, 9]
    expect(deriveUnderBudget({ probs, cost, offset: 0, lo: 8, hi: 9 }).columns).toEqual([1, 2]);
  });
});

describe('calibrateToTarget', () => {
  it('rescales the table by measured / predicted until the measured cost lands in the band', async () => {
    const { nb201Binding } = await import('../../src/nas/space-binding.js');
    const { calibrateToTarget, budgetDerive } = await import('../../src/nas/budget-derive.js');
    const space = nb201Binding(undefined as never, { C: 8, N: 1, inChannels: 1, classes: 10, H: 28, W: 28, stemStride: 2, seed: 1 });
    // a per-op "latency" table (ms) and a device that runs every network 18% faster than its sum, plus 0.1 ms
    const table = Float32Array.from({ length: 30 }, (_, i) => [0, 0, 0.2, 0.5, 0.1][i % 5] * (1 + (i % 3) / 10));
    const term = { name: 'latency_ms', weight: 1, target: 1.6, offset: 0.9, table, norm: 1 };
    const probs = Array.from({ length: 6 }, (_, r) => [0.05, 0.15, 0.3, 0.35, 0.15].map((p, c) => p + 0.01 * ((r + c) % 3)));
    const device = (d: { archStr: string }): number => {
      const sel = space.selection(d as never);
      return 0.82 * (0.9 + table.reduce((a, v, i) => a + v * sel[i], 0)) + 0.1;
    };
    const opts = { tolerance: 0.05, excludeNone: true };
    const plain = budgetDerive(space, probs, term, opts);
    expect(plain.budget.inBudget).toBe(true);
    expect(Math.abs(device(plain) / 1.6 - 1)).toBeGreaterThan(0.05); // the uncalibrated table misses on this device
    let calls = 0;
    const got = await calibrateToTarget(space, probs, term, opts, async (d) => (calls++, device(d)));
    expect(Math.abs(got.budget.measured! / 1.6 - 1)).toBeLessThanOrEqual(0.05);
    expect(got.budget.measured).toBeCloseTo(device(got), 10);
    expect(got.budget.rounds!.length).toBe(calls);
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThanOrEqual(4);
  });
});
