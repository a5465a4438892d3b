/**
 * Batch normalisation of NCHW tensors (shaders/batchnorm.wgsl), as PyTorch's F.batch_norm:
 *  - training: normalise with the batch mean and BIASED variance over N·H·W per channel; when running
 *    stats are given they are updated in place on the GPU with momentum and the UNBIASED variance;
 *  - inference: normalise with the running stats;
 *  - affine optional (DARTS search uses affine = false: weight and bias undefined).
 * One dispatch per pass, one workgroup per channel (statistics, then the normalisation, in the same
 * workgroup). Backward: dinp through the batch statistics in training (the simple scale in inference),
 * dweight = Σ dout·x̂ and dbias = Σ dout.
 *
 * The statistics used (batch mean/variance in training; a copy of the running stats in inference) are
 * saved as internal tensors, so later in-place running-stat updates cannot change a pending backward.
 */
import { ShapeError, shapeStr } from '../gpu/errors.js';
import { needsGrad, record } from '../tensor/autograd.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { register, seededValues } from './registry.js';

const SHADER = 'batchnorm.wgsl';

export interface BatchNormOptions {
  /** [C] scale γ; give weight and bias together (affine) or neither */
  weight?: Tensor;
  /** [C] shift β */
  bias?: Tensor;
  /** [C], updated in place in training mode; required in inference */
  runningMean?: Tensor;
  runningVar?: Tensor;
  training: boolean;
  /** running = (1 − momentum)·running + momentum·batch (PyTorch's convention); default 0.1 */
  momentum?: number;
  /** default 1e-5 */
  eps?: number;
}

/**
 * Lanes per channel workgroup. On lavapipe 64 lanes measured as fast as or faster than 128/256 for every
 * count tried (2·10³ .. 5·10⁴ per channel; fewer barriers); GPUs get 256 lanes for long channels.
 */
export function reductionLanes(dev: Device, count: number): number {
  return dev.adapter.kind !== 'cpu' && count >= 4096 ? 256 : 64;
}

interface Geom { n: number; c: number; hw: number; count: number }

function params(g: Geom, lanes: number, eps: number, momentum: number, affine: boolean, training: boolean) {
  return {
    c: g.c, hw: g.hw, count: g.count,
    step_n: Math.floor(lanes / g.hw), step_j: lanes % g.hw,
    eps, momentum, affine: affine ? 1 : 0, training: training ? 1 : 0,
  };
}

function geomOf(x: Tensor): Geom {
  const [n, c, h, w] = x.shape;
  return { n, c, hw: h * w, count: n * h * w };
}

function run(dev: Device, entry: string, g: Geom, bind: Record<string, Tensor>, p: ReturnType<typeof params>, lanes: number): void {
  const binds: Record<string, { buffer: GPUBuffer; offset: number; size: number }> = {};
  for (const [k, t] of Object.entries(bind)) binds[k] = t.binding;
  dev.dispatch({
    shader: SHADER, entry, bind: binds, params: p, overrides: { RWG: lanes },
    workgroups: [g.c], shape: `[${g.n},${g.c},${g.hw}] ${p.affine ? 'affine' : 'no-affine'}`,
  });
}

/**
 * Training forward kernel: out plus the batch mean and biased variance; running stats updated if given.
 * `lanes` (here and below): the workgroup size, a power of two (tests and benchmarks pick it).
 */
export function batchNormForwardTrain(x: Tensor, o: BatchNormOptions, lanes = reductionLanes(x.dev, geomOf(x).count)): { out: Tensor; mean: Tensor; variance: Tensor } {
  const dev = x.dev;
  const g = geomOf(x);
  const out = dev.empty(x.shape);
  const mean = dev.empty([g.c], { label: 'batch_norm2d.mean' });
  const variance = dev.empty([g.c], { label: 'batch_norm2d.var' });
  const affine = Boolean(o.weight);
  // without affine, weight/bias are not read: bind the input there (read-only, never aliased for writing)
  const bind: Record<string, Tensor> = { inp: x, weight: o.weight ?? x, bias: o.bias ?? x, out, mean_out: mean, var_out: variance };
  const running = Boolean(o.runningMean);
  if (running) Object.assign(bind, { running_mean: o.runningMean!, running_var: o.runningVar! });
  run(dev, running ? 'forward_train_running' : 'forward_train', g, bind, params(g, lanes, o.eps ?? 1e-5, o.momentum ?? 0.1, affine, true), lanes);
  return { out, mean, variance };
}

/** Inference forward kernel: normalise with the given mean and (biased/running) variance. */
export function batchNormForwardEval(x: Tensor, mean: Tensor, variance: Tensor, o: Pick<BatchNormOptions, 'weight' | 'bias' | 'eps'>, lanes = reductionLanes(x.dev, geomOf(x).count)): Tensor {
  const g = geomOf(x);
  const out = x.dev.empty(x.shape);
  run(x.dev, 'forward_eval', g, { inp: x, mean, variance, weight: o.weight ?? x, bias: o.bias ?? x, out },
    params(g, lanes, o.eps ?? 1e-5, 0, Boolean(o.weight), false), lanes);
  return out;
}

