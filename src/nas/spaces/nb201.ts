/**
 * NAS-Bench-201 (Dong & Yang, ICLR 2020; NATS-Bench TSS) cell space: 4 nodes, 6 edges, 5 primitives,
 * 5^6 = 15,625 cells. Arch strings read and write exactly as the benchmark lists them:
 *   |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|
 * node 1 ← 0; node 2 ← 0, 1; node 3 ← 0, 1, 2; edge e below is the e-th token of that string.
 *
 * The benchmark's own index (arch_idx, 0..15624) follows the benchmark's file order, which has no closed
 * form (not Σ op·5^e in any edge or op order); Nb201Table (src/nas/nb201-table.ts) maps it. nb201Code
 * here is a dense base-5 code of this module's own, for enumeration.
 */
import {
  type Cost, type OpShape, type SearchSpace, SearchSpaceError, zeroCost,
  addCost, argmax, bnCost, checkMatrix, convCost, convOut, deepFreeze, linearCost, outputCost, scaleCost, sumCosts,
} from './common.js';

export const NB201_PRIMITIVES = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;
export type Nb201Primitive = (typeof NB201_PRIMITIVES)[number];

export interface Nb201Edge {
  /** node the edge feeds (1..3) */
  to: number;
  /** node it reads (0..to−1) */
  from: number;
}

/** The 6 edges in arch-string order. α for this space is a 6×5 matrix: row = edge, column = primitive. */
export const NB201_EDGES: readonly Nb201Edge[] = deepFreeze([
  { to: 1, from: 0 },
  { to: 2, from: 0 }, { to: 2, from: 1 },
  { to: 3, from: 0 }, { to: 3, from: 1 }, { to: 3, from: 2 },
]);
export const NB201_NUM_EDGES = 6;
export const NB201_NUM_ARCHS = 15625;

/** One primitive per edge, in NB201_EDGES order. */
export type Nb201Arch = readonly [Nb201Primitive, Nb201Primitive, Nb201Primitive, Nb201Primitive, Nb201Primitive, Nb201Primitive];

function isPrimitive(op: string): op is Nb201Primitive {
  return (NB201_PRIMITIVES as readonly string[]).includes(op);
}

/** Checks and types a list of 6 op names. */
export function nb201Arch(ops: readonly string[]): Nb201Arch {
  if (!Array.isArray(ops) || ops.length !== NB201_NUM_EDGES) {
    throw new SearchSpaceError(`NB201 arch: expected ${NB201_NUM_EDGES} ops (one per edge), got ${Array.isArray(ops) ? ops.length : typeof ops}`);
  }
  ops.forEach((op, e) => {
    if (!isPrimitive(op)) {
      throw new SearchSpaceError(`NB201 arch: edge ${e} has unknown op "${op}"; expected one of ${NB201_PRIMITIVES.join(', ')}`);
    }
  });
  return Object.freeze([...ops]) as unknown as Nb201Arch;
}

/**
 * Parses an NB201 arch string. Inputs within a node may come in any order (each exactly once);
 * formatNb201 writes them in the benchmark's order 0, 1, 2. Errors quote the offending token.
 */
export function parseNb201(str: string): Nb201Arch {
  const fail = (why: string): never => {
    throw new SearchSpaceError(`bad NB201 arch string "${str}": ${why}`);
  };
  if (typeof str !== 'string') fail(`expected a string, got ${typeof str}`);
  const nodes = str.split('+');
  if (nodes.length !== 3) fail(`expected 3 nodes separated by "+", found ${nodes.length}`);
  const ops: string[] = new Array(NB201_NUM_EDGES);
  nodes.forEach((node, n) => {
    const to = n + 1;
    if (node.length < 3 || !node.startsWith('|') || !node.endsWith('|')) {
      fail(`node ${to} "${node}" must look like |op~input|…|`);
    }
    const tokens = node.slice(1, -1).split('|');
    if (tokens.length !== to) fail(`node ${to} "${node}" must have ${to} input(s) (0..${to - 1}), has ${tokens.length}`);
    const seen = new Set<number>();
    for (const token of tokens) {
      const parts = token.split('~');
      if (parts.length !== 2) fail(`token "${token}" (node ${to}) must be op~input`);
      const [op, inp] = parts;
      if (!isPrimitive(op)) fail(`token "${token}" (node ${to}): unknown op "${op}"; expected one of ${NB201_PRIMITIVES.join(', ')}`);
      if (!/^[0-9]+$/.test(inp) || Number(inp) >= to) fail(`token "${token}" (node ${to}): input must be a node 0..${to - 1}`);
      const from = Number(inp);
      if (seen.has(from)) fail(`token "${token}" (node ${to}): input ${from} appears twice`);
      seen.add(from);
      ops[NB201_EDGES.findIndex((e) => e.to === to && e.from === from)] = op;
    }
  });
  return nb201Arch(ops);
}

