/**
 * Pooling (shaders/pool2d.wgsl) on NCHW tensors: maxPool2d, avgPool2d, globalAvgPool.
 * DARTS / NAS-Bench-201 use 3×3 windows, stride 1 or 2, padding 1, and averages that exclude padding
 * (countIncludePad = false, the default here). Output size is floor((H + 2p − k) / s) + 1 (no ceil mode).
 *
 * Max-pool keeps the arg-max of every window (its position y·W + x in the input plane, u32 bits in an
 * internal output-sized tensor) when a gradient will be needed, so its backward reads neither the
 * input nor recomputes windows; the backward is a gather (each input element sums the windows that
 * chose it), so it needs no atomics. Ties go to the first max in row-major window order, as PyTorch.
 * NaN inputs are not propagated as PyTorch does (a NaN never compares greater).
 *
 * Window, stride and run length (elements per invocation, up to 8 along a row) are override constants:
 * one pipeline per (entry, kernel, stride, run length), a handful for DARTS/NB201. On lavapipe this
 * layout made max-pool 4-10x faster than one invocation per element (N32 C16 32×32 k3 s1: forward
 * 13 → 3 ms, backward 24-63 → 5 ms). Windows are at most 32×32 (use globalAvgPool for whole planes).
 */
import { grid } from '../gpu/gpu-device.js';
import { ShapeError, shapeStr } from '../gpu/errors.js';
import { needsGrad, record } from '../tensor/autograd.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { register, seededValues, type OpParams } from './registry.js';

const SHADER = 'pool2d.wgsl';
const WG = 64;
const SPAN_MAX = 32; // shaders/pool2d.wgsl: longest input row segment a run reads

export type Pair = number | readonly [number, number];

export interface PoolOptions {
  kernel: Pair;
  /** defaults to the kernel size (as PyTorch) */
  stride?: Pair;
  padding?: Pair;
}

export interface AvgPoolOptions extends PoolOptions {
  /** divide by kh·kw (true) or by the number of real elements in the window (false, default, DARTS) */
  countIncludePad?: boolean;
}

/** Input/output plane sizes and window parameters of one pooling call. */
export interface PoolGeom {
  n: number; c: number; h: number; w: number;
  oh: number; ow: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
}

function pair(v: Pair): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** Validates the options against x's shape and returns the geometry (throws ShapeError naming op and shapes). */
export function poolGeom(op: string, shape: readonly number[], o: PoolOptions): PoolGeom {
  if (shape.length !== 4) throw new ShapeError(`${op}: expected an NCHW input, got ${shapeStr(shape)}`);
  const [n, c, h, w] = shape;
  const [kh, kw] = pair(o.kernel);
  const [sh, sw] = pair(o.stride ?? o.kernel);
  const [ph, pw] = pair(o.padding ?? 0);
  const all = [kh, kw, sh, sw, ph, pw];
  if (!all.every(Number.isInteger) || kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0) {
    throw new ShapeError(`${op}: kernel ${kh}×${kw}, stride ${sh}×${sw}, padding ${ph}×${pw} on ${shapeStr(shape)}: kernel and stride must be positive integers, padding a non-negative integer`);
  }
  if (kh > SPAN_MAX || kw > SPAN_MAX) throw new ShapeError(`${op}: kernel ${kh}×${kw} on ${shapeStr(shape)}: windows larger than ${SPAN_MAX} are not supported (use globalAvgPool for whole planes)`);
  if (2 * ph > kh || 2 * pw > kw) {
    throw new ShapeError(`${op}: padding ${ph}×${pw} exceeds half the kernel ${kh}×${kw} (input ${shapeStr(shape)})`);
  }
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (oh < 1 || ow < 1) throw new ShapeError(`${op}: kernel ${kh}×${kw} with padding ${ph}×${pw} does not fit input ${shapeStr(shape)}`);
  return { n, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw };
}

function describeGeom(g: PoolGeom): string {
  return `[${g.n},${g.c},${g.h},${g.w}] k${g.kh}x${g.kw} s${g.sh}x${g.sw} p${g.ph}x${g.pw}`;
}

/** Run length (elements per invocation along a row): up to 8, within the kernel's row buffer. */
function runLength(rowLen: number, sw: number, kw: number): number {
  let r = rowLen >= 8 ? 8 : rowLen >= 4 ? 4 : rowLen >= 2 ? 2 : 1;
  while (r > 1 && (r - 1) * sw + kw > SPAN_MAX) r /= 2;
  return r;
}

