/**
 * DARTS cell space (Liu, Simonyan & Yang, ICLR 2019): 2 input states (the outputs of the two previous
 * cells), 4 intermediate nodes, every node fed by every earlier state → 2+3+4+5 = 14 edges, 8 primitives.
 * A network has normal cells and reduction cells (stride 2 on edges that read the two input states).
 *
 * The genotype is the DARTS code's namedtuple as plain JSON:
 *   { normal: [['sep_conv_3x3', 0], ...], normal_concat: [2, 3, 4, 5], reduce: [...], reduce_concat: [...] }
 * gene 2n and 2n+1 are the two inputs of intermediate node n (state n+2); the input index names a state
 * (0, 1 = the cell inputs; 2.. = earlier intermediate nodes). darts-format.ts prints/parses the
 * Python repr `Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=range(2, 6), ...)`.
 */
import {
  type Cost, type OpShape, type SearchSpace, SearchSpaceError, zeroCost,
  addCost, argmax, bnCost, checkMatrix, convCost, convOut, deepFreeze, outputCost, softmax, sumCosts,
} from './common.js';

export const DARTS_PRIMITIVES = [
  'none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5',
] as const;
export type DartsPrimitive = (typeof DARTS_PRIMITIVES)[number];

export const DARTS_STEPS = 4;

export interface DartsEdge {
  /** intermediate node 0..steps−1 (state index to+2) */
  to: number;
  /** state it reads: 0, 1 = cell inputs, k ≥ 2 = intermediate node k−2 */
  from: number;
}

/** Edges in α-row order (the DARTS code's): node 0 ← 0,1; node 1 ← 0,1,2; …  14 for 4 steps. */
export function dartsEdges(steps = DARTS_STEPS): DartsEdge[] {
  const edges: DartsEdge[] = [];
  for (let to = 0; to < steps; to++) for (let from = 0; from < to + 2; from++) edges.push({ to, from });
  return edges;
}
export const DARTS_EDGES: readonly DartsEdge[] = deepFreeze(dartsEdges());

export type Gene = [op: DartsPrimitive, input: number];

export interface Genotype {
  normal: Gene[];
  normal_concat: number[];
  reduce: Gene[];
  reduce_concat: number[];
}

function isPrimitive(op: unknown): op is DartsPrimitive {
  return typeof op === 'string' && (DARTS_PRIMITIVES as readonly string[]).includes(op);
}

/**
 * Checks a genotype (from JSON, a parser or by hand) and returns a fresh copy. Any number of steps is
 * accepted (genes come in pairs); inputs must name earlier states; concat entries must name states.
 */
export function validateGenotype(g: unknown): Genotype {
  const fail = (why: string): never => {
    throw new SearchSpaceError(`bad DARTS genotype: ${why}`);
  };
  if (typeof g !== 'object' || g === null) fail(`expected an object, got ${g === null ? 'null' : typeof g}`);
  const o = g as Record<string, unknown>;
  const genes = (key: 'normal' | 'reduce'): Gene[] => {
    const list = o[key];
    if (!Array.isArray(list) || list.length === 0 || list.length % 2 !== 0) {
      fail(`${key} must be a non-empty list of an even number of [op, input] genes, got ${JSON.stringify(list)}`);
    }
    return (list as unknown[]).map((gene, i) => {
      if (!Array.isArray(gene) || gene.length !== 2) fail(`${key}[${i}] must be [op, input], got ${JSON.stringify(gene)}`);
      const [op, inp] = gene as unknown[];
      if (!isPrimitive(op)) fail(`${key}[${i}]: unknown op ${JSON.stringify(op)}; expected one of ${DARTS_PRIMITIVES.join(', ')}`);
      const node = Math.floor(i / 2);
      if (!Number.isInteger(inp) || (inp as number) < 0 || (inp as number) >= node + 2) {
        fail(`${key}[${i}] = ${JSON.stringify(gene)}: input of intermediate node ${node} must be a state 0..${node + 1}`);
      }
      return [op, inp] as Gene;
    });
  };
  const concat = (key: 'normal_concat' | 'reduce_concat', states: number): number[] => {
    const list = o[key];
    if (!Array.isArray(list) || list.length === 0) fail(`${key} must be a non-empty list of state indices, got ${JSON.stringify(list)}`);
    const c = list as unknown[];
    c.forEach((s, i) => {
      if (!Number.isInteger(s) || (s as number) < 0 || (s as number) >= states) fail(`${key}[${i}] = ${JSON.stringify(s)} must be a state 0..${states - 1}`);
      if (c.indexOf(s) !== i) fail(`${key} lists state ${s} twice`);
    });
    return [...(c as number[])];
  };
  const normal = genes('normal');
  const reduce = genes('reduce');
  for (const k of Object.keys(o)) {
    if (!['normal', 'normal_concat', 'reduce', 'reduce_concat'].includes(k)) fail(`unknown field "${k}"`);
  }
  return {
    normal,
    normal_concat: concat('normal_concat', normal.length / 2 + 2),
    reduce,
    reduce_concat: concat('reduce_concat', reduce.length / 2 + 2),
  };
}