/** Writes the benchmark's arch string. */
export function formatNb201(arch: Nb201Arch): string {
  const a = nb201Arch(arch);
  const nodes = [1, 2, 3].map((to) => NB201_EDGES.map((e, i) => (e.to === to ? `${a[i]}~${e.from}|` : '')).join(''));
  return nodes.map((n) => `|${n}`).join('+');
}

/** Dense code Σ_e op_id(e)·5^e (edge order above); NOT the benchmark's arch_idx (see Nb201Table). */
export function nb201Code(arch: Nb201Arch): number {
  return nb201Arch(arch).reduce((acc, op, e) => acc + NB201_PRIMITIVES.indexOf(op) * 5 ** e, 0);
}

export function nb201FromCode(code: number): Nb201Arch {
  if (!Number.isInteger(code) || code < 0 || code >= NB201_NUM_ARCHS) {
    throw new SearchSpaceError(`NB201 code must be an integer in 0..${NB201_NUM_ARCHS - 1}, got ${code}`);
  }
  return nb201Arch(NB201_EDGES.map((_, e) => NB201_PRIMITIVES[Math.floor(code / 5 ** e) % 5]));
}

/** All 15,625 cells in nb201Code order. */
export function* allNb201Archs(): Generator<Nb201Arch> {
  for (let c = 0; c < NB201_NUM_ARCHS; c++) yield nb201FromCode(c);
}

/**
 * Discrete cell from α (6×5, rows = edges, columns = NB201_PRIMITIVES): argmax per edge, first on ties.
 * `excludeNone` (the DARTS rule) never picks 'none', so a cell cannot derive to an empty graph.
 */
export function deriveNb201(alpha: readonly (readonly number[])[], opts: { excludeNone?: boolean } = {}): Nb201Arch {
  checkMatrix('deriveNb201 alpha', alpha, NB201_NUM_EDGES, NB201_PRIMITIVES.length);
  const exclude = opts.excludeNone ? [NB201_PRIMITIVES.indexOf('none')] : [];
  return nb201Arch(alpha.map((row) => NB201_PRIMITIVES[argmax(row, exclude)]));
}

/**
 * Isomorphism key: equal keys ⇔ the cells compute the same function up to reordering of edges and
 * nodes, treating `none` as a zero (which kills its path) and `skip_connect` as the identity. Node 3's
 * expression is built bottom-up, each node being the sorted sum of its incoming terms. Grouping the
 * 15,625 cells by this key gives NB201's 6,466 classes (checked against isomorph_rep_idx in the tests).
 */
export function nb201IsomorphKey(arch: Nb201Arch): string {
  const a = nb201Arch(arch);
  const expr: string[] = ['0'];
  for (const to of [1, 2, 3]) {
    const terms: string[] = [];
    NB201_EDGES.forEach((e, i) => {
      if (e.to !== to) return;
      const src = expr[e.from];
      if (a[i] === 'none' || src === '#') terms.push('#');
      else if (a[i] === 'skip_connect') terms.push(src);
      else terms.push(`(${src})@${a[i]}`);
    });
    expr.push(terms.sort().join('+'));
  }
  return expr[3];
}

// ---- analytic costs (conventions in common.ts) ----

/**
 * NB201's ops (xautodl cell_operations), general in stride and channels although the benchmark's cells
 * use stride 1 and Cout = C: nor_conv = ReLU-Conv(no bias)-BN; skip = identity, or FactorizedReduce
 * (1×1 convs + BN) when stride ≠ 1 or Cout ≠ C; avg_pool = AvgPool 3×3 (after a ReLU-Conv1×1-BN when
 * Cout ≠ C); none = zeros. Activations follow the modules: ReLU (input-sized), conv, BN, pool outputs.
 * Only stride 1, Cout = C is built here (nb201-net.ts); the other cases follow xautodl's modules:
 * FactorizedReduce at stride 1 is Conv1×1-BN, at stride 2 it is ReLU, two half 1×1 convs (one on a
 * shifted copy of the input), concat, BN (as nn/blocks.ts FactorizedReduce); the pool takes the stride.
 */
