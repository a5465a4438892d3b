/**
 * DARTS networks (Liu, Simonyan & Yang, ICLR 2019; cnn/model_search.py and cnn/model.py): the
 * weight-sharing search supernet (every edge of every cell holds all 8 primitives; α has 14 rows for
 * the normal cells and 14 for the reduction cells, shared by all cells of a kind) and the evaluation
 * network (NetworkCIFAR) of a genotype. Both: stem conv3×3 (stemMultiplier·C) + BN → `layers` cells,
 * reduction cells (channels ×2, stride 2 on the edges reading the cell inputs) at ⌊layers/3⌋ and
 * ⌊2·layers/3⌋ → global average pool → linear classifier.
 *
 * As DARTS: a cell preprocesses its inputs (the outputs of the two previous cells) with FactorizedReduce
 * (after a reduction cell) or ReLU-Conv1×1-BN, and concatenates the last `multiplier` states (the child:
 * the genotype's concat list); the search cells use BN without affine and append BN(affine=False) to the
 * pooling ops (MixedOp). The parameter count equals dartsNetworkCost (spaces/darts-network.ts).
 * Not built: the auxiliary head and drop-path (training-time tricks of the evaluation network).
 * Added: `stemStride` (2 halves the input first, a knob for slow adapters; DARTS has 1), and odd sizes
 * work (FactorizedReduce and every strided op give ⌈H/2⌉; DARTS's FactorizedReduce needs even sizes).
 */
import { addN, concat, zeroOp } from '../ops/channels.js';
import { mixedSum, unitGate } from '../ops/mixed.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { DilConv, FactorizedReduce, Identity, ReLUConvBN, SepConv, Zero } from '../nn/blocks.js';
import { AvgPool2d, BatchNorm2d, Conv2d, GlobalAvgPool, Linear, MaxPool2d } from '../nn/layers.js';
import { Module, Sequential, type ModuleConfig } from '../nn/module.js';
import type { EdgePlan } from './samplers.js';
import { SearchSpaceError } from './spaces/common.js';
import { DARTS_PRIMITIVES, DARTS_STEPS, dartsEdges, validateGenotype, type DartsPrimitive, type Genotype } from './spaces/darts.js';
import type { DartsNetConfig } from './spaces/darts-network.js';

export interface DartsModelConfig {
  /** channels of the first cells; doubled at each reduction cell */
  C: number;
  /** cells; the ones at ⌊layers/3⌋ and ⌊2·layers/3⌋ are reduction cells */
  layers: number;
  classes: number;
  inChannels: number;
  /** the stem has stemMultiplier·C channels (DARTS: 3) */
  stemMultiplier: number;
  /** stride of the stem conv: 1 as DARTS, 2 to halve the input first */
  stemStride: number;
  /** intermediate nodes per cell (supernet only; a child takes it from its genotype). Default 4 */
  steps?: number;
  /** how many final states a cell concatenates (supernet only). Default 4 */
  multiplier?: number;
  /** BN affine inside cells (search: false, as DARTS; child: true) */
  affine: boolean;
  seed: number;
}

type OpFactory = (dev: Device, C: number, stride: number, affine: boolean, seed: number) => Module;

/** DARTS's cnn/operations.py OPS: one factory per primitive (the compiler demands each, STYLE 8). */
export const DARTS_OPS: Record<DartsPrimitive, OpFactory> = {
  none: (dev, _C, stride) => new Zero(dev, { stride }),
  avg_pool_3x3: (dev, _C, stride) => new AvgPool2d(dev, { kernel: 3, stride, padding: 1, countIncludePad: false }),
  max_pool_3x3: (dev, _C, stride) => new MaxPool2d(dev, { kernel: 3, stride, padding: 1 }),
  skip_connect: (dev, C, stride, affine, seed) => (stride === 1 ? new Identity(dev) : new FactorizedReduce(dev, { cin: C, cout: C, affine, seed })),
  sep_conv_3x3: (dev, C, stride, affine, seed) => new SepConv(dev, { cin: C, cout: C, k: 3, stride, padding: 1, affine, seed }),
  sep_conv_5x5: (dev, C, stride, affine, seed) => new SepConv(dev, { cin: C, cout: C, k: 5, stride, padding: 2, affine, seed }),
  dil_conv_3x3: (dev, C, stride, affine, seed) => new DilConv(dev, { cin: C, cout: C, k: 3, stride, padding: 2, dilation: 2, affine, seed }),
  dil_conv_5x5: (dev, C, stride, affine, seed) => new DilConv(dev, { cin: C, cout: C, k: 5, stride, padding: 4, dilation: 2, affine, seed }),
};

