import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/gpu/errors.js';
import { addN, concat, identity, shiftCrop, sliceChannels, zeroOp, zerosLike } from '../../src/ops/channels.js';
import { mul, sum } from '../../src/ops/elementwise.js';
import { checkFiniteDiff, expectClose, randArray, testDevice } from '../helpers.js';
import {
  addNRef, concatRef, shiftCropBackwardRef, shiftCropRef, sliceChannelsBackwardRef, sliceChannelsRef,
} from '../reference/channels.js';

// Tolerances: copies, slices and shifts are exact (atol 0); addN sums in f32: atol 1e-6, rtol 1e-6.
// Finite differences: helper defaults (eps 1e-2, atol 2e-2, rtol 5e-2) on a few coordinates.
const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

describe('channels', () => {
  it('concat of 2, 3 (channels 1/3/5) and 8 inputs: forward and backward match references; finite differences', async () => {
    const dev = await testDevice();
    const cases: { n: number; h: number; w: number; cs: number[]; fd?: boolean }[] = [
      { n: 1, h: 5, w: 7, cs: [1, 3, 5], fd: true },
      { n: 3, h: 9, w: 9, cs: [5, 1, 3] },
      { n: 3, h: 1, w: 1, cs: [2, 2] },
      { n: 2, h: 7, w: 5, cs: [1, 2, 3, 1, 2, 3, 1, 4] },
      { n: 3, h: 4, w: 6, cs: [3, 1, 5], fd: true }, // H·W % 4 == 0: the vec4 kernels
      { n: 1, h: 2, w: 2, cs: [1, 4] },
    ];
    for (const [ci, c] of cases.entries()) {
      const shapes = c.cs.map((ch) => [c.n, ch, c.h, c.w]);
      const data = shapes.map((s, i) => randArray(numel(s), 100 * ci + i));
      const xs = data.map((d, i) => dev.tensor(d, shapes[i], { requiresGrad: true }));
      const want = concatRef(data, shapes);
      const y = concat(xs).retain();
      expect(y.shape).toEqual(want.shape);
      expectClose(await y.read(), want.out, 0, 0, `concat fwd ${c.cs}`);
      const ds = randArray(numel(want.shape), 50 + ci);
      await y.backward(dev.tensor(ds, want.shape));
      let start = 0;
      for (const [i, x] of xs.entries()) {
        const g = await x.grad!.read();
        expectClose(g, sliceChannelsRef(ds, want.shape, start, c.cs[i]), 0, 0, `concat bwd input ${i} of ${c.cs}`);
        if (c.fd) {
          const others = data.map((d, j) => dev.tensor(d, shapes[j], { persistent: true }));
          const d = dev.tensor(ds, want.shape, { persistent: true });
          await checkFiniteDiff(dev, data[i], shapes[i], (t) => sum(mul(concat(others.map((o, j) => (j === i ? t : o))), d)), g, { count: 4 });
          for (const t of [...others, d]) t.dispose();
        }
        start += c.cs[i];
      }
      for (const t of [...xs, y]) t.dispose();
    }
  });

  it('sliceChannels forward/backward match references; finite differences', async () => {
    const dev = await testDevice();
    for (const [ci, [shape, start, count]] of ([[[1, 5, 5, 7], 1, 3], [[3, 5, 4, 4], 1, 3], [[3, 3, 9, 9], 0, 3], [[3, 5, 7, 5], 4, 1], [[1, 3, 2, 6], 2, 1]] as const).entries()) {
      const xs = randArray(numel(shape), 200 + ci);
      const x = dev.tensor(xs, shape, { requiresGrad: true });
      const y = sliceChannels(x, start, count).retain();
      expectClose(await y.read(), sliceChannelsRef(xs, shape, start, count), 0, 0, `slice fwd ${shape} ${start}+${count}`);
      const ds = randArray(y.size, 210 + ci);
      await y.backward(dev.tensor(ds, y.shape));
      const g = await x.grad!.read();
      expectClose(g, sliceChannelsBackwardRef(ds, shape, start, count), 0, 0, `slice bwd ${shape} ${start}+${count}`);
      if (ci < 2) {
        const d = dev.tensor(ds, y.shape, { persistent: true });
        await checkFiniteDiff(dev, xs, shape, (t) => sum(mul(sliceChannels(t, start, count), d)), g, { count: 8 });
        d.dispose();
      }
      for (const t of [x, y]) t.dispose();
    }
  });

  it('shiftCrop forward/backward match references; finite differences', async () => {
    const dev = await testDevice();
    const cases = [[[1, 1, 5, 5], 1, 1], [[3, 3, 7, 9], 1, 1], [[3, 5, 9, 7], 0, 2], [[1, 3, 5, 5], 2, 0], [[1, 2, 3, 3], 0, 0], [[1, 1, 2, 2], 3, 1]] as const;
    for (const [ci, [shape, dy, dx]] of cases.entries()) {
      const xs = randArray(numel(shape), 300 + ci);
      const x = dev.tensor(xs, shape, { requiresGrad: true });
      const y = shiftCrop(x, dy, dx).retain();
      expectClose(await y.read(), shiftCropRef(xs, shape, dy, dx), 0, 0, `shift fwd ${shape} ${dy},${dx}`);
      const ds = randArray(y.size, 310 + ci);
      await y.backward(dev.tensor(ds, shape));
      const g = await x.grad!.read();
      expectClose(g, shiftCropBackwardRef(ds, shape, dy, dx), 0, 0, `shift bwd ${shape} ${dy},${dx}`);
      if (ci < 2) {
        const d = dev.tensor(ds, shape, { persistent: true });
        await checkFiniteDiff(dev, xs, shape, (t) => sum(mul(shiftCrop(t, dy, dx), d)), g, { count: 8 });
        d.dispose();
      }
      for (const t of [x, y]) t.dispose();
    }
  });

  it('addN of 2..9 tensors (and a repeated one) forward/backward; finite differences', async () => {
    const dev = await testDevice();
    for (const [k, shape] of [[2, [3, 5, 7, 9]], [3, [1, 1, 1, 1]], [4, [3, 5, 7, 9]], [5, [2, 3, 4, 4]], [8, [1, 3, 5, 5]], [9, [3, 5, 7, 9]]] as const) {
      const data = Array.from({ length: k }, (_, i) => randArray(numel(shape), 400 + 10 * k + i));
      const xs = data.map((d) => dev.tensor(d, shape, { requiresGrad: true }));
      const y = addN(xs).retain();
      expectClose(await y.read(), addNRef(data), 1e-6, 1e-6, `addN fwd k=${k}`);
      const ds = randArray(y.size, 500 + k);
      await y.backward(dev.tensor(ds, shape));
      for (const x of xs) expectClose(await x.grad!.read(), ds, 0, 0, `addN bwd k=${k}`);
      if (k === 5) {
        const others = data.map((d) => dev.tensor(d, shape, { persistent: true }));
        const d = dev.tensor(ds, shape, { persistent: true });
        await checkFiniteDiff(dev, data[4], shape, (t) => sum(mul(addN([...others.slice(0, 4), t]), d)), await xs[4].grad!.read(), { count: 4 });
        for (const t of [...others, d]) t.dispose();
      }
      for (const t of [...xs, y]) t.dispose();
    }
    // a tensor used twice receives twice the gradient
    const shape = [3, 5, 7, 9];
    const a = dev.tensor(randArray(numel(shape), 1), shape, { requiresGrad: true });
    const b = dev.tensor(randArray(numel(shape), 2), shape, { requiresGrad: true });
    const ds = randArray(numel(shape), 3);
    const y = addN([a, b, a]);
    await y.backward(dev.tensor(ds, shape));
    expectClose(await a.grad!.read(), Array.from(ds, (v) => 2 * v), 0, 0, 'addN repeated input');
    expectClose(await b.grad!.read(), ds, 0, 0, 'addN other input');
    for (const t of [a, b, y]) t.dispose();
    // one input: the input itself
    const one = dev.zeros(shape);
    expect(addN([one])).toBe(one);
    one.dispose();
  });

  it('zeroOp, zerosLike and identity', async () => {
    const dev = await testDevice();
    for (const [shape, stride, want] of [[[3, 5, 7, 9], 1, [3, 5, 7, 9]], [[3, 5, 7, 9], 2, [3, 5, 4, 5]], [[1, 1, 8, 8], 2, [1, 1, 4, 4]]] as const) {
      const x = dev.tensor(randArray(numel(shape), 9), shape, { requiresGrad: true });
      const z = zeroOp(x, stride);
      expect(z.shape).toEqual(want);
      expect(z.node).toBeNull();
      expectClose(await z.read(), new Float64Array(numel(want)), 0, 0, `zeroOp ${shape} s${stride}`);
      const zl = zerosLike(x);
      expect(zl.shape).toEqual(shape);
      expectClose(await zl.read(), new Float64Array(numel(shape)), 0, 0, 'zerosLike');
      expect(identity(x)).toBe(x);
      for (const t of [x, z, zl]) t.dispose();
    }
  });

  it('rejects bad shapes and options, naming the op and the shapes', async () => {
    const dev = await testDevice();
    const a = dev.zeros([2, 3, 5, 5]);
    const b = dev.zeros([2, 3, 5, 4]);
    expect(() => concat([a, b])).toThrow(/concat.*\[2,3,5,5\], \[2,3,5,4\]/);
    expect(() => concat([a, a], 2)).toThrow(ShapeError);
    expect(() => sliceChannels(a, 2, 2)).toThrow(/slice_channels.*\[2,3,5,5\]/);
    expect(() => shiftCrop(a, -1, 0)).toThrow(/shift_crop/);
    expect(() => addN([a, b])).toThrow(/add_n.*\[2,3,5,5\], \[2,3,5,4\]/);
    expect(() => zeroOp(a, 3)).toThrow(/zero/);
    for (const t of [a, b]) t.dispose();
  });
});

describe('autograd through ops whose inputs backward frees early', () => {
  it('concat of intermediates (not saved by concat) passes gradients back', async () => {
    const { concat } = await import('../../src/ops/channels.js');
    const { relu, scale, sum, mul } = await import('../../src/ops/elementwise.js');
    const dev = await testDevice();
    const xs = randArray(2 * 3 * 4 * 4, 17);
    const x = dev.tensor(xs, [2, 3, 4, 4], { requiresGrad: true });
    // a = 2x and b = relu(x) are intermediates that only concat reads
    const y = concat([scale(x, 2), relu(x)]);
    const c = randArray(y.size, 18);
    await sum(mul(y, dev.tensor(c, y.shape))).backward();
    const want = Array.from(xs, (v, i) => {
      const n = Math.floor(i / 48), r = i % 48;
      return 2 * c[n * 96 + r] + (v > 0 ? c[n * 96 + 48 + r] : 0);
    });
    expectClose(await x.grad!.read(), want, 1e-6, 1e-6, 'd concat');
    x.dispose();
  });
});
