import { describe, expect, it } from 'vitest';
import { mul, scale, sum } from '../../src/ops/elementwise.js';
import { mixedSum, unitGate } from '../../src/ops/mixed.js';
import { softmax } from '../../src/ops/softmax.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { checkFiniteDiff, expectClose, randArray, testDevice } from '../helpers.js';
import { mixedSumBackwardRef, mixedSumRef } from '../reference/mixed.js';
import { softmaxBackwardRef, softmaxRef } from '../reference/softmax.js';

// K candidates × input shape (dispatch groups of 4: K = 5 → 4+1, 7 → 4+3, 10 → 4+4+2);
// 70001 elements spans several first-pass workgroups of the dweight reduction
const CASES: { k: number; shape: number[] }[] = [
  { k: 1, shape: [1] },
  { k: 10, shape: [1, 3, 4, 4] },
  { k: 5, shape: [1, 3, 5, 5] },
  { k: 7, shape: [2, 3, 7, 9] },
  { k: 8, shape: [3, 5, 9, 9] },
  { k: 8, shape: [70001] },
];
// tolerances vs float64: out and dxs are one multiply-add chain (atol, rtol); dweight sums up to 7e4 products
const OUT = [1e-6, 1e-5] as const;
const DW = [1e-4, 1e-4] as const;
const FD = { eps: 1e-2, atol: 1e-3, rtol: 1e-2, count: 4 };

describe('mixed_sum', () => {
  it('forward and backward (inputs and weights) match float64 references and finite differences', async () => {
    const dev = await testDevice();
    for (const [ci, { k, shape }] of CASES.entries()) {
      const n = shape.reduce((a, b) => a * b, 1);
      const xsData = Array.from({ length: k }, (_, j) => randArray(n, 100 * ci + j));
      const wData = randArray(k, 7 + ci, 0, 1);
      const ds = randArray(n, 50 + ci);
      const xs = xsData.map((d) => dev.tensor(d, shape, { requiresGrad: true }));
      const w = dev.tensor(wData, [k], { requiresGrad: true });
      const y = mixedSum(xs, w).retain();
      expectClose(await y.read(), mixedSumRef(xsData, wData), OUT[0], OUT[1], `fwd K${k} ${shape}`);
      await y.backward(dev.tensor(ds, shape));
      const want = mixedSumBackwardRef(xsData, wData, ds);
      for (let j = 0; j < k; j++) expectClose(await xs[j].grad!.read(), want.dinp[j], OUT[0], OUT[1], `dx${j} K${k} ${shape}`);
      const dw = await w.grad!.read();
      expectClose(dw, want.dweight, DW[0], DW[1], `dweight K${k} ${shape}`);
      if (n <= 1000) {
        const loss = (ts: Tensor[], wt: Tensor): Tensor => sum(mul(mixedSum(ts, wt), dev.tensor(ds, shape)));
        await checkFiniteDiff(dev, wData, [k], (wt) => loss(xsData.map((d) => dev.tensor(d, shape)), wt), dw, FD);
        const last = k - 1;
        const gx = await xs[last].grad!.read();
        await checkFiniteDiff(dev, xsData[last], shape, (t) => loss(xsData.map((d, j) => (j === last ? t : dev.tensor(d, shape))), dev.tensor(wData, [k])), gx, FD);
      }
      for (const t of [...xs, w, y]) t.dispose();
    }
  });

  it('row of an [edges, K] weight tensor: softmax(α) chain rule reaches α', async () => {
    const dev = await testDevice();
    const edges = 3;
    const k = 5;
    const row = 1;
    const shape = [2, 3, 4, 4];
    const n = 96;
    const aData = randArray(edges * k, 1, -1, 1);
    const xsData = Array.from({ length: k }, (_, j) => randArray(n, 30 + j));
    const ds = randArray(n, 9);
    const alpha = dev.tensor(aData, [edges, k], { requiresGrad: true });
    const xs = xsData.map((d) => dev.tensor(d, shape));
    const y = mixedSum(xs, softmax(alpha), { row }).retain();
    const p = softmaxRef(aData, k);
    const pRow = p.slice(row * k, (row + 1) * k);
    expectClose(await y.read(), mixedSumRef(xsData, pRow), OUT[0], OUT[1], 'fwd row');
    await y.backward(dev.tensor(ds, shape));
    const dp = new Float64Array(edges * k);
    dp.set(mixedSumBackwardRef(xsData, pRow, ds).dweight, row * k);
    const da = await alpha.grad!.read();
    expectClose(da, softmaxBackwardRef(aData, dp, k), 1e-5, 1e-4, 'dα');
    await checkFiniteDiff(dev, aData, [edges, k], (a) => sum(mul(mixedSum(xs, softmax(a), { row }), dev.tensor(ds, shape))), da, FD);
    for (const t of [alpha, ...xs, y]) t.dispose();
  });

  it('rejects mismatched inputs and weights, naming the shapes', async () => {
    const dev = await testDevice();
    const a = dev.zeros([2, 3]);
    expect(() => mixedSum([a, dev.zeros([3, 2])], dev.zeros([2]))).toThrow(/mixed_sum.*\[2,3\].*\[3,2\]/);
    expect(() => mixedSum([a, a], dev.zeros([3]))).toThrow(/mixed_sum: weights \[3\]/);
    expect(() => mixedSum([a, a], dev.zeros([4, 2]), { row: 4 })).toThrow(/row 4/);
    expect(() => mixedSum([], dev.zeros([1]))).toThrow(/mixed_sum/);
  });
});

describe('unitGate', () => {
  // (no finite differences: by design the value ignores w, whose value is 1 by construction — the
  // gradient is the straight-through one, checked against mixedSum at w = 1 and the float64 dot product)
  it('value is x itself (no copy); gradients equal mixedSum([x], w) at w = 1 and the float64 reference', async () => {
    const dev = await testDevice();
    for (const n of [1, 7, 1001]) {
      const xs = randArray(n, n);
      const cs = randArray(n, n + 5);
      const grads: Float32Array[][] = [];
      for (const gate of [unitGate, (x: Tensor, w: Tensor) => mixedSum([x], w)]) {
        const x = dev.tensor(xs, [n], { requiresGrad: true });
        const w = dev.tensor([1], [1], { requiresGrad: true });
        // gate an intermediate (backward frees it before the gate's backward runs)
        const xi = scale(x, 1);
        const y = gate(xi, w).retain();
        expectClose(await y.read(), xs, 0, 0, 'unit gate value');
        if (gate === unitGate) expect(y.buffer).toBe(xi.buffer);
        await sum(mul(y, dev.tensor(cs, [n]))).backward();
        grads.push([await x.grad!.read(), await w.grad!.read()]);
        [x, w, y].forEach((t) => t.dispose());
      }
      expectClose(grads[0][0], grads[1][0], 0, 0, 'dx');
      expectClose(grads[0][1], grads[1][1], 1e-5, 1e-5, 'dw');
      expectClose(grads[0][1], [xs.reduce((a, v, i) => a + v * cs[i], 0)], 1e-4, 1e-4, 'dw vs float64');
    }
  });
});