/** One edge of a cell: intermediate node `to` (state to+2) reads state `from` through the candidates `ops`. */
export interface DartsCellEdge {
  to: number;
  from: number;
  ops: readonly DartsPrimitive[];
}

export interface DartsCellConfig {
  /** channels of the two inputs (the outputs of the cells two back and one back) */
  cPrevPrev: number;
  cPrev: number;
  C: number;
  reduction: boolean;
  reductionPrev: boolean;
  steps: number;
  edges: readonly DartsCellEdge[];
  /** states concatenated into the output */
  concat: readonly number[];
  affine: boolean;
  /** search cell: the pooling candidates get BN(affine=False) appended, as DARTS's MixedOp */
  search: boolean;
  seed: number;
}

/** A DARTS cell; the plan of each edge (supernet) says which candidates run and with which weights. */
export class DartsCell extends Module {
  readonly preprocess0: FactorizedReduce | ReLUConvBN;
  readonly preprocess1: ReLUConvBN;
  /** candidates[e][k]: the module of edge e's k-th op (cfg.edges[e].ops[k]) */
  readonly candidates: Module[][];

  constructor(dev: Device, readonly cfg: DartsCellConfig) {
    super(dev);
    const { C, affine, seed } = cfg;
    this.preprocess0 = this.addChild('preprocess0', cfg.reductionPrev
      ? new FactorizedReduce(dev, { cin: cfg.cPrevPrev, cout: C, affine, seed: seed + 1 })
      : new ReLUConvBN(dev, { cin: cfg.cPrevPrev, cout: C, k: 1, stride: 1, padding: 0, affine, seed: seed + 1 }));
    this.preprocess1 = this.addChild('preprocess1', new ReLUConvBN(dev, { cin: cfg.cPrev, cout: C, k: 1, stride: 1, padding: 0, affine, seed: seed + 3 }));
    this.candidates = cfg.edges.map((edge, e) => edge.ops.map((op, k) => {
      const s = seed + 100 * (e + 1) + 10 * k;
      let m = DARTS_OPS[op](dev, C, this.stride(edge), affine, s);
      if (cfg.search && (op === 'max_pool_3x3' || op === 'avg_pool_3x3')) m = new Sequential(dev, [m, new BatchNorm2d(dev, { c: C, affine: false })]);
      return this.addChild(`e${e}_${edge.from}_${edge.to + 2}_${op}`, m);
    }));
  }

  /** 2 on the edges of a reduction cell that read the cell inputs, else 1 */
  stride(edge: Pick<DartsCellEdge, 'from'>): number {
    return this.cfg.reduction && edge.from < 2 ? 2 : 1;
  }

  /**
   * Edge e on input h: with a plan, the ops it names ('none' gives zeros) combined by mixedSum (or
   * the unit gate); without (a child), its single op, or null for 'none' (dropped from the node's sum).
   */
  edge(e: number, h: Tensor, plan?: EdgePlan): Tensor | null {
    const edge = this.cfg.edges[e];
    const stride = this.stride(edge);
    if (!plan) {
      if (edge.ops.length !== 1) throw new SearchSpaceError(`DartsCell edge ${e} (${edge.from}→${edge.to + 2}) holds ${edge.ops.length} candidates and needs a plan`);
      return edge.ops[0] === 'none' ? null : this.candidates[e][0].forward(h);
    }
    const outs = plan.ops.map((k) => {
      const m = this.candidates[e][k];
      if (!m) throw new SearchSpaceError(`DartsCell edge ${e}: the plan names op ${k}, the edge holds ${edge.ops.length} (${edge.ops.join(', ')})`);
      return m instanceof Zero ? zeroOp(h, stride) : m.forward(h);
    });
    return plan.unit ? unitGate(outs[0], plan.weights) : mixedSum(outs, plan.weights);
  }

