import { describe, expect, it } from 'vitest';
import { mul, sum } from '../../src/ops/elementwise.js';
import { gather, oneHotST } from '../../src/ops/select.js';
import { checkFiniteDiff, expectClose, randArray, testDevice } from '../helpers.js';

describe('select', () => {
  it('gather forward/backward (repeated indices sum) vs reference and finite differences', async () => {
    const dev = await testDevice();
    for (const [m, idx] of [[1, [0]], [5, [4, 0, 4, 2]], [70, [69, 3, 3, 3, 0, 65, 64]]] as [number, number[]][]) {
      const xs = randArray(m, m);
      const ds = randArray(idx.length, m + 1);
      const x = dev.tensor(xs, [m], { requiresGrad: true });
      const y = gather(x, idx).retain();
      expectClose(await y.read(), idx.map((i) => xs[i]), 0, 0, 'gather fwd');
      await y.backward(dev.tensor(ds, [idx.length]));
      const want = new Float64Array(m);
      idx.forEach((j, i) => (want[j] += ds[i]));
      const g = await x.grad!.read();
      expectClose(g, want, 1e-6, 1e-6, 'gather bwd');
      await checkFiniteDiff(dev, xs, [m], (t) => sum(mul(gather(t, idx), dev.tensor(ds, [idx.length]))), g, { eps: 1e-2, atol: 1e-3 });
      x.dispose();
      y.dispose();
    }
  });

  it('gather rejects out-of-range indices', async () => {
    const dev = await testDevice();
    const x = dev.tensor([1, 2, 3]);
    expect(() => gather(x, [3])).toThrow(/index 3 out of range/);
    x.dispose();
  });

  it('oneHotST: value is the one-hot, gradient is scale·dout', async () => {
    const dev = await testDevice();
    for (const [n, k, scale] of [[1, 0, 1], [5, 3, 5], [8, 0, 0.5]] as const) {
      const ps = randArray(n, n);
      const ds = randArray(n, n + 9);
      const p = dev.tensor(ps, [n], { requiresGrad: true });
      const h = oneHotST(p, k, scale).retain();
      expectClose(await h.read(), Array.from({ length: n }, (_, i) => (i === k ? 1 : 0)), 0, 0, 'onehot');
      await h.backward(dev.tensor(ds, [n]));
      expectClose(await p.grad!.read(), Array.from(ds, (d) => scale * d), 1e-7, 1e-6, 'onehot bwd');
      p.dispose();
      h.dispose();
    }
  });
});
