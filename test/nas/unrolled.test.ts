/**
 * DARTS second-order architecture gradient on a quadratic, where everything is known in float64.
 *
 * Weights: two tensors w1 [1,4], w2 [1,3], read as one vector z = w1·P1 + w2·P2 ∈ R⁷ (P1, P2 0/1
 * selection matrices, so this "concatenation" is exact on the GPU). Architecture α [1,5].
 *   L_train = ½ zᵀA z + zᵀB α + cᵀz + ¼ αᵀα        (A symmetric)
 *   L_val   = ½ zᵀC z + zᵀD α + dᵀz + fᵀα          (C symmetric)
 * so ∇z L_train = A z + B α + c, ∇α L_train = Bᵀz + ½α, ∇z L_val = C z + D α + d, ∇α L_val = Dᵀz + f.
 *
 * Virtual step: z' = z − ξ(μm + A z + B α + c + wd·z); v = ∇z L_val(z') = C z' + D α + d.
 * DARTS: g = (Dᵀz' + f) − ξ·Hv with Hv = ∇²_{α,z} L_train · v = Bᵀv. The central difference
 * (∇α L_train(z + εv) − ∇α L_train(z − εv)) / (2ε) = (Bᵀ(z+εv) − Bᵀ(z−εv)) / (2ε) = Bᵀv for every ε:
 * exact, since ∇α L_train is affine in z (so only float32 rounding separates GPU and float64).
 * Exact total derivative of α ↦ L_val(z'(α), α): ∂z'/∂α = −ξB (momentum and decay do not depend on α),
 * so d/dα = ∇α L_val(z') + (∂z'/∂α)ᵀ ∇z L_val(z') = Dᵀz' + f − ξBᵀv: the same vector. The test also
 * checks this numerically, by float64 central differences of the unrolled validation loss.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { add, mul, scale, sum } from '../../src/ops/elementwise.js';
import { matmul } from '../../src/ops/matmul.js';
import { zeroGrad } from '../../src/tensor/autograd.js';
import type { Device } from '../../src/tensor/device.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { unrolledArchGrad, type UnrolledOptions } from '../../src/nas/unrolled.js';
import { expectClose, randArray, testDevice } from '../helpers.js';

const N1 = 4;
const N2 = 3;
const N = N1 + N2;
const M = 5;

// ---------- float64 reference ----------
type Vec = number[];
const symmetric = (a: Float32Array, n: number): Float32Array => {
  const s = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = Math.fround((a[i * n + j] + a[j * n + i]) / 2);
  return s;
};
/** M x (M is rows×cols, row-major) */
const mv = (m: ArrayLike<number>, x: Vec, rows: number, cols: number): Vec => Array.from({ length: rows }, (_, i) => x.reduce((s, xj, j) => s + m[i * cols + j] * xj, 0));
/** Mᵀ x */
const mtv = (m: ArrayLike<number>, x: Vec, rows: number, cols: number): Vec => Array.from({ length: cols }, (_, j) => x.reduce((s, xi, i) => s + m[i * cols + j] * xi, 0));
const axpy = (a: number, x: Vec, y: Vec): Vec => y.map((yi, i) => a * x[i] + yi);
const dot = (x: Vec, y: Vec): number => x.reduce((s, xi, i) => s + xi * y[i], 0);

interface Problem {
  A: Float32Array; B: Float32Array; c: Float32Array; C: Float32Array; D: Float32Array; d: Float32Array; f: Float32Array;
  z: Float32Array; alpha: Float32Array; m: Float32Array;
}

function makeProblem(seed: number): Problem {
  return {
    A: symmetric(randArray(N * N, seed), N), B: randArray(N * M, seed + 1), c: randArray(N, seed + 2),
    C: symmetric(randArray(N * N, seed + 3), N), D: randArray(N * M, seed + 4), d: randArray(N, seed + 5), f: randArray(M, seed + 6),
    z: randArray(N, seed + 7), alpha: randArray(M, seed + 8), m: randArray(N, seed + 9),
  };
}

