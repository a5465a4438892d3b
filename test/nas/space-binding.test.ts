/**
 * Space bindings: derivation, selection and cost tables agree with the spaces' analytic costs — for
 * random architectures, fixed + Σ table·selection equals the child network's cost; choice groups and
 * fromChoices agree with derive and selection; selectionOneHot prices a derived architecture, dropped
 * DARTS edges as 'none'.
 */
import { describe, expect, it } from 'vitest';
import { selectedCost, selectionOneHot, spaceBinding, SPACES, type ChoiceOption, type NetKnobs } from '../../src/nas/space-binding.js';
import { randomProbs, rng, testDevice } from '../helpers.js';

const knobs: NetKnobs = { C: 4, N: 1, inChannels: 1, classes: 10, H: 28, W: 28, stemStride: 2, seed: 1 };


describe.each(SPACES)('%s binding', (name) => {
  it('fixed cost + Σ table·selection = the derived child network’s analytic cost', async () => {
    const space = spaceBinding(name, await testDevice(), knobs);
    const flops = space.costTable('flops');
    const params = space.costTable('params');
    const activations = space.costTable('activations');
    expect(flops.length).toBe(space.rows * space.cols);
    expect(activations.length).toBe(space.rows * space.cols);
    for (let seed = 1; seed <= 6; seed++) {
      const probs = randomProbs(seed, space.rows, space.cols);
      if (space.allowed) probs.forEach((row, r) => row.forEach((_, c) => { if (!space.allowed![r].includes(c)) row[c] = 0; }));
      const d = space.derive(probs, true);
      const sel = space.selection(d);
      expect([...sel].every((v) => v === 0 || v === 1)).toBe(true);
      const cost = space.cost(d);
      expect(space.fixedCost('flops') + selectedCost(space, flops, d)).toBeCloseTo(cost.flops, 0);
      // DARTS search cells use affine-free BN, the child affine BN: params differ by the BN affine terms
      if (name !== 'darts') expect(space.fixedCost('params') + selectedCost(space, params, d)).toBeCloseTo(cost.params, 0);
      // activations do not depend on BN affine; derived archs hold no 'none', so node sums are fixed parts
      expect(cost.activations).toBeGreaterThan(0);
      expect(space.fixedCost('activations') + selectedCost(space, activations, d)).toBeCloseTo(cost.activations, 0);
    }
  });

  it('never derives a blocked or excluded column', async () => {
    const space = spaceBinding(name, await testDevice(), knobs);
    const probs = Array.from({ length: space.rows }, (_, r) => Array.from({ length: space.cols }, (_, c) => (c === space.skipIndex ? 0.5 : c === space.noneIndex ? 0.4 : 0.1 / (space.cols - 2)) + 1e-3 * ((r * 7 + c) % 5)));
    const d = space.derive(probs, true);
    const sel = space.selection(d);
    for (let r = 0; r < space.rows; r++) {
      if (space.noneIndex >= 0) expect(sel[r * space.cols + space.noneIndex]).toBe(0);
      if (space.allowed && !space.allowed[r].includes(space.skipIndex)) expect(sel[r * space.cols + space.skipIndex]).toBe(0);
    }
  });
});

/** the most likely option of each group (the first of equal ones) */
function mostLikely(groups: ChoiceOption[][]): ChoiceOption[] {
  return groups.map((g) => g.reduce((best, o) => (o.logProb > best.logProb ? o : best)));
}