/** Backward kernel: dinp (overwritten), dweight = Σ dout·x̂, dbias = Σ dout (always computed). */
export function batchNormBackward(x: Tensor, dout: Tensor, mean: Tensor, variance: Tensor, weight: Tensor | undefined, eps: number, training: boolean, lanes = reductionLanes(x.dev, geomOf(x).count)): { dinp: Tensor; dweight: Tensor; dbias: Tensor } {
  const dev = x.dev;
  const g = geomOf(x);
  const dinp = dev.empty(x.shape);
  const dweight = dev.empty([g.c]);
  const dbias = dev.empty([g.c]);
  run(dev, 'backward', g, { inp: x, dout, mean, variance, weight: weight ?? x, dinp, dweight, dbias },
    params(g, lanes, eps, 0, Boolean(weight), training), lanes);
  return { dinp, dweight, dbias };
}

function check(x: Tensor, o: BatchNormOptions): void {
  const where = `batch_norm2d(${x.describe()})`;
  if (x.shape.length !== 4) throw new ShapeError(`${where}: expected an NCHW input`);
  const c = x.shape[1];
  if (Boolean(o.weight) !== Boolean(o.bias)) throw new ShapeError(`${where}: give weight and bias together (affine) or neither`);
  if (Boolean(o.runningMean) !== Boolean(o.runningVar)) throw new ShapeError(`${where}: give runningMean and runningVar together`);
  for (const [name, t] of Object.entries({ weight: o.weight, bias: o.bias, runningMean: o.runningMean, runningVar: o.runningVar })) {
    if (t && (t.shape.length !== 1 || t.shape[0] !== c)) throw new ShapeError(`${where}: ${name} has shape ${shapeStr(t.shape)}, expected [${c}]`);
  }
  if (x.size === 0) throw new ShapeError(`${where}: empty input`);
  if (o.training && x.shape[0] * x.shape[2] * x.shape[3] < 2) {
    throw new ShapeError(`${where}: training needs more than one value per channel (N·H·W = ${x.shape[0] * x.shape[2] * x.shape[3]})`);
  }
  if (!o.training && !o.runningMean) throw new ShapeError(`${where}: inference needs runningMean and runningVar`);
}

/** y = (x − mean)/sqrt(var + eps)·weight + bias per channel of an NCHW tensor (see the module comment). */
export function batchNorm2d(x: Tensor, o: BatchNormOptions): Tensor {
  check(x, o);
  const dev = x.dev;
  const eps = o.eps ?? 1e-5;
  const { weight, bias } = o;
  let out: Tensor;
  let mean: Tensor;
  let variance: Tensor;
  if (o.training) {
    ({ out, mean, variance } = batchNormForwardTrain(x, o));
  } else {
    out = batchNormForwardEval(x, o.runningMean!, o.runningVar!, o);
    if (!needsGrad(dev, x, weight, bias)) return out;
    mean = dev.clone(o.runningMean!, { label: 'batch_norm2d.mean' });
    variance = dev.clone(o.runningVar!, { label: 'batch_norm2d.var' });
  }
  const training = o.training;
  return record(out, 'batch_norm2d', [x, weight ?? null, bias ?? null], [x, mean, variance], (dout) => {
    const g = batchNormBackward(x, dout, mean, variance, weight, eps, training);
    const keep = (t: Tensor, wanted: boolean): Tensor | null => {
      if (wanted) return t;
      t.dispose();
      return null;
    };
    return [keep(g.dinp, x.requiresGrad || x.node !== null), keep(g.dweight, Boolean(weight)), keep(g.dbias, Boolean(bias))];
  }, [mean, variance]);
}

// ---------------------------------------------------------------------------------------------------
// registry record (kernels-bench, latency tables). Params: N, C, H, W, affine (0/1); training mode.

register({
  name: 'batch_norm2d',
  shader: SHADER,
  passes: ['forward', 'backward_input'],
  describe: (p) => `N${p.N} C${p.C} ${p.H}×${p.W}${p.affine ? ' affine' : ''} train`,
  setup: (dev, p, seed) => {
    const shape = [p.N, p.C, p.H, p.W];
    const n = p.N * p.C * p.H * p.W;
    const x = dev.tensor(seededValues(n, seed), shape);
    const dout = dev.tensor(seededValues(n, seed + 1), shape);
    const weight = dev.tensor(seededValues(p.C, seed + 2, 0.5, 1.5), [p.C]);
    const bias = dev.tensor(seededValues(p.C, seed + 3), [p.C]);
    const runningMean = dev.zeros([p.C]);
    const runningVar = dev.full([p.C], 1);
    const affine: { weight?: Tensor; bias?: Tensor } = p.affine ? { weight, bias } : {};
    const saved = batchNormForwardTrain(x, { ...affine, training: true });
    saved.out.dispose();
    return {
      inputs: { x, dout, weight, bias },
      run: {
        forward: () => batchNormForwardTrain(x, { ...affine, runningMean, runningVar, training: true }).out,
        backward_input: () => {
          const g = batchNormBackward(x, dout, saved.mean, saved.variance, affine.weight, 1e-5, true);
          return [g.dinp, g.dweight, g.dbias];
        },
      },
    };
  },
  // forward: 2 passes over x (moments: sub, 2 FMA; normalise: 1 FMA); backward: 2 passes (~4 + ~5 flops)
  flops: (p, pass) => (pass === 'forward' ? 7 : 9) * p.N * p.C * p.H * p.W,
  bytes: (p, pass) => (pass === 'forward' ? 8 : 12) * p.N * p.C * p.H * p.W,
  sweep: [
    { N: 8, C: 16, H: 32, W: 32, affine: 0 },
    { N: 32, C: 16, H: 32, W: 32, affine: 1 },
    { N: 32, C: 64, H: 8, W: 8, affine: 0 },
    { N: 64, C: 256, H: 8, W: 8, affine: 1 },
  ],
});
