import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/gpu/errors.js';
import {
  chooseConv2dVariant, conv2d, conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, conv2dGeometry, type Conv2dVariant,
} from '../../src/ops/conv2d.js';
import { mul, sum } from '../../src/ops/elementwise.js';
import { conv2dBackwardBiasRef, conv2dBackwardInputRef, conv2dBackwardWeightRef, conv2dRef, convOut, type ConvGeom } from '../reference/conv2d.js';
import { checkFiniteDiff, expectClose, randArray, testDevice } from '../helpers.js';

// Tolerances: float32 sums of R = (Cin/groups)·k² products (forward, backward_input) or N·Hout·Wout
// products (backward_weight) of values in [-1, 1] against float64: atol 2e-5·√R, rtol 1e-4.
// Finite differences (the conv is linear in x, weight and bias, so only float32 rounding of the loss
// matters): eps 1e-2, atol 2e-3, rtol 1e-2 on a few coordinates.
const tol = (r: number) => 2e-5 * Math.sqrt(r) + 1e-6;

type Case = ConvGeom;
const c = (N: number, Cin: number, Cout: number, H: number, W: number, k: number, stride: number, pad: number, dil = 1, groups = 1): Case =>
  ({ N, Cin, Cout, H, W, k, stride, pad, dil, groups });

// stride 1/2, pad 0..4, dilation 1/2 (DARTS dil_conv), groups 1/2/3/depthwise, kernels 1/3/5/7,
// odd and non-square sizes, batch 1..3, channel counts that are not multiples of 4
const CASES: Case[] = [
  c(1, 3, 5, 7, 7, 3, 1, 1),
  c(3, 5, 3, 9, 9, 3, 2, 1),
  c(2, 4, 6, 11, 11, 5, 1, 2, 1, 2),
  c(3, 6, 9, 9, 9, 3, 1, 1, 1, 3),
  c(1, 3, 2, 9, 11, 7, 1, 3),
  c(1, 2, 4, 5, 5, 3, 1, 0),
  c(2, 5, 7, 8, 8, 3, 1, 2, 2),
  c(2, 3, 7, 9, 9, 1, 1, 0),
  c(2, 8, 4, 8, 8, 1, 1, 0),
  c(2, 4, 5, 7, 9, 1, 2, 0),
  c(2, 6, 6, 9, 9, 3, 1, 2, 2, 6),
  c(1, 5, 5, 11, 11, 5, 2, 4, 2, 5),
  c(3, 8, 8, 7, 7, 3, 2, 1, 1, 8),
  c(2, 4, 4, 16, 16, 3, 1, 1, 1, 4),
  c(2, 8, 8, 8, 8, 5, 1, 2, 1, 8),
  c(1, 3, 3, 9, 9, 7, 1, 3, 1, 3),
  c(1, 1, 1, 7, 7, 3, 1, 1, 1, 1),
  c(1, 3, 4, 3, 5, 3, 1, 0),
  c(1, 5, 6, 3, 3, 1, 1, 0),
  c(2, 3, 3, 4, 5, 3, 1, 1, 1, 3),
  c(2, 4, 6, 12, 12, 3, 2, 1),
  c(2, 3, 5, 11, 11, 3, 2, 2, 2),
  c(1, 2, 2, 12, 8, 5, 1, 4, 2, 2),
];

const opts = (g: Case, variant?: Conv2dVariant) => ({ stride: g.stride, padding: g.pad, dilation: g.dil, groups: g.groups, variant });
const describeCase = (g: Case) => `N${g.N} ${g.Cin}→${g.Cout} ${g.H}×${g.W} k${g.k} s${g.stride} p${g.pad} d${g.dil} g${g.groups}`;

/** The chosen path plus naive and tiled (tiled accepts every shape), each tested on its own. */
function variantsFor(g: Case): Conv2dVariant[] {
  const geo = conv2dGeometry([g.N, g.Cin, g.H, g.W], [g.Cout, g.Cin / g.groups, g.k, g.k], opts(g));
  const depthwise = g.groups === g.Cin && g.groups === g.Cout ? ['depthwise' as const] : [];
  return [...new Set<Conv2dVariant>([chooseConv2dVariant(geo), ...depthwise, 'tiled', 'naive'])];
}

