/**
 * What every search space shares: the cost conventions, the op-shape record, the space record that
 * cost models iterate, and small helpers for architecture parameters (softmax, argmax, shape checks).
 *
 * Cost conventions (the ones NAS-Bench-201, DARTS and ProxylessNAS papers use, and the ones that make
 * the NAS-Bench-201 table's `*_flops_M` / `*_params_M` columns come out exactly):
 * - `flops` are MULTIPLY-ADDS (MACs) of convolutions and linear layers: a conv counts
 *   Hout·Wout·k²·Cin·Cout/groups, a linear layer in·out plus one add per output for its bias.
 *   (The op registry in src/ops/registry.ts counts a multiply-add as 2 FLOPs; multiply these by 2 to
 *   compare.) BatchNorm, ReLU, pooling, residual additions and concatenation count 0.
 * - `params` are learnable parameters: conv and linear weights, linear biases, and BatchNorm's affine
 *   weight + bias (2 per channel) unless `affine: false` (DARTS search cells use affine-free BN).
 *   BatchNorm running statistics are buffers, not parameters.
 * - `activations` are TRAINING ACTIVATION MEMORY in float32 elements for ONE sample: the elements of
 *   every tensor a training forward creates, all of which are still allocated when it ends (autograd
 *   frees the ones no backward step reads only when backward starts): the memory a forward adds above
 *   its input and the parameters (transient scratch, e.g. packed conv weights, aside). Bytes at batch B:
 *   4·B·activations. Counted as the modules in src/nn and the networks in src/nas run them, one output
 *   per layer: conv, linear, BatchNorm, ReLU/ReLU6, pooling (max pooling also keeps its output-sized
 *   arg-max), global pooling, residual add, node sums (add_n), concat, and FactorizedReduce's shifted
 *   copy of its input. Identity/skip, 'none' (dropped from a child's node sums), flatten (a view) and
 *   the network input count 0. Not counted (batch-independent): the 2 floats per channel of batch
 *   statistics each training BatchNorm keeps, so a training forward of a child allocates exactly
 *   4·B·activations + 8·Σ_BN channels bytes (checked against the allocator in
 *   test/nas/activation-memory.test.ts). It adds over ops, so relaxed expectations are exact. Cells with
 *   'none' edges deviate: node sums depend on how many non-'none' edges reach a node (nb201.ts,
 *   darts-network.ts), and a max pool reading a node of only 'none' edges (constant zeros, no gradient)
 *   keeps no arg-max. Derived architectures without 'none' are exact.
 */
import { WgnasError } from '../../gpu/errors.js';

/** A bad architecture string, genotype, α matrix or space configuration; the message names the bad part. */
export class SearchSpaceError extends WgnasError {}

export interface Cost {
  /** multiply-adds (see the conventions above) */
  flops: number;
  /** learnable parameters */
  params: number;
  /**
   * training activation memory, float32 elements per sample (see the conventions above). Required, so
   * that the compiler finds every cost that forgets it: a silent 0 would under-count memory unnoticed.
   */
  activations: number;
}

/** A fresh zero cost (ops that create nothing: none, identity). */
export function zeroCost(): Cost {
  return { flops: 0, params: 0, activations: 0 };
}

/** The input an op sees: C channels of H×W, its stride, and (MBConv, channel-changing ops) its output channels. */
export interface OpShape {
  C: number;
  H: number;
  W: number;
  stride: number;
  /** output channels; defaults to C */
  Cout?: number;
  /** BatchNorm with learnable scale/shift (counts 2·channels params); default true */
  affine?: boolean;
}

/** A search space as data: its primitives in α-column order and the analytic cost of each. */
export interface SearchSpace<P extends string = string> {
  name: string;
  primitives: readonly P[];
  /** analytic cost of one op on one input shape; throws SearchSpaceError where the op cannot take that shape */
  opCost(op: P, shape: OpShape): Cost;
  /** whether the op can take that shape (e.g. MBConv's skip needs stride 1 and Cout = C); absent: always */
  allows?(op: P, shape: OpShape): boolean;
}

export function addCost(a: Cost, b: Cost): Cost {
  return { flops: a.flops + b.flops, params: a.params + b.params, activations: a.activations + b.activations };
}

export function scaleCost(a: Cost, s: number): Cost {
  return { flops: a.flops * s, params: a.params * s, activations: a.activations * s };
}

/** Sum of costs. */
export function sumCosts(costs: Iterable<Cost>): Cost {
  let total = zeroCost();
  for (const c of costs) total = addCost(total, c);
  return total;
}

/** `space.opCost(op, shape)`, after checking the op belongs to the space. */
export function opCost<P extends string>(space: SearchSpace<P>, op: P, shape: OpShape): Cost {
  if (!space.primitives.includes(op)) {
    throw new SearchSpaceError(`${space.name}: unknown op "${op}"; expected one of ${space.primitives.join(', ')}`);
  }
  checkShape(space.name, op, shape);
  return space.opCost(op, shape);
}

