/**
 * Float64 references of the graph kernels (shaders/gnn.wgsl). Pure functions over flat row-major arrays;
 * no test framework import, so kernels-bench can use them too.
 * h [B, n, f]; adj [B, n, n] (adjBatched) or [n, n] shared by the batch (row = receiving node).
 */
import type { OpParams } from '../../src/ops/registry.js';

type Arr = ArrayLike<number>;

function adjAt(adj: Arr, shared: boolean, b: number, n: number, i: number, j: number): number {
  return adj[(shared ? 0 : b * n * n) + i * n + j];
}

/** out[b,i,c] = Σ_j adj[b,i,j]·h[b,j,c] */
export function graphAggregateRef(adj: Arr, h: Arr, batch: number, n: number, f: number, shared = false): Float64Array {
  const out = new Float64Array(batch * n * f);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < f; c++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += adjAt(adj, shared, b, n, i, j) * h[(b * n + j) * f + c];
        out[(b * n + i) * f + c] = s;
      }
    }
  }
  return out;
}

/** dh[b,j,c] = Σ_i adj[b,i,j]·dout[b,i,c] */
export function graphAggregateBackwardInputRef(adj: Arr, dout: Arr, batch: number, n: number, f: number, shared = false): Float64Array {
  const dh = new Float64Array(batch * n * f);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < n; j++) {
      for (let c = 0; c < f; c++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += adjAt(adj, shared, b, n, i, j) * dout[(b * n + i) * f + c];
        dh[(b * n + j) * f + c] = s;
      }
    }
  }
  return dh;
}

/** dadj[b,i,j] = Σ_c dout[b,i,c]·h[b,j,c]; for a shared adjacency, summed over b into [n, n]. */
export function graphAggregateBackwardAdjRef(h: Arr, dout: Arr, batch: number, n: number, f: number, shared = false): Float64Array {
  const dadj = new Float64Array((shared ? 1 : batch) * n * n);
  for (let b = 0; b < batch; b++) {
    const a0 = shared ? 0 : b * n * n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let c = 0; c < f; c++) s += dout[(b * n + i) * f + c] * h[(b * n + j) * f + c];
        dadj[a0 + i * n + j] += s;
      }
    }
  }
  return dadj;
}

/** out[b,c] = scale·Σ_j h[b,j,c] (scale 1/n: mean) */
export function graphReadoutRef(h: Arr, batch: number, n: number, f: number, scale = 1 / n): Float64Array {
  const out = new Float64Array(batch * f);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < n; j++) for (let c = 0; c < f; c++) out[b * f + c] += h[(b * n + j) * f + c];
  }
  return out.map((v) => v * scale);
}

/** dh[b,j,c] = scale·dout[b,c] */
export function graphReadoutBackwardRef(dout: Arr, batch: number, n: number, f: number, scale = 1 / n): Float64Array {
  const dh = new Float64Array(batch * n * f);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < n; j++) for (let c = 0; c < f; c++) dh[(b * n + j) * f + c] = scale * dout[b * f + c];
  }
  return dh;
}

type Reference = (inputs: Record<string, Float32Array>, p: OpParams, pass: string) => Float64Array[];

/**
 * kernels-bench references (src/hardware/gnn-ops.ts; params b, n, f; batched adjacency).
 * graph_aggregate: inputs adj [b, n, n], h [b, n, f], dout [b, n, f]; passes forward, backward_input (dh),
 * backward_adj (dadj). graph_readout (mean): inputs h [b, n, f], dout [b, f]; passes forward, backward_input.
 */
export const GNN_REFERENCES: Record<string, Reference> = {
  graph_aggregate: ({ adj, h, dout }, p, pass) => {
    if (pass === 'forward') return [graphAggregateRef(adj, h, p.b, p.n, p.f)];
    if (pass === 'backward_input') return [graphAggregateBackwardInputRef(adj, dout, p.b, p.n, p.f)];
    return [graphAggregateBackwardAdjRef(h, dout, p.b, p.n, p.f)];
  },
  graph_readout: ({ h, dout }, p, pass) => [pass === 'forward' ? graphReadoutRef(h, p.b, p.n, p.f) : graphReadoutBackwardRef(dout, p.b, p.n, p.f)],
};