interface Reference { darts: Vec; buggy: Vec; firstOrder: Vec; exactTotal: Vec; vNorm: number }

/** The DARTS formula (and the `/ 2.*eps` variant), the first-order gradient and the exact total derivative, in float64. */
function reference(p: Problem, xi: number, wd: number, mu: number, epsScale: number): Reference {
  const z = Array.from(p.z);
  const alpha = Array.from(p.alpha);
  const zPrime = (a: Vec): Vec => {
    const g = axpy(1, mv(p.A, z, N, N), axpy(1, mv(p.B, a, N, M), Array.from(p.c)));
    return z.map((zi, i) => zi - xi * (mu * p.m[i] + g[i] + wd * zi));
  };
  const lval = (zz: Vec, a: Vec): number => 0.5 * dot(zz, mv(p.C, zz, N, N)) + dot(zz, mv(p.D, a, N, M)) + dot(Array.from(p.d), zz) + dot(Array.from(p.f), a);
  const gradValAlpha = (zz: Vec): Vec => axpy(1, mtv(p.D, zz, N, M), Array.from(p.f));
  const zp = zPrime(alpha);
  const dalpha = gradValAlpha(zp);
  const v = axpy(1, mv(p.C, zp, N, N), axpy(1, mv(p.D, alpha, N, M), Array.from(p.d)));
  const vNorm = Math.sqrt(dot(v, v));
  const eps = epsScale / vNorm;
  // the finite difference as DARTS writes it, with ∇α L_train(z±) = Bᵀ(z ± εv) + ½α
  const gradTrainAlpha = (zz: Vec): Vec => axpy(0.5, alpha, mtv(p.B, zz, N, M));
  const gp = gradTrainAlpha(axpy(eps, v, z));
  const gn = gradTrainAlpha(axpy(-eps, v, z));
  const darts = dalpha.map((da, j) => da - xi * (gp[j] - gn[j]) / (2 * eps));
  const buggy = dalpha.map((da, j) => da - xi * ((gp[j] - gn[j]) / 2) * eps); // `/ 2.*eps`
  // exact total derivative of α ↦ L_val(z'(α), α), by central differences (exact for a quadratic)
  const h = 1e-3;
  const exactTotal = alpha.map((_, j) => {
    const ap = alpha.slice();
    const an = alpha.slice();
    ap[j] += h;
    an[j] -= h;
    return (lval(zPrime(ap), ap) - lval(zPrime(an), an)) / (2 * h);
  });
  return { darts, buggy, firstOrder: gradValAlpha(z), exactTotal, vNorm };
}

// ---------- the same losses on the GPU ----------
interface GpuProblem {
  w1: Tensor; w2: Tensor; alpha: Tensor; m1: Tensor; m2: Tensor;
  trainLoss: () => Tensor; valLoss: () => Tensor; dispose(): void;
}

