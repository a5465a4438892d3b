import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/gpu/errors.js';
import { mul, sum } from '../../src/ops/elementwise.js';
import { gemm, gemmVec4Ok, GEMM_VARIANTS, linear, matmul, matmulRaw } from '../../src/ops/matmul.js';
import { linearBackwardRef, linearRef, matmulRef } from '../reference/matmul.js';
import { checkFiniteDiff, expectClose, randArray, testDevice } from '../helpers.js';

// Tolerances: float32 sums of K products of values in [-1, 1] against float64: |err| <= 1e-5·√K-ish;
// we allow atol 2e-5·K^0.5 + rtol 1e-4. Finite differences (matmul is linear in each operand, so only
// float32 rounding of the loss matters): eps 1e-2, atol 2e-3, rtol 1e-2.
const tol = (K: number) => 2e-5 * Math.sqrt(Math.max(K, 1)) + 1e-6;

// M, K, N: odd sizes, non-multiples of the 4×4 tile and of the workgroup, plus aligned ones for vec4
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 17, 3], [3, 5, 1], [17, 33, 65], [65, 3, 17], [33, 65, 33], [4, 8, 4], [12, 20, 8], [64, 36, 68], [17, 64, 24], [65, 44, 36],
];
const MODES = [[false, false], [false, true], [true, false], [true, true]] as const;

