/**
 * Analytic FLOPs (multiply-adds) and parameters of DARTS networks: the evaluation network NetworkCIFAR
 * built from a genotype (DARTS_V2 at C=36, 20 cells gives the published 3.349342 M parameters and
 * 528.36 M multiply-adds), and the expectation over a relaxed supernet (probabilities per edge), which
 * a complexity regulariser needs. The auxiliary head is not counted (as DARTS's count_parameters_in_MB).
 */
import {
  type Cost, type OpShape, SearchSpaceError, addCost, bnCost, checkMatrix, convCost, linearCost, outputCost, scaleCost, sumCosts, zeroCost,
} from './common.js';
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

/**
 * What one cell contributes besides its preprocessing: the ops' cost, its intermediate nodes (steps) and
 * how many states it concatenates (multiplier).
 */
type CellOps = (cell: { reduction: boolean; C: number; H: number; W: number; affine: boolean }) => { cost: Cost; steps: number; multiplier: number };

/**
 * Activations of a cell's node sums and output: each intermediate node adds its incoming edges into a
 * new tensor (add_n), and the output concatenates `multiplier` states (no concat for 1). C·Hout·Wout each.
 * A child node has 2 genes: exact unless exactly one of them is 'none' (no sum then, C·Hout·Wout less;
 * two 'none' genes allocate zeros of the same size). Derived genotypes never hold 'none'.
 */
function cellSums(C: number, hOut: number, wOut: number, steps: number, multiplier: number): Cost {
  return outputCost((steps + (multiplier > 1 ? multiplier : 0)) * C * hOut * wOut);
}

/**
 * Stem (conv + BN), cells (with their ReLU-Conv1×1-BN / FactorizedReduce preprocessing, node sums and
 * concat), GAP, linear classifier. H×W is the stem's output (fold a strided stem into it: dartsCostConfig).
 */
function networkCost(cfg: DartsNetConfig, cellOps: CellOps): Cost {
  for (const k of ['C', 'layers', 'classes', 'H', 'W', 'inChannels', 'stemMultiplier'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new SearchSpaceError(`DARTS network: ${k} must be a positive integer, got ${cfg[k]} in ${JSON.stringify(cfg)}`);
  }
  const stemC = cfg.stemMultiplier * cfg.C;
  const parts: Cost[] = [convCost(cfg.inChannels, stemC, 3, cfg.H, cfg.W), bnCost(stemC, cfg.H, cfg.W)];
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
    const { cost, steps, multiplier } = cellOps({ reduction, C: c, H: hP, W: wP, affine: cfg.affine });
    parts.push(cost);
    [cPP, cP] = [cP, multiplier * c];
    [hPP, wPP] = [hP, wP];
    if (reduction) [hP, wP] = [Math.ceil(hP / 2), Math.ceil(wP / 2)];
    parts.push(cellSums(c, hP, wP, steps, multiplier));
    reductionPrev = reduction;
  }
  parts.push(outputCost(cP), linearCost(cP, cfg.classes)); // GAP, Linear
  return sumCosts(parts);
}

function reluConv1x1Bn(s: OpShape): Cost {
  const cout = s.Cout ?? s.C;
  return sumCosts([outputCost(s.C * s.H * s.W), convCost(s.C, cout, 1, s.H, s.W), bnCost(cout, s.H, s.W, s.affine)]);
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
    return { cost: sumCosts(costs), steps: genes.length / 2, multiplier: (reduction ? g.reduce_concat : g.normal_concat).length };
  });
}

/**
 * Expected cost of the ops of one relaxed cell: Σ_edges Σ_k probs[e][k]·cost_k(edge shape), probs in
 * dartsEdges(steps) × DARTS_PRIMITIVES order. Preprocessing, node sums and concat are not included
 * (they do not depend on α).
 */
export function dartsExpectedCellCost(
  probs: readonly (readonly number[])[],
  cell: { C: number; H: number; W: number; reduction: boolean; steps?: number; affine?: boolean },
): Cost {
  const shapes = dartsCellEdgeShapes(cell);
  checkMatrix('dartsExpectedCellCost probs', probs, shapes.length, DARTS_PRIMITIVES.length);
  let total = zeroCost();
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
    steps,
    multiplier,
  }));
}
