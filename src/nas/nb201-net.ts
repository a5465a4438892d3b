/**
 * NAS-Bench-201 networks: the weight-sharing supernet (every edge holds all 5 candidates; one α [6, 5]
 * shared by all cells, as in NB201's DARTS-style baselines) and the discrete child network of a derived
 * cell. Both: stem conv3×3 + BN → N cells (C) → residual reduction (2C) → N cells → reduction (4C) →
 * N cells → BN-ReLU-GAP-Linear. `stemStride` 2 halves the input first (a knob for slow adapters).
 */
import { addN, zeroOp } from '../ops/channels.js';
import { mixedSum, unitGate } from '../ops/mixed.js';
import { relu } from '../ops/elementwise.js';
import { flatten } from '../ops/shape.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { Identity, ReLUConvBN, ResNetBasicBlock, Zero } from '../nn/blocks.js';
import { AvgPool2d, BatchNorm2d, Conv2d, GlobalAvgPool, Linear } from '../nn/layers.js';
import { Module, type ModuleConfig } from '../nn/module.js';
import type { EdgePlan } from './samplers.js';
import { NB201_EDGES, NB201_PRIMITIVES, type Nb201Primitive } from './spaces/nb201.js';

export interface Nb201ModelConfig {
  C: number;
  N: number;
  inChannels: number;
  classes: number;
  stemStride: number;
  /** BN affine inside cells (search: false, as DARTS; child: true) */
  affine: boolean;
  seed: number;
}

type OpFactory = (dev: Device, C: number, affine: boolean, seed: number) => Module;

/** One factory per primitive: the compiler demands an entry for each (STYLE 8). */
export const NB201_OPS: Record<Nb201Primitive, OpFactory> = {
  none: (dev) => new Zero(dev, { stride: 1 }),
  skip_connect: (dev) => new Identity(dev),
  nor_conv_1x1: (dev, C, affine, seed) => new ReLUConvBN(dev, { cin: C, cout: C, k: 1, stride: 1, padding: 0, affine, seed }),
  nor_conv_3x3: (dev, C, affine, seed) => new ReLUConvBN(dev, { cin: C, cout: C, k: 3, stride: 1, padding: 1, affine, seed }),
  avg_pool_3x3: (dev) => new AvgPool2d(dev, { kernel: 3, stride: 1, padding: 1 }),
};

/** A cell whose edges hold candidate ops; the plan of each edge says which run and with which weights. */
export class Nb201Cell extends Module {
  readonly candidates: Module[][];
  constructor(dev: Device, readonly C: number, readonly edgeOps: readonly (readonly Nb201Primitive[])[], affine: boolean, seed: number) {
    super(dev);
    this.candidates = edgeOps.map((ops, e) => ops.map((op, k) => this.addChild(`e${e}_${op}`, NB201_OPS[op](dev, C, affine, seed + 31 * e + k))));
  }

  private edge(e: number, h: Tensor, plan?: EdgePlan): Tensor | null {
    const cands = this.candidates[e];
    const ops = plan ? plan.ops : [0];
    const outs: Tensor[] = [];
    for (const k of ops) {
      const m = cands[k];
      // 'none' contributes zeros; a fixed-architecture edge that is 'none' is dropped from the sum
      if (m instanceof Zero && !plan) return null;
      outs.push(m instanceof Zero ? zeroOp(h, 1) : m.forward(h));
    }
    if (!plan) return outs[0];
    return plan.unit ? unitGate(outs[0], plan.weights) : mixedSum(outs, plan.weights);
  }

  forwardPlanned(x: Tensor, plans?: EdgePlan[]): Tensor {
    const nodes: Tensor[] = [x];
    for (let i = 1; i <= 3; i++) {
      const terms: Tensor[] = [];
      NB201_EDGES.forEach(({ from, to }, e) => {
        if (to !== i) return;
        const t = this.edge(e, nodes[from], plans?.[e]);
        if (t) terms.push(t);
      });
      nodes.push(terms.length === 0 ? zeroOp(x, 1) : terms.length === 1 ? terms[0] : addN(terms));
    }
    return nodes[3];
  }

  forward(x: Tensor): Tensor {
    return this.forwardPlanned(x);
  }

  config(): ModuleConfig {
    return { type: 'Nb201Cell', C: this.C, edgeOps: this.edgeOps };
  }
}

/** The macro network around cells: used by the supernet (all candidates) and the child (one per edge). */
export class Nb201Network extends Module {
  readonly stem: Conv2d;
  readonly stemBn: BatchNorm2d;
  readonly stages: (Nb201Cell | ResNetBasicBlock)[] = [];
  readonly lastBn: BatchNorm2d;
  readonly gap: GlobalAvgPool;
  readonly classifier: Linear;

  constructor(dev: Device, readonly cfg: Nb201ModelConfig, readonly edgeOps: readonly (readonly Nb201Primitive[])[]) {
    super(dev);
    const { C, N, seed } = cfg;
    this.stem = this.addChild('stem', new Conv2d(dev, { cin: cfg.inChannels, cout: C, k: 3, stride: cfg.stemStride, padding: 1, seed }));
    this.stemBn = this.addChild('stem_bn', new BatchNorm2d(dev, { c: C }));
    let c = C;
    for (let s = 0; s < 3; s++) {
      if (s > 0) {
        this.stages.push(this.addChild(`reduce${s}`, new ResNetBasicBlock(dev, { cin: c, cout: 2 * c, seed: seed + 1000 * s })));
        c *= 2;
      }
      for (let i = 0; i < N; i++) this.stages.push(this.addChild(`cell${s}_${i}`, new Nb201Cell(dev, c, edgeOps, cfg.affine, seed + 1000 * s + 100 * i)));
    }
    this.lastBn = this.addChild('last_bn', new BatchNorm2d(dev, { c }));
    this.gap = this.addChild('gap', new GlobalAvgPool(dev));
    this.classifier = this.addChild('classifier', new Linear(dev, { inF: c, outF: cfg.classes, seed: seed + 7 }));
  }

  /** logits [N, classes]; plans (one per edge, shared by all cells) for the supernet */
  forwardPlanned(x: Tensor, plans?: EdgePlan[]): Tensor {
    let h = this.stemBn.forward(this.stem.forward(x));
    for (const m of this.stages) h = m instanceof Nb201Cell ? m.forwardPlanned(h, plans) : m.forward(h);
    return this.classifier.forward(flatten(this.gap.forward(relu(this.lastBn.forward(h)))));
  }

  forward(x: Tensor): Tensor {
    return this.forwardPlanned(x);
  }

  cells(): Nb201Cell[] {
    return this.stages.filter((m): m is Nb201Cell => m instanceof Nb201Cell);
  }

  config(): ModuleConfig {
    return { type: 'Nb201Network', ...this.cfg, edgeOps: this.edgeOps };
  }
}

/** The supernet: every edge holds all primitives. */
export function nb201Supernet(dev: Device, cfg: Omit<Nb201ModelConfig, 'affine'>): Nb201Network {
  return new Nb201Network(dev, { ...cfg, affine: false }, NB201_EDGES.map(() => NB201_PRIMITIVES));
}

/** The child network of a derived cell: edge e runs ops[e] only. */
export function nb201Child(dev: Device, cfg: Omit<Nb201ModelConfig, 'affine'>, ops: readonly Nb201Primitive[]): Nb201Network {
  return new Nb201Network(dev, { ...cfg, affine: true }, ops.map((o) => [o]));
}
