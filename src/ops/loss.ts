/**
 * Classification loss and accuracy (shaders/loss.wgsl).
 *
 * Labels are an f32 tensor [N] of class indices (exact below 2^24). They are validated in the kernel:
 * a label that is not an integer in [0, C) is flagged, not clamped — its row's loss and gradient become
 * NaN, so the mean loss reads NaN at the caller's next readback (no readback happens here), and
 * accuracy() counts such a row as wrong.
 */
import { grid } from '../gpu/gpu-device.js';
import { ShapeError, shapeStr } from '../gpu/errors.js';
import { record } from '../tensor/autograd.js';
import type { Tensor } from '../tensor/tensor.js';
import { register, seededValues } from './registry.js';

const SHADER = 'loss.wgsl';
const WG = 256;

function checkShapes(op: string, logits: Tensor, labels: Tensor): [number, number] {
  if (logits.shape.length !== 2 || logits.shape[0] < 1 || logits.shape[1] < 1) {
    throw new ShapeError(`${op}: logits must be [N, C] with N, C >= 1, got ${shapeStr(logits.shape)}`);
  }
  const [n, c] = logits.shape;
  if (labels.size !== n) throw new ShapeError(`${op}: labels ${shapeStr(labels.shape)} do not match ${n} rows of logits ${shapeStr(logits.shape)}`);
  return [n, c];
}

function forwardRaw(logits: Tensor, labels: Tensor, lse: Tensor): Tensor {
  const [n, c] = logits.shape;
  const out = logits.dev.empty([1]);
  logits.dev.dispatch({
    shader: SHADER, entry: 'cross_entropy_forward',
    bind: { inp: logits.binding, labels: labels.binding, lse: lse.binding, out: out.binding },
    params: { n, c, scale: 1 / n }, workgroups: [1], shape: shapeStr(logits.shape),
  });
  return out;
}

function backwardRaw(logits: Tensor, labels: Tensor, lse: Tensor, dout: Tensor): Tensor {
  const [n, c] = logits.shape;
  const dinp = logits.dev.empty(logits.shape);
  logits.dev.dispatch({
    shader: SHADER, entry: 'cross_entropy_backward',
    bind: { inp: logits.binding, labels: labels.binding, lse: lse.binding, dout: dout.binding, dinp: dinp.binding },
    params: { n, c, scale: 1 / n }, workgroups: grid(n * c, WG), shape: shapeStr(logits.shape),
  });
  return dinp;
}

/**
 * Mean over the batch of softmax cross-entropy: logits [N, C], labels [N] (f32 class indices) → [1].
 * Backward w.r.t. logits: (softmax − onehot)/N · dout. Labels get no gradient.
 */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const [n] = checkShapes('cross_entropy', logits, labels);
  const lse = logits.dev.empty([n]);
  const out = forwardRaw(logits, labels, lse);
  return record(out, 'cross_entropy', [logits, labels], [logits, labels, lse], (dout) => [backwardRaw(logits, labels, lse, dout), null], [lse]);
}

/**
 * Number of rows whose arg-max (first maximum) equals the label, as a [1] tensor (no readback, no
 * gradient). Sum over an epoch on the GPU with dev.accumulate(total, accuracy(...)) and read once.
 */
export function accuracy(logits: Tensor, labels: Tensor): Tensor {
  const [n, c] = checkShapes('accuracy', logits, labels);
  const out = logits.dev.empty([1]);
  logits.dev.dispatch({
    shader: SHADER, entry: 'accuracy_count',
    bind: { inp: logits.binding, labels: labels.binding, out: out.binding },
    params: { n, c, scale: 1 }, workgroups: [1], shape: shapeStr(logits.shape),
  });
  return out;
}

register({
  name: 'cross_entropy',
  shader: SHADER,
  passes: ['forward', 'backward_input'],
  describe: (p) => `N${p.n} C${p.c}`,
  setup: (dev, p, seed) => {
    const logits = dev.tensor(seededValues(p.n * p.c, seed, -3, 3), [p.n, p.c]);
    const labels = dev.tensor(Float32Array.from(seededValues(p.n, seed + 1, 0, p.c), Math.floor), [p.n]);
    const lse = dev.empty([p.n]);
    const dout = dev.tensor([1], [1]);
    forwardRaw(logits, labels, lse).dispose();
    return {
      inputs: { logits, labels, lse, dout },
      run: {
        forward: () => forwardRaw(logits, labels, lse),
        backward_input: () => backwardRaw(logits, labels, lse, dout),
      },
    };
  },
  // forward: max, sub, exp, add per element; backward: sub, exp, sub, 2 muls per element
  flops: (p, pass) => (pass === 'forward' ? 4 : 5) * p.n * p.c,
  bytes: (p, pass) => (pass === 'forward' ? 4 * p.n * p.c + 8 * p.n : 8 * p.n * p.c + 8 * p.n),
  sweep: [{ n: 64, c: 10 }, { n: 256, c: 10 }, { n: 256, c: 1000 }],
});
