/** float64 references for shaders/optim.wgsl: PyTorch SGD and Adam/AdamW steps, global-norm clipping. */

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
