import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/gpu/errors.js';
import { graphAggregate, graphReadout } from '../../src/hardware/gnn-ops.js';
import { mul, sum } from '../../src/ops/elementwise.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { checkFiniteDiff, expectClose, randArray, testDevice } from '../helpers.js';
import {
  graphAggregateBackwardAdjRef, graphAggregateBackwardInputRef, graphAggregateRef, graphReadoutBackwardRef, graphReadoutRef,
} from '../reference/gnn.js';

// [batch, nodes, features, shared adjacency]: batch 1, one node, one feature, odd sizes, sizes that are
// not multiples of the workgroup (64), NB201's 8 nodes, a shared [n, n] adjacency
const CASES: [number, number, number, boolean][] = [
  [1, 1, 1, false], [1, 8, 5, false], [3, 7, 13, false], [2, 8, 64, true], [5, 3, 67, false], [4, 9, 3, true], [1, 5, 1, true],
];

// Tolerances: f32 sums of <= 9 (forward, dinp) or <= 2·67 (dadj) products of values in [-1, 1].
const FWD = { atol: 1e-5, rtol: 1e-4 };
const DADJ = { atol: 1e-4, rtol: 1e-4 };
// finite differences of linear losses in f32: the checker's defaults (atol 2e-2, rtol 5e-2), few coordinates
const FD = { count: 5 };

describe('graph_aggregate', () => {
  it('forward, dinp and dadj match float64 references; both gradients match finite differences', async () => {
    const dev = await testDevice();
    for (const [ci, [B, n, f, shared]] of CASES.entries()) {
      const what = `B${B} n${n} f${f}${shared ? ' shared' : ''}`;
      const adjShape = shared ? [n, n] : [B, n, n];
      const as = randArray((shared ? 1 : B) * n * n, 10 + ci);
      const hs = randArray(B * n * f, 20 + ci);
      const ds = randArray(B * n * f, 30 + ci);
      const adj = dev.tensor(as, adjShape, { requiresGrad: true });
      const h = dev.tensor(hs, [B, n, f], { requiresGrad: true });
      const y = graphAggregate(adj, h).retain();
      expectClose(await y.read(), graphAggregateRef(as, hs, B, n, f, shared), FWD.atol, FWD.rtol, `fwd ${what}`);
      await y.backward(dev.tensor(ds, [B, n, f]));
      const dh = await h.grad!.read();
      const da = await adj.grad!.read();
      expectClose(dh, graphAggregateBackwardInputRef(as, ds, B, n, f, shared), FWD.atol, FWD.rtol, `dinp ${what}`);
      expectClose(da, graphAggregateBackwardAdjRef(hs, ds, B, n, f, shared), DADJ.atol, DADJ.rtol, `dadj ${what}`);
      const D = (): Tensor => dev.tensor(ds, [B, n, f]);
      await checkFiniteDiff(dev, hs, [B, n, f], (x) => sum(mul(graphAggregate(dev.tensor(as, adjShape), x), D())), dh, FD);
      await checkFiniteDiff(dev, as, adjShape, (a) => sum(mul(graphAggregate(a, dev.tensor(hs, [B, n, f])), D())), da, FD);
      for (const t of [adj, h, y]) t.dispose();
    }
  });

  it('computes only the gradients asked for (constant adjacency, or constant features)', async () => {
    const dev = await testDevice();
    const [B, n, f] = [2, 8, 12];
    const as = randArray(B * n * n, 1);
    const hs = randArray(B * n * f, 2);
    const ds = randArray(B * n * f, 3);
    const adjC = dev.tensor(as, [B, n, n]);
    const h = dev.tensor(hs, [B, n, f], { requiresGrad: true });
    await graphAggregate(adjC, h).backward(dev.tensor(ds, [B, n, f]));
    expect(adjC.grad).toBeNull();
    expectClose(await h.grad!.read(), graphAggregateBackwardInputRef(as, ds, B, n, f), FWD.atol, FWD.rtol, 'dinp only');
    const adj = dev.tensor(as, [B, n, n], { requiresGrad: true });
    const hC = dev.tensor(hs, [B, n, f]);
    await graphAggregate(adj, hC).backward(dev.tensor(ds, [B, n, f]));
    expect(hC.grad).toBeNull();
    expectClose(await adj.grad!.read(), graphAggregateBackwardAdjRef(hs, ds, B, n, f), DADJ.atol, DADJ.rtol, 'dadj only');
    for (const t of [adjC, h, adj, hC]) t.dispose();
  });

  it('rejects mismatched shapes, naming the op and the shapes', async () => {
    const dev = await testDevice();
    const h = dev.tensor(randArray(2 * 3 * 4, 1), [2, 3, 4]);
    expect(() => graphAggregate(dev.tensor(randArray(9, 2), [1, 3, 3]), h)).toThrow(ShapeError);
    expect(() => graphAggregate(dev.tensor(randArray(8, 2), [2, 2, 2]), h)).toThrow(/graph_aggregate: adjacency \[2,2,2\].*\[2,3,4\]/);
    expect(() => graphAggregate(dev.tensor(randArray(9, 2), [3, 3]), dev.tensor(randArray(12, 3), [3, 4]))).toThrow(/\[B, nodes, features\]/);
    expect(() => graphReadout(dev.tensor(randArray(12, 3), [3, 4]))).toThrow(/graph_readout/);
  });
});

