/** Shape-only ops: reshape/flatten share the input's storage (no kernel); backward reshapes dout. */
import { ShapeError, shapeStr } from '../gpu/errors.js';
import { record } from '../tensor/autograd.js';
import { numel, type Tensor } from '../tensor/tensor.js';

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  if (numel(shape) !== x.size) throw new ShapeError(`reshape: ${x.describe()} has ${x.size} elements, ${shapeStr(shape)} has ${numel(shape)}`);
  const out = x.dev.view(x, shape);
  return record(out, 'reshape', [x], [], (dout) => [dout.dev.view(dout, x.shape)]);
}

/** [N, ...] → [N, rest] */
export function flatten(x: Tensor): Tensor {
  return reshape(x, [x.shape[0], x.size / x.shape[0]]);
}
