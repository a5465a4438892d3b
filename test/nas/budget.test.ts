/**
 * Budgeted derivation: the grouped (multiple-choice) programme and deriveUnderBudget against brute-force
 * enumeration on random problems; DARTS's budgeted genotype against its argmax and random genotypes.
 */
import { describe, expect, it } from 'vitest';
import { chooseUnderBudget, deriveUnderBudget, type BudgetOption } from '../../src/nas/budget.js';
import { budgetDerive } from '../../src/nas/budget-derive.js';
import { dartsBinding, selectedCost, type NetKnobs } from '../../src/nas/space-binding.js';
import { DARTS_PRIMITIVES, validateGenotype, type Gene, type Genotype } from '../../src/nas/spaces/darts.js';
import { randomProbs, rng } from '../helpers.js';


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
  /** an NB201 space, a per-op "latency" table (ms), and a device that runs every network 18% faster than its sum, plus 0.1 ms */
  async function calibration() {
    const { nb201Binding } = await import('../../src/nas/space-binding.js');
    const space = nb201Binding(undefined as never, { C: 8, N: 1, inChannels: 1, classes: 10, H: 28, W: 28, stemStride: 2, seed: 1 });
    const table = Float32Array.from({ length: 30 }, (_, i) => [0, 0, 0.2, 0.5, 0.1][i % 5] * (1 + (i % 3) / 10));
    const term = { name: 'latency_ms', weight: 1, target: 1.6, offset: 0.9, table, norm: 1 };
    const probs = Array.from({ length: 6 }, (_, r) => [0.05, 0.15, 0.3, 0.35, 0.15].map((p, c) => p + 0.01 * ((r + c) % 3)));
    const device = (d: { archStr: string }): number => {
      const sel = space.selection(d as never);
      return 0.82 * (0.9 + table.reduce((a, v, i) => a + v * sel[i], 0)) + 0.1;
    };
    return { space, term, probs, device };
  }

  it('rescales the table by measured / predicted until the measured cost lands in the band', async () => {
    const { calibrateToTarget, budgetDerive } = await import('../../src/nas/budget-derive.js');
    const { space, term, probs, device } = await calibration();
    const opts = { tolerance: 0.05, excludeNone: true };
    const plain = budgetDerive(space, probs, term, opts);
    expect(plain.budget.inBudget).toBe(true);
    expect(Math.abs(device(plain) / 1.6 - 1)).toBeGreaterThan(0.05); // the uncalibrated table misses on this device
    const sizes: number[] = [];
    const got = await calibrateToTarget(space, probs, term, opts, async (ds) => (sizes.push(ds.length), ds.map(device)));
    expect(Math.abs(got.budget.measured! / 1.6 - 1)).toBeLessThanOrEqual(0.05);
    expect(got.budget.measured).toBeCloseTo(device(got), 10);
    // one architecture per round, then every distinct one of the rounds together
    const rounds = got.budget.rounds!;
    const distinct = new Set(rounds.map((r) => r.archStr)).size;
    expect(rounds.length).toBeGreaterThan(1);
    expect(rounds.length).toBeLessThanOrEqual(4);
    expect(distinct).toBeGreaterThan(1);
    expect(sizes).toEqual([...Array(rounds.length).fill(1), distinct]);
    expect(got.budget.together!.map((t) => t.archStr)).toEqual([...new Set(rounds.map((r) => r.archStr))]);
  });

  it('picks by the joint measurement: rounds measured minutes apart under drifting load do not decide', async () => {
    const { calibrateToTarget } = await import('../../src/nas/budget-derive.js');
    const { space, term, probs, device: truth } = await calibration();
    // the machine speeds up over the rounds: round k reads drift[k]× the truth; together, the truth
    const drift = [1.1, 1, 0.9, 0.9];
    let round = 0;
    let joint: { archStr: string }[] = [];
    const got = await calibrateToTarget(space, probs, term, { tolerance: 0.05, excludeNone: true }, async (ds) => {
      if (ds.length > 1) joint = ds;
      return ds.length === 1 ? [truth(ds[0]) * drift[round++]] : ds.map(truth);
    });
    expect(joint.length).toBeGreaterThan(1);
    const nearest = joint.reduce((a, b) => (Math.abs(truth(b) - 1.6) < Math.abs(truth(a) - 1.6) ? b : a));
    expect(got.archStr).toBe(nearest.archStr);
    expect(got.budget.measured).toBeCloseTo(truth(got), 10);
    expect(got.budget.together).toEqual(joint.map((d) => ({ archStr: d.archStr, measured: truth(d) })));
    // by the drifting rounds alone, another candidate would have looked nearest
    const byRounds = got.budget.rounds!.reduce((a, b) => (Math.abs(b.measured - 1.6) < Math.abs(a.measured - 1.6) ? b : a));
    expect(byRounds.archStr).not.toBe(got.archStr);
  });
});

