/**
 * Element-wise ops (shaders/elementwise.wgsl): relu, relu6, add, sub, scale, mul, sum, mean.
 * Each checks shapes, dispatches its forward, and records its backward (which overwrites fresh tensors).
 */
import { grid } from '../gpu/gpu-device.js';
import { ShapeError, shapeStr } from '../gpu/errors.js';
import { record } from '../tensor/autograd.js';
import type { Tensor } from '../tensor/tensor.js';
import { register, seededValues } from './registry.js';

const SHADER = 'elementwise.wgsl';
const WG = 256;

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${op}: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ`);
  }
}

function run(entry: string, out: Tensor, bind: Record<string, Tensor>, a = 0, b = 0): Tensor {
  const binds: Record<string, { buffer: GPUBuffer; offset: number; size: number }> = { out: out.binding };
  for (const [k, t] of Object.entries(bind)) binds[k] = t.binding;
  out.dev.dispatch({ shader: SHADER, entry, bind: binds, params: { n: out.size, a, b }, workgroups: grid(out.size, WG), shape: shapeStr(out.shape) });
  return out;
}

function clampOp(op: string, x: Tensor, lo: number, hi: number): Tensor {
  const out = run('clamp_forward', x.dev.empty(x.shape), { inp: x }, lo, hi);
  return record(out, op, [x], [x], (dout) => [run('clamp_backward', x.dev.empty(x.shape), { inp: x, dout }, lo, hi)]);
}

/** max(x, 0) */
export function relu(x: Tensor): Tensor {
  return clampOp('relu', x, 0, 3.4e38);
}

/** min(max(x, 0), 6) (MBConv) */
export function relu6(x: Tensor): Tensor {
  return clampOp('relu6', x, 0, 6);
}

/** a·x + b·y for same-shape x and y */
export function lincomb(a: number, x: Tensor, b: number, y: Tensor): Tensor {
  sameShape('lincomb', x, y);
  const out = run('lincomb', x.dev.empty(x.shape), { inp: x, inp2: y }, a, b);
  return record(out, 'lincomb', [x, y], [], (dout) => [
    a === 1 ? dout : scaleRaw(dout, a),
    b === 1 ? dout : scaleRaw(dout, b),
  ]);
}

export function add(x: Tensor, y: Tensor): Tensor {
  return lincomb(1, x, 1, y);
}

export function sub(x: Tensor, y: Tensor): Tensor {
  return lincomb(1, x, -1, y);
}

function scaleRaw(x: Tensor, a: number, b = 0): Tensor {
  return run('affine', x.dev.empty(x.shape), { inp: x }, a, b);
}

/** a·x + b */
export function scale(x: Tensor, a: number, b = 0): Tensor {
  const out = scaleRaw(x, a, b);
  return record(out, 'scale', [x], [], (dout) => [scaleRaw(dout, a)]);
}

function mulRaw(x: Tensor, y: Tensor): Tensor {
  return run('mul', x.dev.empty(x.shape), { inp: x, inp2: y });
}

/** x ⊙ y (same shapes) */
export function mul(x: Tensor, y: Tensor): Tensor {
  sameShape('mul', x, y);
  const out = mulRaw(x, y);
  return record(out, 'mul', [x, y], [x, y], (dout) => [mulRaw(dout, y), mulRaw(dout, x)]);
}

function reduce(op: string, x: Tensor, a: number): Tensor {
  const dev = x.dev;
  if (x.size === 0) throw new ShapeError(`${op}: empty tensor ${x.describe()}`);
  const out = dev.empty([1]);
  dev.dispatch({ shader: SHADER, entry: 'sum_forward', bind: { inp: x.binding, out: out.binding }, params: { n: x.size, a, b: 0 }, workgroups: [1], shape: shapeStr(x.shape) });
  return record(out, op, [x], [], (dout) => [run('broadcast_scalar', dev.empty(x.shape), { dout }, a)]);
}

/** Σ x → [1] */
export function sum(x: Tensor): Tensor {
  return reduce('sum', x, 1);
}

/** mean(x) → [1] */
export function mean(x: Tensor): Tensor {
  return reduce('mean', x, 1 / x.size);
}

register({
  name: 'relu',
  shader: SHADER,
  passes: ['forward', 'backward_input'],
  describe: (p) => `n=${p.n}`,
  setup: (dev, p, seed) => {
    const x = dev.tensor(seededValues(p.n, seed), [p.n]);
    const dout = dev.tensor(seededValues(p.n, seed + 1), [p.n]);
    return {
      inputs: { x, dout },
      run: {
        forward: () => run('clamp_forward', dev.empty(x.shape), { inp: x }, 0, 3.4e38),
        backward_input: () => run('clamp_backward', dev.empty(x.shape), { inp: x, dout }, 0, 3.4e38),
      },
    };
  },
  flops: (p) => p.n,
  bytes: (p, pass) => (pass === 'forward' ? 8 : 12) * p.n,
  sweep: [{ n: 1 << 16 }, { n: 1 << 20 }],
});
