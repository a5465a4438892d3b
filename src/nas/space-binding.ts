/**
 * What the search loop needs from a search space, as one record per space: the shape of α ([rows,
 * cols]: one row per edge or layer that has its own α), which columns are 'none' and 'skip', which
 * columns each row may run, the weight-sharing supernet, how α becomes a discrete architecture (and
 * back into a 0/1 selection of α entries), the child network of that architecture, and its analytic
 * cost. The search (search.ts) and the CLI know no space beyond this record.
 *
 * Derivation as data: choiceGroups lists its discrete decisions as groups of mutually exclusive options
 * (the α entries each keeps), fromChoices builds the architecture of one option per group; budgeted
 * derivation (budget-derive.ts) picks the options under a cost band the same way in every space.
 *
 *   nb201:  α [6, 5], one row per cell edge, shared by all cells.
 *   darts:  α [28, 8]: rows 0..13 the normal cell's edges (dartsEdges order), 14..27 the reduction
 *           cell's; the DARTS rule keeps the 2 strongest non-'none' inputs of each node.
 *   mbconv: α [L, 7], one row per searchable layer; 'skip' only where stride 1 and Cin = Cout.
 */
import type { Module } from '../nn/module.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { dartsChild, dartsCostConfig, dartsSupernet, type DartsModelConfig } from './darts-net.js';
import { mbconvChild, mbconvSupernet } from './mbconv-net.js';
import { nb201Child, nb201Supernet } from './nb201-net.js';
import type { EdgePlan } from './samplers.js';
import { checkMatrix, type Cost, SearchSpaceError, softmax } from './spaces/common.js';
import {
  DARTS_EDGES, DARTS_PRIMITIVES, DARTS_STEPS, deriveDartsGenotype, type Gene, type Genotype, validateGenotype,
} from './spaces/darts.js';
import { formatGenotype } from './spaces/darts-format.js';
import { dartsExpectedNetworkCost, dartsNetworkCost, type DartsNetConfig } from './spaces/darts-network.js';
import {
  deriveMbconv, formatMbconv, MBCONV_CHOICES, mbconvExpectedNetworkCost, mbconvLayers, mbconvNetworkCost,
  type MbconvArch, type MbconvSpaceConfig, validateMbconv,
} from './spaces/mbconv.js';
import {
  deriveNb201, formatNb201, NB201_PRIMITIVES, nb201Arch, nb201ExpectedNetworkCost, nb201NetworkCost, type Nb201NetConfig,
} from './spaces/nb201.js';

export const SPACES = ['nb201', 'darts', 'mbconv'] as const;
export type SpaceName = (typeof SPACES)[number];

/** Which analytic cost a table holds: multiply-adds, params, or activation elements per sample (spaces/common.ts). */
export type CostKind = keyof Cost;

/** A supernet: a module whose forward takes one plan per α row. */
export interface PlannedNetwork extends Module {
  forwardPlanned(x: Tensor, plans?: EdgePlan[]): Tensor;
}

/** A discrete architecture: its JSON form (NB201 ops, DARTS genotype, MBConv choices) and its string. */
export interface DerivedArch {
  arch: readonly string[] | Genotype;
  archStr: string;
}

/** One option of a derivation decision: the α entries it keeps and how likely it is. */
export interface ChoiceOption {
  /** flat indices row·cols + col of the α entries kept, in the order derivation lists them (DARTS: the stronger edge's gene first) */
  entries: readonly number[];
  /** Σ log p over entries (p floored at 1e-30) */
  logProb: number;
}

