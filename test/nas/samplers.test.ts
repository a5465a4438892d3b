import { describe, expect, it } from 'vitest';
import { mul, sum } from '../../src/ops/elementwise.js';
import { mixedSum } from '../../src/ops/mixed.js';
import { softmax } from '../../src/ops/softmax.js';
import { makeSampler, type SamplerContext } from '../../src/nas/samplers.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, randArray, testDevice } from '../helpers.js';

const K = 5;
const NONE = 0;

/** float64: p = softmax(a); exact mixture gradient of L = <c, Σ_k p_k o_k> w.r.t. a */
function exactMixtureGrad(a: Float32Array, g: number[]): number[] {
  const m = Math.max(...a);
  const e = Array.from(a, (v) => Math.exp(v - m));
  const z = e.reduce((x, y) => x + y, 0);
  const p = e.map((v) => v / z);
  return p.map((pi, i) => g.reduce((acc, gj, j) => acc + gj * p[j] * ((i === j ? 1 : 0) - pi), 0));
}

async function setup(seed: number) {
  const dev = await testDevice();
  const n = 13;
  const a = randArray(K, seed, -1, 1);
  const outs = Array.from({ length: K }, (_, k) => (k === NONE ? new Float32Array(n) : randArray(n, seed + 10 + k)));
  const c = randArray(n, seed + 99);
  const g = outs.map((o) => o.reduce((acc, v, i) => acc + v * c[i], 0)); // g_k = <c, o_k>
  return { dev, n, a, outs, c, g };
}

/** one edge: out = mixedSum(o[plan.ops], plan.weights); L = <c, out>; returns the edge output value */
async function edgeStep(dev: Awaited<ReturnType<typeof testDevice>>, alpha: Tensor, name: 'mixture' | 'ordered' | 'binary' | 'gumbel', step: number, outs: Float32Array[], c: Float32Array, sampler: ReturnType<typeof makeSampler>, allowed?: number[][]): Promise<{ value: Float32Array; ops: number[] }> {
  return dev.tidy(async () => {
    const base = { alpha, step, E: 1, K, noneIndex: NONE, allowed };
    const probs = name === 'gumbel' ? sampler.stepProbs(base) : softmax(alpha);
    const ctx: SamplerContext = { ...base, probs, probsHost: sampler.needsProbs ? await probs.read() : undefined };
    const plan = sampler.plan(ctx, 0);
    const out = mixedSum(plan.ops.map((k) => dev.tensor(outs[k], [outs[k].length])), plan.weights).retain();
    const l = sum(mul(out, dev.tensor(c, [c.length])));
    await l.backward();
    const value = await out.read();
    out.dispose();
    return { value, ops: plan.ops };
  });
}

