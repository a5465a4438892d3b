/**
 * Differentiable terms of the search loss, all on the GPU as functions of the step's probabilities
 * P = softmax(α) [E, K]:
 *  - expectedCost: Σ_e Σ_k P[e,k]·c[e,k] for a per-(edge, op) cost table c (FLOPs, params, LUT latency…),
 *    divided by `norm` so the weight κ/λ is scale-free;
 *  - targetPenalty: ((offset + cost)/target − 1)², pulling the whole network's cost to a budget instead
 *    of down (the search feeds it the argmax cell's cost with the soft expectation's gradient —
 *    straight-through — so the budget binds the cell it will derive);
 *  - identityPenalty (SurgeNAS identity-mapping regulariser): Σ_e P[e, skip], discouraging the
 *    over-selection of skip connections that collapses one-level/DARTS searches.
 */
import { lincomb, mul, scale, sum } from '../ops/elementwise.js';
import { gather } from '../ops/select.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';

/** A constant [E, K] cost table on the GPU, normalised by `norm`. */
export function costTable(dev: Device, costs: Float32Array, E: number, K: number, norm = 1): Tensor {
  if (costs.length !== E * K) throw new Error(`costTable: ${costs.length} costs for ${E}×${K} edges×ops`);
  return dev.tensor(costs.map((c) => c / norm), [E, K], { persistent: true, label: 'cost-table' });
}

export function expectedCost(probs: Tensor, table: Tensor): Tensor {
  return sum(mul(probs, table));
}

/** ((offset + E[cost]) / target − 1)²; offset = the architecture-independent part (stem, reductions, head). */
export function targetPenalty(expected: Tensor, target: number, offset = 0): Tensor {
  const rel = scale(expected, 1 / target, offset / target - 1);
  return mul(rel, rel);
}

export function identityPenalty(probs: Tensor, skipIndex: number, E: number, K: number): Tensor {
  return sum(gather(probs, [...Array(E).keys()].map((e) => e * K + skipIndex)));
}

/** total = task + Σ weight·term (terms with weight 0 are skipped). */
export function combine(task: Tensor, terms: readonly [number, Tensor | undefined][]): Tensor {
  let total = task;
  for (const [w, t] of terms) if (w !== 0 && t) total = lincomb(1, total, w, t);
  return total;
}