/** Genotype as JSON text (it is plain data; genes are [op, input] arrays). */
export function genotypeToJson(g: Genotype, indent?: number): string {
  return JSON.stringify(validateGenotype(g), null, indent);
}

export function genotypeFromJson(text: string): Genotype {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new SearchSpaceError(`bad DARTS genotype JSON: ${(e as Error).message}`);
  }
  return validateGenotype(v);
}

export interface DeriveDartsOptions {
  /** intermediate nodes (default 4) */
  steps?: number;
  /** how many final states the cell concatenates (default = steps) */
  multiplier?: number;
  /** rank edges by softmax(α) per edge, as DARTS does (default); false ranks by the raw rows */
  softmax?: boolean;
}

/**
 * The DARTS derivation rule (model_search.py `genotype()`): per edge, weights w = softmax(α_edge); for
 * each intermediate node keep the 2 incoming edges with the largest max_{op≠none} w, strongest first
 * (ties: the lower input index first), each with op = argmax_{op≠none} w (ties: the earlier primitive).
 * α rows follow dartsEdges(steps), columns DARTS_PRIMITIVES.
 */
export function deriveDartsGenotype(
  alphaNormal: readonly (readonly number[])[],
  alphaReduce: readonly (readonly number[])[],
  opts: DeriveDartsOptions = {},
): Genotype {
  const steps = opts.steps ?? DARTS_STEPS;
  const multiplier = opts.multiplier ?? steps;
  if (!Number.isInteger(steps) || steps < 1) throw new SearchSpaceError(`deriveDartsGenotype: steps must be ≥ 1, got ${steps}`);
  if (!Number.isInteger(multiplier) || multiplier < 1 || multiplier > steps) {
    throw new SearchSpaceError(`deriveDartsGenotype: multiplier must be 1..${steps}, got ${multiplier}`);
  }
  const edges = dartsEdges(steps);
  const none = DARTS_PRIMITIVES.indexOf('none');
  const parse = (alpha: readonly (readonly number[])[], what: string): Gene[] => {
    checkMatrix(`deriveDartsGenotype ${what}`, alpha, edges.length, DARTS_PRIMITIVES.length);
    const w = alpha.map((row) => (opts.softmax === false ? [...row] : softmax(row)));
    const genes: Gene[] = [];
    for (let to = 0; to < steps; to++) {
      const rows = edges.flatMap((e, i) => (e.to === to ? [{ from: e.from, row: w[i] }] : []));
      const strength = (r: number[]): number => Math.max(...r.filter((_, k) => k !== none));
      const ranked = [...rows].sort((a, b) => strength(b.row) - strength(a.row)); // stable: ties keep input order
      for (const { from, row } of ranked.slice(0, 2)) genes.push([DARTS_PRIMITIVES[argmax(row, [none])], from]);
    }
    return genes;
  };
  const concat = Array.from({ length: multiplier }, (_, i) => 2 + steps - multiplier + i);
  return { normal: parse(alphaNormal, 'alphaNormal'), normal_concat: concat, reduce: parse(alphaReduce, 'alphaReduce'), reduce_concat: [...concat] };
}