export interface SpaceBinding {
  readonly space: SpaceName;
  readonly rows: number;
  readonly cols: number;
  readonly primitives: readonly string[];
  /** column of 'none' (−1 when the space has none) and of the identity op */
  readonly noneIndex: number;
  readonly skipIndex: number;
  /** per row, the columns that may run; undefined: all */
  readonly allowed?: number[][];
  supernet(): PlannedNetwork;
  /** the discrete architecture of probabilities softmax(α) (rows × cols) */
  derive(probs: readonly (readonly number[])[], excludeNone: boolean): DerivedArch;
  /**
   * derivation's discrete decisions as groups of mutually exclusive options, one picked per group: one
   * group per row, one option per allowed column (nb201, mbconv); one group per (cell, node), one option
   * per pair of input edges × non-'none' op on each (darts). The most likely option of every group is
   * derive()'s architecture.
   */
  choiceGroups(probs: readonly (readonly number[])[], excludeNone: boolean): ChoiceOption[][];
  /** the architecture keeping the α entries of one picked option per group (choiceGroups' order) */
  fromChoices(picked: readonly ChoiceOption[]): DerivedArch;
  /** [rows·cols] 0/1, row-major: which α entries the architecture keeps (a dropped DARTS edge: none) */
  selection(d: DerivedArch): Float32Array;
  child(d: DerivedArch): Module;
  /** analytic multiply-adds, params and activation memory of the child network */
  cost(d: DerivedArch): Cost;
  /** multiply-adds, params or activations of each (row, col), summed over the cells that share the row; fixed parts excluded */
  costTable(kind: CostKind): Float32Array;
  /** the fixed parts' cost (stem, reductions, preprocessing, node sums, head): cost = fixed + Σ table·selection */
  fixedCost(kind: CostKind): number;
}

/**
 * The one-hot probabilities [rows·cols] of the architecture a 0/1 selection keeps: what a cost predictor
 * of α is given to price a derived architecture. A row the derivation drops (a DARTS edge outside a
 * node's top 2) has no entry selected: it runs 'none', so its one goes there; left at zero, a softmax of
 * it would be a uniform mixture of every op.
 */
export function selectionOneHot(space: Pick<SpaceBinding, 'rows' | 'cols' | 'noneIndex'>, selection: ArrayLike<number>): Float32Array {
  const { rows, cols } = space;
  if (selection.length !== rows * cols) throw new Error(`selectionOneHot: selection has ${selection.length} entries, α has ${rows}×${cols}`);
  const out = Float32Array.from(selection);
  for (let r = 0; r < rows; r++) {
    if (space.noneIndex >= 0 && out.subarray(r * cols, (r + 1) * cols).every((v) => v === 0)) out[r * cols + space.noneIndex] = 1;
  }
  return out;
}

/** Σ table·selection: what a per-(row, col) cost table says an architecture costs (fixed parts excluded). */
export function selectedCost(space: SpaceBinding, table: Float32Array, d: DerivedArch): number {
  const sel = space.selection(d);
  return table.reduce((a, v, i) => a + v * sel[i], 0);
}

/** The network knobs the CLI exposes, shared by every space. */
export interface NetKnobs {
  C: number;
  /** cells (nb201, darts) or searchable layers (mbconv) per stage */
  N: number;
  inChannels: number;
  classes: number;
  H: number;
  W: number;
  stemStride: number;
  seed: number;
}

/**
 * Per-(row, col) table of a cost that is linear in the relaxed probabilities: entry = expected(one-hot
 * at (row, col), zeros elsewhere) − expected(all zeros). Exact for MACs, params and activations, which add
 * over ops (activations: node sums are fixed parts; see spaces/nb201.ts for cells holding 'none').
 */
function zeros(rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
}

function linearTable(rows: number, cols: number, kind: CostKind, expected: (p: number[][]) => Cost, allowed?: number[][]): Float32Array {
  const zero = (): number[][] => zeros(rows, cols);
  const base = expected(zero())[kind];
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (allowed && !allowed[r].includes(c)) continue;
      const p = zero();
      p[r][c] = 1;
      out[r * cols + c] = expected(p)[kind] - base;
    }
  }
  return out;
}

function oneHotSelection(ops: readonly string[], primitives: readonly string[]): Float32Array {
  const out = new Float32Array(ops.length * primitives.length);
  ops.forEach((op, r) => (out[r * primitives.length + primitives.indexOf(op)] = 1));
  return out;
}

const logProb = (p: number): number => Math.log(Math.max(p, 1e-30));

/** One group per row, one option per column of `columns(r)`: the rows × columns spaces. */
function rowGroups(name: SpaceName, probs: readonly (readonly number[])[], rows: number, cols: number, columns: (r: number) => number[]): ChoiceOption[][] {
  checkMatrix(`${name} choiceGroups`, probs, rows, cols);
  return Array.from({ length: rows }, (_, r) => columns(r).map((c) => ({ entries: [r * cols + c], logProb: logProb(probs[r][c]) })));
}