function upload(dev: Device, p: Problem): GpuProblem {
  const c = (data: Float32Array, shape: number[]): Tensor => dev.tensor(data, shape, { persistent: true });
  const sel = (rows: number, off: number): Float32Array => {
    const s = new Float32Array(rows * N);
    for (let i = 0; i < rows; i++) s[i * N + off + i] = 1;
    return s;
  };
  const consts = {
    P1: c(sel(N1, 0), [N1, N]), P2: c(sel(N2, N1), [N2, N]),
    A: c(p.A, [N, N]), B: c(p.B, [N, M]), c: c(p.c, [1, N]), C: c(p.C, [N, N]), D: c(p.D, [N, M]), d: c(p.d, [1, N]), f: c(p.f, [1, M]),
  };
  const w1 = dev.parameter(p.z.subarray(0, N1), [1, N1], 'w1');
  const w2 = dev.parameter(p.z.subarray(N1), [1, N2], 'w2');
  const alpha = dev.parameter(p.alpha, [1, M], 'alpha');
  const m1 = c(p.m.subarray(0, N1), [1, N1]);
  const m2 = c(p.m.subarray(N1), [1, N2]);
  const zOf = (): Tensor => add(matmul(w1, consts.P1), matmul(w2, consts.P2));
  const quad = (z: Tensor, S: Tensor, T: Tensor, lin: Tensor): Tensor =>
    add(add(scale(sum(mul(matmul(z, S), z)), 0.5), sum(mul(matmul(z, T), alpha))), sum(mul(lin, z)));
  const trainLoss = (): Tensor => add(quad(zOf(), consts.A, consts.B, consts.c), scale(sum(mul(alpha, alpha)), 0.25));
  const valLoss = (): Tensor => add(quad(zOf(), consts.C, consts.D, consts.d), sum(mul(consts.f, alpha)));
  const all = [...Object.values(consts), w1, w2, alpha, m1, m2];
  return { w1, w2, alpha, m1, m2, trainLoss, valLoss, dispose: () => all.forEach((t) => t.dispose()) };
}

