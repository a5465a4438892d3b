/**
 * What the search loop needs from a search space, as one record per space: the shape of α ([rows,
 * cols]: one row per edge or layer that has its own α), which columns are 'none' and 'skip', which
 * columns each row may run, the weight-sharing supernet, how α becomes a discrete architecture (and
 * back into a 0/1 selection of α entries), the child network of that architecture, and its analytic
 * cost. The search (search.ts) and the CLI know no space beyond this record.
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
import { type Cost, SearchSpaceError } from './spaces/common.js';
import { DARTS_EDGES, DARTS_PRIMITIVES, deriveDartsGenotype, type Genotype, validateGenotype } from './spaces/darts.js';
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
  /** the architecture that runs column columns[r] in row r — spaces whose rows choose independently only */
  fromColumns?(columns: readonly number[]): DerivedArch;
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

export function nb201Binding(dev: Device, k: NetKnobs): SpaceBinding {
  const netCfg = { C: k.C, N: k.N, inChannels: k.inChannels, classes: k.classes, stemStride: k.stemStride, seed: k.seed };
  // analytic costs at the resolution the cells see (a stride-2 stem costs what a stride-1 stem on the halved input does)
  const costCfg: Nb201NetConfig = { C: k.C, N: k.N, inChannels: k.inChannels, H: Math.ceil(k.H / k.stemStride), W: Math.ceil(k.W / k.stemStride), classes: k.classes };
  const P = NB201_PRIMITIVES;
  return {
    space: 'nb201', rows: 6, cols: P.length, primitives: P, noneIndex: P.indexOf('none'), skipIndex: P.indexOf('skip_connect'),
    supernet: () => nb201Supernet(dev, netCfg),
    derive: (probs, excludeNone) => {
      const arch = deriveNb201(probs, { excludeNone });
      return { arch: [...arch], archStr: formatNb201(arch) };
    },
    fromColumns: (columns) => {
      const arch = nb201Arch(columns.map((c) => P[c]));
      return { arch: [...arch], archStr: formatNb201(arch) };
    },
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
  return {
    space: 'darts', rows: 2 * E, cols: P.length, primitives: P, noneIndex: P.indexOf('none'), skipIndex: P.indexOf('skip_connect'),
    supernet: () => dartsSupernet(dev, model),
    derive: (probs, excludeNone) => {
      if (!excludeNone) throw new SearchSpaceError("DARTS derivation always excludes 'none' (the DARTS rule); --exclude-none false applies to nb201 only");
      // probabilities are positive: ranking by log p is ranking by p, and softmax(log p) = p
      const logs = probs.map((row) => row.map((v) => Math.log(Math.max(v, 1e-30))));
      const g = deriveDartsGenotype(logs.slice(0, E), logs.slice(E));
      return { arch: g, archStr: formatGenotype(g) };
    },
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
  return {
    space: 'mbconv', rows: layers.length, cols: P.length, primitives: P, noneIndex: -1, skipIndex: skip, allowed,
    supernet: () => mbconvSupernet(dev, space, k.seed),
    derive: (probs) => {
      const arch = deriveMbconv(probs, space);
      return { arch: [...arch], archStr: formatMbconv(arch) };
    },
    fromColumns: (columns) => {
      const arch = validateMbconv(columns.map((c) => P[c]), space);
      return { arch: [...arch], archStr: formatMbconv(arch) };
    },
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
