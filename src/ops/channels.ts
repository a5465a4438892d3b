/**
 * Channel and spatial plumbing of NCHW tensors (shaders/channels.wgsl), with autograd:
 *  - concat(xs): along channels, one copy-into-offset dispatch per input (any count); backward: slices;
 *  - sliceChannels(x, start, count); backward: dout embedded in zeros;
 *  - shiftCrop(x, dy, dx) = x[:, :, dy:, dx:] zero-padded back to H×W at the bottom/right (DARTS
 *    FactorizedReduce); backward: the opposite shift;
 *  - addN(xs): sum of same-shape tensors (cell nodes), four inputs per dispatch; backward: dout to each;
 *  - zeroOp(x, stride): the NAS 'none' op, zeros of shape [N, C, ceil(H/s), ceil(W/s)] (as DARTS'
 *    x[:, :, ::s, ::s].mul(0)); zerosLike(x). Both are fills on the GPU and record no gradient (d/dx = 0);
 *  - identity(x): the 'skip_connect' op at stride 1 is x itself: no kernel, no node, no copy.
 */
import { grid } from '../gpu/gpu-device.js';
import { ShapeError, shapeStr } from '../gpu/errors.js';
import { record } from '../tensor/autograd.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { register, seededValues } from './registry.js';

const SHADER = 'channels.wgsl';
const WG = 256;

function is4d(op: string, x: Tensor): void {
  if (x.shape.length !== 4) throw new ShapeError(`${op}: expected an NCHW input, got ${x.describe()}`);
}

interface ChanCopy { count: number; cIn: number; inOff: number; cOut: number; outOff: number }

/** One copy_channels / embed_channels dispatch (see the shader); on vec4s when planes are multiples of 4. */
function chanKernel(entry: 'copy_channels' | 'embed_channels', inp: Tensor, out: Tensor, c: ChanCopy): void {
  const [n, , h, w] = out.shape;
  const v = (h * w) % 4 === 0 ? 4 : 1;
  const hw = (h * w) / v;
  const count = entry === 'copy_channels' ? n * c.count * hw : out.size / v;
  const bind: Record<string, { buffer: GPUBuffer; offset: number; size: number }> = v === 4 ? { inp4: inp.binding, out4: out.binding } : { inp: inp.binding, out: out.binding };
  out.dev.dispatch({
    shader: SHADER, entry: v === 4 ? `${entry}4` : entry, bind,
    params: { n: count, hw, count: c.count, c_in: c.cIn, in_off: c.inOff, c_out: c.cOut, out_off: c.outOff },
    workgroups: grid(count, WG),
    shape: `${shapeStr(inp.shape)}→${shapeStr(out.shape)} ch ${c.inOff}→${c.outOff} ×${c.count}`,
  });
}

/**
 * A tensor's bytes rounded up to whole vec4s. The allocator hands out buffers in size classes that are
 * multiples of 64 bytes, so the rounded range is inside the buffer; the extra lanes touch only padding.
 */
function vec4Binding(t: Tensor): { buffer: GPUBuffer; offset: number; size: number } {
  const size = Math.max(16, Math.ceil(t.byteLength / 16) * 16);
  if (t.buffer.size < size) throw new ShapeError(`add_n: buffer of ${t.describe()} (${t.buffer.size} B) cannot be bound as ${size / 16} vec4s`);
  return { buffer: t.buffer, offset: 0, size };
}

/** Channels start..start+count of x as a new tensor (forward kernel only). */
export function sliceChannelsRaw(x: Tensor, start: number, count: number): Tensor {
  const [n, c, h, w] = x.shape;
  const out = x.dev.empty([n, count, h, w]);
  chanKernel('copy_channels', x, out, { count, cIn: c, inOff: start, cOut: count, outOff: 0 });
  return out;
}