export const NB201_OP_COST: Readonly<Record<Nb201Primitive, (s: OpShape) => Cost>> = Object.freeze({
  none: () => zeroCost(),
  skip_connect: (s: OpShape) => {
    const cout = s.Cout ?? s.C;
    if (s.stride === 1 && cout === s.C) return zeroCost();
    const ho = convOut(s.H, 1, s.stride, 0);
    const wo = convOut(s.W, 1, s.stride, 0);
    const conv = convCost(s.C, cout, 1, ho, wo); // the two halves together cost what one conv C→Cout does
    const bn = bnCost(cout, ho, wo, s.affine);
    if (s.stride === 1) return addCost(conv, bn);
    // ReLU and the shifted copy (input-sized), the half convs (= conv), their concat, BN
    return sumCosts([outputCost(2 * s.C * s.H * s.W), conv, outputCost(cout * ho * wo), bn]);
  },
  nor_conv_1x1: (s: OpShape) => norConv(s, 1),
  nor_conv_3x3: (s: OpShape) => norConv(s, 3),
  avg_pool_3x3: (s: OpShape) => {
    const cout = s.Cout ?? s.C;
    const pool = outputCost(cout * convOut(s.H, 3, s.stride, 1) * convOut(s.W, 3, s.stride, 1));
    if (cout === s.C) return pool;
    return sumCosts([outputCost(s.C * s.H * s.W), convCost(s.C, cout, 1, s.H, s.W), bnCost(cout, s.H, s.W, s.affine), pool]);
  },
});

/** ReLU → Conv k×k (stride, padding (k−1)/2) → BN */
function norConv(s: OpShape, k: number): Cost {
  const cout = s.Cout ?? s.C;
  const pad = (k - 1) / 2;
  const [ho, wo] = [convOut(s.H, k, s.stride, pad), convOut(s.W, k, s.stride, pad)];
  return sumCosts([outputCost(s.C * s.H * s.W), convCost(s.C, cout, k, ho, wo), bnCost(cout, ho, wo, s.affine)]);
}

export const NB201_SPACE: SearchSpace<Nb201Primitive> = Object.freeze({
  name: 'nb201',
  primitives: NB201_PRIMITIVES,
  opCost: (op: Nb201Primitive, s: OpShape) => NB201_OP_COST[op](s),
});

// ---- the NB201 TinyNetwork around the cell ----

/** NB201 TinyNetwork: C stem channels, N cells per stage, input H×W×inChannels, `classes` outputs. */
export interface Nb201NetConfig {
  C: number;
  N: number;
  H: number;
  W: number;
  inChannels: number;
  classes: number;
}

export const NB201_DATASETS = ['cifar10', 'cifar100', 'ImageNet16-120'] as const;
export type Nb201Dataset = (typeof NB201_DATASETS)[number];

/** The benchmark's networks (C=16, N=5) for each dataset; override fields to scale them. */
export function nb201NetConfig(dataset: Nb201Dataset = 'cifar10', over: Partial<Nb201NetConfig> = {}): Nb201NetConfig {
  const base = {
    cifar10: { H: 32, W: 32, classes: 10 },
    cifar100: { H: 32, W: 32, classes: 100 },
    'ImageNet16-120': { H: 16, W: 16, classes: 120 },
  }[dataset];
  if (!base) throw new SearchSpaceError(`unknown NB201 dataset "${dataset}"; expected one of ${NB201_DATASETS.join(', ')}`);
  return { C: 16, N: 5, inChannels: 3, ...base, ...over };
}

/**
 * The cell-independent part of the network and the input shape of the cells of each of the 3 stages:
 * stem Conv3×3(in→C)+BN; stages of C, 2C, 4C channels separated by a ResNet block
 * (ReLU-Conv3×3 s2-BN, ReLU-Conv3×3-BN, shortcut AvgPool2d(2)+Conv1×1 — AvgPool 3×3/s2/p1 on odd inputs —
 * and the residual add); then BN-ReLU-GAP-Linear. H×W is the stem's output (a strided stem: fold its
 * stride into H and W); the input image counts no activations.
 */
