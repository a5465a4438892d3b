/**
 * The DARTS mixed edge (shaders/mixed.wgsl): out = Σ_k weights[k] · xs[k], with weights a GPU tensor
 * (e.g. softmax(α) of one edge) that is never read back. Candidates go in groups of up to 4 per dispatch
 * (6 storage buffers, under the limit of 8), so any K works and the output is rewritten once per group.
 * Gradients: dxs[k] = weights[k] · dout, dweights[k] = Σ dout ⊙ xs[k] (two-pass reduction).
 */
import { grid } from '../gpu/gpu-device.js';
import { ShapeError, shapeStr } from '../gpu/errors.js';
import { record } from '../tensor/autograd.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { register, seededValues } from './registry.js';

const SHADER = 'mixed.wgsl';
const WG = 256;
/** at most this many workgroups in the first reduction pass (each thread then strides over n) */
const MAX_PARTIAL_GROUPS = 64;
/** candidates per dispatch: inp, inp1, inp2, inp3 */
const GROUP = 4;

export interface MixedSumOptions {
  /** weights is [R, K] (all edges' probabilities): use row `row` (its gradient is zero elsewhere) */
  row?: number;
}

type Bind = { buffer: GPUBuffer; offset: number; size: number };

function binds(bind: Record<string, Tensor>): Record<string, Bind> {
  const b: Record<string, Bind> = {};
  for (const [name, t] of Object.entries(bind)) b[name] = t.binding;
  return b;
}

/** the bindings inp, inp1.. of a group of up to 4 candidates; unused slots repeat the first (ignored) */
function groupBinds(group: readonly Tensor[]): Record<string, Tensor> {
  return { inp: group[0], inp1: group[1] ?? group[0], inp2: group[2] ?? group[0], inp3: group[3] ?? group[0] };
}

/** splits candidates into dispatch groups: [first index, tensors] */
function groups(xs: readonly Tensor[]): [number, Tensor[]][] {
  const g: [number, Tensor[]][] = [];
  for (let k = 0; k < xs.length; k += GROUP) g.push([k, xs.slice(k, k + GROUP)]);
  return g;
}

/** out = Σ_j w[k + j]·group[j] (accumulate: out += ...) */
function weighted(dev: Device, accumulate: boolean, out: Tensor, group: readonly Tensor[], weight: Tensor, k: number): void {
  dev.dispatch({
    shader: SHADER, entry: 'weighted_sum',
    bind: binds({ ...groupBinds(group), weight, out }), params: { n: out.size, k, m: group.length, cols: 0, acc: accumulate ? 1 : 0 },
    workgroups: grid(out.size, WG), shape: `${shapeStr(out.shape)} k${k}+${group.length}`,
  });
}

/** threads in the first pass of the dot-product reduction over n elements (a multiple of WG) */
function partialCols(n: number): number {
  return WG * Math.min(MAX_PARTIAL_GROUPS, Math.max(1, Math.ceil(n / (WG * 16))));
}

/** dweight[base + k] = Σ dout ⊙ xs[k] for every k (overwrites those K entries) */
function weightGrad(dev: Device, xs: readonly Tensor[], dout: Tensor, dweight: Tensor, base: number): void {
  const n = dout.size;
  const cols = partialCols(n);
  const part = dev.empty([xs.length, cols]);
  for (const [k, group] of groups(xs)) {
    dev.dispatch({
      shader: SHADER, entry: 'dot_partial', bind: binds({ ...groupBinds(group), dout, part }),
      params: { n, k, m: group.length, cols, acc: 0 }, workgroups: [cols / WG], shape: `${shapeStr(dout.shape)} k${k}+${group.length}`,
    });
  }
  dev.dispatch({
    shader: SHADER, entry: 'row_sum', bind: binds({ part, dweight }),
    params: { n: 0, k: base, m: 0, cols, acc: 0 }, workgroups: [xs.length], shape: `[${xs.length},${cols}]`,
  });
  part.dispose();
}

function forwardRaw(xs: readonly Tensor[], weights: Tensor, base: number): Tensor {
  const dev = weights.dev;
  const out = dev.empty(xs[0].shape);
  for (const [k, group] of groups(xs)) weighted(dev, k > 0, out, group, weights, base + k);
  return out;
}

const wantsGrad = (t: Tensor): boolean => t.requiresGrad || t.node !== null;

/**
 * Σ_k weights[k] · xs[k] for same-shape xs; weights is [K], or [R, K] with opts.row choosing the row.
 * Backward gives a gradient to every xs[k] and to weights (shape of weights).
 */