/** The column of every row from one single-entry option per row. */
function pickedColumns(name: SpaceName, picked: readonly ChoiceOption[], rows: number, cols: number): number[] {
  const columns = new Array<number>(rows).fill(-1);
  for (const o of picked) {
    const [e] = o.entries;
    const r = Math.floor(e / cols);
    if (o.entries.length !== 1 || !(r >= 0 && r < rows) || columns[r] >= 0) {
      throw new SearchSpaceError(`${name} fromChoices: option [${o.entries.join(', ')}] is not the one α entry of a row not yet chosen (α ${rows}×${cols})`);
    }
    columns[r] = e - r * cols;
  }
  const missing = columns.indexOf(-1);
  if (missing >= 0) throw new SearchSpaceError(`${name} fromChoices: no option picked for row ${missing} of ${rows}`);
  return columns;
}

export function nb201Binding(dev: Device, k: NetKnobs): SpaceBinding {
  const netCfg = { C: k.C, N: k.N, inChannels: k.inChannels, classes: k.classes, stemStride: k.stemStride, seed: k.seed };
  // analytic costs at the resolution the cells see (a stride-2 stem costs what a stride-1 stem on the halved input does)
  const costCfg: Nb201NetConfig = { C: k.C, N: k.N, inChannels: k.inChannels, H: Math.ceil(k.H / k.stemStride), W: Math.ceil(k.W / k.stemStride), classes: k.classes };
  const P = NB201_PRIMITIVES;
  const none = P.indexOf('none');
  const fromColumns = (columns: readonly number[]): DerivedArch => {
    const arch = nb201Arch(columns.map((c) => P[c]));
    return { arch: [...arch], archStr: formatNb201(arch) };
  };
  return {
    space: 'nb201', rows: 6, cols: P.length, primitives: P, noneIndex: none, skipIndex: P.indexOf('skip_connect'),
    supernet: () => nb201Supernet(dev, netCfg),
    derive: (probs, excludeNone) => {
      const arch = deriveNb201(probs, { excludeNone });
      return { arch: [...arch], archStr: formatNb201(arch) };
    },
    choiceGroups: (probs, excludeNone) => rowGroups('nb201', probs, 6, P.length, () => [...P.keys()].filter((c) => !(excludeNone && c === none))),
    fromChoices: (picked) => fromColumns(pickedColumns('nb201', picked, 6, P.length)),
    selection: (d) => oneHotSelection(d.arch as string[], P),
    child: (d) => nb201Child(dev, netCfg, nb201Arch(d.arch as string[])),
    cost: (d) => nb201NetworkCost(nb201Arch(d.arch as string[]), costCfg),
    costTable: (kind) => linearTable(6, P.length, kind, (p) => nb201ExpectedNetworkCost(p, costCfg)),
    fixedCost: (kind) => nb201ExpectedNetworkCost(zeros(6, P.length), costCfg)[kind],
  };
}

/** DARTS search network for the knobs: 3N + 2 cells (N normal cells per stage, 2 reduction cells). */
export function dartsModelConfig(k: NetKnobs): DartsModelConfig {
  return { C: k.C, layers: 3 * k.N + 2, classes: k.classes, inChannels: k.inChannels, stemMultiplier: 3, steps: 4, multiplier: 4, affine: false, seed: k.seed, stemStride: k.stemStride };
}

