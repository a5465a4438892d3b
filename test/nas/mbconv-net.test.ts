// The MBConv-chain supernet and child (src/nas/mbconv-net.ts): param counts against the analytic cost
// model, shapes derived from the space, the mixed layer against a float64 sum of its candidates run
// directly, the gradient to α against finite differences, and the errors. Sizes are tiny (lavapipe).
import { describe, expect, it } from 'vitest';
import { crossEntropy } from '../../src/ops/loss.js';
import { gather } from '../../src/ops/select.js';
import { softmax } from '../../src/ops/softmax.js';
import { reshape } from '../../src/ops/shape.js';
import { MbconvNetwork, mbconvChild, mbconvSupernet } from '../../src/nas/mbconv-net.js';
import type { EdgePlan } from '../../src/nas/samplers.js';
import {
  MBCONV_CHOICES, TINY_MBCONV_SPACE, mbconvExpectedNetworkCost, mbconvLayers, mbconvNetworkCost,
  type MbconvArch, type MbconvSpaceConfig,
} from '../../src/nas/spaces/mbconv.js';
import type { Device } from '../../src/tensor/device.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { checkFiniteDiff, expectClose, randArray, testDevice } from '../helpers.js';

const K = MBCONV_CHOICES.length;
const SKIP = MBCONV_CHOICES.indexOf('skip');

/** 4 searchable layers: 4→4, 4→4 (may skip), 4→6 stride 2 (may not), 6→6 (may skip) */
const SMALL: MbconvSpaceConfig = {
  name: 'test-small',
  inChannels: 2,
  stem: { channels: 4, stride: 1 },
  stages: [{ channels: 4, layers: 2, stride: 1 }, { channels: 6, layers: 2, stride: 2 }],
  classes: 3,
};

/** 5×5 stem at stride 2, a fixed first block (4→3, e = 1), a head: 3→3 (may skip), 3→5 stride 2, 5→5 */
const FULL: MbconvSpaceConfig = {
  name: 'test-full',
  inChannels: 1,
  stem: { channels: 4, stride: 2, kernel: 5 },
  firstBlock: { channels: 3, kernel: 3, expansion: 1 },
  stages: [{ channels: 3, layers: 1, stride: 1 }, { channels: 5, layers: 2, stride: 2 }],
  head: { channels: 8 },
  classes: 4,
};

const col = (c: (typeof MBCONV_CHOICES)[number]): number => MBCONV_CHOICES.indexOf(c);

/** per row, softmax over the row's allowed α columns, as weights of a plan running all of them */
function mixturePlans(alpha: Tensor, allowed: number[][]): EdgePlan[] {
  return allowed.map((ops, l) => {
    const row = gather(alpha, ops.map((k) => l * K + k));
    return { ops, weights: reshape(softmax(reshape(row, [1, ops.length])), [ops.length]) };
  });
}

function input(dev: Device, shape: number[], seed: number): Tensor {
  return dev.tensor(randArray(shape.reduce((a, b) => a * b, 1), seed), shape);
}