/** One dispatch over runs of R elements of rows of `rowLen` (output rows forward, input rows backward). */
function dispatch(dev: Device, entry: string, g: PoolGeom, rows: number, rowLen: number, bind: Record<string, Tensor>, includePad = false): void {
  const binds: Record<string, { buffer: GPUBuffer; offset: number; size: number }> = {};
  for (const [k, t] of Object.entries(bind)) binds[k] = t.binding;
  const r = runLength(rowLen, g.sw, g.kw);
  const runs = Math.ceil(rowLen / r);
  const n = rows * runs;
  dev.dispatch({
    shader: SHADER,
    entry,
    bind: binds,
    params: { n, runs, h: g.h, w: g.w, oh: g.oh, ow: g.ow, ph: g.ph, pw: g.pw, include_pad: includePad ? 1 : 0 },
    // global_avg_forward reads no window constants; global_avg_backward only R
    overrides: entry === 'global_avg_forward' ? undefined : entry === 'global_avg_backward' ? { R: r } : { KH: g.kh, KW: g.kw, SH: g.sh, SW: g.sw, R: r },
    workgroups: grid(n, WG),
    shape: describeGeom(g),
  });
}

const outShape = (g: PoolGeom): number[] => [g.n, g.c, g.oh, g.ow];
const inShape = (g: PoolGeom): number[] => [g.n, g.c, g.h, g.w];

/** Max-pool forward kernel; with `withArgmax` also returns the arg-max tensor (u32 bits, output-sized). */
export function maxPoolForward(x: Tensor, g: PoolGeom, withArgmax: boolean): { out: Tensor; argmax?: Tensor } {
  const dev = x.dev;
  const out = dev.empty(outShape(g));
  if (!withArgmax) {
    dispatch(dev, 'max_forward', g, g.n * g.c * g.oh, g.ow, { inp: x, out });
    return { out };
  }
  const argmax = dev.empty(outShape(g), { label: 'max_pool2d.argmax' });
  dispatch(dev, 'max_forward_argmax', g, g.n * g.c * g.oh, g.ow, { inp: x, out, argmax_out: argmax });
  return { out, argmax };
}

/** Max-pool backward kernel: dinp (overwritten, input-sized) from dout and the saved arg-max. */
export function maxPoolBackward(dout: Tensor, argmax: Tensor, g: PoolGeom): Tensor {
  const dinp = dout.dev.empty(inShape(g));
  dispatch(dout.dev, 'max_backward', g, g.n * g.c * g.h, g.w, { dout, argmax, dinp });
  return dinp;
}

export function avgPoolForward(x: Tensor, g: PoolGeom, includePad: boolean): Tensor {
  const out = x.dev.empty(outShape(g));
  dispatch(x.dev, 'avg_forward', g, g.n * g.c * g.oh, g.ow, { inp: x, out }, includePad);
  return out;
}

export function avgPoolBackward(dout: Tensor, g: PoolGeom, includePad: boolean): Tensor {
  const dinp = dout.dev.empty(inShape(g));
  dispatch(dout.dev, 'avg_backward', g, g.n * g.c * g.h, g.w, { dout, dinp }, includePad);
  return dinp;
}

/** Max over k×k windows (NCHW). Backward routes dout to each window's first max. */
export function maxPool2d(x: Tensor, opts: PoolOptions): Tensor {
  const g = poolGeom('max_pool2d', x.shape, opts);
  const { out, argmax } = maxPoolForward(x, g, needsGrad(x.dev, x));
  if (!argmax) return out;
  return record(out, 'max_pool2d', [x], [argmax], (dout) => [maxPoolBackward(dout, argmax, g)], [argmax]);
}

/** Mean over k×k windows (NCHW); padding excluded from the divisor unless countIncludePad. */
export function avgPool2d(x: Tensor, opts: AvgPoolOptions): Tensor {
  const g = poolGeom('avg_pool2d', x.shape, opts);
  const includePad = Boolean(opts.countIncludePad);
  const out = avgPoolForward(x, g, includePad);
  return record(out, 'avg_pool2d', [x], [], (dout) => [avgPoolBackward(dout, g, includePad)]);
}

function globalGeom(shape: readonly number[]): PoolGeom {
  if (shape.length !== 4 || shape[2] * shape[3] === 0) throw new ShapeError(`global_avg_pool: expected a non-empty NCHW input, got ${shapeStr(shape)}`);
  const [n, c, h, w] = shape;
  // the window constants are unused by the global entries: fixed, so one pipeline serves every size
  return { n, c, h, w, oh: 1, ow: 1, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0 };
}

export function globalAvgPoolForward(x: Tensor): Tensor {
  const g = globalGeom(x.shape);
  const out = x.dev.empty([g.n, g.c]);
  dispatch(x.dev, 'global_avg_forward', g, g.n * g.c, 1, { inp: x, out });
  return out;
}

export function globalAvgPoolBackward(dout: Tensor, inputShape: readonly number[]): Tensor {
  const g = globalGeom(inputShape);
  const dinp = dout.dev.empty(inShape(g));
  dispatch(dout.dev, 'global_avg_backward', g, g.n * g.c, g.h * g.w, { dout, dinp });
  return dinp;
}