/** Concatenation along channels (axis 1) of NCHW tensors with equal N, H, W. */
export function concat(xs: readonly Tensor[], axis = 1): Tensor {
  if (axis !== 1) throw new ShapeError(`concat: only axis 1 (channels) is supported, got axis ${axis}`);
  if (xs.length === 0) throw new ShapeError('concat: no inputs');
  const shapes = xs.map((x) => shapeStr(x.shape)).join(', ');
  for (const x of xs) {
    is4d('concat', x);
    if ([0, 2, 3].some((d) => x.shape[d] !== xs[0].shape[d])) throw new ShapeError(`concat: N, H, W must agree, got ${shapes}`);
  }
  const out = concatRaw(xs);
  const starts = xs.map((_, i) => xs.slice(0, i).reduce((a, x) => a + x.shape[1], 0));
  return record(out, 'concat', [...xs], [], (dout) => xs.map((x, i) => (x.requiresGrad || x.node ? sliceChannelsRaw(dout, starts[i], x.shape[1]) : null)));
}

/** Forward kernels of concat: one copy into its channel offset per input. */
export function concatRaw(xs: readonly Tensor[]): Tensor {
  const [n, , h, w] = xs[0].shape;
  const total = xs.reduce((a, x) => a + x.shape[1], 0);
  const out = xs[0].dev.empty([n, total, h, w]);
  let off = 0;
  for (const x of xs) {
    chanKernel('copy_channels', x, out, { count: x.shape[1], cIn: x.shape[1], inOff: 0, cOut: total, outOff: off });
    off += x.shape[1];
  }
  return out;
}

/** x[:, start:start+count] */
export function sliceChannels(x: Tensor, start: number, count: number): Tensor {
  is4d('slice_channels', x);
  const c = x.shape[1];
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > c) {
    throw new ShapeError(`slice_channels: channels ${start}..${start + count - 1} are outside ${x.describe()}`);
  }
  const out = sliceChannelsRaw(x, start, count);
  return record(out, 'slice_channels', [x], [], (dout) => {
    const dinp = dout.dev.empty(x.shape);
    chanKernel('embed_channels', dout, dinp, { count, cIn: count, inOff: 0, cOut: c, outOff: start });
    return [dinp];
  });
}

function shiftRaw(x: Tensor, dy: number, dx: number): Tensor {
  const out = x.dev.empty(x.shape);
  const [, , h, w] = x.shape;
  x.dev.dispatch({
    shader: SHADER, entry: 'shift', bind: { inp: x.binding, out: out.binding },
    params: { n: x.size, h, w, dy, dx }, workgroups: grid(x.size, WG), shape: `${shapeStr(x.shape)} shift ${dy},${dx}`,
  });
  return out;
}

/** x[:, :, dy:, dx:] zero-padded back to H×W at the bottom/right (dy, dx >= 0). */
export function shiftCrop(x: Tensor, dy: number, dx: number): Tensor {
  is4d('shift_crop', x);
  if (!Number.isInteger(dy) || !Number.isInteger(dx) || dy < 0 || dx < 0) throw new ShapeError(`shift_crop: shift (${dy}, ${dx}) of ${x.describe()} must be non-negative integers`);
  const out = shiftRaw(x, dy, dx);
  return record(out, 'shift_crop', [x], [], (dout) => [shiftRaw(dout, -dy, -dx)]);
}

/** Σ xs without autograd: four inputs per dispatch on vec4s, the first overwrites, the rest accumulate. */
export function addNRaw(xs: readonly Tensor[]): Tensor {
  const dev = xs[0].dev;
  const out = dev.empty(xs[0].shape);
  const n4 = Math.ceil(out.size / 4);
  for (let k = 0; k < xs.length; k += 4) {
    const part = xs.slice(k, k + 4);
    const bind: Record<string, { buffer: GPUBuffer; offset: number; size: number }> = { out4: vec4Binding(out) };
    for (let j = 0; j < 4; j++) bind[`inp${j}`] = vec4Binding(part[j] ?? part[0]); // unused slots are not read
    dev.dispatch({
      shader: SHADER, entry: k === 0 ? 'add_n' : 'add_n_acc', bind,
      params: { n: n4, count: part.length }, workgroups: grid(n4, WG), shape: `${shapeStr(out.shape)} ×${part.length}`,
    });
  }
  return out;
}

