import { describe, expect, it } from 'vitest';
import { averageRanks, kendallTauB, mape, pearson, predictorMetrics, rmse, spearman, withinShare } from '../../src/hardware/metrics.js';
import { rng } from '../helpers.js';

/** O(n²) Kendall τ-b straight from the definition (the reference for the O(n log n) version). */
function kendallBrute(x: number[], y: number[]): number {
  let s = 0;
  let tx = 0;
  let ty = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = Math.sign(x[i] - x[j]);
      const b = Math.sign(y[i] - y[j]);
      s += a * b;
      if (a === 0) tx++;
      if (b === 0) ty++;
    }
  }
  const n0 = (n * (n - 1)) / 2;
  return s / Math.sqrt((n0 - tx) * (n0 - ty));
}

describe('rank correlations (hand-computed cases)', () => {
  it('average ranks share tied positions', () => {
    expect(averageRanks([5, 6, 7, 8, 7])).toEqual([1, 2, 3.5, 5, 3.5]);
    expect(averageRanks([2, 2, 2])).toEqual([2, 2, 2]);
    expect(averageRanks([3, 1, 2])).toEqual([3, 1, 2]);
  });

  it('spearman: ties in one sequence, ties in both, perfect and reversed order', () => {
    // ranks [1..5] vs [1,2,3.5,5,3.5]: Σdxdy = 8, Σdx² = 10, Σdy² = 9.5 → 8/√95
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(8 / Math.sqrt(95), 14);
    // ranks [1.5,1.5,3.5,3.5,5] vs [1.5,3.5,1.5,3.5,5]: 5 / 9
    expect(spearman([1, 1, 2, 2, 3], [1, 2, 1, 2, 3])).toBeCloseTo(5 / 9, 14);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 1000])).toBeCloseTo(1, 14);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 14);
    expect(Number.isNaN(spearman([1, 1, 1], [1, 2, 3]))).toBe(true); // constant: undefined
    // dx = [-1,0,1], dy = [-7/3,-1/3,8/3]: Σdxdy = 5, Σdx² = 2, Σdy² = 114/9
    expect(pearson([1, 2, 3], [2, 4, 7])).toBeCloseTo(15 / Math.sqrt(228), 14);
  });

  it('kendall tau-b: ties in one, in both, and joint ties', () => {
    // nc = 8, nd = 1, one tie in y: 7 / √(10·9)
    expect(kendallTauB([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(7 / Math.sqrt(90), 14);
    // nc = 5, nd = 1, two ties in each: 4 / √(8·8)
    expect(kendallTauB([1, 1, 2, 2, 3], [1, 2, 1, 2, 3])).toBeCloseTo(0.5, 14);
    // the pair tied in both counts in n1 and n2: 2 / √(2·2)
    expect(kendallTauB([1, 1, 2], [3, 3, 4])).toBeCloseTo(1, 14);
    expect(kendallTauB([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 14);
    expect(kendallTauB([3, 1, 2], [1, 2, 3])).toBeCloseTo(-1 / 3, 14);
  });

  it('kendall tau-b (merge sort) equals the O(n²) definition on random data with many ties', () => {
    for (const [n, levels] of [[12, 3], [25, 2], [200, 5], [513, 40], [1000, 1000]] as const) {
      const r = rng(n + levels);
      const x = Array.from({ length: n }, () => Math.floor(r() * levels));
      const y = x.map((v) => Math.floor((v + r() * levels) / 2));
      const want = kendallBrute(x, y);
      expect(Number.isFinite(want), `case n=${n}`).toBe(true);
      expect(kendallTauB(x, y)).toBeCloseTo(want, 12);
    }
  });
});

describe('error metrics', () => {
  it('within ±10%, RMSE, MAPE on hand-computed cases', () => {
    // errors 5%, 20%, 5%, 0%, 12%: three within 10%
    expect(withinShare([1.05, 0.8, 2.1, 3, 5.6], [1, 1, 2, 3, 5])).toBe(0.6);
    expect(withinShare([1.05, 0.8], [1, 1], 0.25)).toBe(1);
    expect(rmse([1, 2, 3], [2, 2, 5])).toBeCloseTo(Math.sqrt(5 / 3), 14);
    expect(mape([1.1, 1.8], [1, 2])).toBeCloseTo(0.1, 14);
    expect(mape([-1, 3], [-2, 2])).toBeCloseTo(0.5, 14);
    const m = predictorMetrics([1, 2, 3.3], [1, 2, 3]);
    expect(m).toMatchObject({ n: 3, spearman: 1, kendall: 1, within10: 1, rmse: expect.closeTo(0.3 / Math.sqrt(3), 12), mape: expect.closeTo(0.1 / 3, 12) });
  });

  it('rejects mismatched lengths, empty inputs, non-finite values and zero truth for MAPE', () => {
    expect(() => rmse([1, 2], [1])).toThrow(/rmse: 2 predictions but 1 true values/);
    expect(() => spearman([], [])).toThrow(/no values/);
    expect(() => kendallTauB([1, NaN], [1, 2])).toThrow(/not finite/);
    expect(() => mape([1, 2], [1, 0])).toThrow(/true value 1 is 0/);
  });
});
