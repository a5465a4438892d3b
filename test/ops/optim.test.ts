import { describe, expect, it } from 'vitest';
import { Adam, adamStep, clipGradNorm, SGD, sgdStep } from '../../src/ops/optim.js';
import type { Device } from '../../src/tensor/device.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, randArray, testDevice } from '../helpers.js';
import { adamStepRef, clipGradNormRef, sgdStepRef, type AdamRefOptions, type SgdRefOptions } from '../reference/optim.js';

// parameter shapes: a scalar, odd sizes, one larger than a workgroup grid row
const SHAPES = [[1], [7], [5, 3, 3], [1000], [33, 257]];
const STEPS = 5;
// tolerances after STEPS float32 steps vs float64 (atol, rtol)
const TOL = [2e-6, 2e-5] as const;

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function makeParams(dev: Device, seed: number): { params: Tensor[]; ref: Float64Array[] } {
  const params = SHAPES.map((s, i) => dev.parameter(randArray(numel(s), seed + i), s));
  const ref = SHAPES.map((s, i) => Float64Array.from(randArray(numel(s), seed + i)));
  return { params, ref };
}

/** gives every parameter a fresh random gradient for step t (same values as the reference sees) */
function setGrads(dev: Device, params: Tensor[], t: number): Float32Array[] {
  return params.map((p, i) => {
    const g = randArray(p.size, 1000 * t + i, -2, 2);
    if (!p.grad) p.grad = dev.tensor(g, p.shape, { persistent: true });
    else dev.write(p.grad.buffer, g);
    return g;
  });
}

async function expectParams(params: Tensor[], ref: Float64Array[], what: string): Promise<void> {
  for (const [i, p] of params.entries()) expectClose(await p.read(), ref[i], TOL[0], TOL[1], `${what} param ${i} ${p.describe()}`);
}

