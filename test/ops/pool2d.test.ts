import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/gpu/errors.js';
import { mul, sum } from '../../src/ops/elementwise.js';
import { avgPool2d, globalAvgPool, maxPool2d } from '../../src/ops/pool2d.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { checkFiniteDiff, expectClose, randArray, rng, testDevice } from '../helpers.js';
import {
  avgPool2dBackwardRef, avgPool2dRef, geom, globalAvgPoolBackwardRef, globalAvgPoolRef, maxPool2dBackwardRef, maxPool2dRef, outSize,
} from '../reference/pool2d.js';

// Tolerances: max-pool forward/backward are exact (a copy / one f32 add per routed gradient unless
// windows share an arg-max: 1e-6); averages: atol 1e-6, rtol 1e-5. Finite differences: central,
// eps 1e-2 on inputs spaced >= 0.05 apart (so no window's arg-max changes), helper tolerances.
interface Case { shape: [number, number, number, number]; k: number; s: number; p: number; fd?: boolean }
const CASES: Case[] = [
  { shape: [1, 1, 5, 5], k: 3, s: 1, p: 1, fd: true },
  { shape: [3, 3, 7, 7], k: 3, s: 2, p: 1, fd: true },
  { shape: [1, 5, 9, 9], k: 3, s: 2, p: 0 },
  { shape: [3, 1, 7, 5], k: 3, s: 1, p: 0, fd: true },
  { shape: [3, 5, 9, 7], k: 2, s: 2, p: 1 },
  { shape: [1, 3, 5, 9], k: 3, s: 1, p: 1 },
  { shape: [2, 3, 8, 8], k: 3, s: 2, p: 1 },
  { shape: [1, 2, 7, 9], k: 5, s: 3, p: 2, fd: true },
];

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Distinct values spaced 0.05 apart in random order (max-pool finite differences stay on one side of every kink). */
function spaced(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const v = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

const label = (c: Case): string => `[${c.shape}] k${c.k} s${c.s} p${c.p}`;

describe('pool2d', () => {
  it('max_pool2d forward/backward match float64 references and finite differences', async () => {
    const dev = await testDevice();
    for (const [ci, c] of CASES.entries()) {
      const g = geom(c.shape, c.k, c.s, c.p);
      const { oh, ow } = outSize(g);
      const oshape = [c.shape[0], c.shape[1], oh, ow];
      const xs = spaced(numel(c.shape), 10 + ci);
      const ds = randArray(numel(oshape), 40 + ci);
      const x = dev.tensor(xs, c.shape, { requiresGrad: true });
      const y = maxPool2d(x, { kernel: c.k, stride: c.s, padding: c.p }).retain();
      expect(y.shape).toEqual(oshape);
      expectClose(await y.read(), maxPool2dRef(xs, g).out, 0, 0, `max fwd ${label(c)}`);
      await y.backward(dev.tensor(ds, oshape));
      const grad = await x.grad!.read();
      expectClose(grad, maxPool2dBackwardRef(ds, xs, g), 1e-6, 1e-6, `max bwd ${label(c)}`);
      if (c.fd) {
        const d = dev.tensor(ds, oshape, { persistent: true });
        await checkFiniteDiff(dev, xs, c.shape, (t) => sum(mul(maxPool2d(t, { kernel: c.k, stride: c.s, padding: c.p }), d)), grad);
        d.dispose();
      }
      x.dispose();
      y.dispose();
    }
  });

  it('max_pool2d ties go to the first max (row-major), as PyTorch; no grad → no arg-max kept', async () => {
    const dev = await testDevice();
    const shape = [3, 5, 7, 9];
    const g = geom(shape, 3, 2, 1);
    const { oh, ow } = outSize(g);
    const r = rng(5);
    const xs = Float32Array.from({ length: numel(shape) }, () => Math.floor(r() * 3)); // many ties
    const ds = randArray(numel(shape.slice(0, 2)) * oh * ow, 6);
    const x = dev.tensor(xs, shape, { requiresGrad: true });
    const y = maxPool2d(x, { kernel: 3, stride: 2, padding: 1 }).retain();
    await y.backward(dev.tensor(ds, y.shape));
    expectClose(await y.read(), maxPool2dRef(xs, g).out, 0, 0, 'max fwd ties');
    expectClose(await x.grad!.read(), maxPool2dBackwardRef(ds, xs, g), 1e-6, 1e-6, 'max bwd ties');
    await dev.sync();
    const live = dev.memory.liveBytes;
    const z = dev.tidy(() => dev.noGrad(() => maxPool2d(x, { kernel: 3, stride: 2, padding: 1 })));
    await dev.sync();
    expect(dev.memory.liveBytes - live).toBe(z.byteLength);
    expectClose(await z.read(), maxPool2dRef(xs, g).out, 0, 0, 'max fwd no grad');
    for (const t of [x, y, z]) t.dispose();
  });

  for (const includePad of [false, true]) {
    it(`avg_pool2d (countIncludePad=${includePad}) forward/backward match references and finite differences`, async () => {
      const dev = await testDevice();
      for (const [ci, c] of CASES.entries()) {
        const g = geom(c.shape, c.k, c.s, c.p);
        const { oh, ow } = outSize(g);
        const oshape = [c.shape[0], c.shape[1], oh, ow];
        const xs = randArray(numel(c.shape), 70 + ci);
        const ds = randArray(numel(oshape), 90 + ci);
        const opts = { kernel: c.k, stride: c.s, padding: c.p, countIncludePad: includePad };
        const x = dev.tensor(xs, c.shape, { requiresGrad: true });
        const y = avgPool2d(x, opts).retain();
        expect(y.shape).toEqual(oshape);
        expectClose(await y.read(), avgPool2dRef(xs, g, includePad), 1e-6, 1e-5, `avg fwd ${label(c)}`);
        await y.backward(dev.tensor(ds, oshape));
        const grad = await x.grad!.read();
        expectClose(grad, avgPool2dBackwardRef(ds, g, includePad), 1e-6, 1e-5, `avg bwd ${label(c)}`);
        if (c.fd) {
          const d = dev.tensor(ds, oshape, { persistent: true });
          await checkFiniteDiff(dev, xs, c.shape, (t) => sum(mul(avgPool2d(t, opts), d)), grad, { count: 8 });
          d.dispose();
        }
        x.dispose();
        y.dispose();
      }
    });
  }

  it('global_avg_pool forward/backward match references and finite differences', async () => {
    const dev = await testDevice();
    for (const [si, shape] of [[1, 1, 5, 5], [3, 5, 7, 9], [2, 3, 1, 1], [3, 300, 2, 3]].entries()) {
      const xs = randArray(numel(shape), 120 + si);
      const ds = randArray(shape[0] * shape[1], 130 + si);
      const x = dev.tensor(xs, shape, { requiresGrad: true });
      const y = globalAvgPool(x).retain();
      expect(y.shape).toEqual(shape.slice(0, 2));
      expectClose(await y.read(), globalAvgPoolRef(xs, shape), 1e-6, 1e-5, `gap fwd [${shape}]`);
      await y.backward(dev.tensor(ds, y.shape));
      const grad = await x.grad!.read();
      expectClose(grad, globalAvgPoolBackwardRef(ds, shape), 1e-7, 1e-6, `gap bwd [${shape}]`);
      if (si < 2) {
        const d = dev.tensor(ds, y.shape, { persistent: true });
        await checkFiniteDiff(dev, xs, shape, (t: Tensor) => sum(mul(globalAvgPool(t), d)), grad, { count: 6 });
        d.dispose();
      }
      x.dispose();
      y.dispose();
    }
  });

  it('rejects bad shapes and options, naming the op and the shape', async () => {
    const dev = await testDevice();
    const x = dev.zeros([1, 2, 5, 5]);
    expect(() => maxPool2d(x, { kernel: 3, stride: 1, padding: 2 })).toThrow(/max_pool2d.*\[1,2,5,5\]/);
    expect(() => avgPool2d(x, { kernel: 7, stride: 1 })).toThrow(ShapeError);
    expect(() => avgPool2d(x, { kernel: 3, stride: 0 })).toThrow(/avg_pool2d/);
    expect(() => globalAvgPool(dev.zeros([2, 5]))).toThrow(/global_avg_pool.*\[2,5\]/);
    x.dispose();
  });
});
