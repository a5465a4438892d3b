/**
 * The latency-LUT plan of the DARTS and MBConv networks at one configuration (the NB201 plan is in
 * lut-build.ts): which parts are timed at which input shape, the per-(α row, α column) latency table a
 * search adds up as Σ softmax(α)·table, and the LUT sum of a discrete child. Pure: no device here;
 * space-lut.ts times the parts.
 *
 * Keys (canonical opKey; n = batch; h, w = the part's INPUT size):
 *   DARTS candidate ops (child network, affine BN; no BN after the pools — that is the search cell's):
 *     <primitive>|…|s=1 or s=2 with cin = cout = the cell's C. No key, 0 ms: 'none', and skip_connect at
 *     stride 1 (the identity); skip_connect at stride 2 is FactorizedReduce C→C and has a key.
 *   DARTS fixed parts:  conv_bn|…|k=3 (stem conv + BN), relu_conv_bn|…|s=1|k=1 (a cell's 1×1
 *     preprocessing), factorized_reduce|…|s=2 (preprocess0 after a reduction cell), node_sum_2 (the add
 *     of a node's two genes, at the cell's output size), concat_4 (cin = one state's channels,
 *     cout = 4·cin), gap_linear (global average pool + classifier; cout = classes).
 *   MBConv candidates:  mbconv_e<expansion>|…|s=<stride>|k=<kernel> (inverted residual block, identity
 *     shortcut when stride 1 and cin = cout); 'skip' has no key (0 ms).
 *   MBConv fixed parts:  conv_bn_relu6|…|k=<stem kernel> (stem), mbconv_e<e> (first block, if any),
 *     conv_bn_relu6|…|k=1 (head, if any), gap_linear.
 * Every part is a module built from its key alone (space-lut.ts), so equal keys are timed once.
 *
 * LUT sum of a child = fixed parts + Σ_(row, col) table·selection, where the table entry sums the op's
 * latency over every cell sharing the α row (DARTS: the normal cells at their different sizes for rows
 * 0..13, the 2 reduction cells for rows 14..27) and `offset` = the fixed parts of a derived child (two
 * live genes per node, 4 concatenated states). spaceLutNetworkMs adds the exact terms of any genotype.
 *
 * Layering note: the shapes come from the NAS code (src/nas), as in lut-build.ts.
 */
import { WgnasError } from '../gpu/errors.js';
import { dartsReductionCells } from '../nas/darts-net.js';
import { dartsModelConfig, mbconvSpaceFor, type NetKnobs } from '../nas/space-binding.js';
import { convOut } from '../nas/spaces/common.js';
import { DARTS_EDGES, DARTS_PRIMITIVES, DARTS_STEPS, dartsCellEdgeShapes, validateGenotype, type DartsPrimitive, type Genotype } from '../nas/spaces/darts.js';
import { MBCONV_CHOICES, mbconvChoiceParams, mbconvLayers, validateMbconv, type MbconvChoice, type MbconvSpaceConfig } from '../nas/spaces/mbconv.js';
import { opKey, type LatencyLut, type OpShape } from './lut.js';
import type { LutNetConfig } from './lut-build.js';

/** The network a DARTS or MBConv LUT is built for: the search CLI's knobs plus the batch. */
export interface SpaceLutConfig extends LutNetConfig {
  space: 'darts' | 'mbconv';
}

export type SpaceLutPartKind = 'candidate' | 'fixed';

/** One timed part: its key, what it is, and how many [n, c_in, h, w] inputs it takes. */
export interface SpaceLutPart {
  key: string;
  op: string;
  shape: OpShape;
  kind: SpaceLutPartKind;
  inputs: number;
}

