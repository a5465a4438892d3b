import { describe, expect, it } from 'vitest';
import {
  DartsCell, dartsChild, dartsCostConfig, dartsNetworkFromConfig, dartsSupernet, type DartsModelConfig,
} from '../../src/nas/darts-net.js';
import type { EdgePlan } from '../../src/nas/samplers.js';
import { DARTS_PRIMITIVES, DARTS_V1, DARTS_V2, type Genotype } from '../../src/nas/spaces/darts.js';
import { dartsExpectedNetworkCost, dartsNetworkCost } from '../../src/nas/spaces/darts-network.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { gather } from '../../src/ops/select.js';
import { softmax } from '../../src/ops/softmax.js';
import type { Device } from '../../src/tensor/device.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, randArray, testDevice } from '../helpers.js';

const K = DARTS_PRIMITIVES.length;
const E = 14;
const base = (over: Partial<DartsModelConfig> = {}): Omit<DartsModelConfig, 'affine'> => ({
  C: 4, layers: 3, classes: 5, inChannels: 3, stemMultiplier: 3, stemStride: 1, seed: 1, ...over,
});

/** every primitive, a node fed twice by 'none', 3 of the 4 nodes concatenated */
const MIXED: Genotype = {
  normal: [['dil_conv_5x5', 0], ['avg_pool_3x3', 1], ['sep_conv_5x5', 2], ['none', 0], ['none', 1], ['none', 3], ['max_pool_3x3', 4], ['skip_connect', 2]],
  normal_concat: [3, 4, 5],
  reduce: [['skip_connect', 0], ['dil_conv_3x3', 1], ['avg_pool_3x3', 2], ['sep_conv_3x3', 0], ['none', 1], ['skip_connect', 3], ['sep_conv_5x5', 4], ['max_pool_3x3', 1]],
  reduce_concat: [2, 3, 4, 5],
};
/** 3 intermediate nodes in the normal cell, 2 in the reduction cell */
const SHORT: Genotype = {
  normal: [['sep_conv_3x3', 0], ['skip_connect', 1], ['dil_conv_3x3', 2], ['sep_conv_3x3', 1], ['avg_pool_3x3', 3], ['skip_connect', 0]],
  normal_concat: [2, 3, 4],
  reduce: [['max_pool_3x3', 0], ['sep_conv_5x5', 1], ['skip_connect', 2], ['dil_conv_5x5', 0]],
  reduce_concat: [2, 3],
};

/** DARTS's mixture plans: every edge runs all its candidates ('none' included) with softmax(α) row weights. */
function mixturePlans(probs: Tensor): EdgePlan[] {
  return Array.from({ length: 2 * E }, (_, e) => {
    const ops = [...Array(K).keys()];
    return { ops, weights: gather(probs, ops.map((k) => e * K + k)) };
  });
}

function image(dev: Device, n: number, c: number, h: number, w: number, seed: number): Tensor {
  return dev.tensor(randArray(n * c * h * w, seed), [n, c, h, w]);
}

