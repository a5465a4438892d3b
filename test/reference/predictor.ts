/**
 * Float64 reference of the GNN latency predictor's forward (src/hardware/predictor.ts), from weights
 * read back with stateDict(). Pure functions, no vitest import.
 *
 *   H_{l+1} = relu(Σ_d Â_d·H_l·W_{l,d}ᵀ + b_l [+ onehot(node)·Pᵀ when l = 0])
 *   z = W_h1 · relu(W_h0 · readout(H_L) + b_h0) + b_h1
 */

export interface PredictorRefConfig {
  layers: number;
  adjacency: 'undirected' | 'both';
  position: boolean;
  readout: 'mean' | 'sum';
}

export type RefState = Record<string, { shape: readonly number[]; data: ArrayLike<number> }>;

function get(state: RefState, name: string): { shape: readonly number[]; data: ArrayLike<number> } {
  const t = state[name];
  if (!t) throw new Error(`predictor reference: no tensor "${name}" in the state (have ${Object.keys(state).join(', ')})`);
  return t;
}

/** y [rows, out] = x [rows, in] · Wᵀ (+ b) */
function linearRef(x: Float64Array, rows: number, w: { shape: readonly number[]; data: ArrayLike<number> }, b?: ArrayLike<number>): Float64Array {
  const [fout, fin] = w.shape;
  const y = new Float64Array(rows * fout);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < fout; o++) {
      let acc = b ? b[o] : 0;
      for (let i = 0; i < fin; i++) acc += x[r * fin + i] * w.data[o * fin + i];
      y[r * fout + o] = acc;
    }
  }
  return y;
}

/** out[b] = adj · h[b] for a shared adjacency [n, n] */
function aggregateRef(adj: ArrayLike<number>, h: Float64Array, B: number, n: number, f: number): Float64Array {
  const out = new Float64Array(B * n * f);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < f; c++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += adj[i * n + j] * h[(b * n + j) * f + c];
        out[(b * n + i) * f + c] = acc;
      }
    }
  }
  return out;
}

/** Normalised predictions z [B] for node features x [B, n, F]. */
export function gnnPredictorRef(state: RefState, cfg: PredictorRefConfig, x: ArrayLike<number>, B: number, n: number, F: number): Float64Array {
  const dirs = cfg.adjacency === 'undirected' ? [['adj', '']] : [['adj_fwd', '.fwd'], ['adj_bwd', '.bwd']];
  let h = Float64Array.from(x);
  let f = F;
  for (let l = 0; l < cfg.layers; l++) {
    let pre: Float64Array | undefined;
    dirs.forEach(([adjName, suffix], d) => {
      const agg = aggregateRef(get(state, adjName).data, h, B, n, f);
      const w = get(state, `conv${l}${suffix}.weight`);
      const y = linearRef(agg, B * n, w, d === 0 ? get(state, `conv${l}${suffix}.bias`).data : undefined);
      if (pre) for (let i = 0; i < y.length; i++) pre[i] += y[i];
      else pre = y;
    });
    const hidden = get(state, `conv${l}${dirs[0][1]}.weight`).shape[0];
    if (l === 0 && cfg.position) {
      const pos = get(state, 'position'); // [hidden, n]
      for (let r = 0; r < B * n; r++) for (let o = 0; o < hidden; o++) pre![r * hidden + o] += pos.data[o * n + (r % n)];
    }
    h = pre!.map((v) => Math.max(v, 0));
    f = hidden;
  }
  const g = new Float64Array(B * f);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < f; c++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += h[(b * n + j) * f + c];
      g[b * f + c] = cfg.readout === 'mean' ? acc / n : acc;
    }
  }
  const h0 = linearRef(g, B, get(state, 'head0.weight'), get(state, 'head0.bias').data).map((v) => Math.max(v, 0));
  return linearRef(h0, B, get(state, 'head1.weight'), get(state, 'head1.bias').data);
}

/** Softmax of each row of a [rows, k] matrix, float64. */
export function softmaxRowsRef(a: ArrayLike<number>, rows: number, k: number): Float64Array {
  const out = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, a[r * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += (out[r * k + j] = Math.exp(a[r * k + j] - m));
    for (let j = 0; j < k; j++) out[r * k + j] /= s;
  }
  return out;
}

/**
 * Relaxed NB201 node features [n, F] from edge probabilities P [E, K] and the basis [n, K, F]
 * (nb201RelaxedBasis): edge node e+1 = Σ_k P[e,k]·basis[e+1,k]; input/output nodes = their basis row 0.
 */
export function relaxedFeaturesRef(basis: ArrayLike<number>, P: ArrayLike<number>, n: number, K: number, F: number): Float64Array {
  const x = new Float64Array(n * F);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < F; c++) {
      if (i === 0 || i === n - 1) x[i * F + c] = basis[i * K * F + c];
      else for (let k = 0; k < K; k++) x[i * F + c] += P[(i - 1) * K + k] * basis[(i * K + k) * F + c];
    }
  }
  return x;
}

/**
 * Predicted latency (ms) of the relaxed architecture softmax(α), α [rows, K], float64: the reference of
 * predictLatencyRelaxed (relaxed features of the basis [n, K, F], the GNN, denormalisation).
 */
export function relaxedLatencyRef(state: RefState, cfg: PredictorRefConfig & { norm: { mean: number; std: number } }, basis: ArrayLike<number>,
  alpha: ArrayLike<number>, rows: number, K: number, n: number, F: number): number {
  return cfg.norm.std * gnnPredictorRef(state, cfg, relaxedFeaturesRef(basis, softmaxRowsRef(alpha, rows, K), n, K, F), 1, n, F)[0] + cfg.norm.mean;
}