export function checkSpaceLutConfig(cfg: SpaceLutConfig): void {
  if (cfg.space !== 'darts' && cfg.space !== 'mbconv') throw new WgnasError(`space LUT: space "${cfg.space}" is not darts or mbconv (nb201: lut-build.ts)`);
  for (const k of ['C', 'N', 'inChannels', 'H', 'W', 'classes', 'stemStride', 'batch'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new WgnasError(`space LUT: ${k} must be a positive integer, got ${cfg[k]} in ${JSON.stringify(cfg)}`);
  }
}

/** The search CLI's NetKnobs of the config (the seed does not change latency). */
export function spaceLutKnobs(cfg: SpaceLutConfig, seed = 1): NetKnobs {
  return { C: cfg.C, N: cfg.N, inChannels: cfg.inChannels, classes: cfg.classes, H: cfg.H, W: cfg.W, stemStride: cfg.stemStride, seed };
}

function part(op: string, shape: OpShape, kind: SpaceLutPartKind, inputs = 1): SpaceLutPart {
  return { key: opKey(op, shape), op, shape, kind, inputs };
}

// ---- DARTS ----

/** A tensor's channels and spatial size. */
export interface Feature {
  c: number;
  h: number;
  w: number;
}

/** One DARTS cell with the sizes it sees: its two inputs s0, s1, its C and its output size. */
export interface DartsCellShape {
  index: number;
  reduction: boolean;
  reductionPrev: boolean;
  C: number;
  s0: Feature;
  s1: Feature;
  /** spatial size of the intermediate nodes and the output */
  hOut: number;
  wOut: number;
}

/**
 * The cells of the DARTS network at the config, walked as DartsNetwork builds them; `concat` = how many
 * states a normal / reduction cell concatenates (the supernet and derived children: 4).
 */
export function dartsCellShapes(cfg: SpaceLutConfig, concat = { normal: 4, reduce: 4 }): DartsCellShape[] {
  checkSpaceLutConfig(cfg);
  const model = dartsModelConfig(spaceLutKnobs(cfg));
  const stem: Feature = { c: model.stemMultiplier * model.C, h: convOut(cfg.H, 3, model.stemStride, 1), w: convOut(cfg.W, 3, model.stemStride, 1) };
  const reductionAt = dartsReductionCells(model.layers);
  const cells: DartsCellShape[] = [];
  let [s0, s1, C, reductionPrev] = [stem, stem, model.C, false];
  for (let i = 0; i < model.layers; i++) {
    const reduction = reductionAt.includes(i);
    if (reduction) C *= 2;
    const hOut = reduction ? Math.ceil(s1.h / 2) : s1.h;
    const wOut = reduction ? Math.ceil(s1.w / 2) : s1.w;
    cells.push({ index: i, reduction, reductionPrev, C, s0, s1, hOut, wOut });
    [s0, s1] = [s1, { c: (reduction ? concat.reduce : concat.normal) * C, h: hOut, w: wOut }];
    reductionPrev = reduction;
  }
  return cells;
}

/** Input shape (LUT form) of each of a cell's 14 edges, α-row order (dartsCellEdgeShapes). */
export function dartsEdgeShapes(cfg: SpaceLutConfig, cell: DartsCellShape): OpShape[] {
  return dartsCellEdgeShapes({ C: cell.C, H: cell.s1.h, W: cell.s1.w, reduction: cell.reduction })
    .map((s) => ({ n: cfg.batch, c_in: s.C, c_out: s.C, h: s.H, w: s.W, stride: s.stride }));
}

/** 'none' and the stride-1 identity run nothing: 0 ms, no key. */
export function dartsOpIsFree(op: DartsPrimitive, stride: number): boolean {
  return op === 'none' || (op === 'skip_connect' && stride === 1);
}

function dartsPreprocess(cfg: SpaceLutConfig, cell: DartsCellShape): SpaceLutPart[] {
  const n = cfg.batch;
  const { C, s0, s1 } = cell;
  const p0 = cell.reductionPrev
    ? part('factorized_reduce', { n, c_in: s0.c, c_out: C, h: s0.h, w: s0.w, stride: 2 }, 'fixed')
    : part('relu_conv_bn', { n, c_in: s0.c, c_out: C, h: s0.h, w: s0.w, stride: 1, kernel: 1 }, 'fixed');
  return [p0, part('relu_conv_bn', { n, c_in: s1.c, c_out: C, h: s1.h, w: s1.w, stride: 1, kernel: 1 }, 'fixed')];
}

function nodeShape(cfg: SpaceLutConfig, cell: DartsCellShape, cout = cell.C): OpShape {
  return { n: cfg.batch, c_in: cell.C, c_out: cout, h: cell.hOut, w: cell.wOut, stride: 1 };
}

function dartsStem(cfg: SpaceLutConfig): SpaceLutPart {
  return part('conv_bn', { n: cfg.batch, c_in: cfg.inChannels, c_out: 3 * cfg.C, h: cfg.H, w: cfg.W, stride: cfg.stemStride, kernel: 3 }, 'fixed');
}

function dartsHead(cfg: SpaceLutConfig, cells: readonly DartsCellShape[], concatLen: number): SpaceLutPart {
  const last = cells[cells.length - 1];
  return part('gap_linear', { n: cfg.batch, c_in: concatLen * last.C, c_out: cfg.classes, h: last.hOut, w: last.wOut, stride: 1 }, 'fixed');
}

/** Every part a derived DARTS child at the config can run: each cell's candidates and fixed parts. */
function dartsParts(cfg: SpaceLutConfig): SpaceLutPart[] {
  const cells = dartsCellShapes(cfg);
  const out = [dartsStem(cfg)];
  for (const cell of cells) {
    out.push(...dartsPreprocess(cfg, cell), part('node_sum_2', nodeShape(cfg, cell), 'fixed', 2), part('concat_4', nodeShape(cfg, cell, 4 * cell.C), 'fixed', 4));
    for (const shape of dartsEdgeShapes(cfg, cell)) {
      for (const op of DARTS_PRIMITIVES) if (!dartsOpIsFree(op, shape.stride)) out.push(part(op, shape, 'candidate'));
    }
  }
  out.push(dartsHead(cfg, cells, 4));
  return out;
}

/** The keys a DARTS child of this genotype runs, each with how often it runs. */
function dartsTerms(cfg: SpaceLutConfig, genotype: Genotype): Map<string, number> {
  const g = validateGenotype(genotype);
  const concat = { normal: g.normal_concat.length, reduce: g.reduce_concat.length };
  const cells = dartsCellShapes(cfg, concat);
  const terms = new Map<string, number>();
  const add = (key: string): void => void terms.set(key, (terms.get(key) ?? 0) + 1);
  add(dartsStem(cfg).key);
  for (const cell of cells) {
    for (const p of dartsPreprocess(cfg, cell)) add(p.key);
    const genes = cell.reduction ? g.reduce : g.normal;
    for (let node = 0; node < genes.length / 2; node++) {
      const live = genes.slice(2 * node, 2 * node + 2).filter(([op]) => op !== 'none');
      if (live.length === 0) throw new WgnasError(`space LUT: node ${node} of the ${cell.reduction ? 'reduction' : 'normal'} cell has two 'none' genes (a zero fill the LUT does not time; derived genotypes never have one)`);
      for (const [op, from] of live) {
        const stride = cell.reduction && from < 2 ? 2 : 1;
        const [h, w] = from < 2 ? [cell.s1.h, cell.s1.w] : [cell.hOut, cell.wOut];
        if (!dartsOpIsFree(op, stride)) add(opKey(op, { n: cfg.batch, c_in: cell.C, c_out: cell.C, h, w, stride }));
      }
      if (live.length === 2) add(opKey('node_sum_2', nodeShape(cfg, cell)));
    }
    const k = cell.reduction ? concat.reduce : concat.normal;
    if (k > 1) add(opKey(`concat_${k}`, nodeShape(cfg, cell, k * cell.C)));
  }
  add(dartsHead(cfg, cells, concat[cells[cells.length - 1].reduction ? 'reduce' : 'normal']).key);
  return terms;
}

// ---- MBConv ----

export function mbconvLutSpace(cfg: SpaceLutConfig): MbconvSpaceConfig {
  checkSpaceLutConfig(cfg);
  return mbconvSpaceFor(spaceLutKnobs(cfg));
}

/** The key of choice `choice` on an input of `shape` (null for 'skip'). */
export function mbconvChoiceKey(choice: MbconvChoice, shape: OpShape): string | null {
  const kp = mbconvChoiceParams(choice);
  return kp ? opKey(`mbconv_e${kp.expansion}`, { ...shape, kernel: kp.kernel }) : null;
}

/** Each searchable layer's input shape (LUT form), α-row order. */
export function mbconvLayerShapes(cfg: SpaceLutConfig): OpShape[] {
  return mbconvLayers(mbconvLutSpace(cfg), { H: cfg.H, W: cfg.W }).map((l) => ({ n: cfg.batch, c_in: l.Cin, c_out: l.Cout, h: l.H, w: l.W, stride: l.stride }));
}

function mbconvFixed(cfg: SpaceLutConfig): SpaceLutPart[] {
  const space = mbconvLutSpace(cfg);
  const n = cfg.batch;
  const k = space.stem.kernel ?? 3;
  const out = [part('conv_bn_relu6', { n, c_in: space.inChannels, c_out: space.stem.channels, h: cfg.H, w: cfg.W, stride: space.stem.stride, kernel: k }, 'fixed')];
  const h = convOut(cfg.H, k, space.stem.stride, (k - 1) >> 1);
  const w = convOut(cfg.W, k, space.stem.stride, (k - 1) >> 1);
  const f = space.firstBlock;
  if (f) out.push(part(`mbconv_e${f.expansion}`, { n, c_in: space.stem.channels, c_out: f.channels, h, w, stride: 1, kernel: f.kernel }, 'fixed'));
  const last = mbconvLayerShapes(cfg).at(-1)!;
  const end = { n, h: Math.ceil(last.h / last.stride), w: Math.ceil(last.w / last.stride), stride: 1 };
  let c = last.c_out;
  if (space.head) {
    out.push(part('conv_bn_relu6', { ...end, c_in: c, c_out: space.head.channels, kernel: 1 }, 'fixed'));
    c = space.head.channels;
  }
  out.push(part('gap_linear', { ...end, c_in: c, c_out: cfg.classes }, 'fixed'));
  return out;
}

function mbconvParts(cfg: SpaceLutConfig): SpaceLutPart[] {
  const layers = mbconvLayerShapes(cfg);
  const candidates = layers.flatMap((shape) => MBCONV_CHOICES.flatMap((choice) => {
    const kp = mbconvChoiceParams(choice);
    return kp ? [part(`mbconv_e${kp.expansion}`, { ...shape, kernel: kp.kernel }, 'candidate')] : [];
  }));
  return [...mbconvFixed(cfg), ...candidates];
}

function mbconvTerms(cfg: SpaceLutConfig, arch: readonly string[]): Map<string, number> {
  const a = validateMbconv(arch, mbconvLutSpace(cfg));
  const terms = new Map<string, number>();
  const add = (key: string): void => void terms.set(key, (terms.get(key) ?? 0) + 1);
  for (const p of mbconvFixed(cfg)) add(p.key);
  mbconvLayerShapes(cfg).forEach((shape, l) => {
    const key = mbconvChoiceKey(a[l], shape);
    if (key) add(key);
  });
  return terms;
}

// ---- both spaces ----

/** Every part the network at the config can run, each key once (first occurrence kept). */
export function spaceLutParts(cfg: SpaceLutConfig): SpaceLutPart[] {
  checkSpaceLutConfig(cfg);
  const all = cfg.space === 'darts' ? dartsParts(cfg) : mbconvParts(cfg);
  const byKey = new Map<string, SpaceLutPart>();
  for (const p of all) if (!byKey.has(p.key)) byKey.set(p.key, p);
  return [...byKey.values()];
}

/** A discrete architecture: a DARTS genotype or an MBConv choice list (SpaceBinding's DerivedArch.arch). */
export type SpaceArch = Genotype | readonly string[];

/** The keys the child network of `arch` runs, each with how often it runs (0 ms ops have none). */
export function spaceNetworkTerms(cfg: SpaceLutConfig, arch: SpaceArch): Map<string, number> {
  checkSpaceLutConfig(cfg);
  if (cfg.space === 'darts') return dartsTerms(cfg, arch as Genotype);
  if (!Array.isArray(arch)) throw new WgnasError(`space LUT (mbconv): expected a list of choices, got ${JSON.stringify(arch).slice(0, 80)}`);
  return mbconvTerms(cfg, arch);
}

function entryMs(lut: LatencyLut, key: string): number {
  const e = lut.entries[key];
  if (!e) throw new WgnasError(`LUT has no entry ${key} (adapter ${lut.adapter.description || lut.adapter.device}); build the table for this network config with \`wgnas lut --space …\``);
  return e.medianMs;
}

/** The LUT's prediction (ms) for the whole child network of `arch`: Σ count·latency over its terms. */
export function spaceLutNetworkMs(lut: LatencyLut, cfg: SpaceLutConfig, arch: SpaceArch): number {
  let total = 0;
  for (const [key, count] of spaceNetworkTerms(cfg, arch)) total += count * entryMs(lut, key);
  return total;
}

/** The α-shaped latency table of a space; `offset` = the fixed parts of a derived child. */
export interface SpaceLatencyTable {
  rows: number;
  cols: number;
  primitives: readonly string[];
  /** [rows·cols] ms, row-major, summed over the cells sharing the row; 0 for free and disallowed entries */
  table: Float32Array;
  /** ms of the architecture-independent parts: LUT sum of a derived child = offset + Σ table·selection */
  offset: number;
}

/** The per-(α row, α column) latency table (ms) and fixed offset; rows and columns as the SpaceBinding's. */
export function spaceLatencyTable(lut: LatencyLut, cfg: SpaceLutConfig): SpaceLatencyTable {
  checkSpaceLutConfig(cfg);
  if (cfg.space === 'darts') {
    const E = DARTS_EDGES.length;
    const P = DARTS_PRIMITIVES;
    const table = new Float32Array(2 * E * P.length);
    const cells = dartsCellShapes(cfg);
    for (const cell of cells) {
      const base = cell.reduction ? E : 0;
      dartsEdgeShapes(cfg, cell).forEach((shape, e) => P.forEach((op, k) => {
        if (!dartsOpIsFree(op, shape.stride)) table[(base + e) * P.length + k] += entryMs(lut, opKey(op, shape));
      }));
    }
    let offset = entryMs(lut, dartsStem(cfg).key) + entryMs(lut, dartsHead(cfg, cells, 4).key);
    for (const cell of cells) {
      for (const p of dartsPreprocess(cfg, cell)) offset += entryMs(lut, p.key);
      offset += DARTS_STEPS * entryMs(lut, opKey('node_sum_2', nodeShape(cfg, cell))) + entryMs(lut, opKey('concat_4', nodeShape(cfg, cell, 4 * cell.C)));
    }
    return { rows: 2 * E, cols: P.length, primitives: P, table, offset };
  }
  const P = MBCONV_CHOICES;
  const layers = mbconvLayerShapes(cfg);
  const table = new Float32Array(layers.length * P.length);
  layers.forEach((shape, l) => P.forEach((choice, k) => {
    const key = mbconvChoiceKey(choice, shape);
    if (key) table[l * P.length + k] = entryMs(lut, key);
  }));
  const offset = mbconvFixed(cfg).reduce((a, p) => a + entryMs(lut, p.key), 0);
  return { rows: layers.length, cols: P.length, primitives: P, table, offset };
}