describe('MBConv-chain networks', () => {
  it('child params equal mbconvNetworkCost; supernet params equal the sum over every allowed candidate', async () => {
    const dev = await testDevice();
    const cases: [MbconvSpaceConfig, MbconvArch][] = [
      [SMALL, ['k3e3', 'skip', 'k7e6', 'skip']],
      [SMALL, ['k5e6', 'k3e6', 'k5e3', 'k7e3']],
      [FULL, ['skip', 'k7e6', 'k3e3']],
      [FULL, ['k5e3', 'k3e3', 'skip']],
      [TINY_MBCONV_SPACE, ['k3e6', 'skip', 'k5e3', 'k7e6', 'skip', 'k3e3', 'skip', 'k7e3']],
    ];
    const size = { H: 9, W: 9 };
    for (const [space, arch] of cases) {
      const child = mbconvChild(dev, space, arch, 1);
      expect(child.numParameters(), `${space.name} ${arch.join('-')}`).toBe(mbconvNetworkCost(arch, space, size).params);
      expect(child.allowed).toEqual(arch.map((c) => [col(c)]));
      child.dispose();
    }
    for (const space of [SMALL, FULL, TINY_MBCONV_SPACE]) {
      const sup = mbconvSupernet(dev, space, 1);
      const layers = mbconvLayers(space, size);
      expect(sup.archRows).toBe(layers.length);
      expect(sup.archCols).toBe(K);
      expect(sup.allowed).toEqual(layers.map((l) => MBCONV_CHOICES.map((_, k) => k).filter((k) => k !== SKIP || l.skipAllowed)));
      const everyCandidate = sup.allowed.map((cols) => MBCONV_CHOICES.map((_, k) => (cols.includes(k) ? 1 : 0)));
      expect(sup.numParameters(), space.name).toBe(mbconvExpectedNetworkCost(everyCandidate, space, size).params);
      sup.dispose();
    }
  });

  it('shapes follow mbconvLayers on odd, non-square inputs (stride 2 gives ceil(H/2)); logits are [N, classes]', async () => {
    const dev = await testDevice();
    for (const [space, arch, H, W] of [[SMALL, ['k3e3', 'skip', 'k5e6', 'k7e3'], 9, 11], [FULL, ['skip', 'k3e6', 'k5e3'], 11, 13]] as const) {
      const net = mbconvChild(dev, space, arch, 2);
      const layers = mbconvLayers(space, { H, W });
      await dev.tidy(async () => dev.noGrad(() => {
        let h = net.forwardStem(input(dev, [2, space.inChannels, H, W], 3));
        layers.forEach((layer, l) => {
          expect(h.shape, `input of layer ${l}`).toEqual([2, layer.Cin, layer.H, layer.W]);
          h = net.forwardLayer(l, h);
          expect(h.shape, `output of layer ${l}`).toEqual([2, layer.Cout, Math.ceil(layer.H / layer.stride), Math.ceil(layer.W / layer.stride)]);
        });
        expect(net.forwardHead(h).shape).toEqual([2, space.classes]);
      }));
      const logits = await dev.tidy(async () => net.forward(input(dev, [2, space.inChannels, H, W], 4)).read());
      expect(logits.length).toBe(2 * space.classes);
      expect(logits.every(Number.isFinite)).toBe(true);
      net.dispose();
    }
  });

  it('a mixed layer is Σ w_k·candidate_k (float64); a unit plan is the candidate itself; unit plans of an arch reproduce its child', async () => {
    const dev = await testDevice();
    const sup = mbconvSupernet(dev, SMALL, 5);
    // (layer, ops): all 7 on a layer that may skip, the 6 MBConvs on the stride-2 layer, a subset with skip
    const cases: [number, number[], number[]][] = [[0, sup.allowed[0], [2, 4, 6, 6]], [2, sup.allowed[2], [2, 4, 6, 6]], [3, [1, SKIP, 4], [2, 6, 3, 3]]];
    for (const [ci, [l, ops, shape]] of cases.entries()) {
      await dev.tidy(async () => {
        const h = input(dev, shape, 10 + ci);
        const w = randArray(ops.length, 20 + ci, 0.05, 1);
        const got = await sup.forwardLayer(l, h, { ops, weights: dev.tensor(w) }).read();
        const outs = await Promise.all(ops.map((k) => sup.candidate(l, k).forward(h).read()));
        const want = Array.from(outs[0], (_, i) => ops.reduce((s, _k, j) => s + w[j] * outs[j][i], 0));
        expectClose(got, want, 1e-5, 1e-5, `mixed layer ${l} ops ${ops}`);
        for (const [j, k] of ops.entries()) {
          const unit = await sup.forwardLayer(l, h, { ops: [k], weights: dev.tensor([1]), unit: true }).read();
          expectClose(unit, outs[j], 0, 0, `unit plan layer ${l} op ${MBCONV_CHOICES[k]}`);
        }
      });
    }
    // candidates are seeded by (layer, column): the child of the same seed starts from the same weights
    const arch: MbconvArch = ['k5e3', 'skip', 'k3e6', 'k7e6'];
    const child = mbconvChild(dev, SMALL, arch, 5);
    await dev.tidy(async () => {
      const x = input(dev, [2, 2, 7, 7], 30);
      const plans = arch.map((c) => ({ ops: [col(c)], weights: dev.tensor([1]), unit: true }));
      expectClose(await sup.forwardPlanned(x, plans).read(), await child.forward(x).read(), 0, 0, 'supernet single path vs child');
    });
    child.dispose();
    sup.dispose();
  });

  it('cross-entropy gradient to α is finite, nonzero on allowed entries, zero on the missing skip, and matches finite differences', async () => {
    const dev = await testDevice();
    const sup = mbconvSupernet(dev, FULL, 7);
    const a = randArray(sup.archRows * K, 8, -0.5, 0.5);
    const x = input(dev, [2, 1, 8, 8], 9);
    const labels = dev.tensor([0, 3]);
    const loss = (alpha: Tensor): Tensor => crossEntropy(sup.forwardPlanned(x, mixturePlans(alpha, sup.allowed)), labels);
    const alpha = dev.tensor(a, [sup.archRows, K], { requiresGrad: true });
    await dev.tidy(async () => loss(alpha).backward());
    const g = await alpha.grad!.read();
    expect(g.every(Number.isFinite)).toBe(true);
    for (let l = 0; l < sup.archRows; l++) {
      for (let k = 0; k < K; k++) {
        if (sup.allowed[l].includes(k)) expect(Math.abs(g[l * K + k]), `dα[${l}][${k}]`).toBeGreaterThan(1e-7);
        else expect(g[l * K + k], `dα[${l}][${k}] (no candidate)`).toBe(0);
      }
    }
    // eps 1e-2 leaves up to 5% curvature error here (BN over 2 images, ReLU6); eps 1e-3 is where the central
    // difference settles (checked by hand from 3e-2 down to 1e-4, where float32 noise, ~6e-5 at 1e-3, takes over)
    await checkFiniteDiff(dev, a, [sup.archRows, K], loss, g, { eps: 1e-3, atol: 3e-4, rtol: 1e-2, count: 6, seed: 3 });
    for (const t of [alpha, x, labels]) t.dispose();
    sup.dispose();
  });

  it('errors: skip where a layer cannot skip, wrong plan count, no plan on a supernet; config round-trips', async () => {
    const dev = await testDevice();
    const sup = mbconvSupernet(dev, SMALL, 1);
    const x = input(dev, [1, 2, 5, 5], 1);
    const unit = (k: number): EdgePlan => ({ ops: [k], weights: dev.tensor([1]), unit: true });
    expect(() => sup.forwardPlanned(x, [unit(0), unit(0), unit(SKIP), unit(0)])).toThrow(/'skip' on layer 2 \(4→6 channels, stride 2\), which cannot skip/);
    expect(() => sup.forwardPlanned(x, [unit(0), unit(0), unit(0)])).toThrow(/3 plans for 4 searchable layers/);
    expect(() => sup.forward(x)).toThrow(/layer 0 holds 7 choices; running it needs a plan/);
    expect(() => sup.forwardLayer(0, x, { ops: [7], weights: dev.tensor([1]) })).toThrow(/α column 7 on layer 0/);
    expect(() => mbconvChild(dev, SMALL, ['k3e3', 'k3e3', 'skip', 'k3e3'], 1)).toThrow(/layer 2 .*cannot be skip/);
    expect(() => mbconvChild(dev, SMALL, ['k3e3', 'k3e3', 'k3e3'], 1)).toThrow(/4 searchable layers, the arch has 3/);
    expect(() => new MbconvNetwork(dev, { space: SMALL, affine: true, seed: 1 }, [['k3e3'], ['skip'], ['skip'], ['k3e3']])).toThrow(/layer 2 .*cannot be skip/);
    x.dispose();
    sup.dispose();

    const child = mbconvChild(dev, FULL, ['skip', 'k7e3', 'k5e6'], 4);
    const cfg = JSON.parse(JSON.stringify(child.config()));
    expect(cfg.type).toBe('MbconvNetwork');
    const again = new MbconvNetwork(dev, { space: cfg.space, affine: cfg.affine, seed: cfg.seed }, cfg.layerChoices);
    expect(JSON.parse(JSON.stringify(again.config()))).toEqual(cfg);
    await dev.tidy(async () => {
      const y = input(dev, [2, 1, 9, 9], 2);
      expectClose(await again.forward(y).read(), await child.forward(y).read(), 0, 0, 'rebuilt from config');
    });
    child.dispose();
    again.dispose();
  });
});