/** every pick of one option per group: the exact optimum (nearest to the band, then most likely) */
function bruteGroups(groups: BudgetOption[][], offset: number, lo: number, hi: number) {
  let best: { picks: number[]; d: number; lp: number; c: number } | undefined;
  const rec = (g: number, picks: number[], c: number, lp: number): void => {
    if (g === groups.length) {
      const t = offset + c;
      const d = t < lo ? lo - t : t > hi ? t - hi : 0;
      if (!best || d < best.d - 1e-9 || (Math.abs(d - best.d) <= 1e-9 && lp > best.lp)) best = { picks, d, lp, c: t };
      return;
    }
    groups[g].forEach((o, k) => rec(g + 1, [...picks, k], c + o.cost, lp + o.logProb));
  };
  rec(0, [], 0, 0);
  return best!;
}

describe('chooseUnderBudget', () => {
  it('matches brute force on random groups: varied sizes, integer costs (some negative), bands in and out of reach', () => {
    let inBand = 0;
    for (let seed = 1; seed <= 120; seed++) {
      const r = rng(1000 + seed);
      const groups = Array.from({ length: 1 + Math.floor(5 * r()) }, () =>
        Array.from({ length: 1 + Math.floor(7 * r()) }, () => ({ cost: Math.floor(20 * r()) - (seed % 3 === 0 ? 6 : 0), logProb: -4 * r() })));
      const offset = Math.floor(10 * r());
      const costs = groups.map((g) => g.map((o) => o.cost));
      const [min, max] = [offset + costs.reduce((a, c) => a + Math.min(...c), 0), offset + costs.reduce((a, c) => a + Math.max(...c), 0)];
      const mid = min + (max - min) * r();
      // in reach (a narrow band, or one exact integer cost), above everything, below everything
      const bands: [number, number][] = [[mid - 2, mid + 2], [Math.round(mid), Math.round(mid)], [max + 3, max + 9], [min - 9, min - 0.5]];
      const [lo, hi] = bands[seed % 4];
      // integer costs over a range < bins: every distinct cost has its own bucket, so the programme is exact
      const got = chooseUnderBudget({ groups, offset, lo, hi });
      const want = bruteGroups(groups, offset, lo, hi);
      expect(got.picks, `seed ${seed}`).toEqual(want.picks);
      expect(got.cost, `seed ${seed}`).toBe(want.c);
      expect(got.logProb, `seed ${seed}`).toBeCloseTo(want.lp, 12);
      expect(got.inBudget, `seed ${seed}`).toBe(want.d === 0);
      if (got.inBudget) inBand++;
    }
    expect(inBand).toBeGreaterThan(20);
    expect(inBand).toBeLessThan(100);
  });

  it('out of reach: the nearest cost first, then the most likely of equally near ones', () => {
    const groups = [[{ cost: 0, logProb: -0.1 }, { cost: 4, logProb: -3 }], [{ cost: 0, logProb: -0.1 }, { cost: 1, logProb: -2 }]];
    // band [10, 12]: the highest cost, 5, is nearest although least likely
    expect(chooseUnderBudget({ groups, offset: 0, lo: 10, hi: 12 })).toMatchObject({ picks: [1, 1], cost: 5, inBudget: false });
    // band [2, 3] with offset 0: costs 1 and 4 are both 1 away; 1 is more likely
    expect(chooseUnderBudget({ groups, offset: 0, lo: 2, hi: 3 })).toMatchObject({ picks: [0, 1], cost: 1, inBudget: false });
    // a zero-probability option still counts as a cost: the only one in the band is picked
    const zero = [[{ cost: 0, logProb: 0 }, { cost: 7, logProb: -Infinity }]];
    expect(chooseUnderBudget({ groups: zero, offset: 1, lo: 8, hi: 8 })).toMatchObject({ picks: [1], cost: 8, inBudget: true });
  });

  it('names an empty group', () => {
    expect(() => chooseUnderBudget({ groups: [[{ cost: 1, logProb: 0 }], []], offset: 0, lo: 0, hi: 1 })).toThrow(/group 1 of 2 has no options/);
  });
});