/** The published DARTS cells (DARTS repo, cnn/genotypes.py): first- and second-order search. */
export const DARTS_V1: Readonly<Genotype> = deepFreeze(validateGenotype({
  normal: [['sep_conv_3x3', 1], ['sep_conv_3x3', 0], ['skip_connect', 0], ['sep_conv_3x3', 1], ['skip_connect', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 0], ['skip_connect', 2]],
  normal_concat: [2, 3, 4, 5],
  reduce: [['max_pool_3x3', 0], ['max_pool_3x3', 1], ['skip_connect', 2], ['max_pool_3x3', 0], ['max_pool_3x3', 0], ['skip_connect', 2], ['skip_connect', 2], ['avg_pool_3x3', 0]],
  reduce_concat: [2, 3, 4, 5],
}));
export const DARTS_V2: Readonly<Genotype> = deepFreeze(validateGenotype({
  normal: [['sep_conv_3x3', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 1], ['skip_connect', 0], ['skip_connect', 0], ['dil_conv_3x3', 2]],
  normal_concat: [2, 3, 4, 5],
  reduce: [['max_pool_3x3', 0], ['max_pool_3x3', 1], ['skip_connect', 2], ['max_pool_3x3', 1], ['max_pool_3x3', 0], ['skip_connect', 2], ['skip_connect', 2], ['max_pool_3x3', 1]],
  reduce_concat: [2, 3, 4, 5],
}));

// ---- analytic costs (conventions in common.ts) ----

/**
 * DARTS's ops (cnn/operations.py), all with Cout = C and output ⌈H/stride⌉: pools and none cost no
 * MACs or params; skip_connect is the identity, or FactorizedReduce (ReLU, two 1×1 stride-2 convs
 * C→C/2, BN) at stride 2; sep_conv_k = (ReLU, depthwise k×k, pointwise 1×1, BN) twice, the first
 * depthwise strided; dil_conv_k = ReLU, depthwise k×k dilation 2, pointwise 1×1, BN.
 * Activations as the evaluation network's modules run them (darts-net.ts DARTS_OPS): every layer's
 * output; max pooling also keeps an output-sized arg-max. The search supernet appends BN(affine=False)
 * to the pools; that BN is not counted (these are the costs of the derived child network).
 */
export const DARTS_OP_COST: Readonly<Record<DartsPrimitive, (s: OpShape) => Cost>> = Object.freeze({
  none: (s: OpShape) => checked(s, zeroCost),
  max_pool_3x3: (s: OpShape) => checked(s, () => outputCost(2 * s.C * outElements(s))),
  avg_pool_3x3: (s: OpShape) => checked(s, () => outputCost(s.C * outElements(s))),
  skip_connect: (s: OpShape) => checked(s, () => s.stride === 1 ? zeroCost() : factorizedReduce(s.C, s.C, s.H, s.W, s.affine)),
  sep_conv_3x3: (s: OpShape) => checked(s, () => sepConv(s, 3)),
  sep_conv_5x5: (s: OpShape) => checked(s, () => sepConv(s, 5)),
  dil_conv_3x3: (s: OpShape) => checked(s, () => dilConv(s, 3)),
  dil_conv_5x5: (s: OpShape) => checked(s, () => dilConv(s, 5)),
});