describe('unrolledArchGrad (DARTS second order)', () => {
  let dev: Device;
  beforeAll(async () => {
    dev = await testDevice();
  });
  afterAll(async () => {
    await dev.sync();
  });

  // f32 tolerance: the ε·v perturbation is ~1e-2 of z, so g⁺ − g⁻ keeps ~5 of f32's 7 digits (seen: ≤ 6e-6)
  const ATOL = 5e-5;
  const RTOL = 5e-5;
  const cases: { name: string; seed: number; xi: number; wd: number; mu: number }[] = [
    { name: 'plain virtual step', seed: 11, xi: 0.1, wd: 0, mu: 0 },
    { name: 'with weight decay and momentum (as DARTS)', seed: 23, xi: 0.05, wd: 3e-4, mu: 0.9 },
    { name: 'large ξ', seed: 37, xi: 0.3, wd: 1e-2, mu: 0.5 },
  ];

  for (const cs of cases) {
    it(`matches the float64 DARTS formula and the exact total derivative: ${cs.name}`, async () => {
      const p = makeProblem(cs.seed);
      const g = upload(dev, p);
      const ref = reference(p, cs.xi, cs.wd, cs.mu, 0.01);
      // for a quadratic the DARTS approximation is the exact total derivative (see the header)
      expectClose(ref.darts, ref.exactTotal, 1e-7, 1e-7, 'float64 DARTS vs exact total derivative');
      // the second-order term is large enough to matter at the tolerance used
      expect(Math.max(...ref.darts.map((x, j) => Math.abs(x - ref.firstOrder[j])))).toBeGreaterThan(100 * ATOL);
      const opts: UnrolledOptions = { xi: cs.xi, weightDecay: cs.wd, momentum: cs.mu ? { factor: cs.mu, buffers: [g.m1, g.m2] } : undefined };
      const info = await unrolledArchGrad(dev, [g.w1, g.w2], g.alpha, g.trainLoss, g.valLoss, opts);
      expect(info.vNorm).toBeCloseTo(ref.vNorm, 4);
      expect(info.eps).toBe(Math.fround(0.01 / info.vNorm));
      const got = await g.alpha.grad!.read();
      expectClose(got, ref.darts, ATOL, RTOL, 'alpha.grad vs float64 DARTS');
      expectClose(got, ref.exactTotal, ATOL, RTOL, 'alpha.grad vs exact total derivative');
      // momentum buffers are read, not written
      expect(Array.from(await g.m1.read())).toEqual(Array.from(p.m.subarray(0, N1)));
      g.dispose();
    });
  }

  it('restores the weights bit for bit, keeps caller state, leaks nothing; ξ = 0 is the first-order gradient', async () => {
    const p = makeProblem(5);
    const g = upload(dev, p);
    // caller state that must survive: a weight gradient, a frozen weight, a stale α gradient (overwritten)
    const callerGrad = dev.tensor(randArray(N1, 99), [1, N1], { persistent: true });
    g.w1.grad = callerGrad;
    g.w2.requiresGrad = false;
    g.alpha.grad = dev.tensor(new Float32Array(M).fill(123), [1, M], { persistent: true });
    const before = [await g.w1.read(), await g.w2.read()];
    await dev.sync();
    const live = dev.memory.liveBytes;

    const opts = { xi: 0.2, weightDecay: 1e-2, momentum: { factor: 0.9, buffers: [g.m1, g.m2] } };
    await unrolledArchGrad(dev, [g.w1, g.w2], g.alpha, g.trainLoss, g.valLoss, opts);
    const second = await g.alpha.grad!.read();
    expect(Array.from(await g.w1.read())).toEqual(Array.from(before[0]));
    expect(Array.from(await g.w2.read())).toEqual(Array.from(before[1]));
    expect(g.w1.grad).toBe(callerGrad);
    expect(Array.from(await callerGrad.read())).toEqual(Array.from(randArray(N1, 99)));
    expect(g.w2.grad).toBeNull();
    expect([g.w1.requiresGrad, g.w2.requiresGrad, g.alpha.requiresGrad]).toEqual([true, false, true]);
    expectClose(second, reference(p, 0.2, 1e-2, 0.9, 0.01).darts, ATOL, RTOL, 'second order');
    // the only new live buffer is α's gradient (the stale one was released)
    expect(dev.memory.liveBytes).toBe(live);

    // ξ = 0: exactly the gradient a first-order step computes at the same weights
    await unrolledArchGrad(dev, [g.w1, g.w2], g.alpha, g.trainLoss, g.valLoss, { ...opts, xi: 0 });
    const zeroXi = await g.alpha.grad!.read();
    expect(Array.from(await g.w1.read())).toEqual(Array.from(before[0]));
    zeroGrad([g.alpha]);
    g.w1.requiresGrad = false;
    await dev.tidy(async () => g.valLoss().backward());
    const firstOrder = await g.alpha.grad!.read();
    expect(Array.from(zeroXi)).toEqual(Array.from(firstOrder));
    expectClose(firstOrder, reference(p, 0, 0, 0, 0.01).firstOrder, 1e-5, 1e-5, 'first order vs float64');

    zeroGrad([g.alpha, g.w1]);
    await dev.sync();
    expect(dev.memory.liveBytes).toBe(live - 4 * N1 - 4 * M); // minus callerGrad and α's gradient
    g.dispose();
  });

  it('divides by (2·ε): the result does not depend on ε, as it must on a quadratic (`/ 2.*eps` would scale the Hessian term by ε²)', async () => {
    const p = makeProblem(71);
    const g = upload(dev, p);
    const xi = 0.1;
    const results: Float32Array[] = [];
    for (const epsScale of [1e-3, 1e-2, 1e-1]) {
      const ref = reference(p, xi, 0, 0, epsScale);
      // the buggy precedence gives dα − ξ·(g⁺ − g⁻)/2·ε: far outside the tolerance for every ε here
      expect(Math.max(...ref.buggy.map((x, j) => Math.abs(x - ref.darts[j])))).toBeGreaterThan(100 * ATOL);
      await unrolledArchGrad(dev, [g.w1, g.w2], g.alpha, g.trainLoss, g.valLoss, { xi, epsScale });
      const got = await g.alpha.grad!.read();
      expectClose(got, ref.darts, epsScale < 1e-2 ? 10 * ATOL : ATOL, RTOL, `epsScale ${epsScale}`);
      results.push(got);
    }
    expectClose(results[2], results[1], ATOL, RTOL, 'ε-independence');
    g.dispose();
  });
});