export function nb201Backbone(cfg: Nb201NetConfig): { fixed: Cost; stages: OpShape[] } {
  for (const k of ['C', 'N', 'H', 'W', 'inChannels', 'classes'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new SearchSpaceError(`NB201 network: ${k} must be a positive integer, got ${cfg[k]} in ${JSON.stringify(cfg)}`);
  }
  const parts: Cost[] = [convCost(cfg.inChannels, cfg.C, 3, cfg.H, cfg.W), bnCost(cfg.C, cfg.H, cfg.W)];
  let c = cfg.C;
  let h = cfg.H;
  let w = cfg.W;
  const stages: OpShape[] = [];
  for (let stage = 0; stage < 3; stage++) {
    if (stage > 0) {
      const co = 2 * c;
      const ho = convOut(h, 3, 2, 1);
      const wo = convOut(w, 3, 2, 1);
      const out = co * ho * wo;
      // odd inputs: the shortcut pools 3×3/s2/p1 (same output size as the conv path; NB201 inputs are even)
      parts.push(outputCost(c * h * w), convCost(c, co, 3, ho, wo), bnCost(co, ho, wo)); // ReLU-Conv3×3 s2-BN
      parts.push(outputCost(out), convCost(co, co, 3, ho, wo), bnCost(co, ho, wo)); // ReLU-Conv3×3-BN
      parts.push(outputCost(c * ho * wo), convCost(c, co, 1, ho, wo)); // shortcut: AvgPool2d(2) then Conv1×1
      parts.push(outputCost(out)); // residual add
      [c, h, w] = [co, ho, wo];
    }
    stages.push({ C: c, H: h, W: w, stride: 1 });
  }
  parts.push(bnCost(c, h, w), outputCost(c * h * w), outputCost(c), linearCost(c, cfg.classes)); // BN, ReLU, GAP, Linear
  return { fixed: sumCosts(parts), stages };
}

/**
 * Activations of one cell's node sums: nodes 2 and 3 have 2 and 3 incoming edges, whose outputs the cell
 * adds into a new tensor (add_n), C·H·W each. Exact when each of those nodes keeps 0 or ≥ 2 non-'none'
 * edges (0: the cell allocates zeros of the same size); a node 2 or 3 left with exactly 1 edge allocates
 * nothing (C·H·W less), and node 1 allocates zeros when its only edge is 'none' (C·H·W more).
 * A child derived with excludeNone has no 'none' edge, so it is always exact.
 */
function nodeSums(s: OpShape): Cost {
  return outputCost(2 * s.C * s.H * s.W);
}

/** FLOPs (MACs), params and activations of the whole network with this cell; FLOPs and params equal the benchmark table exactly. */
export function nb201NetworkCost(arch: Nb201Arch, cfg: Nb201NetConfig = nb201NetConfig()): Cost {
  const a = nb201Arch(arch);
  return nb201ExpectedNetworkCost(a.map((op) => NB201_PRIMITIVES.map((p) => (p === op ? 1 : 0))), cfg);
}

/**
 * Expected network cost when edge e runs primitive k with probability probs[e][k] (6×5): the fixed
 * backbone plus N cells per stage of their node sums (activations only, see nodeSums) and Σ_e Σ_k p·cost.
 * Linear in probs; one-hot rows give nb201NetworkCost.
 */
export function nb201ExpectedNetworkCost(probs: readonly (readonly number[])[], cfg: Nb201NetConfig = nb201NetConfig()): Cost {
  checkMatrix('nb201ExpectedNetworkCost probs', probs, NB201_NUM_EDGES, NB201_PRIMITIVES.length);
  const { fixed, stages } = nb201Backbone(cfg);
  let total = fixed;
  for (const shape of stages) {
    total = addCost(total, scaleCost(nodeSums(shape), cfg.N));
    const table = NB201_PRIMITIVES.map((op) => NB201_OP_COST[op](shape));
    for (const row of probs) {
      row.forEach((p, k) => {
        if (p !== 0) total = addCost(total, scaleCost(table[k], p * cfg.N));
      });
    }
  }
  return total;
}