export const DARTS_SPACE: SearchSpace<DartsPrimitive> = Object.freeze({
  name: 'darts',
  primitives: DARTS_PRIMITIVES,
  opCost: (op: DartsPrimitive, s: OpShape) => DARTS_OP_COST[op](s),
  allows: (op: DartsPrimitive, s: OpShape) =>
    (s.Cout ?? s.C) === s.C && (s.stride === 1 || s.stride === 2) &&
    (op !== 'skip_connect' || s.stride === 1 || s.C % 2 === 0),
});

/** DARTS ops keep the channel count and use stride 1 (normal cells) or 2 (reduction cells). */
function checked(s: OpShape, cost: () => Cost): Cost {
  if (s.Cout !== undefined && s.Cout !== s.C) throw new SearchSpaceError(`DARTS ops keep the channel count; got C=${s.C}, Cout=${s.Cout}`);
  if (s.stride !== 1 && s.stride !== 2) throw new SearchSpaceError(`DARTS ops take stride 1 or 2; got ${s.stride}`);
  return cost();
}

function outSize(s: OpShape): [number, number] {
  return [Math.ceil(s.H / s.stride), Math.ceil(s.W / s.stride)];
}

function outElements(s: OpShape): number {
  const [ho, wo] = outSize(s);
  return ho * wo;
}

/** DilConv (nn/blocks.ts) C→C: ReLU (input-sized), depthwise k×k with the stride, pointwise 1×1, BN. */
function dilConv(s: OpShape, k: number): Cost {
  const [ho, wo] = outSize(s);
  return sumCosts([outputCost(s.C * s.H * s.W), convCost(s.C, s.C, k, ho, wo, s.C), convCost(s.C, s.C, 1, ho, wo), bnCost(s.C, ho, wo, s.affine)]);
}

/** SepConv: a DilConv (dilation 1) with the stride, then one at stride 1 on its output. */
function sepConv(s: OpShape, k: number): Cost {
  const [ho, wo] = outSize(s);
  return addCost(dilConv(s, k), dilConv({ ...s, H: ho, W: wo, stride: 1 }, k));
}

/**
 * FactorizedReduce(cin→cout): two 1×1 stride-2 convs cin→cout/2 on offset grids, concatenated, then BN.
 * Odd H or W (DARTS's PyTorch code fails there): the offset grid is zero-padded back to H×W (shiftCrop),
 * so both halves are ⌈H/2⌉×⌈W/2⌉ — 28×28 inputs with a stride-2 stem reach 7×7 cells. Activations: ReLU
 * and the shifted copy (cin·H·W each), the two halves, their concat and BN (cout·⌈H/2⌉·⌈W/2⌉ each).
 */
export function factorizedReduce(cin: number, cout: number, h: number, w: number, affine?: boolean): Cost {
  if (cout % 2 !== 0) throw new SearchSpaceError(`FactorizedReduce needs even output channels; got Cout=${cout}`);
  const [ho, wo] = [convOut(h, 1, 2, 0), convOut(w, 1, 2, 0)];
  const half = convCost(cin, cout / 2, 1, ho, wo);
  // ReLU and the shifted copy (input-sized), two half convs, their concat, BN
  return sumCosts([outputCost(2 * cin * h * w), half, half, outputCost(cout * ho * wo), bnCost(cout, ho, wo, affine)]);
}

/**
 * Input shape of every edge of one cell (α-row order): edges reading the two cell inputs have stride 2
 * in a reduction cell; edges reading intermediate nodes run at the cell's output resolution.
 */
export function dartsCellEdgeShapes(cell: { C: number; H: number; W: number; reduction: boolean; steps?: number; affine?: boolean }): OpShape[] {
  const hOut = cell.reduction ? Math.ceil(cell.H / 2) : cell.H;
  const wOut = cell.reduction ? Math.ceil(cell.W / 2) : cell.W;
  return dartsEdges(cell.steps).map((e) => {
    const fromInput = e.from < 2;
    const stride = cell.reduction && fromInput ? 2 : 1;
    return { C: cell.C, H: fromInput ? cell.H : hOut, W: fromInput ? cell.W : wOut, stride, affine: cell.affine };
  });
}
