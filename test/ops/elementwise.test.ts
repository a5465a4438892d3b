import { describe, it } from 'vitest';
import { ops } from '../../src/index.js';
import { checkFiniteDiff, expectClose, randArray, testDevice } from '../helpers.js';

// float64 references
const refs = {
  relu: (x: number) => Math.max(x, 0),
  relu6: (x: number) => Math.min(Math.max(x, 0), 6),
};

const SHAPES = [[1], [7], [3, 5, 7], [2, 3, 13, 11], [257, 3]];

describe('elementwise', () => {
  for (const name of ['relu', 'relu6'] as const) {
    it(`${name} forward and backward match float64 references; backward matches finite differences`, async () => {
      const dev = await testDevice();
      for (const [si, shape] of SHAPES.entries()) {
        const n = shape.reduce((a, b) => a * b, 1);
        const xs = randArray(n, 11 + si, -8, 8);
        const ds = randArray(n, 99 + si);
        const x = dev.tensor(xs, shape, { requiresGrad: true });
        const y = ops[name](x).retain();
        expectClose(await y.read(), Array.from(xs, refs[name]), 0, 0, `${name} fwd ${shape}`);
        await y.backward(dev.tensor(ds, shape));
        const want = Array.from(xs, (v, i) => (v > 0 && (name === 'relu' || v < 6) ? ds[i] : 0));
        expectClose(await x.grad!.read(), want, 0, 0, `${name} bwd ${shape}`);
        const g = await x.grad!.read();
        // finite differences of sum(f(x)·d), away from the kinks
        await checkFiniteDiff(dev, xs, shape, (t) => ops.sum(ops.mul(ops[name](t), dev.tensor(ds, shape))), g, { eps: 1e-3 });
        x.dispose();
        y.dispose();
      }
    });
  }

  it('lincomb/add/sub/scale/mul forward and backward; gradients accumulate across uses', async () => {
    const dev = await testDevice();
    for (const [si, shape] of SHAPES.entries()) {
      const n = shape.reduce((a, b) => a * b, 1);
      const xs = randArray(n, 5 + si);
      const ys = randArray(n, 50 + si);
      const x = dev.tensor(xs, shape, { requiresGrad: true });
      const y = dev.tensor(ys, shape, { requiresGrad: true });
      // L = sum( (2x - 3y) ⊙ y + 0.5·x + (x + y) )
      const t = ops.add(ops.add(ops.mul(ops.lincomb(2, x, -3, y), y), ops.scale(x, 0.5, 1.25)), ops.add(x, ops.sub(y, ops.scale(y, 0))));
      const l = ops.sum(t).retain();
      const want = xs.reduce((acc, xv, i) => acc + (2 * xv - 3 * ys[i]) * ys[i] + 0.5 * xv + 1.25 + xv + ys[i], 0);
      expectClose(await l.read(), [want], 1e-4, 1e-5, `loss ${shape}`);
      await l.backward();
      expectClose(await x.grad!.read(), Array.from(ys, (yv) => 2 * yv + 0.5 + 1), 1e-5, 1e-5, 'dx');
      expectClose(await y.grad!.read(), Array.from(xs, (xv, i) => 2 * xv - 6 * ys[i] + 1), 1e-5, 1e-5, 'dy');
      l.dispose();
      x.dispose();
      y.dispose();
    }
  });

  it('mean and sum reduce large odd sizes', async () => {
    const dev = await testDevice();
    for (const n of [1, 255, 256, 257, 100_003]) {
      const xs = randArray(n, n);
      const m = dev.tidy(() => ops.mean(dev.tensor(xs)));
      const want = xs.reduce((a, b) => a + b, 0) / n;
      expectClose(await m.read(), [want], 1e-5, 1e-4, `mean n=${n}`);
      m.dispose();
    }
  });

  it('backward frees intermediates: live bytes return to the leaves and grads', async () => {
    const dev = await testDevice();
    await dev.sync();
    const before = dev.memory.liveBytes;
    const x = dev.parameter(randArray(1000, 3), [1000]);
    const l = ops.sum(ops.relu(ops.scale(ops.relu(x), 2)));
    await l.backward();
    l.dispose();
    // left: x (4000 B) and x.grad (4000 B)
    expectClose([dev.memory.liveBytes - before], [8000], 0, 0, 'live bytes after backward');
    x.dispose();
  });
});

describe('autograd edge cases', () => {
  it('an op whose input appears twice (add(x, x), mul(x, x)) gets the summed gradient', async () => {
    const dev = await testDevice();
    const xs = randArray(9, 21);
    const x = dev.tensor(xs, [9], { requiresGrad: true });
    const l = ops.sum(ops.add(ops.add(x, x), ops.mul(x, x)));
    await l.backward();
    expectClose(await x.grad!.read(), Array.from(xs, (v) => 2 + 2 * v), 1e-6, 1e-6, 'd/dx (2x + x²)');
    l.dispose();
    x.dispose();
  });
});