describe('graph_readout', () => {
  for (const mode of ['mean', 'sum'] as const) {
    it(`${mode} over nodes: forward and backward match float64 references and finite differences`, async () => {
      const dev = await testDevice();
      for (const [ci, [B, n, f]] of CASES.entries()) {
        const what = `${mode} B${B} n${n} f${f}`;
        const scale = mode === 'mean' ? 1 / n : 1;
        const hs = randArray(B * n * f, 40 + ci);
        const ds = randArray(B * f, 50 + ci);
        const h = dev.tensor(hs, [B, n, f], { requiresGrad: true });
        const y = graphReadout(h, mode).retain();
        expect(y.shape).toEqual([B, f]);
        expectClose(await y.read(), graphReadoutRef(hs, B, n, f, scale), FWD.atol, FWD.rtol, `fwd ${what}`);
        await y.backward(dev.tensor(ds, [B, f]));
        const dh = await h.grad!.read();
        expectClose(dh, graphReadoutBackwardRef(ds, B, n, f, scale), 1e-7, 1e-6, `dinp ${what}`);
        await checkFiniteDiff(dev, hs, [B, n, f], (x) => sum(mul(graphReadout(x, mode), dev.tensor(ds, [B, f]))), dh, FD);
        h.dispose();
        y.dispose();
      }
    });
  }
});

describe('two-layer graph network', () => {
  it('readout(A·(A·H)) differentiates in H and in A (A used twice: gradients accumulate)', async () => {
    const dev = await testDevice();
    const [B, n, f] = [3, 8, 6];
    const as = randArray(B * n * n, 61, -0.5, 0.5);
    const hs = randArray(B * n * f, 62);
    const ws = randArray(B * f, 63);
    const net = (a: Tensor, h: Tensor): Tensor => sum(mul(graphReadout(graphAggregate(a, graphAggregate(a, h))), dev.tensor(ws, [B, f])));
    const a = dev.tensor(as, [B, n, n], { requiresGrad: true });
    const h = dev.tensor(hs, [B, n, f], { requiresGrad: true });
    const loss = net(a, h).retain();
    // float64 reference of the loss
    const h2 = graphAggregateRef(as, graphAggregateRef(as, hs, B, n, f), B, n, f);
    const r = graphReadoutRef(h2, B, n, f);
    expectClose(await loss.read(), [r.reduce((s, v, i) => s + v * ws[i], 0)], 1e-5, 1e-4, 'loss');
    await loss.backward();
    await checkFiniteDiff(dev, hs, [B, n, f], (x) => net(dev.tensor(as, [B, n, n]), x), await h.grad!.read(), FD);
    // quadratic in A: central differences are exact up to f32 rounding
    await checkFiniteDiff(dev, as, [B, n, n], (x) => net(x, dev.tensor(hs, [B, n, f])), await a.grad!.read(), { count: 8 });
    for (const t of [a, h, loss]) t.dispose();
  });
});