/** Sum of same-shape tensors (any count >= 1). */
export function addN(xs: readonly Tensor[]): Tensor {
  if (xs.length === 0) throw new ShapeError('add_n: no inputs');
  for (const x of xs) {
    if (x.shape.length !== xs[0].shape.length || x.shape.some((d, i) => d !== xs[0].shape[i])) {
      throw new ShapeError(`add_n: shapes differ: ${xs.map((t) => shapeStr(t.shape)).join(', ')}`);
    }
  }
  if (xs.length === 1) return xs[0];
  // a tensor passed twice gets its own copy of dout for the second use (autograd accumulates it into
  // the first, and a kernel may not read and write one buffer)
  return record(addNRaw(xs), 'add_n', [...xs], [], (dout) => xs.map((x, i) => (xs.indexOf(x) < i ? dout.dev.clone(dout) : dout)));
}

/** Zeros of x's shape (a GPU fill; no gradient). */
export function zerosLike(x: Tensor): Tensor {
  return x.dev.zeros(x.shape);
}

/** The NAS 'none' op: zeros of shape [N, C, ceil(H/stride), ceil(W/stride)]; no gradient flows to x. */
export function zeroOp(x: Tensor, stride = 1): Tensor {
  is4d('zero', x);
  if (stride !== 1 && stride !== 2) throw new ShapeError(`zero: stride must be 1 or 2, got ${stride} for ${x.describe()}`);
  const [n, c, h, w] = x.shape;
  return x.dev.zeros([n, c, Math.ceil(h / stride), Math.ceil(w / stride)]);
}

/** The 'skip_connect' op at stride 1: returns x itself (no kernel, no autograd node, no copy). */
export function identity(x: Tensor): Tensor {
  return x;
}

// ---------------------------------------------------------------------------------------------------
// registry records (kernels-bench, latency tables)

function concatInputs(dev: Device, p: Record<string, number>, seed: number): Tensor[] {
  return Array.from({ length: p.k }, (_, i) => dev.tensor(seededValues(p.N * p.C * p.H * p.W, seed + i), [p.N, p.C, p.H, p.W]));
}

register({
  name: 'concat',
  shader: SHADER,
  passes: ['forward', 'backward_input'],
  describe: (p) => `N${p.N} ${p.k}×C${p.C} ${p.H}×${p.W}`,
  setup: (dev, p, seed) => {
    const xs = concatInputs(dev, p, seed);
    const dout = dev.tensor(seededValues(p.N * p.k * p.C * p.H * p.W, seed + 99), [p.N, p.k * p.C, p.H, p.W]);
    const inputs: Record<string, Tensor> = { dout };
    xs.forEach((x, i) => (inputs[`x${i}`] = x));
    return {
      inputs,
      run: {
        forward: () => concatRaw(xs),
        backward_input: () => xs.map((_, i) => sliceChannelsRaw(dout, i * p.C, p.C)),
      },
    };
  },
  flops: () => 0,
  bytes: (p) => 8 * p.N * p.k * p.C * p.H * p.W,
  sweep: [{ N: 8, C: 16, H: 32, W: 32, k: 4 }, { N: 32, C: 16, H: 32, W: 32, k: 4 }, { N: 32, C: 64, H: 8, W: 8, k: 2 }],
});

register({
  name: 'add_n',
  shader: SHADER,
  passes: ['forward'],
  describe: (p) => `n=${p.n} ×${p.k}`,
  setup: (dev, p, seed) => {
    const xs = Array.from({ length: p.k }, (_, i) => dev.tensor(seededValues(p.n, seed + i), [p.n]));
    const inputs: Record<string, Tensor> = {};
    xs.forEach((x, i) => (inputs[`x${i}`] = x));
    return { inputs, run: { forward: () => addNRaw(xs) } };
  },
  flops: (p) => (p.k - 1) * p.n,
  bytes: (p) => 4 * (p.k + 1) * p.n,
  sweep: [{ n: 1 << 16, k: 2 }, { n: 1 << 20, k: 2 }, { n: 1 << 20, k: 4 }, { n: 1 << 20, k: 5 }],
});
