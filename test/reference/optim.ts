/** float64 references for shaders/optim.wgsl: PyTorch SGD and Adam/AdamW steps, global-norm clipping. */
import type { OpParams } from '../../src/ops/registry.js';

export interface SgdRefOptions { lr: number; momentum: number; weightDecay: number; nesterov: boolean }
export interface AdamRefOptions { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean }

/** One SGD step in place on float64 arrays (buf starts at zero, as PyTorch's first step buf = g). */
export function sgdStepRef(param: Float64Array, grad: ArrayLike<number>, buf: Float64Array, o: SgdRefOptions): void {
  for (let i = 0; i < param.length; i++) {
    const g = grad[i] + o.weightDecay * param[i];
    if (o.momentum === 0) {
      param[i] -= o.lr * g;
      continue;
    }
    buf[i] = o.momentum * buf[i] + g;
    param[i] -= o.lr * (o.nesterov ? g + o.momentum * buf[i] : buf[i]);
  }
}

/** One Adam step (1-based `step`) in place, as torch.optim.Adam / AdamW. */
export function adamStepRef(param: Float64Array, grad: ArrayLike<number>, m: Float64Array, v: Float64Array, step: number, o: AdamRefOptions): void {
  const bc1 = 1 - o.beta1 ** step;
  const bc2 = 1 - o.beta2 ** step;
  for (let i = 0; i < param.length; i++) {
    let g = grad[i];
    if (o.decoupled) param[i] *= 1 - o.lr * o.weightDecay;
    else g += o.weightDecay * param[i];
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
    const mHat = m[i] / bc1;
    const vHat = v[i] / bc2;
    param[i] -= (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
  }
}

/** torch.nn.utils.clip_grad_norm_: returns the total L2 norm and the clipped gradients. */
export function clipGradNormRef(grads: readonly ArrayLike<number>[], maxNorm: number): { norm: number; clipped: Float64Array[] } {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  const norm = Math.sqrt(s);
  const f = Math.min(1, maxNorm / (norm + 1e-6));
  return { norm, clipped: grads.map((g) => Float64Array.from(g, (x) => x * f)) };
}

type Reference = (inputs: Record<string, Float32Array>, p: OpParams, pass: string) => Float64Array[];

/**
 * kernels-bench references (registered sgd_step / adam_step: inputs param, grad [n] and zeroed state s0
 * (momentum buffer) or s0, s1 (m, v); params n). The runner steps in place and returns (a view of)
 * param, so the reference is param after ONE step from the inputs as read just before the call (adam's
 * runner always uses step 1). Hyper-parameters as in the records in src/ops/optim.ts.
 */
export const OPTIM_REFERENCES: Record<string, Reference> = {
  sgd_step: ({ param, grad, s0 }) => {
    const w = Float64Array.from(param);
    sgdStepRef(w, grad, Float64Array.from(s0), { lr: 0.01, momentum: 0.9, weightDecay: 3e-4, nesterov: false });
    return [w];
  },
  adam_step: ({ param, grad, s0, s1 }) => {
    const w = Float64Array.from(param);
    adamStepRef(w, grad, Float64Array.from(s0), Float64Array.from(s1), 1, { lr: 3e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8, weightDecay: 1e-3, decoupled: false });
    return [w];
  },
};
