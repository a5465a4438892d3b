/**
 * Softmax and log-softmax over the last dimension (shaders/softmax.wgsl). Any rank: a tensor of shape
 * [..., k] is treated as [rows, k]. Used for architecture parameters α → op probabilities and for
 * classifier logits. Backward kernels read the saved forward output and overwrite fresh tensors.
 */
import { grid } from '../gpu/gpu-device.js';
import { ShapeError, shapeStr } from '../gpu/errors.js';
import { record } from '../tensor/autograd.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { register, seededValues } from './registry.js';

const SHADER = 'softmax.wgsl';
const WG = 64;

function rowsOf(op: string, x: Tensor): [number, number] {
  const k = x.shape[x.shape.length - 1];
  if (x.shape.length === 0 || !k) throw new ShapeError(`${op}: needs a non-empty last dimension, got ${shapeStr(x.shape)}`);
  return [x.size / k, k];
}

function launch(dev: Device, entry: string, shape: readonly number[], bind: Record<string, Tensor>): void {
  const k = shape[shape.length - 1];
  const rows = bind.out.size / k;
  const b: Record<string, { buffer: GPUBuffer; offset: number; size: number }> = {};
  for (const [name, t] of Object.entries(bind)) b[name] = t.binding;
  dev.dispatch({ shader: SHADER, entry, bind: b, params: { rows, k }, workgroups: grid(rows, WG), shape: shapeStr(shape) });
}

function forwardRaw(entry: string, x: Tensor): Tensor {
  const out = x.dev.empty(x.shape);
  launch(x.dev, entry, x.shape, { inp: x, out });
  return out;
}

function backwardRaw(entry: string, out: Tensor, dout: Tensor): Tensor {
  const dinp = out.dev.empty(out.shape);
  launch(out.dev, entry, out.shape, { out, dout, dinp });
  return dinp;
}

function softmaxOp(op: string, fwd: string, bwd: string, x: Tensor): Tensor {
  rowsOf(op, x);
  const out = forwardRaw(fwd, x);
  return record(out, op, [x], [out], (dout) => [backwardRaw(bwd, out, dout)]);
}

/** softmax over the last dimension, numerically stable */
export function softmax(x: Tensor): Tensor {
  return softmaxOp('softmax', 'softmax_forward', 'softmax_backward', x);
}

/** log(softmax(x)) over the last dimension, computed as x − max − log Σ exp(x − max) */
export function logSoftmax(x: Tensor): Tensor {
  return softmaxOp('log_softmax', 'log_softmax_forward', 'log_softmax_backward', x);
}

register({
  name: 'softmax',
  shader: SHADER,
  passes: ['forward', 'backward_input'],
  describe: (p) => `rows=${p.rows} k=${p.k}`,
  setup: (dev, p, seed) => {
    const x = dev.tensor(seededValues(p.rows * p.k, seed, -4, 4), [p.rows, p.k]);
    const dout = dev.tensor(seededValues(p.rows * p.k, seed + 1), [p.rows, p.k]);
    const y = forwardRaw('softmax_forward', x);
    return {
      inputs: { x, dout, y },
      run: {
        forward: () => forwardRaw('softmax_forward', x),
        backward_input: () => backwardRaw('softmax_backward', y, dout),
      },
    };
  },
  // forward: max, sub+exp, sum, scale ≈ 5 per element (exp counted as 1); backward: 4 per element
  flops: (p, pass) => (pass === 'forward' ? 5 : 4) * p.rows * p.k,
  bytes: (p, pass) => (pass === 'forward' ? 8 : 12) * p.rows * p.k,
  sweep: [{ rows: 14, k: 8 }, { rows: 6, k: 5 }, { rows: 256, k: 10 }, { rows: 256, k: 1000 }],
});
