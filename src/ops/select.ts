/**
 * Selection ops on small vectors (architecture parameters and their probabilities).
 *  - gather(x, indices): x.flat[indices] with a scatter-add backward (indices may repeat).
 *  - oneHotST(p, k, gradScale): the value onehot(k), the gradient gradScale·dout straight to p —
 *    i.e. onehot(k) − stopgrad(p) + p scaled in its backward. Hard Gumbel-softmax (GDAS), binarised
 *    gates (ProxylessNAS) and the ordered single-path sampler build on it.
 */
import { ShapeError } from '../gpu/errors.js';
import { record } from '../tensor/autograd.js';
import type { Tensor } from '../tensor/tensor.js';

const SHADER = 'select.wgsl';

export function gather(x: Tensor, indices: readonly number[]): Tensor {
  const dev = x.dev;
  if (indices.length === 0) throw new ShapeError(`gather: empty index list for ${x.describe()}`);
  for (const i of indices) if (!Number.isInteger(i) || i < 0 || i >= x.size) throw new ShapeError(`gather: index ${i} out of range for ${x.describe()}`);
  // the index list is a u32 buffer wrapped as an internal tensor, so the graph frees it with the rest
  const idx = dev.wrap(dev.upload(Uint32Array.from(indices), 'gather-idx'), [indices.length]);
  const out = dev.empty([indices.length]);
  dev.dispatch({ shader: SHADER, entry: 'gather_forward', bind: { inp: x.binding, idx: idx.binding, out: out.binding }, params: { n: indices.length, m: x.size }, workgroups: [Math.ceil(indices.length / 64)], shape: `${x.size}->${indices.length}` });
  return record(out, 'gather', [x], [idx], (dout) => {
    const dinp = dev.empty(x.shape);
    dev.dispatch({ shader: SHADER, entry: 'gather_backward', bind: { idx: idx.binding, dout: dout.binding, out: dinp.binding }, params: { n: indices.length, m: x.size }, workgroups: [Math.ceil(x.size / 64)], shape: `${x.size}<-${indices.length}` });
    return [dinp];
  }, [idx]);
}

export function oneHotST(p: Tensor, k: number, gradScale = 1): Tensor {
  const dev = p.dev;
  if (p.shape.length !== 1 || !Number.isInteger(k) || k < 0 || k >= p.size) throw new ShapeError(`oneHotST: need a vector and 0 <= k < ${p.size}, got ${p.describe()} and k=${k}`);
  const n = p.size;
  const out = dev.empty([n]);
  dev.dispatch({ shader: SHADER, entry: 'onehot_st_forward', bind: { out: out.binding }, params: { n, k, scale: gradScale }, workgroups: [Math.ceil(n / 64)], shape: `[${n}]` });
  return record(out, 'one_hot_st', [p], [], (dout) => {
    const dinp = dev.empty([n]);
    dev.dispatch({ shader: SHADER, entry: 'onehot_st_backward', bind: { dout: dout.binding, out: dinp.binding }, params: { n, k, scale: gradScale }, workgroups: [Math.ceil(n / 64)], shape: `[${n}]` });
    return [dinp];
  });
}