describe('budgetDerive on DARTS', () => {
  const knobs: NetKnobs = { C: 4, N: 1, inChannels: 1, classes: 10, H: 28, W: 28, stemStride: 2, seed: 1 };
  // the binding's tables and derivation run on the CPU: no device
  const space = dartsBinding(undefined as never, knobs);
  const table = space.costTable('flops');
  const offset = space.fixedCost('flops');
  const K = DARTS_PRIMITIVES.length;

  const dartsProbs = (seed: number): number[][] => randomProbs(seed, space.rows, K);

  /** Σ log p over a genotype's genes, α row of (node, input) counted by hand: node n's edges start at Σ_{t<n}(t+2) */
  function genotypeLogProb(probs: number[][], g: Genotype): number {
    const cell = (genes: Gene[], rowOffset: number): number => genes.reduce((a, [op, from], i) => {
      const node = Math.floor(i / 2);
      const row = rowOffset + (node * (node + 3)) / 2 + from;
      return a + Math.log(probs[row][DARTS_PRIMITIVES.indexOf(op)]);
    }, 0);
    return cell(g.normal, 0) + cell(g.reduce, 14);
  }

  /** a valid genotype: 2 distinct inputs per node, non-'none' ops (drawn by probability half the time) */
  function randomGenotype(r: () => number, probs: number[][], byProb: boolean): Genotype {
    const cell = (rowOffset: number): Gene[] => Array.from({ length: 4 }, (_, node) => {
      const a = Math.floor(r() * (node + 2));
      const b = (a + 1 + Math.floor(r() * (node + 1))) % (node + 2);
      return [a, b].map((from): Gene => {
        const row = probs[rowOffset + (node * (node + 3)) / 2 + from];
        let op = 1 + Math.floor(r() * (K - 1));
        if (byProb) {
          let u = r() * row.slice(1).reduce((x, y) => x + y, 0);
          for (op = 1; op < K - 1 && u > row[op]; op++) u -= row[op];
        }
        return [DARTS_PRIMITIVES[op], from];
      });
    }).flat();
    return validateGenotype({ normal: cell(0), normal_concat: [2, 3, 4, 5], reduce: cell(14), reduce_concat: [2, 3, 4, 5] });
  }

  it('with a band holding every genotype, is derive()’s genotype', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const probs = dartsProbs(seed);
      const term = { name: 'flops', weight: 1, target: 1, offset, table, norm: 1 };
      const got = budgetDerive(space, probs, term, { tolerance: 1e15, excludeNone: true });
      expect(got.budget.inBudget).toBe(true);
      expect(got.archStr, `seed ${seed}`).toBe(space.derive(probs, true).archStr);
      expect(got.budget.argmax).toBe(got.archStr);
    }
  });

  it('with a tight band: in the band, valid, its reported cost exact, and at least as likely as any in-band random genotype', () => {
    for (let seed = 11; seed <= 13; seed++) {
      const probs = dartsProbs(seed);
      const r = rng(seed * 7);
      const samples = Array.from({ length: 400 }, (_, i) => randomGenotype(r, probs, i % 2 === 0));
      const costOf = (g: Genotype): number => offset + selectedCost(space, table, { arch: g, archStr: '' });
      // a mid cost of the space: the median random genotype's
      const target = samples.map(costOf).sort((a, b) => a - b)[200];
      const term = { name: 'flops', weight: 1, target, offset, table, norm: 1 };
      const got = budgetDerive(space, probs, term, { tolerance: 0.01, excludeNone: true });
      expect(got.budget.inBudget, `seed ${seed}`).toBe(true);
      const g = validateGenotype(got.arch);
      expect(got.arch).toEqual(g);
      for (const genes of [g.normal, g.reduce]) {
        for (let n = 0; n < 4; n++) expect(genes[2 * n][1]).not.toBe(genes[2 * n + 1][1]);
        expect(genes.every(([op]) => op !== 'none')).toBe(true);
      }
      expect(got.budget.cost).toBeCloseTo(costOf(g), 0);
      expect(Math.abs(got.budget.cost / costOf(g) - 1)).toBeLessThan(1e-9);
      expect(got.budget.cost).toBeGreaterThanOrEqual(got.budget.lo);
      expect(got.budget.cost).toBeLessThanOrEqual(got.budget.hi);
      const lp = genotypeLogProb(probs, g);
      const rivals = samples.filter((s) => Math.abs(costOf(s) / target - 1) <= 0.01);
      expect(rivals.length, `seed ${seed}`).toBeGreaterThan(5);
      for (const s of rivals) expect(lp, `seed ${seed}: ${JSON.stringify(s)}`).toBeGreaterThanOrEqual(genotypeLogProb(probs, s) - 1e-9);
      // the argmax lies outside this band, so the budget changed the genotype
      const argmaxCost = costOf(space.derive(probs, true).arch as Genotype);
      if (Math.abs(argmaxCost / target - 1) > 0.01) expect(got.archStr).not.toBe(got.budget.argmax);
    }
  });
});