describe.each(SPACES)('%s choice groups', (name) => {
  // choice groups, fromChoices and selection run on the CPU: no device
  const space = spaceBinding(name, undefined as never, knobs);
  const K = space.cols;

  it('the most likely option per group is derive()’s architecture; a picked option’s entries are its selection', () => {
    const excludes = name === 'nb201' ? [true, false] : [true];
    for (const excludeNone of excludes) {
      for (let seed = 1; seed <= 8; seed++) {
        const probs = randomProbs(100 + seed, space.rows, space.cols);
        const groups = space.choiceGroups(probs, excludeNone);
        expect(space.fromChoices(mostLikely(groups)).archStr, `seed ${seed}`).toBe(space.derive(probs, excludeNone).archStr);
        // a random option per group: fromChoices keeps exactly its entries, with their log-probability
        const r = rng(seed);
        const picked = groups.map((g) => g[Math.floor(r() * g.length)]);
        const d = space.fromChoices(picked);
        const entries = picked.flatMap((o) => [...o.entries]).sort((a, b) => a - b);
        const sel = space.selection(d);
        expect([...sel.keys()].filter((i) => sel[i] === 1)).toEqual(entries);
        for (const o of picked) expect(o.logProb).toBeCloseTo(o.entries.reduce((a, e) => a + Math.log(probs[Math.floor(e / K)][e % K]), 0), 12);
      }
      // ties everywhere: derivation's tie rules (DARTS: the lower input first, the earlier op) are the first option's
      const uniform = Array.from({ length: space.rows }, () => new Array<number>(space.cols).fill(1 / space.cols));
      expect(space.fromChoices(mostLikely(space.choiceGroups(uniform, excludeNone))).archStr).toBe(space.derive(uniform, excludeNone).archStr);
    }
  });

  it('lists every admissible decision once', () => {
    const groups = space.choiceGroups(randomProbs(3, space.rows, space.cols), true);
    const keys = groups.map((g) => g.map((o) => [...o.entries].sort((a, b) => a - b).join(',')));
    keys.forEach((k) => expect(new Set(k).size).toBe(k.length));
    if (name === 'darts') {
      // per node n (n + 2 inputs): C(n + 2, 2) input pairs × 7 × 7 non-'none' ops, normal cell then reduction cell
      expect(groups.map((g) => g.length)).toEqual([49, 147, 294, 490, 49, 147, 294, 490]);
      expect(groups.flat().every((o) => o.entries.length === 2 && o.entries.every((e) => e % K !== space.noneIndex))).toBe(true);
      expect(() => space.choiceGroups(randomProbs(3, space.rows, space.cols), false)).toThrow(/always excludes 'none'/);
    } else {
      expect(groups.length).toBe(space.rows);
      groups.forEach((g, r) => {
        const allowed = (space.allowed?.[r] ?? [...Array(K).keys()]).filter((c) => c !== space.noneIndex);
        expect(g.map((o) => o.entries[0] - r * K)).toEqual(allowed);
      });
    }
  });

  it('rejects a pick that is not one option per decision', () => {
    const groups = space.choiceGroups(randomProbs(4, space.rows, space.cols), true);
    const picked = mostLikely(groups);
    expect(() => space.fromChoices(picked.slice(1))).toThrow(/fromChoices/);
    expect(() => space.fromChoices([...picked, picked[0]])).toThrow(/fromChoices/);
  });
});

describe('selectionOneHot', () => {
  it('is the derived architecture one-hot; a row the derivation drops runs none', async () => {
    for (const name of SPACES) {
      const space = spaceBinding(name, await testDevice(), knobs);
      const sel = space.selection(space.derive(randomProbs(7, space.rows, space.cols), true));
      const p = selectionOneHot(space, sel);
      let dropped = 0;
      for (let r = 0; r < space.rows; r++) {
        const picked = sel.subarray(r * space.cols, (r + 1) * space.cols).indexOf(1);
        if (picked < 0) dropped++;
        const want = picked >= 0 ? picked : space.noneIndex;
        for (let c = 0; c < space.cols; c++) expect(p[r * space.cols + c], `${name} row ${r} col ${c}`).toBe(c === want ? 1 : 0);
      }
      // DARTS keeps 2 of each node's 2..5 inputs: 6 of 14 edges per cell are dropped
      expect(dropped, name).toBe(name === 'darts' ? 12 : 0);
    }
    expect(() => selectionOneHot({ rows: 2, cols: 3, noneIndex: 0 }, [1, 0, 0])).toThrow(/selection has 3 entries, α has 2×3/);
  });
});