describe('DARTS networks', () => {
  it('child parameter counts equal dartsNetworkCost; the supernet\'s equal the all-ones expected cost', async () => {
    const dev = await testDevice();
    for (const over of [{}, { layers: 5, C: 6, classes: 10 }, { layers: 4, stemMultiplier: 2, inChannels: 1 }]) {
      for (const g of [DARTS_V2, DARTS_V1, MIXED, SHORT]) {
        const cfg = base(over);
        const net = dartsChild(dev, cfg, g);
        const want = dartsNetworkCost(g, dartsCostConfig({ ...cfg, affine: true }, 8, 8)).params;
        expect(net.numParameters(), `${JSON.stringify(over)}`).toBe(want);
        net.dispose();
        // the stem stride changes FLOPs, never parameters
        const strided = dartsChild(dev, { ...cfg, stemStride: 2 }, g);
        expect(strided.numParameters()).toBe(want);
        strided.dispose();
      }
      const cfg = base(over);
      const sup = dartsSupernet(dev, cfg);
      const ones = Array.from({ length: E }, () => new Array<number>(K).fill(1));
      // affine-free BN (cells, and after the supernet's pools) has no parameters
      expect(sup.numParameters()).toBe(dartsExpectedNetworkCost(ones, ones, dartsCostConfig({ ...cfg, affine: false }, 8, 8)).params);
      // DARTS's MixedOp appends BN(affine=False) to the pools of the search cells only
      expect(sup.cells[1].candidates[3][1].config()).toEqual({ type: 'Sequential', layers: [{ type: 'MaxPool2d', kernel: 3, stride: 2, padding: 1 }, { type: 'BatchNorm2d', c: 2 * cfg.C, affine: false }] });
      expect(sup.cells[0].candidates[0][2].config()).toMatchObject({ layers: [{ type: 'AvgPool2d', stride: 1, countIncludePad: false }, { type: 'BatchNorm2d' }] });
      expect(sup.archRows).toBe(28);
      expect(sup.archCols).toBe(8);
      sup.dispose();
    }
  });

  it('output [N, classes]; reduction cells halve H and W (odd sizes: ceil), concat sets the channels', async () => {
    const dev = await testDevice();
    const cases: { net: 'child' | 'supernet'; g?: Genotype; hw: [number, number]; stemStride: number; layers: number; sizes: [number, number][] }[] = [
      { net: 'child', g: DARTS_V2, hw: [9, 9], stemStride: 1, layers: 4, sizes: [[9, 9], [5, 5], [3, 3], [3, 3]] },
      { net: 'child', g: MIXED, hw: [7, 8], stemStride: 1, layers: 3, sizes: [[7, 8], [4, 4], [2, 2]] },
      { net: 'supernet', hw: [10, 10], stemStride: 2, layers: 3, sizes: [[5, 5], [3, 3], [2, 2]] },
    ];
    for (const cs of cases) {
      await dev.tidy(async () => {
        const cfg = base({ layers: cs.layers, stemStride: cs.stemStride });
        const net = cs.net === 'child' ? dartsChild(dev, cfg, cs.g!) : dartsSupernet(dev, cfg);
        const alpha = dev.tensor(randArray(2 * E * K, 3), [2 * E, K]);
        const plans = cs.net === 'supernet' ? mixturePlans(softmax(alpha)) : undefined;
        const x = image(dev, 2, 3, cs.hw[0], cs.hw[1], 5);
        const logits = net.forwardPlanned(x, plans);
        expect(logits.shape).toEqual([2, 5]);
        // the cells one by one, as forwardPlanned chains them
        let s0 = net.stemBn.forward(net.stem.forward(x));
        let s1 = s0;
        let c = cfg.C;
        net.cells.forEach((cell, i) => {
          if (cell.cfg.reduction) c *= 2;
          const out = cell.forwardCell(s0, s1, plans?.slice(cell.cfg.reduction ? E : 0, cell.cfg.reduction ? 2 * E : E));
          const concatLen = cs.g ? (cell.cfg.reduction ? cs.g.reduce_concat : cs.g.normal_concat).length : 4;
          expect(out.shape, `cell ${i}`).toEqual([2, concatLen * c, ...cs.sizes[i]]);
          [s0, s1] = [s1, out];
        });
        // normal cells read plan rows 0..13, reduction cells rows 14..27; stem output feeds both inputs of cell 0
        expectClose(await logits.read(), await net.classifier.forward(net.gap.forward(s1)).read(), 1e-6, 1e-6, `${cs.net} logits`);
        expect(net.cells.map((cell) => cell.cfg.reduction)).toEqual(cs.layers === 4 ? [false, true, true, false] : [false, true, true]);
        net.dispose();
      });
    }
  });

  it('a supernet reduction cell equals its candidate modules composed on the host (float64)', async () => {
    const dev = await testDevice();
    const net = dartsSupernet(dev, base({ layers: 3 }));
    const cell = net.cells[2]; // a reduction cell after a reduction cell: FactorizedReduce preprocessing
    expect([cell.cfg.reduction, cell.cfg.reductionPrev]).toEqual([true, true]);
    const [n, H] = [2, 7];
    const s0 = image(dev, n, cell.cfg.cPrevPrev, H, H, 11);
    const s1 = image(dev, n, cell.cfg.cPrev, Math.ceil(H / 2), Math.ceil(H / 2), 12);
    // edge e: all 8 ops, a subset with 'none', or a single op with a unit gate
    const plansHost = Array.from({ length: E }, (_, e) => {
      const ops = e % 3 === 0 ? [...Array(K).keys()] : e % 3 === 1 ? [0, 1, 4, 6] : [(e * 3) % K];
      return { ops, w: e % 3 === 2 ? [1] : Array.from(randArray(ops.length, 40 + e, 0.1, 1)), unit: e % 3 === 2 };
    });
    await dev.tidy(async () => {
      const plans = plansHost.map((p) => ({ ops: p.ops, weights: dev.tensor(Float32Array.from(p.w), [p.w.length]), unit: p.unit }));
      const got = await cell.forwardCell(s0, s1, plans).read();
      // host: states in float64; each candidate runs on the float32 copy of its input state
      const states: { data: Float64Array; shape: number[] }[] = [];
      for (const t of [cell.preprocess0.forward(s0), cell.preprocess1.forward(s1)]) states.push({ data: Float64Array.from(await t.read()), shape: [...t.shape] });
      for (let i = 0; i < 4; i++) {
        let node: { data: Float64Array; shape: number[] } | undefined;
        for (const [e, edge] of cell.cfg.edges.entries()) {
          if (edge.to !== i) continue;
          const h = dev.tensor(Float32Array.from(states[edge.from].data), states[edge.from].shape);
          for (const [j, k] of plansHost[e].ops.entries()) {
            const stride = cell.stride(edge);
            const shape = [n, cell.cfg.C, Math.ceil(h.shape[2] / stride), Math.ceil(h.shape[3] / stride)];
            const out = DARTS_PRIMITIVES[k] === 'none' ? new Float32Array(shape.reduce((a, b) => a * b)) : await cell.candidates[e][k].forward(h).read();
            node ??= { data: new Float64Array(out.length), shape };
            for (let q = 0; q < out.length; q++) node.data[q] += plansHost[e].w[j] * out[q];
          }
        }
        states.push(node!);
      }
      // concat of states 2..5 along channels
      const [, C, ho, wo] = states[2].shape;
      const want = new Float64Array(n * 4 * C * ho * wo);
      for (let b = 0; b < n; b++) for (let s = 0; s < 4; s++) want.set(states[2 + s].data.subarray(b * C * ho * wo, (b + 1) * C * ho * wo), (b * 4 + s) * C * ho * wo);
      expectClose(got, want, 1e-4, 1e-4, 'reduction cell');
    });
    net.dispose();
  });

  it('α gradient through the supernet is finite, reaches both cell kinds and matches finite differences', async () => {
    const dev = await testDevice();
    const net = dartsSupernet(dev, base({ layers: 3 }));
    const aData = randArray(2 * E * K, 21, -1, 1);
    const alpha = dev.parameter(aData, [2 * E, K]);
    const x = image(dev, 2, 3, 16, 16, 22);
    const y = dev.tensor(Float32Array.from([1, 3]), [2]);
    const loss = (a: Tensor): Tensor => crossEntropy(net.forwardPlanned(x, mixturePlans(softmax(a))), y);
    await dev.tidy(async () => {
      await loss(alpha).backward();
    });
    const grad = await alpha.grad!.read();
    expect(grad.every(Number.isFinite)).toBe(true);
    const rowsAbs = (from: number, to: number): number[] => Array.from(grad.subarray(from * K, to * K), Math.abs);
    expect(Math.max(...rowsAbs(0, E))).toBeGreaterThan(1e-5);
    expect(Math.max(...rowsAbs(E, 2 * E))).toBeGreaterThan(1e-5);
    // each softmax row's gradient sums to 0
    for (let e = 0; e < 2 * E; e++) expect(Math.abs(grad.subarray(e * K, (e + 1) * K).reduce((a, b) => a + b, 0))).toBeLessThan(1e-5);
    // central differences (train-mode BN on a fixed batch is deterministic) on the largest entries of each cell kind
    const top = (from: number): number => from * K + rowsAbs(from, from + E).reduce((best, v, i, arr) => (v > arr[best] ? i : best), 0);
    const eps = 3e-3;
    for (const i of [top(0), top(E)]) {
      const f = async (d: number): Promise<number> => dev.tidy(async () => {
        const a = aData.slice();
        a[i] += d;
        return (await dev.noGrad(() => loss(dev.tensor(a, [2 * E, K]))).read())[0];
      });
      const fd = ((await f(eps)) - (await f(-eps))) / (2 * eps);
      expect(Math.abs(fd - grad[i]), `dα[${i}]: finite difference ${fd}, backward ${grad[i]}`).toBeLessThanOrEqual(1e-3 + 3e-2 * Math.abs(fd));
    }
    alpha.dispose();
    net.dispose();
  });

  it('children run (with and without \'none\' genes); bad genotypes and missing plans are rejected; config round-trips', async () => {
    const dev = await testDevice();
    for (const g of [DARTS_V1, DARTS_V2, MIXED]) {
      const net = dartsChild(dev, base({ layers: 4 }), g);
      const out = await dev.tidy(() => net.forward(image(dev, 2, 3, 8, 8, 31))).read();
      expect(out.length).toBe(10);
      expect(out.every(Number.isFinite)).toBe(true);
      const again = dartsNetworkFromConfig(dev, net.config());
      expect(again.config()).toEqual(net.config());
      expect(again.numParameters()).toBe(net.numParameters());
      again.dispose();
      net.dispose();
    }
    const bad = { ...DARTS_V2, normal: DARTS_V2.normal.map(([op, inp], i) => [op, i === 5 ? 4 : inp]) } as Genotype;
    expect(() => dartsChild(dev, base(), bad)).toThrow(/normal\[5\].*input of intermediate node 2 must be a state 0\.\.3/);
    expect(() => dartsChild(dev, base(), { ...DARTS_V2, reduce_concat: [1, 2, 3] })).toThrow(/reduce_concat .* names a cell input/);
    const sup = dartsSupernet(dev, base());
    const sx = image(dev, 1, 3, 8, 8, 32);
    expect(() => sup.forward(sx)).toThrow(/needs 28 edge plans/);
    sx.dispose();
    const cfg = sup.config();
    expect(cfg).toMatchObject({ type: 'DartsNetwork', affine: false, genotype: null });
    const again = dartsNetworkFromConfig(dev, cfg);
    expect(again.numParameters()).toBe(sup.numParameters());
    expect(again.cells[1]).toBeInstanceOf(DartsCell);
    again.dispose();
    sup.dispose();
  });
});