  /** The cell's output from the outputs of the two previous cells; plans: one per edge (supernet). */
  forwardCell(s0: Tensor, s1: Tensor, plans?: readonly EdgePlan[]): Tensor {
    const { edges, steps } = this.cfg;
    if (plans && plans.length !== edges.length) throw new SearchSpaceError(`DartsCell: ${plans.length} plans for ${edges.length} edges`);
    const states: Tensor[] = [this.preprocess0.forward(s0), this.preprocess1.forward(s1)];
    for (let i = 0; i < steps; i++) {
      const terms: Tensor[] = [];
      edges.forEach((edge, e) => {
        if (edge.to !== i) return;
        const t = this.edge(e, states[edge.from], plans?.[e]);
        if (t) terms.push(t);
      });
      if (terms.length === 0) states.push(zeroOp(states[1], this.cfg.reduction ? 2 : 1));
      else states.push(terms.length === 1 ? terms[0] : addN(terms));
    }
    const out = this.cfg.concat.map((j) => states[j]);
    return out.length === 1 ? out[0] : concat(out);
  }

  /** Both inputs x (as the first cell, which reads the stem output twice). */
  forward(x: Tensor): Tensor {
    return this.forwardCell(x, x);
  }

  config(): ModuleConfig {
    return { type: 'DartsCell', ...this.cfg };
  }
}

/** ⌊layers/3⌋ and ⌊2·layers/3⌋, as DARTS */
export function dartsReductionCells(layers: number): number[] {
  return [Math.floor(layers / 3), Math.floor((2 * layers) / 3)];
}

/** The macro network around cells: the supernet (genotype null) or the child of a genotype. */
export class DartsNetwork extends Module {
  readonly stem: Conv2d;
  readonly stemBn: BatchNorm2d;
  readonly cells: DartsCell[] = [];
  readonly gap: GlobalAvgPool;
  readonly classifier: Linear;
  /** α rows: the normal cell's edges (dartsEdges order), then the reduction cell's (supernet: 28) */
  readonly archRows: number;
  readonly archCols = DARTS_PRIMITIVES.length;
  readonly genotype: Genotype | null;

  constructor(dev: Device, readonly cfg: DartsModelConfig, genotype: Genotype | null) {
    super(dev);
    for (const k of ['C', 'layers', 'classes', 'inChannels', 'stemMultiplier', 'stemStride'] as const) {
      if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new SearchSpaceError(`DartsNetwork: ${k} must be a positive integer, got ${cfg[k]} in ${JSON.stringify(cfg)}`);
    }
    const steps = cfg.steps ?? DARTS_STEPS;
    const multiplier = cfg.multiplier ?? steps;
    if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(multiplier) || multiplier < 1 || multiplier > steps) {
      throw new SearchSpaceError(`DartsNetwork: need steps ≥ 1 and 1 ≤ multiplier ≤ steps, got steps ${steps}, multiplier ${multiplier}`);
    }
    this.genotype = genotype ? validateGenotype(genotype) : null;
    const g = this.genotype;
    if (g && g.reduce_concat.some((s) => s < 2)) {
      throw new SearchSpaceError(`DartsNetwork: reduce_concat ${JSON.stringify(g.reduce_concat)} names a cell input (state 0 or 1), which is at twice the resolution of the intermediate nodes`);
    }
    this.archRows = 2 * dartsEdges(steps).length;
    const { C, seed } = cfg;
    const stemC = cfg.stemMultiplier * C;
    this.stem = this.addChild('stem', new Conv2d(dev, { cin: cfg.inChannels, cout: stemC, k: 3, stride: cfg.stemStride, padding: 1, seed }));
    this.stemBn = this.addChild('stem_bn', new BatchNorm2d(dev, { c: stemC }));
    let [cPrevPrev, cPrev, c] = [stemC, stemC, C];
    let reductionPrev = false;
    const reductionAt = dartsReductionCells(cfg.layers);
    for (let i = 0; i < cfg.layers; i++) {
      const reduction = reductionAt.includes(i);
      if (reduction) c *= 2;
      const cell = g ? childCell(g, reduction) : supernetCell(steps, multiplier);
      this.cells.push(this.addChild(`cell${i}`, new DartsCell(dev, {
        cPrevPrev, cPrev, C: c, reduction, reductionPrev, ...cell, affine: cfg.affine, search: !g, seed: seed + 10_000 * (i + 1),
      })));
      [cPrevPrev, cPrev] = [cPrev, cell.concat.length * c];
      reductionPrev = reduction;
    }
    this.gap = this.addChild('gap', new GlobalAvgPool(dev));
    this.classifier = this.addChild('classifier', new Linear(dev, { inF: cPrev, outF: cfg.classes, seed: seed + 3 }));
  }

  /**
   * Logits [N, classes]. The supernet needs `plans`: archRows entries, rows 0..E−1 for every normal
   * cell's edges and rows E..2E−1 for every reduction cell's (α shared by all cells of a kind).
   */
  forwardPlanned(x: Tensor, plans?: readonly EdgePlan[]): Tensor {
    if (!this.genotype && (!plans || plans.length !== this.archRows)) {
      throw new SearchSpaceError(`DartsNetwork supernet: needs ${this.archRows} edge plans (one per α row), got ${plans ? plans.length : 'none'}`);
    }
    if (this.genotype && plans) throw new SearchSpaceError('DartsNetwork: a child network (built from a genotype) takes no edge plans');
    const E = this.archRows / 2;
    const normal = plans?.slice(0, E);
    const reduce = plans?.slice(E);
    let s0 = this.stemBn.forward(this.stem.forward(x));
    let s1 = s0;
    for (const cell of this.cells) [s0, s1] = [s1, cell.forwardCell(s0, s1, cell.cfg.reduction ? reduce : normal)];
    return this.classifier.forward(this.gap.forward(s1));
  }

  forward(x: Tensor): Tensor {
    return this.forwardPlanned(x);
  }

  config(): ModuleConfig {
    return { type: 'DartsNetwork', ...this.cfg, genotype: this.genotype };
  }
}