describe('a budget on a cost model (a predictor of another device)', () => {
  const knobs = { C: 4, N: 1, inChannels: 1, classes: 10, H: 28, W: 28, stemStride: 2, seed: 1 };

  it('linearizedCost: an exactly linear model is priced exactly for every architecture, dropped DARTS edges as none', async () => {
    const { dartsBinding, selectionOneHot } = await import('../../src/nas/space-binding.js');
    const { linearizedCost } = await import('../../src/nas/budget-derive.js');
    const space = dartsBinding(undefined as never, knobs);
    const r = rng(17);
    const w = Array.from({ length: space.rows * space.cols }, () => r() - 0.3);
    const f = (p: ArrayLike<number>): number => 2.5 + Array.from(p).reduce((a, v, i) => a + w[i] * v, 0);
    const archOf = (seed: number) => space.derive(randomProbs(seed, space.rows, space.cols), true);
    const at = selectionOneHot(space, space.selection(archOf(1)));
    const { table, offset } = linearizedCost(space, at, f(at), w);
    for (let seed = 2; seed < 12; seed++) {
      const d = archOf(seed);
      // the table is float32 (as every cost table): agreement to its precision
      expect(offset + selectedCost(space, table, d), `seed ${seed}`).toBeCloseTo(f(selectionOneHot(space, space.selection(d))), 5);
    }
    expect(() => linearizedCost(space, at, 0, [1, 2])).toThrow(/want 28×8 probabilities and gradient, got 224 and 2/);
  });

  it('deriveToModelTarget: relinearising at each pick lands a nonlinear model in the band', async () => {
    const { dartsBinding, selectionOneHot } = await import('../../src/nas/space-binding.js');
    const { deriveToModelTarget, linearizedCost } = await import('../../src/nas/budget-derive.js');
    const space = dartsBinding(undefined as never, knobs);
    const r = rng(5);
    const w = Array.from({ length: space.rows * space.cols }, (_, i) => (i % space.cols === space.noneIndex ? 0 : 0.1 + r()));
    // a convex model, far from linear: f = (1 + w·P)^1.5
    const lin = (p: ArrayLike<number>): number => 1 + Array.from(p).reduce((a, v, i) => a + w[i] * v, 0);
    const f = (p: ArrayLike<number>): number => lin(p) ** 1.5;
    const probs = randomProbs(9, space.rows, space.cols);
    const oneHot = (d: { arch: unknown }) => selectionOneHot(space, space.selection(d as never));
    const argmaxCost = f(oneHot(space.derive(probs, true)));
    const term = { name: 'model_ms', weight: 1, target: 0.8 * argmaxCost, norm: 1 };
    let priced = 0;
    const got = await deriveToModelTarget(space, probs, term, { tolerance: 0.05, excludeNone: true },
      async (d) => {
        const at = oneHot(d);
        return linearizedCost(space, at, f(at), w.map((v) => 1.5 * Math.sqrt(lin(at)) * v));
      },
      async (d) => (priced++, f(oneHot(d))));
    expect(got.budget.by).toBe('model');
    expect(got.budget.measured).toBeCloseTo(f(oneHot(got)), 9);
    expect(Math.abs(got.budget.measured! / term.target - 1)).toBeLessThanOrEqual(0.05);
    expect(priced).toBe(got.budget.rounds!.length);
    expect(priced).toBeLessThanOrEqual(4);
  });
});