describe('conv2d', () => {
  it('forward, backward_input and backward_weight of every path match the float64 reference', async () => {
    const dev = await testDevice();
    const seen = new Set<string>();
    for (const [ci, g] of CASES.entries()) {
      const { Hout, Wout } = convOut(g);
      const xv = randArray(g.N * g.Cin * g.H * g.W, 10 + ci);
      const wv = randArray(g.Cout * (g.Cin / g.groups) * g.k * g.k, 20 + ci);
      const dv = randArray(g.N * g.Cout * Hout * Wout, 30 + ci);
      const x = dev.tensor(xv, [g.N, g.Cin, g.H, g.W]);
      const w = dev.tensor(wv, [g.Cout, g.Cin / g.groups, g.k, g.k]);
      const d = dev.tensor(dv, [g.N, g.Cout, Hout, Wout]);
      const wantY = conv2dRef(xv, wv, g);
      const wantDx = conv2dBackwardInputRef(dv, wv, g);
      const wantDw = conv2dBackwardWeightRef(dv, xv, g);
      const r = (g.Cin / g.groups) * g.k * g.k;
      for (const v of variantsFor(g)) {
        seen.add(v);
        const what = `${v} ${describeCase(g)}`;
        await dev.tidy(async () => {
          expectClose(await conv2dForward(x, w, opts(g, v)).read(), wantY, tol(r), 1e-4, `${what} forward`);
          expectClose(await conv2dBackwardInput(d, w, x.shape, opts(g, v)).read(), wantDx, tol((g.Cout / g.groups) * g.k * g.k), 1e-4, `${what} backward_input`);
          expectClose(await conv2dBackwardWeight(d, x, w.shape, opts(g, v)).read(), wantDw, tol(g.N * Hout * Wout), 1e-4, `${what} backward_weight`);
        });
      }
      for (const t of [x, w, d]) t.dispose();
    }
    expect([...seen].sort()).toEqual(['depthwise', 'depthwise_window', 'gemm', 'naive', 'tiled', 'window']);
  });

  it('large-enough shapes exercise chunked weight-gradient reductions and vec4 GEMM tiles', async () => {
    const dev = await testDevice();
    for (const g of [c(3, 8, 12, 12, 12, 3, 1, 1), c(2, 16, 16, 8, 8, 1, 1, 0), c(3, 12, 12, 13, 13, 3, 1, 1, 1, 12)]) {
      const { Hout, Wout } = convOut(g);
      const xv = randArray(g.N * g.Cin * g.H * g.W, 1);
      const wv = randArray(g.Cout * (g.Cin / g.groups) * g.k * g.k, 2);
      const dv = randArray(g.N * g.Cout * Hout * Wout, 3);
      await dev.tidy(async () => {
        const x = dev.tensor(xv, [g.N, g.Cin, g.H, g.W]);
        const w = dev.tensor(wv, [g.Cout, g.Cin / g.groups, g.k, g.k]);
        const d = dev.tensor(dv, [g.N, g.Cout, Hout, Wout]);
        const r = (g.Cin / g.groups) * g.k * g.k;
        expectClose(await conv2dForward(x, w, opts(g)).read(), conv2dRef(xv, wv, g), tol(r), 1e-4, `${describeCase(g)} forward`);
        expectClose(await conv2dBackwardInput(d, w, x.shape, opts(g)).read(), conv2dBackwardInputRef(dv, wv, g), tol(r), 1e-4, `${describeCase(g)} backward_input`);
        expectClose(await conv2dBackwardWeight(d, x, w.shape, opts(g)).read(), conv2dBackwardWeightRef(dv, xv, g), tol(g.N * Hout * Wout), 1e-4, `${describeCase(g)} backward_weight`);
      });
    }
  });

  it('conv2d autograd (input, weight, bias) matches the reference and finite differences', async () => {
    const dev = await testDevice();
    for (const [i, g] of [c(2, 3, 4, 5, 5, 3, 1, 1), c(1, 4, 4, 7, 7, 3, 2, 2, 2, 4), c(2, 3, 5, 4, 4, 1, 1, 0), c(1, 4, 6, 6, 5, 3, 2, 1, 1, 2)].entries()) {
      const { Hout, Wout } = convOut(g);
      const xs = [g.N, g.Cin, g.H, g.W];
      const ws = [g.Cout, g.Cin / g.groups, g.k, g.k];
      const ys = [g.N, g.Cout, Hout, Wout];
      const xv = randArray(xs.reduce((a, b) => a * b), 40 + i);
      const wv = randArray(ws.reduce((a, b) => a * b), 50 + i);
      const bv = randArray(g.Cout, 60 + i);
      const dv = randArray(ys.reduce((a, b) => a * b), 70 + i);
      const x = dev.tensor(xv, xs, { requiresGrad: true });
      const w = dev.tensor(wv, ws, { requiresGrad: true });
      const b = dev.tensor(bv, [g.Cout], { requiresGrad: true });
      const y = conv2d(x, w, { ...opts(g), bias: b }).retain();
      const r = (g.Cin / g.groups) * g.k * g.k;
      expectClose(await y.read(), conv2dRef(xv, wv, g, bv), tol(r), 1e-4, `${describeCase(g)} forward+bias`);
      await y.backward(dev.tensor(dv, ys));
      const dx = await x.grad!.read();
      const dw = await w.grad!.read();
      const db = await b.grad!.read();
      expectClose(dx, conv2dBackwardInputRef(dv, wv, g), tol(r), 1e-4, 'dx');
      expectClose(dw, conv2dBackwardWeightRef(dv, xv, g), tol(g.N * Hout * Wout), 1e-4, 'dweight');
      expectClose(db, conv2dBackwardBiasRef(dv, g.N, g.Cout, Hout * Wout), tol(g.N * Hout * Wout), 1e-4, 'dbias');
      const fd = { eps: 1e-2, atol: 2e-3, rtol: 1e-2, count: 3 };
      const loss = (xt: typeof x, wt: typeof w, bt: typeof b) => sum(mul(conv2d(xt, wt, { ...opts(g), bias: bt }), dev.tensor(dv, ys)));
      await checkFiniteDiff(dev, xv, xs, (t) => loss(t, dev.tensor(wv, ws), dev.tensor(bv, [g.Cout])), dx, fd);
      await checkFiniteDiff(dev, wv, ws, (t) => loss(dev.tensor(xv, xs), t, dev.tensor(bv, [g.Cout])), dw, fd);
      await checkFiniteDiff(dev, bv, [g.Cout], (t) => loss(dev.tensor(xv, xs), dev.tensor(wv, ws), t), db, fd);
      for (const t of [x, w, b, y]) t.dispose();
    }
  });

  it('rejects bad shapes and parameters with errors naming the op and the shapes', async () => {
    const dev = await testDevice();
    const x = dev.zeros([2, 6, 8, 8]);
    const w = dev.zeros([4, 3, 3, 3]);
    expect(() => conv2dForward(x, w)).toThrow(ShapeError);
    expect(() => conv2dForward(x, w)).toThrow(/conv2d: input \[2,6,8,8\], weight \[4,3,3,3\].*3 input channels per group, expected 6/);
    expect(() => conv2dForward(x, w, { groups: 4 })).toThrow(/not divisible by groups 4/);
    expect(() => conv2dForward(x, w, { groups: 2, stride: 0 })).toThrow(/stride must be an integer >= 1/);
    expect(() => conv2dForward(x, w, { groups: 2, variant: 'depthwise' })).toThrow(/depthwise path needs groups = Cin = Cout/);
    expect(() => conv2dForward(x, w, { groups: 2, dilation: 5 })).toThrow(/output would be empty/);
    expect(() => conv2dBackwardInput(x, w, [2, 6, 8, 8], { groups: 2, padding: 1 })).toThrow(/dout \[2,6,8,8\] must be \[2,4,8,8\]/);
    const y = conv2dForward(x, w, { groups: 2, padding: 1 });
    expect(y.shape).toEqual([2, 4, 8, 8]);
    for (const t of [x, w, y]) t.dispose();
  });
});