describe('samplers', () => {
  it('mixture: output Σ_k p_k o_k over non-none ops; α gradient equals the exact mixture gradient', async () => {
    const { dev, a, outs, c, g } = await setup(1);
    const alpha = dev.parameter(a, [1, K]);
    const s = makeSampler('mixture', { seed: 1 });
    const { value, ops } = await edgeStep(dev, alpha, 'mixture', 0, outs, c, s);
    expect(ops).toEqual([1, 2, 3, 4]);
    const m = Math.max(...a);
    const z = Array.from(a).reduce((acc, v) => acc + Math.exp(v - m), 0);
    const want = outs[0].map((_, i) => outs.reduce((acc, o, k) => acc + (Math.exp(a[k] - m) / z) * o[i], 0));
    expectClose(value, want, 1e-5, 1e-4, 'mixture value');
    expectClose(await alpha.grad!.read(), exactMixtureGrad(a, g), 1e-5, 1e-4, 'mixture dα');
    alpha.dispose();
  });

  it('ordered: one path per step, every op once per cycle, cycle-mean gradient = exact mixture gradient', async () => {
    const { dev, a, outs, c, g } = await setup(2);
    const alpha = dev.parameter(a, [1, K]);
    const s = makeSampler('ordered', { seed: 3 });
    for (const cycle of [0, 1]) {
      const seen: number[] = [];
      for (let t = cycle * K; t < (cycle + 1) * K; t++) {
        const { value, ops } = await edgeStep(dev, alpha, 'ordered', t, outs, c, s);
        expect(ops.length).toBe(1);
        expectClose(value, outs[ops[0]], 1e-6, 1e-6, 'single-path value');
        seen.push(ops[0]);
      }
      expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
    }
    // alpha.grad accumulated over two full cycles (2K steps): the per-step mean is the exact gradient
    const got = Array.from(await alpha.grad!.read(), (v) => v / (2 * K));
    expectClose(got, exactMixtureGrad(a, g), 1e-5, 1e-4, 'ordered cycle-mean dα');
    alpha.dispose();
  });

  it('blocked columns (MBConv layers that cannot skip): never run; ordered cycles over the allowed ones with the exact cycle-mean gradient', async () => {
    const { dev, a, outs, c, g } = await setup(4);
    const BLOCKED = 3;
    const allowed = [[0, 1, 2, 4]];
    const masked = Float32Array.from(a, (v, k) => (k === BLOCKED ? v - 1e4 : v)); // as the search biases α
    const want = exactMixtureGrad(masked, g);
    const mix = await edgeStep(dev, dev.parameter(masked, [1, K]), 'mixture', 0, outs, c, makeSampler('mixture', { seed: 1 }), allowed);
    expect(mix.ops).toEqual([1, 2, 4]);
    const alpha = dev.parameter(masked, [1, K]);
    const s = makeSampler('ordered', { seed: 3 });
    for (const cycle of [0, 1]) {
      const seen: number[] = [];
      for (let t = cycle * 4; t < (cycle + 1) * 4; t++) seen.push(...(await edgeStep(dev, alpha, 'ordered', t, outs, c, s, allowed)).ops);
      expect([...seen].sort()).toEqual([0, 1, 2, 4]);
    }
    const got = Array.from(await alpha.grad!.read(), (v) => v / 8);
    expectClose(got, want, 1e-5, 1e-4, 'ordered (blocked column) cycle-mean dα');
    expect(got[BLOCKED]).toBe(0);
    const bin = makeSampler('binary', { seed: 5 });
    for (let t = 0; t < 20; t++) expect((await edgeStep(dev, dev.parameter(masked, [1, K]), 'binary', t, outs, c, bin, allowed)).ops).not.toContain(BLOCKED);
    alpha.dispose();
  });

  it('binary: runs two distinct ops, outputs one of them, ProxylessNAS gradient on the pair', async () => {
    const { dev, a, outs, c, g } = await setup(3);
    const alpha = dev.parameter(a, [1, K]);
    const s = makeSampler('binary', { seed: 5 });
    const { value, ops } = await edgeStep(dev, alpha, 'binary', 0, outs, c, s);
    expect(ops.length).toBe(2);
    expect(ops[0]).not.toBe(ops[1]);
    const active = ops.find((k) => Math.abs(value[0] - outs[k][0]) < 1e-6 && Math.abs(value[3] - outs[k][3]) < 1e-6);
    expect(active).toBeDefined();
    // dα_i = Σ_{j in pair} g_j p'_j (δ_ij − p'_i), p' = softmax(α restricted to the pair); 0 elsewhere
    const pair = ops.map((k) => a[k]);
    const sub = exactMixtureGrad(Float32Array.from(pair), ops.map((k) => g[k]));
    const want = new Array(K).fill(0);
    ops.forEach((k, j) => (want[k] = sub[j]));
    expectClose(await alpha.grad!.read(), want, 1e-5, 1e-4, 'binary dα');
    alpha.dispose();
  });

  it('gumbel (hard): runs the argmax of softmax((α+g)/τ), value 1·o_k, gradient through the soft sample', async () => {
    const { dev, a, outs, c } = await setup(4);
    const alpha = dev.parameter(a, [1, K]);
    const s = makeSampler('gumbel', { seed: 7, hardGumbel: true, tau: () => 1 });
    const ops = new Set<number>();
    for (let t = 0; t < 12; t++) {
      const r = await edgeStep(dev, alpha, 'gumbel', t, outs, c, s);
      expect(r.ops.length).toBe(1);
      expectClose(r.value, outs[r.ops[0]], 1e-6, 1e-6, 'hard gumbel value');
      ops.add(r.ops[0]);
    }
    expect(ops.size).toBeGreaterThan(1); // the noise makes it explore
    const grad = await alpha.grad!.read();
    expect(Array.from(grad).some((v) => v !== 0)).toBe(true);
    expect(Math.abs(Array.from(grad).reduce((x, y) => x + y, 0))).toBeLessThan(1e-4); // softmax Jacobian rows sum to 0
    alpha.dispose();
  });
});