/** Mean over each H×W plane: [N, C, H, W] → [N, C]. */
export function globalAvgPool(x: Tensor): Tensor {
  const out = globalAvgPoolForward(x);
  const shape = x.shape;
  return record(out, 'global_avg_pool', [x], [], (dout) => [globalAvgPoolBackward(dout, shape)]);
}

// ---------------------------------------------------------------------------------------------------
// registry records (kernels-bench, latency tables). Params: N, C, H, W, k, s, p.

function benchGeom(p: OpParams, op: string): PoolGeom {
  return poolGeom(op, [p.N, p.C, p.H, p.W], { kernel: p.k, stride: p.stride, padding: p.pad });
}

const describePool = (p: OpParams): string => `N${p.N} C${p.C} ${p.H}×${p.W} k${p.k} s${p.stride} p${p.pad}`;

const POOL_SWEEP: readonly OpParams[] = [
  { N: 8, C: 16, H: 32, W: 32, k: 3, stride: 1, pad: 1 },
  { N: 8, C: 32, H: 16, W: 16, k: 3, stride: 2, pad: 1 },
  { N: 32, C: 16, H: 32, W: 32, k: 3, stride: 1, pad: 1 },
  { N: 32, C: 64, H: 8, W: 8, k: 3, stride: 1, pad: 1 },
];

function elems(p: OpParams, g: PoolGeom): { inp: number; out: number } {
  return { inp: p.N * p.C * p.H * p.W, out: p.N * p.C * g.oh * g.ow };
}

register({
  name: 'max_pool2d',
  shader: SHADER,
  passes: ['forward', 'backward_input'],
  describe: describePool,
  setup: (dev, p, seed) => {
    const g = benchGeom(p, 'max_pool2d');
    const x = dev.tensor(seededValues(p.N * p.C * p.H * p.W, seed), inShape(g));
    const dout = dev.tensor(seededValues(p.N * p.C * g.oh * g.ow, seed + 1), outShape(g));
    const argmax = maxPoolForward(x, g, true).argmax!;
    return {
      inputs: { x, dout },
      run: {
        forward: () => maxPoolForward(x, g, false).out,
        backward_input: () => maxPoolBackward(dout, argmax, g),
      },
    };
  },
  flops: (p, pass) => {
    const e = elems(p, benchGeom(p, 'max_pool2d'));
    return pass === 'forward' ? e.out * p.k * p.k : e.out; // compares; backward: one add per routed gradient
  },
  bytes: (p, pass) => {
    const e = elems(p, benchGeom(p, 'max_pool2d'));
    return pass === 'forward' ? 4 * (e.inp + e.out) : 4 * (2 * e.out + e.inp);
  },
  sweep: POOL_SWEEP,
});

register({
  name: 'avg_pool2d',
  shader: SHADER,
  passes: ['forward', 'backward_input'],
  describe: describePool,
  setup: (dev, p, seed) => {
    const g = benchGeom(p, 'avg_pool2d');
    const x = dev.tensor(seededValues(p.N * p.C * p.H * p.W, seed), inShape(g));
    const dout = dev.tensor(seededValues(p.N * p.C * g.oh * g.ow, seed + 1), outShape(g));
    return {
      inputs: { x, dout },
      run: {
        forward: () => avgPoolForward(x, g, false),
        backward_input: () => avgPoolBackward(dout, g, false),
      },
    };
  },
  flops: (p) => {
    const e = elems(p, benchGeom(p, 'avg_pool2d'));
    return e.out * (p.k * p.k + 1);
  },
  bytes: (p) => {
    const e = elems(p, benchGeom(p, 'avg_pool2d'));
    return 4 * (e.inp + e.out);
  },
  sweep: POOL_SWEEP,
});

register({
  name: 'global_avg_pool',
  shader: SHADER,
  passes: ['forward', 'backward_input'],
  describe: (p) => `N${p.N} C${p.C} ${p.H}×${p.W}`,
  setup: (dev, p, seed) => {
    const x = dev.tensor(seededValues(p.N * p.C * p.H * p.W, seed), [p.N, p.C, p.H, p.W]);
    const dout = dev.tensor(seededValues(p.N * p.C, seed + 1), [p.N, p.C]);
    return {
      inputs: { x, dout },
      run: {
        forward: () => globalAvgPoolForward(x),
        backward_input: () => globalAvgPoolBackward(dout, x.shape),
      },
    };
  },
  flops: (p) => p.N * p.C * p.H * p.W,
  bytes: (p) => 4 * (p.N * p.C * p.H * p.W + p.N * p.C),
  sweep: [{ N: 64, C: 256, H: 8, W: 8 }, { N: 8, C: 64, H: 32, W: 32 }],
});