function supernetCell(steps: number, multiplier: number): { steps: number; edges: DartsCellEdge[]; concat: number[] } {
  const edges = dartsEdges(steps).map(({ to, from }) => ({ to, from, ops: DARTS_PRIMITIVES }));
  return { steps, edges, concat: Array.from({ length: multiplier }, (_, i) => 2 + steps - multiplier + i) };
}

function childCell(g: Genotype, reduction: boolean): { steps: number; edges: DartsCellEdge[]; concat: number[] } {
  const genes = reduction ? g.reduce : g.normal;
  const edges = genes.map(([op, from], i) => ({ to: Math.floor(i / 2), from, ops: [op] }));
  return { steps: genes.length / 2, edges, concat: [...(reduction ? g.reduce_concat : g.normal_concat)] };
}

/** A model config whose BN affine defaults to the DARTS choice of the network being built. */
export type DartsBuildConfig = Omit<DartsModelConfig, 'affine'> & { affine?: boolean };

/** The search supernet: every edge holds all 8 primitives; BN without affine in the cells (default). */
export function dartsSupernet(dev: Device, cfg: DartsBuildConfig): DartsNetwork {
  return new DartsNetwork(dev, { ...cfg, affine: cfg.affine ?? false }, null);
}

/** The evaluation network of a genotype: each intermediate node sums its two genes' ops; affine BN (default). */
export function dartsChild(dev: Device, cfg: DartsBuildConfig, genotype: Genotype): DartsNetwork {
  return new DartsNetwork(dev, { ...cfg, affine: cfg.affine ?? true }, genotype);
}

/** Rebuilds a network from its config() (fresh weights from the config's seed). */
export function dartsNetworkFromConfig(dev: Device, c: ModuleConfig): DartsNetwork {
  if (c.type !== 'DartsNetwork') throw new SearchSpaceError(`dartsNetworkFromConfig: expected type DartsNetwork, got ${JSON.stringify(c.type)}`);
  const { type: _type, genotype, ...cfg } = c;
  return new DartsNetwork(dev, cfg as unknown as DartsModelConfig, (genotype ?? null) as Genotype | null);
}

/**
 * The analytic-cost config (spaces/darts-network.ts) of a network on H×W inputs: the stem's stride is
 * folded into the input size (the stem conv's cost is that of its ⌈H/s⌉×⌈W/s⌉ output either way).
 */
export function dartsCostConfig(cfg: DartsModelConfig, H: number, W: number): DartsNetConfig {
  const s = cfg.stemStride;
  return {
    C: cfg.C, layers: cfg.layers, classes: cfg.classes, H: Math.ceil(H / s), W: Math.ceil(W / s),
    inChannels: cfg.inChannels, stemMultiplier: cfg.stemMultiplier, affine: cfg.affine,
  };
}
