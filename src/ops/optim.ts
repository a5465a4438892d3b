/**
 * Optimizers on the GPU (shaders/optim.wgsl): one fused kernel per parameter tensor, hyper-parameters
 * in uniforms, state tensors persistent. PyTorch semantics for SGD (dampening 0) and Adam / AdamW.
 * clipGradNorm computes the global L2 norm and rescales every gradient without a readback.
 */
import { grid } from '../gpu/gpu-device.js';
import { ShapeError, shapeStr, WgnasError } from '../gpu/errors.js';
import { zeroGrad } from '../tensor/autograd.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { register, seededValues } from './registry.js';

const SHADER = 'optim.wgsl';
const WG = 256;
const MAX_PARTIAL_GROUPS = 16;

export interface SgdOptions { lr: number; momentum?: number; weightDecay?: number; nesterov?: boolean }
export interface AdamOptions { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; decoupled?: boolean }
export interface AdamStepOptions extends AdamOptions { /** 1-based step count (bias correction) */ step: number }

type Bind = { buffer: GPUBuffer; offset: number; size: number };

function sameSize(op: string, param: Tensor, ...others: (Tensor | null)[]): void {
  for (const t of others) {
    if (t && t.size !== param.size) throw new ShapeError(`${op}: ${t.describe()} does not match param ${param.describe()}`);
  }
}

function binds(bind: Record<string, Tensor>): Record<string, Bind> {
  const b: Record<string, Bind> = {};
  for (const [name, t] of Object.entries(bind)) b[name] = t.binding;
  return b;
}

/**
 * One SGD step in place: g = grad + wd·param; buf = momentum·buf + g; param -= lr·buf
 * (nesterov: param -= lr·(g + momentum·buf)). momentumBuf may be null when momentum is 0.
 */
export function sgdStep(param: Tensor, grad: Tensor, momentumBuf: Tensor | null, o: SgdOptions): void {
  const momentum = o.momentum ?? 0;
  sameSize('sgd_step', param, grad, momentumBuf);
  if (momentum !== 0 && !momentumBuf) throw new WgnasError(`sgd_step: momentum ${momentum} needs a momentum buffer for ${param.describe()}`);
  const useBuf = momentum !== 0 && momentumBuf;
  param.dev.dispatch({
    shader: SHADER, entry: useBuf ? 'sgd_momentum' : 'sgd_plain',
    bind: binds(useBuf ? { param, grad, buf: useBuf } : { param, grad }),
    params: { n: param.size, lr: o.lr, momentum, weight_decay: o.weightDecay ?? 0, nesterov: o.nesterov ? 1 : 0 },
    workgroups: grid(param.size, WG), shape: shapeStr(param.shape),
  });
}

/** One Adam (AdamW when decoupled) step in place on param, m and v; `step` is 1-based. */
export function adamStep(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, o: AdamStepOptions): void {
  sameSize('adam_step', param, grad, m, v);
  if (!Number.isInteger(o.step) || o.step < 1) throw new WgnasError(`adam_step: step must be a 1-based integer, got ${o.step}`);
  const beta1 = o.beta1 ?? 0.9;
  const beta2 = o.beta2 ?? 0.999;
  param.dev.dispatch({
    shader: SHADER, entry: 'adam_step', bind: binds({ param, grad, m, v }),
    params: {
      n: param.size, lr: o.lr, beta1, beta2, eps: o.eps ?? 1e-8, weight_decay: o.weightDecay ?? 0,
      step_size: o.lr / (1 - beta1 ** o.step), bc2_sqrt: Math.sqrt(1 - beta2 ** o.step), decoupled: o.decoupled ? 1 : 0,
    },
    workgroups: grid(param.size, WG), shape: shapeStr(param.shape),
  });
}

/**
 * Global gradient-norm clipping (torch.nn.utils.clip_grad_norm_): norm = ‖concat(grads)‖₂, then every
 * grad is scaled in place by min(1, maxNorm/(norm + 1e-6)), all on the GPU. Returns the norm (before
 * clipping) as a [1] tensor owned by the current scope.
 */
export function clipGradNorm(grads: readonly Tensor[], maxNorm: number): Tensor {
  if (grads.length === 0) throw new WgnasError('clip_grad_norm: no gradients given');
  if (!(maxNorm > 0)) throw new WgnasError(`clip_grad_norm: maxNorm must be positive, got ${maxNorm}`);
  const dev = grads[0].dev;
  const cols = grads.map((g) => WG * Math.min(MAX_PARTIAL_GROUPS, Math.max(1, Math.ceil(g.size / (WG * 16)))));
  const part = dev.empty([cols.reduce((a, b) => a + b, 0)]);
  const norm = dev.empty([1]);
  const factor = dev.empty([1]);
  const clip = (n: number, off: number, c: number): Record<string, number> => ({ n, off, cols: c, max_norm: maxNorm });
  let off = 0;
  grads.forEach((g, j) => {
    dev.dispatch({ shader: SHADER, entry: 'sumsq_partial', bind: binds({ grad: g, part }), params: clip(g.size, off, cols[j]), workgroups: [cols[j] / WG], shape: shapeStr(g.shape) });
    off += cols[j];
  });
  dev.dispatch({ shader: SHADER, entry: 'clip_factor', bind: binds({ part, norm, factor }), params: clip(part.size, 0, 0), workgroups: [1], shape: `${grads.length} tensors` });
  for (const g of grads) {
    dev.dispatch({ shader: SHADER, entry: 'scale_grad', bind: binds({ grad: g, factor }), params: clip(g.size, 0, 0), workgroups: grid(g.size, WG), shape: shapeStr(g.shape) });
  }
  part.dispose();
  factor.dispose();
  return norm;
}

