// The analytic activation memory (Cost.activations, spaces/common.ts) against what the library really
// allocates: the live bytes a training forward of a child network adds to the device's allocator
// (requested bytes, not size classes; every tensor the forward creates stays alive until backward).
// Expected: exactly 4·B·activations + 8·Σ_BN channels (each training BatchNorm keeps its batch mean and
// variance, 2 floats per channel, which the per-sample count leaves out). Nets are tiny (lavapipe).
import { describe, expect, it } from 'vitest';
import { dartsChild, dartsCostConfig, dartsReductionCells, type DartsModelConfig } from '../../src/nas/darts-net.js';
import { mbconvChild } from '../../src/nas/mbconv-net.js';
import { nb201Child } from '../../src/nas/nb201-net.js';
import { DARTS_V1, DARTS_V2, type Genotype } from '../../src/nas/spaces/darts.js';
import { dartsNetworkCost } from '../../src/nas/spaces/darts-network.js';
import { mbconvNetworkCost, parseMbconv, type MbconvSpaceConfig } from '../../src/nas/spaces/mbconv.js';
import { NB201_EDGES, nb201NetworkCost, parseNb201, type Nb201Arch } from '../../src/nas/spaces/nb201.js';
import { BatchNorm2d } from '../../src/nn/layers.js';
import type { Module } from '../../src/nn/module.js';
import type { Device } from '../../src/tensor/device.js';
import { randArray, testDevice } from '../helpers.js';

/** Bytes a training forward leaves allocated (all of it freed again by the scope). */
function forwardBytes(dev: Device, net: Module, shape: number[]): number {
  const x = dev.tensor(randArray(shape.reduce((a, b) => a * b, 1), 3), shape);
  net.train(true);
  const bytes = dev.tidy(() => {
    const before = dev.memory.liveBytes;
    net.forward(x);
    return dev.memory.liveBytes - before;
  });
  x.dispose();
  return bytes;
}

/** The batch statistics the network's training BatchNorms keep: 2 floats per channel. */
function bnStatBytes(net: Module): number {
  return net.modules().reduce((a, m) => a + (m instanceof BatchNorm2d ? 8 * m.cfg.c : 0), 0);
}

