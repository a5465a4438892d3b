import { describe, expect, it } from 'vitest';
import { mul, sum } from '../../src/ops/elementwise.js';
import { logSoftmax, softmax } from '../../src/ops/softmax.js';
import { checkFiniteDiff, expectClose, randArray, testDevice } from '../helpers.js';
import { logSoftmaxBackwardRef, logSoftmaxRef, softmaxBackwardRef, softmaxRef } from '../reference/softmax.js';

// [rows, k]: K = 1, 5, 7, 8 (ops per edge), 10 and 257 classes, one ~1000-wide row; a rank-3 tensor
const SHAPES = [[1, 1], [3, 5], [14, 8], [33, 7], [3, 10], [2, 257], [1, 1000], [2, 3, 5]];
// tolerances: forward/backward vs float64 (atol, rtol); finite differences of sum(f(x)⊙d) in float32.
// log_softmax's x − lse cancels: its absolute error is a few ulps of |x| (2e-6 for |x| <= 6, 1.5e-5 at 86).
const FWD = { softmax: [2e-6, 1e-5], log_softmax: [2e-6, 1e-5] } as const;
const BWD = [2e-6, 1e-4] as const;
const FD = { eps: 1e-2, atol: 1e-3, rtol: 1e-2, count: 6 };

const cases = [
  { name: 'softmax', op: softmax, ref: softmaxRef, bref: softmaxBackwardRef },
  { name: 'log_softmax', op: logSoftmax, ref: logSoftmaxRef, bref: logSoftmaxBackwardRef },
] as const;

describe('softmax', () => {
  for (const c of cases) {
    it(`${c.name} forward/backward match float64 references and finite differences`, async () => {
      const dev = await testDevice();
      for (const [si, shape] of SHAPES.entries()) {
        const n = shape.reduce((a, b) => a * b, 1);
        const k = shape[shape.length - 1];
        const xs = randArray(n, 3 + si, -6, 6);
        const ds = randArray(n, 40 + si);
        const x = dev.tensor(xs, shape, { requiresGrad: true });
        const y = c.op(x).retain();
        expectClose(await y.read(), c.ref(xs, k), FWD[c.name][0], FWD[c.name][1], `${c.name} fwd ${shape}`);
        await y.backward(dev.tensor(ds, shape));
        const g = await x.grad!.read();
        expectClose(g, c.bref(xs, ds, k), BWD[0], BWD[1], `${c.name} bwd ${shape}`);
        if (n <= 300) await checkFiniteDiff(dev, xs, shape, (t) => sum(mul(c.op(t), dev.tensor(ds, shape))), g, FD);
        x.dispose();
        y.dispose();
      }
    });
  }

  it('logits far from 0 (max subtraction keeps exp in range)', async () => {
    const dev = await testDevice();
    const xs = randArray(33 * 7, 5, -6, 6).map((v, i) => v + (i % 3 === 0 ? 80 : 0));
    const ds = randArray(33 * 7, 6);
    for (const c of cases) {
      const x = dev.tensor(xs, [33, 7], { requiresGrad: true });
      const y = c.op(x).retain();
      expectClose(await y.read(), c.ref(xs, 7), 1.5e-5, 1e-5, `${c.name} fwd shifted`);
      await y.backward(dev.tensor(ds, [33, 7]));
      expectClose(await x.grad!.read(), c.bref(xs, ds, 7), BWD[0], BWD[1], `${c.name} bwd shifted`);
      x.dispose();
      y.dispose();
    }
  });

  it('softmax rows sum to one and survive huge logits', async () => {
    const dev = await testDevice();
    const xs = Float32Array.from([1e30, -1e30, 0, 3e38, 88, 89, -200, 1000]);
    const y = await dev.tidy(() => softmax(dev.tensor(xs, [2, 4]))).read();
    expectClose(y, [0, 0, 0, 1, 0, 0, 0, 1], 1e-7, 0, 'saturated rows');
    const l = await dev.tidy(() => logSoftmax(dev.tensor(xs, [2, 4]))).read();
    expect(l.every(Number.isFinite)).toBe(true);
  });

  it('rejects an empty last dimension', async () => {
    const dev = await testDevice();
    expect(() => softmax(dev.zeros([3, 0]))).toThrow(/softmax.*\[3,0\]/);
  });
});
