/**
 * Counter-based random numbers on the GPU (shaders/rng.wgsl): Philox4x32-10 keyed by `seed` and
 * counted by `counter`, so the same (seed, counter) gives the same numbers on any GPU and nothing is
 * stored between calls. Use a new counter for every draw (RngStream hands them out).
 *
 * Uniforms are bit-exact across devices; normal and gumbel go through the driver's log/sin/cos and so
 * agree to a few ulps. seed and counter are integers in [0, 2^53).
 */
import { grid } from '../gpu/gpu-device.js';
import { ShapeError, shapeStr, WgnasError } from '../gpu/errors.js';
import { record } from '../tensor/autograd.js';
import type { Device } from '../tensor/device.js';
import { numel, type Tensor } from '../tensor/tensor.js';

const SHADER = 'rng.wgsl';
const WG = 64;

function words(op: string, what: string, x: number): [number, number] {
  if (!Number.isSafeInteger(x) || x < 0) throw new WgnasError(`${op}: ${what} must be an integer in [0, 2^53), got ${x}`);
  return [x % 2 ** 32, Math.floor(x / 2 ** 32)];
}

interface Draw { entry: string; op: string; seed: number; counter: number; a: number; b: number }

function launch(dev: Device, d: Draw, shape: readonly number[], bind: Record<string, Tensor>): void {
  const n = numel(shape);
  const [key0, key1] = words(d.op, 'seed', d.seed);
  const [ctr0, ctr1] = words(d.op, 'counter', d.counter);
  const b: Record<string, { buffer: GPUBuffer; offset: number; size: number }> = {};
  for (const [name, t] of Object.entries(bind)) b[name] = t.binding;
  dev.dispatch({
    shader: SHADER, entry: d.entry, bind: b, params: { n, key0, key1, ctr0, ctr1, a: d.a, b: d.b },
    workgroups: grid(Math.ceil(n / 4), WG), shape: shapeStr(shape),
  });
}

function fill(dev: Device, shape: readonly number[], d: Draw): Tensor {
  const out = dev.empty(shape);
  launch(dev, d, shape, { out });
  return out;
}

/** uniform in (low, high); the unit draws are (m + 0.5)·2^-23, m a 23-bit integer: never 0 or 1 */
export function uniform(dev: Device, shape: readonly number[], seed: number, counter: number, low = 0, high = 1): Tensor {
  return fill(dev, shape, { entry: 'uniform_fill', op: 'uniform', seed, counter, a: low, b: high - low });
}

/** normal(mean, std) by Box–Muller (tails end near 5.8σ: the smallest unit draw is 2^-24) */
export function normal(dev: Device, shape: readonly number[], seed: number, counter: number, mean = 0, std = 1): Tensor {
  return fill(dev, shape, { entry: 'normal_fill', op: 'normal', seed, counter, a: mean, b: std });
}

/** Gumbel(loc, scale) = loc − scale·log(−log u), u strictly inside (0, 1) (Gumbel-softmax samplers) */
export function gumbel(dev: Device, shape: readonly number[], seed: number, counter: number, loc = 0, scale = 1): Tensor {
  return fill(dev, shape, { entry: 'gumbel_fill', op: 'gumbel', seed, counter, a: loc, b: scale });
}

/**
 * A Bernoulli mask: `value` with probability p, else 0 (drop-path: p = keep probability,
 * value = 1/p). p is compared in f32 against 23-bit uniforms.
 */
export function bernoulliMask(dev: Device, shape: readonly number[], p: number, seed: number, counter: number, value = 1): Tensor {
  if (!(p >= 0 && p <= 1)) throw new WgnasError(`bernoulli_mask: p must be in [0, 1], got ${p}`);
  return fill(dev, shape, { entry: 'bernoulli_fill', op: 'bernoulli_mask', seed, counter, a: p, b: value });
}

/**
 * Inverted dropout with drop probability p: x/(1−p) where kept, 0 where dropped. The mask is never
 * stored: the backward regenerates it from (seed, counter). The keep test is the same as
 * bernoulliMask(x.shape, 1 − p, seed, counter).
 */
export function dropout(x: Tensor, p: number, seed: number, counter: number): Tensor {
  if (!(p >= 0 && p <= 1)) throw new ShapeError(`dropout: p must be in [0, 1], got ${p} for ${x.describe()}`);
  const keep = 1 - p;
  const d: Draw = { entry: 'dropout_forward', op: 'dropout', seed, counter, a: keep, b: keep > 0 ? 1 / keep : 0 };
  const dev = x.dev;
  const out = dev.empty(x.shape);
  launch(dev, d, x.shape, { inp: x, out });
  return record(out, 'dropout', [x], [], (dout) => {
    const dinp = dev.empty(x.shape);
    launch(dev, { ...d, entry: 'dropout_backward' }, x.shape, { dout, dinp });
    return [dinp];
  });
}

/** Hands out fresh counters for one seed: every draw of a run gets its own (seed, counter) pair. */
export class RngStream {
  constructor(readonly seed: number, public counter = 0) {
    words('RngStream', 'seed', seed);
  }

  /** the next unused counter */
  next(): number {
    return this.counter++;
  }
}
