import { describe, expect, it } from 'vitest';
import { accuracy, crossEntropy } from '../../src/ops/loss.js';
import { checkFiniteDiff, expectClose, randArray, rng, testDevice } from '../helpers.js';
import { accuracyRef, crossEntropyBackwardRef, crossEntropyRef } from '../reference/loss.js';

// [N, C]: batch 1, 3, 33, 300 (more rows than the 256 lanes of the reduction); 10 and 257 classes, C = 1
const SHAPES = [[1, 10], [3, 10], [33, 10], [3, 257], [33, 257], [300, 10], [5, 1]];
// tolerances vs float64: loss (atol, rtol), gradient (atol, rtol); finite differences in float32
const LOSS = [1e-5, 1e-5] as const;
const GRAD = [1e-7, 1e-4] as const;
const FD = { eps: 1e-2, atol: 2e-4, rtol: 1e-2, count: 6 };

function labelsFor(n: number, c: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => Math.floor(r() * c));
}

describe('cross_entropy', () => {
  it('forward and backward match float64 references and finite differences', async () => {
    const dev = await testDevice();
    for (const [si, [n, c]] of SHAPES.entries()) {
      const xs = randArray(n * c, 10 + si, -4, 4);
      const ys = labelsFor(n, c, 20 + si);
      const labels = dev.tensor(ys, [n]);
      const x = dev.tensor(xs, [n, c], { requiresGrad: true });
      const l = crossEntropy(x, labels).retain();
      expectClose(await l.read(), [crossEntropyRef(xs, ys, c)], LOSS[0], LOSS[1], `loss [${n},${c}]`);
      await l.backward(dev.tensor([0.7], [1]));
      const g = await x.grad!.read();
      expectClose(g, crossEntropyBackwardRef(xs, ys, c, 0.7), GRAD[0], GRAD[1], `dlogits [${n},${c}]`);
      if (n * c <= 1000) await checkFiniteDiff(dev, xs, [n, c], (t) => crossEntropy(t, labels), Float32Array.from(g, (v) => v / 0.7), FD);
      x.dispose();
      l.dispose();
      labels.dispose();
    }
  });

  it('flags invalid labels (negative, >= C, fractional, NaN) with NaN loss and NaN gradient rows', async () => {
    const dev = await testDevice();
    const n = 6;
    const c = 10;
    const xs = randArray(n * c, 3);
    const ys = Float32Array.from([3, -1, 10, 2.5, NaN, 9]);
    const x = dev.tensor(xs, [n, c], { requiresGrad: true });
    const l = crossEntropy(x, dev.tensor(ys, [n])).retain();
    expect(await l.item()).toBeNaN();
    await l.backward();
    const g = await x.grad!.read();
    const want = crossEntropyBackwardRef(xs, ys, c);
    for (let i = 0; i < n; i++) {
      const row = g.slice(i * c, (i + 1) * c);
      if (i === 0 || i === 5) expectClose(row, want.slice(i * c, (i + 1) * c), GRAD[0], GRAD[1], `valid row ${i}`);
      else expect(row.every(Number.isNaN), `row ${i} (label ${ys[i]}) is NaN`).toBe(true);
    }
    x.dispose();
    l.dispose();
  });

  it('rejects mismatched shapes, naming them', async () => {
    const dev = await testDevice();
    expect(() => crossEntropy(dev.zeros([3, 10]), dev.zeros([4]))).toThrow(/cross_entropy.*\[4\].*\[3,10\]/);
    expect(() => crossEntropy(dev.zeros([30]), dev.zeros([30]))).toThrow(/cross_entropy.*\[30\]/);
  });
});

describe('accuracy', () => {
  it('counts rows whose first arg-max equals the label; invalid labels count as wrong', async () => {
    const dev = await testDevice();
    for (const [si, [n, c]] of SHAPES.entries()) {
      // coarse logits so that ties occur: the first maximum wins
      const xs = randArray(n * c, 50 + si, 0, 4).map(Math.floor);
      const ys = labelsFor(n, c, 60 + si);
      if (n > 2) ys[1] = -1;
      const got = await dev.tidy(() => accuracy(dev.tensor(xs, [n, c]), dev.tensor(ys, [n]))).read();
      expect(got[0], `accuracy [${n},${c}]`).toBe(accuracyRef(xs, ys, c));
    }
  });

  it('sums over batches on the GPU with dev.accumulate', async () => {
    const dev = await testDevice();
    const total = dev.zeros([1], { persistent: true });
    let want = 0;
    for (let b = 0; b < 3; b++) {
      const xs = randArray(33 * 10, 70 + b);
      const ys = labelsFor(33, 10, 80 + b);
      want += accuracyRef(xs, ys, 10);
      dev.tidy(() => dev.accumulate(total, accuracy(dev.tensor(xs, [33, 10]), dev.tensor(ys, [33]))));
    }
    expect(await total.item()).toBe(want);
    total.dispose();
  });
});
