/**
 * Cost terms of the search loss. A term is either a per-(edge, op) table c
 * (expected cost Σ_e Σ_k softmax(α)[e,k]·c[e,k], exact for costs that add over ops: FLOPs, params, LUT
 * latency) or a differentiable function of α (a learned predictor, which also models what does not add).
 * Table entries sum the op's cost over every cell that shares α; analytic FLOPs/params tables of every
 * space come from its SpaceBinding (space-binding.ts), the LUT latency table (NB201 cells) from here.
 */
import { lutLatencyMs, type LatencyLut } from '../hardware/lut.js';
import { nb201StageShapes, type Nb201LutConfig } from '../hardware/lut-build.js';
import type { GnnPredictor } from '../hardware/predictor.js';
import type { Tensor } from '../tensor/tensor.js';
import { NB201_PRIMITIVES } from './spaces/nb201.js';

export interface CostTerm {
  /** what it is, for logs and result.json: 'flops', 'params', 'latency_ms', 'edgegpu_latency' … */
  name: string;
  /** λ or κ */
  weight: number;
  /** penalise ((offset + E[cost])/target − 1)² instead of E[cost] */
  target?: number;
  /** the architecture-independent cost (stem, reductions, head), added before comparing with target */
  offset?: number;
  /** per-(edge, op) costs [E·K] (row-major), or … */
  table?: Float32Array;
  /** … a differentiable function of α giving the cost [1] */
  fn?: (alpha: Tensor) => Tensor;
  /** the unit the weight applies to: the term is cost / norm */
  norm: number;
  /** the learned model behind `fn`, to predict the found architecture's cost */
  predictor?: GnnPredictor;
}

const E = 6;
const K = NB201_PRIMITIVES.length;

function perEdge(perOp: (op: (typeof NB201_PRIMITIVES)[number]) => number): Float32Array {
  const out = new Float32Array(E * K);
  NB201_PRIMITIVES.forEach((op, k) => {
    const v = perOp(op);
    for (let e = 0; e < E; e++) out[e * K + k] = v;
  });
  return out;
}

/** LUT latency (ms) of each (edge, op), summed over the cells sharing α; 'none' and skips cost 0. */
export function latencyTable(lut: LatencyLut, cfg: Nb201LutConfig): Float32Array {
  const shapes = nb201StageShapes(cfg);
  return perEdge((op) => {
    if (op === 'none' || op === 'skip_connect') return 0;
    return cfg.N * shapes.reduce((a, shape) => {
      const ms = lutLatencyMs(lut, op, shape);
      if (ms === undefined) throw new Error(`the latency table has no entry for ${op} at ${JSON.stringify(shape)}; rebuild it for this network (wgnas lut)`);
      return a + ms;
    }, 0);
  });
}
