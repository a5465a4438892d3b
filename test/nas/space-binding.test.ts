/**
 * Space bindings: derivation, selection and cost tables agree with the spaces' analytic costs — for
 * random architectures, fixed + Σ table·selection equals the child network's cost.
 */
import { describe, expect, it } from 'vitest';
import { selectedCost, spaceBinding, SPACES, type NetKnobs } from '../../src/nas/space-binding.js';
import { rng, testDevice } from '../helpers.js';

const knobs: NetKnobs = { C: 4, N: 1, inChannels: 1, classes: 10, H: 28, W: 28, stemStride: 2, seed: 1 };

function randomProbs(seed: number, rows: number, cols: number): number[][] {
  const r = rng(seed);
  return Array.from({ length: rows }, () => {
    const v = Array.from({ length: cols }, () => Math.exp(4 * r()));
    const s = v.reduce((a, b) => a + b, 0);
    return v.map((x) => x / s);
  });
}

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
      if (space.fromColumns) {
        const cols = Array.from({ length: space.rows }, (_, r) => sel.subarray(r * space.cols, (r + 1) * space.cols).indexOf(1));
        expect(space.fromColumns(cols).archStr).toBe(d.archStr);
      }
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
