/**
 * Float64 references of the graph kernels (shaders/gnn.wgsl). Pure functions over flat row-major arrays;
 * no test framework import, so kernels-bench can use them too.
 * h [B, n, f]; adj [B, n, n] (adjBatched) or [n, n] shared by the batch (row = receiving node).
 */

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