export function dartsBinding(dev: Device, k: NetKnobs): SpaceBinding {
  const model = dartsModelConfig(k);
  const E = DARTS_EDGES.length;
  const P = DARTS_PRIMITIVES;
  const costCfg = (affine: boolean): DartsNetConfig => dartsCostConfig({ ...model, affine }, k.H, k.W);
  const alwaysExcludesNone = (): never => {
    throw new SearchSpaceError("DARTS derivation always excludes 'none' (the DARTS rule); --exclude-none false applies to nb201 only");
  };
  return {
    space: 'darts', rows: 2 * E, cols: P.length, primitives: P, noneIndex: P.indexOf('none'), skipIndex: P.indexOf('skip_connect'),
    supernet: () => dartsSupernet(dev, model),
    derive: (probs, excludeNone) => {
      if (!excludeNone) alwaysExcludesNone();
      // probabilities are positive: ranking by log p is ranking by p, and softmax(log p) = p
      const logs = probs.map((row) => row.map((v) => Math.log(Math.max(v, 1e-30))));
      const g = deriveDartsGenotype(logs.slice(0, E), logs.slice(E));
      return { arch: g, archStr: formatGenotype(g) };
    },
    choiceGroups: (probs, excludeNone) => (excludeNone ? dartsChoiceGroups(probs) : alwaysExcludesNone()),
    fromChoices: dartsFromChoices,
    selection: (d) => {
      const g = validateGenotype(d.arch);
      const out = new Float32Array(2 * E * P.length);
      const mark = (genes: Genotype['normal'], off: number): void => genes.forEach(([op, from], i) => {
        const row = DARTS_EDGES.findIndex((e) => e.to === Math.floor(i / 2) && e.from === from);
        out[(off + row) * P.length + P.indexOf(op)] = 1;
      });
      mark(g.normal, 0);
      mark(g.reduce, E);
      return out;
    },
    child: (d) => dartsChild(dev, { ...model, affine: true }, validateGenotype(d.arch)),
    cost: (d) => dartsNetworkCost(validateGenotype(d.arch), costCfg(true)),
    costTable: (kind) => linearTable(2 * E, P.length, kind, (p) => dartsExpectedNetworkCost(p.slice(0, E), p.slice(E), costCfg(false))),
    fixedCost: (kind) => dartsExpectedNetworkCost(zeros(E, P.length), zeros(E, P.length), costCfg(false))[kind],
  };
}

/**
 * DARTS's decisions, one group per (cell, intermediate node) — normal cell's nodes, then the reduction
 * cell's: every unordered pair of distinct input edges × every non-'none' op on each. An option's genes
 * list the stronger edge first, strength as deriveDartsGenotype ranks edges (max non-'none' softmax weight;
 * ties: the lower input first), so the most likely option of each group is the DARTS rule's choice.
 */
function dartsChoiceGroups(probs: readonly (readonly number[])[]): ChoiceOption[][] {
  const E = DARTS_EDGES.length;
  const K = DARTS_PRIMITIVES.length;
  checkMatrix('darts choiceGroups', probs, 2 * E, K);
  const none = DARTS_PRIMITIVES.indexOf('none');
  const ops = [...DARTS_PRIMITIVES.keys()].filter((c) => c !== none);
  // deriveDartsGenotype's ranking: softmax(log p) per edge, the max over non-'none' ops
  const strength = probs.map((row) => Math.max(...softmax(row.map(logProb)).filter((_, c) => c !== none)));
  const groups: ChoiceOption[][] = [];
  for (const offset of [0, E]) {
    for (let to = 0; to < DARTS_STEPS; to++) {
      const rows = DARTS_EDGES.flatMap((e, i) => (e.to === to ? [offset + i] : [])); // inputs ascending
      const options: ChoiceOption[] = [];
      for (let a = 0; a < rows.length; a++) {
        for (let b = a + 1; b < rows.length; b++) {
          const [first, second] = strength[rows[b]] > strength[rows[a]] ? [rows[b], rows[a]] : [rows[a], rows[b]];
          for (const i of ops) {
            for (const j of ops) options.push({ entries: [first * K + i, second * K + j], logProb: logProb(probs[first][i]) + logProb(probs[second][j]) });
          }
        }
      }
      groups.push(options);
    }
  }
  return groups;
}