describe('matmul', () => {
  it('every GEMM variant matches the float64 reference for every transpose mode and awkward shapes', async () => {
    const dev = await testDevice();
    let vec4Cases = 0;
    for (const [si, [M, K, N]] of SHAPES.entries()) {
      for (const [transA, transB] of MODES) {
        const av = randArray(M * K, 100 + si);
        const bv = randArray(K * N, 200 + si);
        const a = dev.tensor(av, transA ? [K, M] : [M, K]);
        const b = dev.tensor(bv, transB ? [N, K] : [K, N]);
        const want = matmulRef(av, bv, M, K, N, transA, transB);
        for (const variant of GEMM_VARIANTS) {
          if (variant.endsWith('vec4') && !gemmVec4Ok(M, N, K, transA, transB, [], variant)) continue;
          if (variant === 'tiled8_vec4') vec4Cases++;
          for (const wg of [[16, 4], [8, 1]] as const) {
            const out = matmulRaw(a, b, { transA, transB, variant, wg });
            expectClose(await out.read(), want, tol(K), 1e-4, `${variant} wg${wg} [${M},${K}]x[${K},${N}] tA=${transA} tB=${transB}`);
            out.dispose();
          }
        }
        a.dispose();
        b.dispose();
      }
    }
    expect(vec4Cases).toBeGreaterThan(4);
  });

  it('batched GEMM with per-batch strides and a broadcast (stride 0) operand', async () => {
    const dev = await testDevice();
    for (const [M, K, N, transA] of [[5, 7, 9, false], [8, 12, 16, false], [12, 5, 8, true]] as const) {
      const batch = 3;
      const av = randArray(M * K, 1);
      const bv = randArray(batch * K * N, 2);
      const a = dev.tensor(av, [M * K]);
      const b = dev.tensor(bv, [batch * K * N]);
      for (const variant of GEMM_VARIANTS) {
        if (variant.endsWith('vec4') && !gemmVec4Ok(M, N, K, transA, false, [K * N, M * N], variant)) continue;
        const out = dev.empty([batch, M, N]);
        gemm({ a, b, out, M, N, K, transA, batch, strideA: 0, strideB: K * N, strideC: M * N, variant });
        const got = await out.read();
        for (let z = 0; z < batch; z++) {
          const want = matmulRef(av, bv.subarray(z * K * N, (z + 1) * K * N), M, K, N, transA, false);
          expectClose(got.subarray(z * M * N, (z + 1) * M * N), want, tol(K), 1e-4, `${variant} batch ${z} [${M},${K}]x[${K},${N}]`);
        }
        out.dispose();
      }
      a.dispose();
      b.dispose();
    }
  });

  it('matmul backward (da = dout·bᵀ, db = aᵀ·dout) matches the reference and finite differences', async () => {
    const dev = await testDevice();
    for (const [M, K, N] of [[3, 5, 7], [17, 8, 4], [1, 33, 2]] as const) {
      const av = randArray(M * K, M);
      const bv = randArray(K * N, N);
      const dv = randArray(M * N, K);
      const a = dev.tensor(av, [M, K], { requiresGrad: true });
      const b = dev.tensor(bv, [K, N], { requiresGrad: true });
      const y = matmul(a, b).retain();
      expectClose(await y.read(), matmulRef(av, bv, M, K, N), tol(K), 1e-4, 'forward');
      await y.backward(dev.tensor(dv, [M, N]));
      const da = await a.grad!.read();
      const db = await b.grad!.read();
      expectClose(da, matmulRef(dv, bv, M, N, K, false, true), tol(N), 1e-4, 'da');
      expectClose(db, matmulRef(av, dv, K, M, N, true, false), tol(M), 1e-4, 'db');
      const fd = { eps: 1e-2, atol: 2e-3, rtol: 1e-2, count: 4 };
      await checkFiniteDiff(dev, av, [M, K], (t) => sum(mul(matmul(t, dev.tensor(bv, [K, N])), dev.tensor(dv, [M, N]))), da, fd);
      await checkFiniteDiff(dev, bv, [K, N], (t) => sum(mul(matmul(dev.tensor(av, [M, K]), t), dev.tensor(dv, [M, N]))), db, fd);
      for (const t of [a, b, y]) t.dispose();
    }
  });

  it('linear (x·weightᵀ + bias, PyTorch layout) forward and backward for x, weight and bias', async () => {
    const dev = await testDevice();
    for (const [n, fin, fout, withBias] of [[1, 3, 5, true], [7, 17, 10, true], [16, 12, 8, false], [3, 64, 65, true]] as const) {
      const xv = randArray(n * fin, fin);
      const wv = randArray(fout * fin, fout);
      const bv = randArray(fout, 5);
      const dv = randArray(n * fout, 9);
      const x = dev.tensor(xv, [n, fin], { requiresGrad: true });
      const w = dev.tensor(wv, [fout, fin], { requiresGrad: true });
      const b = withBias ? dev.tensor(bv, [fout], { requiresGrad: true }) : null;
      const y = linear(x, w, b).retain();
      expectClose(await y.read(), linearRef(xv, wv, withBias ? bv : null, n, fin, fout), tol(fin), 1e-4, `linear fwd ${n}x${fin}→${fout}`);
      await y.backward(dev.tensor(dv, [n, fout]));
      const want = linearBackwardRef(dv, xv, wv, n, fin, fout);
      const dx = await x.grad!.read();
      const dw = await w.grad!.read();
      expectClose(dx, want.dx, tol(fout), 1e-4, 'dx');
      expectClose(dw, want.dweight, tol(n), 1e-4, 'dweight');
      if (b) expectClose(await b.grad!.read(), want.dbias, tol(n), 1e-4, 'dbias');
      const fd = { eps: 1e-2, atol: 2e-3, rtol: 1e-2, count: 3 };
      const bt = () => (withBias ? dev.tensor(bv, [fout]) : null);
      await checkFiniteDiff(dev, xv, [n, fin], (t) => sum(mul(linear(t, dev.tensor(wv, [fout, fin]), bt()), dev.tensor(dv, [n, fout]))), dx, fd);
      await checkFiniteDiff(dev, wv, [fout, fin], (t) => sum(mul(linear(dev.tensor(xv, [n, fin]), t, bt()), dev.tensor(dv, [n, fout]))), dw, fd);
      if (b) {
        const db = await b.grad!.read();
        await checkFiniteDiff(dev, bv, [fout], (t) => sum(mul(linear(dev.tensor(xv, [n, fin]), dev.tensor(wv, [fout, fin]), t), dev.tensor(dv, [n, fout]))), db, fd);
      }
      for (const t of [x, w, y, b]) t?.dispose();
    }
  });

  it('rejects mismatched shapes with errors that name the op and the shapes', async () => {
    const dev = await testDevice();
    const a = dev.zeros([3, 4]);
    const b = dev.zeros([5, 2]);
    expect(() => matmul(a, b)).toThrow(ShapeError);
    expect(() => matmul(a, b)).toThrow(/matmul.*\[3,4\].*\[5,2\]/);
    expect(() => linear(a, b)).toThrow(/linear.*\[3,4\].*\[5,2\]/);
    const c = dev.zeros([4, 8]);
    expect(() => matmulRaw(c, c, { transB: true, variant: 'tiled_vec4' }).dispose()).not.toThrow();
    const d = dev.zeros([8, 8]);
    expect(() => matmulRaw(d, d, { transA: true, transB: true, variant: 'tiled_vec4' })).toThrow(/tiled_vec4.*M=8 N=8 K=8/);
    for (const t of [a, b, c, d]) t.dispose();
  });
});