export function mixedSum(xs: readonly Tensor[], weights: Tensor, opts: MixedSumOptions = {}): Tensor {
  const K = xs.length;
  const shapes = xs.map((x) => shapeStr(x.shape)).join(', ');
  if (K === 0) throw new ShapeError('mixed_sum: needs at least one input');
  const s0 = xs[0].shape;
  if (xs.some((x) => x.shape.length !== s0.length || x.shape.some((d, i) => d !== s0[i]))) {
    throw new ShapeError(`mixed_sum: inputs differ in shape (${shapes})`);
  }
  const last = weights.shape[weights.shape.length - 1];
  const rows = weights.shape.length === 2 ? weights.shape[0] : 1;
  const row = opts.row ?? 0;
  if (weights.shape.length > 2 || last !== K || !Number.isInteger(row) || row < 0 || row >= rows || (weights.shape.length === 1 && opts.row)) {
    throw new ShapeError(`mixed_sum: weights ${shapeStr(weights.shape)}${opts.row !== undefined ? ` row ${opts.row}` : ''} do not fit ${K} inputs (${shapes}); want [${K}] or [R, ${K}] with 0 <= row < R`);
  }
  const base = row * K;
  const out = forwardRaw(xs, weights, base);
  // decided now, so the backward reads exactly what was saved: the weights for dxs, the xs for dweights
  const gradX = xs.map(wantsGrad);
  const gradW = wantsGrad(weights);
  const saved = [...(gradW ? xs : []), ...(gradX.some(Boolean) ? [weights] : [])];
  return record(out, 'mixed_sum', [...xs, weights], saved, (dout) => {
    const dev = dout.dev;
    const dxs = xs.map((x, k) => {
      if (!gradX[k]) return null;
      const dinp = dev.empty(x.shape);
      weighted(dev, false, dinp, [dout], weights, base + k);
      return dinp;
    });
    let dweight: Tensor | null = null;
    if (gradW) {
      dweight = rows > 1 ? dev.zeros(weights.shape) : dev.empty(weights.shape);
      weightGrad(dev, xs, dout, dweight, base);
    }
    return [...dxs, dweight];
  });
}

register({
  name: 'mixed_sum',
  shader: SHADER,
  passes: ['forward', 'backward_input', 'backward_weight'],
  describe: (p) => `K${p.k} n=${p.n}`,
  setup: (dev, p, seed) => {
    const xs = Array.from({ length: p.k }, (_, k) => dev.tensor(seededValues(p.n, seed + k), [p.n]));
    const weights = dev.tensor(seededValues(p.k, seed + 100, 0, 1), [p.k]);
    const dout = dev.tensor(seededValues(p.n, seed + 200), [p.n]);
    const inputs: Record<string, Tensor> = { weights, dout };
    xs.forEach((x, k) => (inputs[`x${k}`] = x));
    return {
      inputs,
      run: {
        forward: () => forwardRaw(xs, weights, 0),
        backward_input: () => xs.map((_, k) => {
          const dinp = dev.empty([p.n]);
          weighted(dev, false, dinp, [dout], weights, k);
          return dinp;
        }),
        backward_weight: () => {
          const dweight = dev.empty([p.k]);
          weightGrad(dev, xs, dout, dweight, 0);
          return dweight;
        },
      },
    };
  },
  flops: (p) => 2 * p.k * p.n,
  // forward reads K inputs and writes out once per group of 4 (reading it back after the first);
  // backward_input reads dout and writes dinp per input; backward_weight reads K inputs and dout once per group
  bytes: (p, pass) => {
    const g = Math.ceil(p.k / 4);
    if (pass === 'forward') return 4 * p.n * (p.k + 2 * g - 1);
    return pass === 'backward_input' ? 8 * p.k * p.n : 4 * p.n * (p.k + g);
  },
  sweep: [{ k: 8, n: 16 * 32 * 32 }, { k: 5, n: 16 * 32 * 32 }, { k: 8, n: 64 * 16 * 32 * 32 }],
});

/**
 * x·w for a gate w ([1]) whose VALUE is exactly 1 by construction — the straight-through gate of a
 * single executed path (hard Gumbel, the ordered sampler). The output is x itself (a view: no kernel,
 * no copy, no extra activation); backward gives dx = w·dout = dout and dw = Σ dout ⊙ x, exactly what
 * mixedSum([x], w) gives when w = 1.
 */
export function unitGate(x: Tensor, w: Tensor): Tensor {
  if (w.size !== 1) throw new ShapeError(`unit_gate: the gate must be one value, got ${shapeStr(w.shape)}`);
  const dev = x.dev;
  // decided now: by the time backward runs, x may already be freed (which clears its node)
  const gradW = wantsGrad(w);
  const gradX = wantsGrad(x);
  const out = dev.view(x, x.shape);
  return record(out, 'unit_gate', [x, w], gradW ? [x] : [], (dout) => {
    let dweight: Tensor | null = null;
    if (gradW) {
      dweight = dev.empty([1]);
      weightGrad(dev, [x], dout, dweight, 0);
    }
    return [gradX ? dout : null, dweight];
  });
}