/**
 * Cost of every primitive on one shape, in α-column order (a constant vector for a GPU regulariser);
 * null where the space does not allow the op on that shape (its α entry must then be masked).
 */
export function opCostTable<P extends string>(space: SearchSpace<P>, shape: OpShape): (Cost | null)[] {
  return space.primitives.map((op) => (space.allows && !space.allows(op, shape) ? null : opCost(space, op, shape)));
}

/**
 * Expected cost Σ_k p_k·cost_k of a relaxed edge/layer, p in α-column order. Its gradient in p is the
 * cost vector itself (opCostTable), which is what a complexity regulariser λ·E[cost] backpropagates.
 */
export function expectedOpCost<P extends string>(space: SearchSpace<P>, p: readonly number[], shape: OpShape): Cost {
  checkRow(`${space.name} expected cost`, p, space.primitives.length);
  let total = zeroCost();
  space.primitives.forEach((op, k) => {
    if (p[k] === 0) return; // an op the shape does not allow must have p = 0; opCost throws otherwise
    total = addCost(total, scaleCost(opCost(space, op, shape), p[k]));
  });
  return total;
}


function checkShape(space: string, op: string, s: OpShape): void {
  const dims: [string, number | undefined][] = [['C', s.C], ['H', s.H], ['W', s.W], ['stride', s.stride], ['Cout', s.Cout]];
  for (const [k, v] of dims) {
    if (v === undefined && k === 'Cout') continue;
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new SearchSpaceError(`${space}/${op}: shape ${k} must be a positive integer, got ${v} in ${JSON.stringify(s)}`);
    }
  }
}

/** Freezes an object and everything inside it (for exported constants: genotypes, space configs). */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

// ---- layer cost building blocks (conventions above) ----

/** Output size of a convolution or pooling window: floor((n + 2·pad − dil·(k−1) − 1)/stride) + 1. */
export function convOut(n: number, k: number, stride: number, pad: number, dilation = 1): number {
  return Math.floor((n + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

/** BatchNorm parameters: 2 per channel when affine. */
export function bnParams(channels: number, affine = true): number {
  return affine ? 2 * channels : 0;
}

/** A bias-free conv on an output of hout×wout: MACs, weight count, its output. */
export function convCost(cin: number, cout: number, k: number, hout: number, wout: number, groups = 1): Cost {
  return { flops: hout * wout * k * k * (cin / groups) * cout, params: k * k * (cin / groups) * cout, activations: cout * hout * wout };
}

/** A linear layer with bias: in·out + out MACs (the bias add counted, as NB201's counter does), its output. */
export function linearCost(inF: number, outF: number): Cost {
  return { flops: inF * outF + outF, params: inF * outF + outF, activations: outF };
}

/** BatchNorm of channels×h×w: its parameters (bnParams) and its output. */
export function bnCost(channels: number, h: number, w: number, affine = true): Cost {
  return { flops: 0, params: bnParams(channels, affine), activations: channels * h * w };
}

/** A layer that only creates an output of `elements` (ReLU, pooling, add, add_n, concat, shifted copy). */
export function outputCost(elements: number): Cost {
  return { flops: 0, params: 0, activations: elements };
}

// ---- architecture-parameter helpers ----

/** Numerically stable softmax of one row. */
export function softmax(row: readonly number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Index of the largest entry (the first one on ties), skipping the columns in `exclude`. */
export function argmax(row: readonly number[], exclude: readonly number[] = []): number {
  let best = -1;
  for (let k = 0; k < row.length; k++) {
    if (exclude.includes(k)) continue;
    if (best < 0 || row[k] > row[best]) best = k;
  }
  if (best < 0) throw new SearchSpaceError(`argmax: no admissible column in a row of ${row.length}`);
  return best;
}

/** Throws unless `row` has `cols` finite numbers. */
export function checkRow(what: string, row: readonly number[], cols: number): void {
  if (!Array.isArray(row) || row.length !== cols) {
    throw new SearchSpaceError(`${what}: expected a row of ${cols} numbers, got ${Array.isArray(row) ? `length ${row.length}` : typeof row}`);
  }
  const bad = row.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw new SearchSpaceError(`${what}: entry ${bad} is ${row[bad]}, not a finite number`);
}

/** Throws unless `m` is a rows×cols matrix of finite numbers; the message names the expected shape. */
export function checkMatrix(what: string, m: readonly (readonly number[])[], rows: number, cols: number): void {
  if (!Array.isArray(m) || m.length !== rows) {
    throw new SearchSpaceError(`${what}: expected ${rows}×${cols}, got ${Array.isArray(m) ? `${m.length} rows` : typeof m}`);
  }
  m.forEach((row, i) => checkRow(`${what} row ${i} (expected ${rows}×${cols})`, row, cols));
}