describe('optimizers', () => {
  const sgdCases: SgdRefOptions[] = [
    { lr: 0.1, momentum: 0, weightDecay: 0, nesterov: false },
    { lr: 0.025, momentum: 0.9, weightDecay: 3e-4, nesterov: false },
    { lr: 0.05, momentum: 0.8, weightDecay: 1e-2, nesterov: true },
  ];
  for (const o of sgdCases) {
    it(`SGD ${JSON.stringify(o)} matches a float64 re-implementation over ${STEPS} steps`, async () => {
      const dev = await testDevice();
      const { params, ref } = makeParams(dev, 1);
      const bufs = ref.map((r) => new Float64Array(r.length));
      const opt = new SGD(params, o);
      for (let t = 0; t < STEPS; t++) {
        const gs = setGrads(dev, params, t);
        opt.step();
        ref.forEach((r, i) => sgdStepRef(r, gs[i], bufs[i], o));
      }
      await expectParams(params, ref, 'sgd');
      if (o.momentum) {
        const st = await opt.state();
        st.slots.momentum.forEach((m, i) => expectClose(m, bufs[i], TOL[0], TOL[1], `momentum ${i}`));
      }
      opt.dispose();
      params.forEach((p) => p.dispose());
    });
  }

  const adamCases: AdamRefOptions[] = [
    { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false },
    { lr: 3e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8, weightDecay: 1e-3, decoupled: false }, // DARTS α
    { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-6, weightDecay: 5e-2, decoupled: true }, // AdamW
  ];
  for (const o of adamCases) {
    it(`Adam ${JSON.stringify(o)} matches a float64 re-implementation over ${STEPS} steps`, async () => {
      const dev = await testDevice();
      const { params, ref } = makeParams(dev, 2);
      const ms = ref.map((r) => new Float64Array(r.length));
      const vs = ref.map((r) => new Float64Array(r.length));
      const opt = new Adam(params, o);
      for (let t = 0; t < STEPS; t++) {
        const gs = setGrads(dev, params, t);
        opt.step();
        ref.forEach((r, i) => adamStepRef(r, gs[i], ms[i], vs[i], t + 1, o));
      }
      await expectParams(params, ref, 'adam');
      const st = await opt.state();
      expect(st.step).toBe(STEPS);
      st.slots.m.forEach((m, i) => expectClose(m, ms[i], TOL[0], TOL[1], `m ${i}`));
      st.slots.v.forEach((v, i) => expectClose(v, vs[i], 1e-7, TOL[1], `v ${i}`));
      opt.dispose();
      params.forEach((p) => p.dispose());
    });
  }

  it('adamStep at a late step (bias correction near 1) and sgdStep without a buffer', async () => {
    const dev = await testDevice();
    const n = 77;
    const p0 = randArray(n, 3);
    const g = randArray(n, 4);
    const o = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: false };
    const ref = Float64Array.from(p0);
    const m = Float64Array.from(randArray(n, 5, -0.1, 0.1));
    const v = Float64Array.from(randArray(n, 6, 0, 0.01));
    const [tp, tg, tm, tv] = [dev.tensor(p0), dev.tensor(g), dev.tensor(Float32Array.from(m)), dev.tensor(Float32Array.from(v))];
    adamStep(tp, tg, tm, tv, { ...o, step: 10_000 });
    adamStepRef(ref, g, m, v, 10_000, o);
    expectClose(await tp.read(), ref, TOL[0], TOL[1], 'adam step 10000');
    sgdStep(tp, tg, null, { lr: 0.5 });
    expectClose(await tp.read(), ref.map((x, i) => x - 0.5 * g[i]), TOL[0], TOL[1], 'plain sgd');
    expect(() => sgdStep(tp, tg, null, { lr: 0.1, momentum: 0.9 })).toThrow(/sgd_step: momentum/);
    expect(() => adamStep(tp, dev.zeros([3]), tm, tv, { lr: 0.1, step: 1 })).toThrow(/adam_step.*\[3\]/);
    expect(() => adamStep(tp, tg, tm, tv, { lr: 0.1, step: 0 })).toThrow(/1-based/);
  });

  it('state()/loadState() resume: a restored Adam takes the same next step', async () => {
    const dev = await testDevice();
    const a = makeParams(dev, 8).params;
    const opt = new Adam(a, { lr: 1e-2 });
    for (let t = 0; t < 2; t++) {
      setGrads(dev, a, t);
      opt.step();
    }
    const st = await opt.state();
    const b = await Promise.all(a.map(async (p) => dev.parameter(await p.read(), p.shape)));
    const opt2 = new Adam(b, { lr: 1e-2 });
    opt2.loadState(st);
    expect(opt2.stepCount).toBe(2);
    for (const ps of [a, b]) setGrads(dev, ps, 7);
    opt.step();
    opt2.step();
    for (let i = 0; i < a.length; i++) expectClose(await b[i].read(), await a[i].read(), 0, 0, `resumed param ${i}`);
    opt2.zeroGrad();
    expect(b[0].grad).toBeNull(); // set_to_none: a parameter backward does not reach is skipped by step()
    const before = await b[0].read();
    opt2.step();
    expectClose(await b[0].read(), before, 0, 0, 'no step without a gradient');
    expect(() => opt2.loadState({ step: 1, slots: { m: [], v: [] } })).toThrow(/slot "m"/);
    for (const o of [opt, opt2]) o.dispose();
    [...a, ...b].forEach((p) => p.dispose());
  });
});

describe('clip_grad_norm', () => {
  const sizes = [1, 15, 257, 70001];
  for (const [what, maxNorm] of [['above', 1.5], ['below', 1e4]] as const) {
    it(`global norm ${what} maxNorm: norm and clipped gradients match float64`, async () => {
      const dev = await testDevice();
      const data = sizes.map((n, i) => randArray(n, 90 + i));
      const grads = data.map((d) => dev.tensor(d, [d.length], { persistent: true }));
      const norm = dev.tidy(() => clipGradNorm(grads, maxNorm));
      const want = clipGradNormRef(data, maxNorm);
      expectClose(await norm.read(), [want.norm], 0, 1e-5, 'norm');
      for (const [i, g] of grads.entries()) expectClose(await g.read(), want.clipped[i], 1e-7, 1e-5, `clipped grad ${i}`);
      if (what === 'below') for (const [i, g] of grads.entries()) expectClose(await g.read(), data[i], 0, 0, `unchanged grad ${i}`);
      norm.dispose();
      grads.forEach((g) => g.dispose());
    });
  }
});