/** The genotype keeping the picked entries: 2 distinct inputs with non-'none' ops per node, genes in entry order. */
function dartsFromChoices(picked: readonly ChoiceOption[]): DerivedArch {
  const E = DARTS_EDGES.length;
  const K = DARTS_PRIMITIVES.length;
  const nodes: Gene[][][] = [0, 1].map(() => Array.from({ length: DARTS_STEPS }, () => []));
  for (const e of picked.flatMap((o) => o.entries)) {
    const [row, col] = [Math.floor(e / K), e % K];
    if (!(row >= 0 && row < 2 * E) || DARTS_PRIMITIVES[col] === 'none') {
      throw new SearchSpaceError(`darts fromChoices: α entry ${e} is not a non-'none' op of one of the ${2 * E}×${K} α rows`);
    }
    const edge = DARTS_EDGES[row % E];
    nodes[row < E ? 0 : 1][edge.to].push([DARTS_PRIMITIVES[col], edge.from]);
  }
  nodes.forEach((cell, c) => cell.forEach((genes, to) => {
    if (genes.length !== 2 || genes[0][1] === genes[1][1]) {
      throw new SearchSpaceError(`darts fromChoices: node ${to} of the ${c ? 'reduction' : 'normal'} cell keeps ${JSON.stringify(genes)}; expected 2 distinct inputs`);
    }
  }));
  // derive's concat: every intermediate node (multiplier = steps)
  const concat = Array.from({ length: DARTS_STEPS }, (_, i) => 2 + i);
  const g = validateGenotype({ normal: nodes[0].flat(), normal_concat: concat, reduce: nodes[1].flat(), reduce_concat: [...concat] });
  return { arch: g, archStr: formatGenotype(g) };
}

/**
 * The MBConv chain for the knobs: stem C (stride stemStride), three stages of N + 1 searchable layers
 * with C, 1.5·C and 2.5·C channels (rounded to even), strides 1, 2, 2 — TINY_MBCONV_SPACE's layout
 * scaled by C / 16.
 */
export function mbconvSpaceFor(k: NetKnobs): MbconvSpaceConfig {
  const even = (v: number): number => Math.max(2, 2 * Math.round(v / 2));
  return {
    name: `mbconv-c${k.C}-n${k.N}`, inChannels: k.inChannels, stem: { channels: k.C, stride: k.stemStride },
    stages: [{ channels: k.C, layers: k.N + 1, stride: 1 }, { channels: even(1.5 * k.C), layers: k.N + 1, stride: 2 }, { channels: even(2.5 * k.C), layers: k.N + 1, stride: 2 }],
    classes: k.classes,
  };
}

export function mbconvBinding(dev: Device, k: NetKnobs): SpaceBinding {
  const space = mbconvSpaceFor(k);
  const input = { H: k.H, W: k.W };
  const layers = mbconvLayers(space, input);
  const P = MBCONV_CHOICES;
  const skip = P.indexOf('skip');
  const allowed = layers.map((l) => [...P.keys()].filter((c) => c !== skip || l.skipAllowed));
  const fromColumns = (columns: readonly number[]): DerivedArch => {
    const arch = validateMbconv(columns.map((c) => P[c]), space);
    return { arch: [...arch], archStr: formatMbconv(arch) };
  };
  return {
    space: 'mbconv', rows: layers.length, cols: P.length, primitives: P, noneIndex: -1, skipIndex: skip, allowed,
    supernet: () => mbconvSupernet(dev, space, k.seed),
    derive: (probs) => {
      const arch = deriveMbconv(probs, space);
      return { arch: [...arch], archStr: formatMbconv(arch) };
    },
    choiceGroups: (probs) => rowGroups('mbconv', probs, layers.length, P.length, (r) => allowed[r]),
    fromChoices: (picked) => fromColumns(pickedColumns('mbconv', picked, layers.length, P.length)),
    selection: (d) => oneHotSelection(d.arch as string[], P),
    child: (d) => mbconvChild(dev, space, validateMbconv(d.arch as string[], space), k.seed),
    cost: (d) => mbconvNetworkCost(d.arch as MbconvArch, space, input),
    costTable: (kind) => linearTable(layers.length, P.length, kind, (p) => mbconvExpectedNetworkCost(p, space, input), allowed),
    fixedCost: (kind) => mbconvExpectedNetworkCost(zeros(layers.length, P.length), space, input)[kind],
  };
}

export function spaceBinding(space: SpaceName, dev: Device, k: NetKnobs): SpaceBinding {
  switch (space) {
    case 'nb201':
      return nb201Binding(dev, k);
    case 'darts':
      return dartsBinding(dev, k);
    case 'mbconv':
      return mbconvBinding(dev, k);
  }
}