describe('analytic activations = bytes a training forward allocates', () => {
  const nb201 = { C: 4, N: 1, inChannels: 1, classes: 3, seed: 1 };
  /**
   * Node sums the cells really allocate minus the convention (nodes 2 and 3 sum, node 1 does not), in
   * units of one node (C·H·W): a node with exactly one non-'none' edge allocates nothing, one with none
   * allocates zeros.
   */
  const nb201NodeCorrection = (arch: Nb201Arch): number => [1, 2, 3].reduce((corr, to) => {
    const n = NB201_EDGES.filter((e, i) => e.to === to && arch[i] !== 'none').length;
    return corr + (n === 1 ? 0 : 1) - (to >= 2 ? 1 : 0);
  }, 0);

  it.each([
    ['|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', 8, 1, 1],
    ['|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|', 9, 1, 2],
    ['|skip_connect~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_1x1~2|', 12, 2, 2],
    // 'none' edges: the node sums deviate from the convention by whole nodes (nb201NodeCorrection)
    ['|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|', 8, 1, 2],
    ['|none~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|', 8, 1, 1],
  ] as const)('nb201 %s on %i² inputs, stem stride %i, batch %i', async (str, size, stemStride, batch) => {
    const dev = await testDevice();
    const arch = parseNb201(str);
    const net = nb201Child(dev, { ...nb201, stemStride }, arch);
    const h = Math.ceil(size / stemStride);
    const cost = nb201NetworkCost(arch, { C: nb201.C, N: nb201.N, inChannels: 1, classes: nb201.classes, H: h, W: h });
    // one node of each stage's cells: C·h², 2C·(h/2)², 4C·(h/4)² (ceil on odd sizes)
    const h2 = Math.ceil(h / 2);
    const node = nb201.N * nb201.C * (h * h + 2 * h2 * h2 + 4 * Math.ceil(h2 / 2) ** 2);
    const corr = nb201NodeCorrection(arch) * node;
    expect(forwardBytes(dev, net, [batch, 1, size, size])).toBe(4 * batch * (cost.activations + corr) + bnStatBytes(net));
    net.dispose();
  });

  const darts: Omit<DartsModelConfig, 'affine'> = { C: 4, layers: 5, classes: 3, inChannels: 1, stemMultiplier: 3, stemStride: 1, seed: 1 };
  /** varied ops, 2 of 4 states concatenated in the normal cell, 1 (no concat) in the reduction cell */
  const VARIED: Genotype = {
    normal: [['sep_conv_5x5', 1], ['dil_conv_5x5', 0], ['avg_pool_3x3', 2], ['max_pool_3x3', 1], ['skip_connect', 2], ['sep_conv_3x3', 3], ['dil_conv_3x3', 4], ['skip_connect', 0]],
    normal_concat: [4, 5],
    reduce: [['skip_connect', 0], ['sep_conv_5x5', 1], ['dil_conv_5x5', 2], ['avg_pool_3x3', 0], ['max_pool_3x3', 1], ['skip_connect', 3], ['sep_conv_3x3', 4], ['dil_conv_3x3', 2]],
    reduce_concat: [5],
  };
  /**
   * Node 1 of the normal cell has one 'none' gene (no sum: one node less), node 2 two (zeros: as a sum),
   * and node 3 max-pools node 2's zeros: no gradient can reach a constant, so the pool keeps no arg-max.
   */
  const WITH_NONE: Genotype = {
    normal: [['dil_conv_5x5', 0], ['avg_pool_3x3', 1], ['sep_conv_5x5', 2], ['none', 0], ['none', 1], ['none', 3], ['max_pool_3x3', 4], ['skip_connect', 2]],
    normal_concat: [3, 4, 5],
    reduce: DARTS_V2.reduce,
    reduce_concat: DARTS_V2.reduce_concat,
  };
  /**
   * What 'none' genes change, in elements: a node with exactly one 'none' gene sums nothing (one node
   * less), and a max pool reading a node whose genes are both 'none' (zeros) keeps no arg-max (C·H·W).
   */
  const dartsNoneCorrection = (g: Genotype, size: number): number => {
    let [c, h, corr] = [darts.C, size, 0];
    for (let i = 0; i < darts.layers; i++) {
      const reduction = dartsReductionCells(darts.layers).includes(i);
      if (reduction) [c, h] = [2 * c, Math.ceil(h / 2)];
      const genes = reduction ? g.reduce : g.normal;
      const nones = (n: number): number => Number(genes[2 * n][0] === 'none') + Number(genes[2 * n + 1][0] === 'none');
      for (let n = 0; n < genes.length / 2; n++) if (nones(n) === 1) corr -= c * h * h;
      for (const [op, from] of genes) if (op === 'max_pool_3x3' && from >= 2 && nones(from - 2) === 2) corr -= c * h * h;
    }
    return corr;
  };
  const GENOTYPES: Record<string, Genotype> = { DARTS_V1, DARTS_V2, VARIED, WITH_NONE };

  it.each([
    ['DARTS_V2', 8, 1, 1],
    ['DARTS_V1', 9, 1, 2],
    ['VARIED', 9, 2, 1],
    ['WITH_NONE', 8, 1, 2],
  ] as const)('darts %s on %i² inputs, stem stride %i, batch %i', async (name, size, stemStride, batch) => {
    const dev = await testDevice();
    const g = GENOTYPES[name];
    const cfg = { ...darts, stemStride };
    const net = dartsChild(dev, cfg, g);
    const cost = dartsNetworkCost(g, dartsCostConfig({ ...cfg, affine: true }, size, size));
    const corr = dartsNoneCorrection(g, Math.ceil(size / stemStride));
    expect(forwardBytes(dev, net, [batch, 1, size, size])).toBe(4 * batch * (cost.activations + corr) + bnStatBytes(net));
    net.dispose();
  });

  /** 4 searchable layers: 4→4, 4→4 (both may skip), 4→6 stride 2, 6→6 */
  const SMALL: MbconvSpaceConfig = {
    name: 'test-small', inChannels: 2, stem: { channels: 4, stride: 1 },
    stages: [{ channels: 4, layers: 2, stride: 1 }, { channels: 6, layers: 2, stride: 2 }], classes: 3,
  };
  /** 5×5 stem at stride 2, a fixed first block (4→3, e = 1), a head: 3→3 (may skip), 3→5 stride 2, 5→5 */
  const FULL: MbconvSpaceConfig = {
    name: 'test-full', inChannels: 1, stem: { channels: 4, stride: 2, kernel: 5 },
    firstBlock: { channels: 3, kernel: 3, expansion: 1 },
    stages: [{ channels: 3, layers: 1, stride: 1 }, { channels: 5, layers: 2, stride: 2 }], head: { channels: 8 }, classes: 4,
  };
  /** first block 4→4 with e = 3, whose residual add runs */
  const RESIDUAL_FIRST: MbconvSpaceConfig = { ...FULL, name: 'test-residual-first', stem: { channels: 4, stride: 1 }, firstBlock: { channels: 4, kernel: 5, expansion: 3 } };
  const MBCONV_SPACES: Record<string, MbconvSpaceConfig> = { SMALL, FULL, RESIDUAL_FIRST };

  it.each([
    ['SMALL', 'k3e3-skip-k5e6-k7e3', 8, 7, 1],
    ['SMALL', 'k7e6-k3e6-k3e3-skip', 8, 8, 2],
    ['FULL', 'skip-k5e3-k3e6', 9, 7, 1],
    ['FULL', 'k7e6-k7e3-skip', 10, 10, 2],
    ['RESIDUAL_FIRST', 'k3e6-k5e3-k7e6', 7, 7, 1],
  ] as const)('mbconv %s %s on %i×%i, batch %i', async (name, str, H, W, batch) => {
    const dev = await testDevice();
    const space = MBCONV_SPACES[name];
    const arch = parseMbconv(str, space);
    const net = mbconvChild(dev, space, arch, 1);
    const cost = mbconvNetworkCost(arch, space, { H, W });
    expect(forwardBytes(dev, net, [batch, space.inChannels, H, W])).toBe(4 * batch * cost.activations + bnStatBytes(net));
    net.dispose();
  });
});
