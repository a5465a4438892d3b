/**
 * Analytic FLOPs (multiply-adds) and parameters of DARTS networks: the evaluation network NetworkCIFAR
 * built from a genotype (DARTS_V2 at C=36, 20 cells gives the published 3.349342 M parameters and
 * 528.36 M multiply-adds), and the expectation over a relaxed supernet (probabilities per edge), which
 * a complexity regulariser needs. The auxiliary head is not counted (as DARTS's count_parameters_in_MB).
 */
import { type Cost, type OpShape, SearchSpaceError, addCost, bnParams, checkMatrix, convCost, linearCost, scaleCost, sumCosts } from './common.js';
import {
  DARTS_OP_COST, DARTS_PRIMITIVES, DARTS_STEPS, type Genotype,
  dartsCellEdgeShapes, dartsEdges, factorizedReduce, validateGenotype,
} from './darts.js';

export interface DartsNetConfig {
  /** channels of the first cells (C); the stem has stemMultiplier·C */
  C: number;
  /** cells; the ones at layers/3 and 2·layers/3 are reduction cells */
  layers: number;
  classes: number;
  H: number;
  W: number;
  inChannels: number;
  stemMultiplier: number;
  /** BatchNorm with learnable affine inside cells (true in the evaluation network, false in the search network) */
  affine: boolean;
}

/** DARTS's CIFAR-10 evaluation network (train.py defaults: C=36, 20 layers); override fields to change it. */
export function dartsNetConfig(over: Partial<DartsNetConfig> = {}): DartsNetConfig {
  return { C: 36, layers: 20, classes: 10, H: 32, W: 32, inChannels: 3, stemMultiplier: 3, affine: true, ...over };
}

/** DARTS's search network (train_search.py defaults: C=16, 8 layers, affine-free BN in cells). */
export function dartsSearchNetConfig(over: Partial<DartsNetConfig> = {}): DartsNetConfig {
  return dartsNetConfig({ C: 16, layers: 8, affine: false, ...over });
}

/** What one cell contributes besides its preprocessing: the ops' cost and how many states it concatenates. */
type CellOps = (cell: { reduction: boolean; C: number; H: number; W: number; affine: boolean }) => { cost: Cost; multiplier: number };

/** Stem, cells (with their ReLU-Conv1×1-BN / FactorizedReduce preprocessing), GAP, linear classifier. */
function networkCost(cfg: DartsNetConfig, cellOps: CellOps): Cost {
  for (const k of ['C', 'layers', 'classes', 'H', 'W', 'inChannels', 'stemMultiplier'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new SearchSpaceError(`DARTS network: ${k} must be a positive integer, got ${cfg[k]} in ${JSON.stringify(cfg)}`);
  }
  const stemC = cfg.stemMultiplier * cfg.C;
  const parts: Cost[] = [convCost(cfg.inChannels, stemC, 3, cfg.H, cfg.W), { flops: 0, params: bnParams(stemC) }];
  let [cPP, cP, c] = [stemC, stemC, cfg.C];
  let [hPP, wPP, hP, wP] = [cfg.H, cfg.W, cfg.H, cfg.W];
  let reductionPrev = false;
  const reductionAt = [Math.floor(cfg.layers / 3), Math.floor((2 * cfg.layers) / 3)];
  for (let i = 0; i < cfg.layers; i++) {
    const reduction = reductionAt.includes(i);
    if (reduction) c *= 2;
    const pre1: OpShape = { C: cP, Cout: c, H: hP, W: wP, stride: 1, affine: cfg.affine };
    parts.push(reductionPrev ? factorizedReduce(cPP, c, hPP, wPP, cfg.affine) : reluConv1x1Bn({ ...pre1, C: cPP, H: hPP, W: wPP }));
    parts.push(reluConv1x1Bn(pre1));
    const { cost, multiplier } = cellOps({ reduction, C: c, H: hP, W: wP, affine: cfg.affine });
    parts.push(cost);
    [cPP, cP] = [cP, multiplier * c];
    [hPP, wPP] = [hP, wP];
    if (reduction) [hP, wP] = [Math.ceil(hP / 2), Math.ceil(wP / 2)];
    reductionPrev = reduction;
  }
  parts.push(linearCost(cP, cfg.classes));
  return sumCosts(parts);
}

function reluConv1x1Bn(s: OpShape): Cost {
  const cout = s.Cout ?? s.C;
  return addCost(convCost(s.C, cout, 1, s.H, s.W), { flops: 0, params: bnParams(cout, s.affine) });
}

/** The evaluation network (NetworkCIFAR) of a genotype; every op is instantiated as in DARTS's Cell. */
export function dartsNetworkCost(genotype: Genotype, cfg: DartsNetConfig = dartsNetConfig()): Cost {
  const g = validateGenotype(genotype);
  return networkCost(cfg, ({ reduction, C, H, W, affine }) => {
    const genes = reduction ? g.reduce : g.normal;
    const hOut = reduction ? Math.ceil(H / 2) : H;
    const wOut = reduction ? Math.ceil(W / 2) : W;
    const costs = genes.map(([op, input]) => {
      const fromInput = input < 2;
      const shape: OpShape = { C, H: fromInput ? H : hOut, W: fromInput ? W : wOut, stride: reduction && fromInput ? 2 : 1, affine };
      return DARTS_OP_COST[op](shape);
    });
    return { cost: sumCosts(costs), multiplier: (reduction ? g.reduce_concat : g.normal_concat).length };
  });
}

/**
 * Expected cost of the ops of one relaxed cell: Σ_edges Σ_k probs[e][k]·cost_k(edge shape), probs in
 * dartsEdges(steps) × DARTS_PRIMITIVES order. Preprocessing is not included (it does not depend on α).
 */
export function dartsExpectedCellCost(
  probs: readonly (readonly number[])[],
  cell: { C: number; H: number; W: number; reduction: boolean; steps?: number; affine?: boolean },
): Cost {
  const shapes = dartsCellEdgeShapes(cell);
  checkMatrix('dartsExpectedCellCost probs', probs, shapes.length, DARTS_PRIMITIVES.length);
  let total: Cost = { flops: 0, params: 0 };
  shapes.forEach((shape, e) => {
    DARTS_PRIMITIVES.forEach((op, k) => {
      if (probs[e][k] !== 0) total = addCost(total, scaleCost(DARTS_OP_COST[op](shape), probs[e][k]));
    });
  });
  return total;
}

/**
 * Expected cost of a whole relaxed network (DARTS's search Network by default: every edge a mixture,
 * the last `multiplier` states concatenated). One-hot rows for the 2 kept edges of each node and zero
 * rows elsewhere give dartsNetworkCost of that genotype.
 */
export function dartsExpectedNetworkCost(
  probsNormal: readonly (readonly number[])[],
  probsReduce: readonly (readonly number[])[],
  cfg: DartsNetConfig = dartsSearchNetConfig(),
  opts: { steps?: number; multiplier?: number } = {},
): Cost {
  const steps = opts.steps ?? DARTS_STEPS;
  const multiplier = opts.multiplier ?? steps;
  const rows = dartsEdges(steps).length;
  checkMatrix('dartsExpectedNetworkCost probsNormal', probsNormal, rows, DARTS_PRIMITIVES.length);
  checkMatrix('dartsExpectedNetworkCost probsReduce', probsReduce, rows, DARTS_PRIMITIVES.length);
  return networkCost(cfg, (cell) => ({
    cost: dartsExpectedCellCost(cell.reduction ? probsReduce : probsNormal, { ...cell, steps }),
    multiplier,
  }));
}