/** Optimizer state for checkpoints: the step count and each state slot per parameter, in order. */
export interface OptimizerState {
  step: number;
  slots: Record<string, Float32Array[]>;
}

/** Owns persistent state tensors (one set per parameter), steps every parameter that has a gradient. */
abstract class Optimizer {
  /** completed steps */
  stepCount = 0;
  protected readonly slots: Record<string, Tensor[]> = {};

  constructor(readonly params: readonly Tensor[], slotNames: readonly string[]) {
    if (params.length === 0) throw new WgnasError(`${new.target.name}: no parameters given`);
    const dev = params[0].dev;
    for (const name of slotNames) this.slots[name] = params.map((p) => dev.zeros(p.shape, { persistent: true, label: `${name}:${p.label ?? p.id}` }));
  }

  abstract step(): void;

  zeroGrad(): void {
    zeroGrad(this.params);
  }

  /** Reads every state tensor back (a sync point). */
  async state(): Promise<OptimizerState> {
    const slots: Record<string, Float32Array[]> = {};
    for (const [name, ts] of Object.entries(this.slots)) slots[name] = await Promise.all(ts.map((t) => t.read()));
    return { step: this.stepCount, slots };
  }

  /** Writes state saved by state() back into the state tensors. */
  loadState(s: OptimizerState): void {
    for (const [name, ts] of Object.entries(this.slots)) {
      const arrays = s.slots[name];
      if (!arrays || arrays.length !== ts.length || arrays.some((a, i) => a.length !== ts[i].size)) {
        throw new ShapeError(`${this.constructor.name}.loadState: slot "${name}" does not match the ${ts.length} parameters (${ts.map((t) => shapeStr(t.shape)).join(', ')})`);
      }
      ts.forEach((t, i) => t.dev.write(t.buffer, arrays[i]));
    }
    this.stepCount = s.step;
  }

  dispose(): void {
    for (const ts of Object.values(this.slots)) for (const t of ts) t.dispose();
  }
}

/** SGD with momentum (PyTorch semantics). `lr` may be changed between steps (schedules). */
export class SGD extends Optimizer {
  lr: number;
  constructor(params: readonly Tensor[], readonly opts: SgdOptions) {
    super(params, (opts.momentum ?? 0) !== 0 ? ['momentum'] : []);
    this.lr = opts.lr;
  }

  /** the momentum buffer of each parameter (null without momentum), for reading (DARTS's virtual step) */
  get momentumBuffers(): readonly (Tensor | null)[] {
    return this.params.map((_, i) => this.slots.momentum?.[i] ?? null);
  }

  step(): void {
    const o = { ...this.opts, lr: this.lr };
    this.params.forEach((p, i) => {
      if (p.grad) sgdStep(p, p.grad, this.slots.momentum?.[i] ?? null, o);
    });
    this.stepCount++;
  }
}

/** Adam (AdamW with decoupled: true). `lr` may be changed between steps (schedules). */
export class Adam extends Optimizer {
  lr: number;
  constructor(params: readonly Tensor[], readonly opts: AdamOptions) {
    super(params, ['m', 'v']);
    this.lr = opts.lr;
  }

  step(): void {
    const o = { ...this.opts, lr: this.lr, step: this.stepCount + 1 };
    this.params.forEach((p, i) => {
      if (p.grad) adamStep(p, p.grad, this.slots.m[i], this.slots.v[i], o);
    });
    this.stepCount++;
  }
}

/**
 * Bench inputs: param, grad and zeroed state s0.. The runners step in place and return a view of param
 * (the caller may dispose what a runner returns; the view frees nothing while the inputs live).
 */
function optimSetup(dev: Device, n: number, seed: number, slots: number): Record<string, Tensor> {
  const t: Record<string, Tensor> = {
    param: dev.tensor(seededValues(n, seed), [n]),
    grad: dev.tensor(seededValues(n, seed + 1), [n]),
  };
  for (let s = 0; s < slots; s++) t[`s${s}`] = dev.zeros([n]);
  return t;
}

register({
  name: 'sgd_step',
  shader: SHADER,
  passes: ['step'],
  describe: (p) => `n=${p.n} momentum`,
  setup: (dev, p, seed) => {
    const t = optimSetup(dev, p.n, seed, 1);
    return { inputs: t, run: { step: () => (sgdStep(t.param, t.grad, t.s0, { lr: 0.01, momentum: 0.9, weightDecay: 3e-4 }), dev.view(t.param, t.param.shape)) } };
  },
  flops: (p) => 6 * p.n,
  bytes: (p) => 20 * p.n, // read param, grad, buf; write param, buf
  sweep: [{ n: 1 << 12 }, { n: 1 << 16 }, { n: 1 << 20 }],
});

register({
  name: 'adam_step',
  shader: SHADER,
  passes: ['step'],
  describe: (p) => `n=${p.n}`,
  setup: (dev, p, seed) => {
    const t = optimSetup(dev, p.n, seed, 2);
    // always step 1 (the count only changes two uniforms), so a call depends on the inputs alone
    return { inputs: t, run: { step: () => (adamStep(t.param, t.grad, t.s0, t.s1, { lr: 3e-4, beta1: 0.5, weightDecay: 1e-3, step: 1 }), dev.view(t.param, t.param.shape)) } };
  },
  flops: (p) => 15 * p.n,
  bytes: (p) => 28 * p.n, // read param, grad, m, v; write param, m, v
  sweep: [{ n: 1 << 12 }, { n: 1 << 16 }, { n: 1 << 20 }],
});
