/**
 * Building a latency LUT for the NB201 network at one configuration, by profiling every part the network
 * can run, each in isolation (warm-up + median of repeats, GPU time = Σ dispatch times; measure.ts), and
 * the LUT sum of an architecture (the prediction the LUT makes for a whole child network).
 *
 * Keys (canonical opKey; n = batch; h, w = the part's INPUT size):
 *   cell ops, per stage shape (C·2^s channels, stride 1):  skip_connect, nor_conv_1x1, nor_conv_3x3,
 *     avg_pool_3x3  (`none` costs 0 and has no entry; skip_connect is the identity: 0 dispatches, 0 ms)
 *   cell nodes, per stage shape:  node_sum_2, node_sum_3 (the add_n of a node with 2 or 3 non-none
 *     inputs), node_zeros (a node whose inputs are all `none`: a zero fill); a node with 1 input is free
 *   fixed parts:  conv_bn|…|s=<stemStride>|k=3 (stem conv 3×3 + BN), resnet_basic_block|…|s=2 (the
 *     reductions, cin → 2·cin), bn_relu_gap_linear (head: BN → ReLU → global average pool → linear;
 *     cout = classes)
 * Every key is independent of N (cells per stage): N only multiplies the cell terms of the sum, so one
 * table serves any N at the same channels, input, stem stride and batch.
 *
 * LUT sum of a child network = fixed parts + N · Σ_stages [ Σ_edges lat(op) (expectedLatencyMs with
 * one-hot probabilities) + Σ_nodes lat(node part) ].
 *
 * Layering note: this module builds NB201 networks (src/nas), the one place src/hardware imports src/nas.
 */
import { WgnasError } from '../gpu/errors.js';
import { addN, zeroOp } from '../ops/channels.js';
import { relu } from '../ops/elementwise.js';
import { flatten } from '../ops/shape.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { ResNetBasicBlock } from '../nn/blocks.js';
import type { Module } from '../nn/module.js';
import { nb201Child, NB201_OPS } from '../nas/nb201-net.js';
import { convOut } from '../nas/spaces/common.js';
import { formatNb201, nb201Backbone, NB201_EDGES, nb201FromCode, NB201_NUM_ARCHS, NB201_PRIMITIVES, type Nb201Arch } from '../nas/spaces/nb201.js';
import { seededRandom } from '../tensor/host-random.js';
import { adapterIdentity, createLut, expectedLatencyMs, opKey, saveLut, setEntry, type LatencyLut, type OpShape, type RelaxedEdge } from './lut.js';
import { inEvalMode, measureNetworkLatencies, randomInput, timeInterleaved, type ForwardTiming, type NetworkTimingOptions, type TimingOptions } from './measure.js';
import { predictorMetrics } from './metrics.js';

/** The network a LUT is built for (every space); H, W are the network's INPUT size (before the stem). */
export interface LutNetConfig {
  C: number;
  /** cells per stage (nb201; darts: 3N + 2 cells) or searchable layers per stage minus one (mbconv) */
  N: number;
  inChannels: number;
  H: number;
  W: number;
  classes: number;
  stemStride: number;
  batch: number;
}

export interface Nb201LutConfig extends LutNetConfig {
  space: 'nb201';
}

export type LutPartKind = 'cell_op' | 'node' | 'fixed';

/** One entry of the plan: what is timed, at which input shape. */
export interface LutPart {
  key: string;
  op: string;
  shape: OpShape;
  kind: LutPartKind;
  /** input tensors [N, C, H, W] the part takes (node_sum_k takes k) */
  inputs: number;
}

export const NODE_PARTS = ['node_zeros', 'node_sum_2', 'node_sum_3'] as const;
/** Cell ops that run kernels or may (skip_connect: none, but it gets a 0 ms entry so every non-none op has one). */
export const CELL_OPS = NB201_PRIMITIVES.filter((p) => p !== 'none');

export function checkLutConfig(cfg: Nb201LutConfig): void {
  if (cfg.space !== 'nb201') throw new WgnasError(`LUT build: space "${cfg.space}" is not supported (only nb201)`);
  for (const k of ['C', 'N', 'inChannels', 'H', 'W', 'classes', 'stemStride', 'batch'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new WgnasError(`LUT build: ${k} must be a positive integer, got ${cfg[k]} in ${JSON.stringify(cfg)}`);
  }
}

/** The input shape of the cells of each of the 3 stages (from nb201Backbone, after the stem's stride). */
export function nb201StageShapes(cfg: Nb201LutConfig): OpShape[] {
  checkLutConfig(cfg);
  const h = convOut(cfg.H, 3, cfg.stemStride, 1);
  const w = convOut(cfg.W, 3, cfg.stemStride, 1);
  const { stages } = nb201Backbone({ C: cfg.C, N: cfg.N, H: h, W: w, inChannels: cfg.inChannels, classes: cfg.classes });
  return stages.map((s) => ({ n: cfg.batch, c_in: s.C, c_out: s.C, h: s.H, w: s.W, stride: 1 }));
}

function part(op: string, shape: OpShape, kind: LutPartKind, inputs = 1): LutPart {
  return { key: opKey(op, shape), op, shape, kind, inputs };
}

/** The fixed (architecture-independent) parts: stem, the two reductions, the head. */
export function nb201FixedParts(cfg: Nb201LutConfig): LutPart[] {
  const st = nb201StageShapes(cfg);
  const out = [part('conv_bn', { n: cfg.batch, c_in: cfg.inChannels, c_out: cfg.C, h: cfg.H, w: cfg.W, stride: cfg.stemStride, kernel: 3 }, 'fixed')];
  for (let s = 1; s < st.length; s++) out.push(part('resnet_basic_block', { ...st[s - 1], c_out: st[s].c_in, stride: 2 }, 'fixed'));
  const last = st[st.length - 1];
  out.push(part('bn_relu_gap_linear', { ...last, c_out: cfg.classes }, 'fixed'));
  return out;
}

/** Every key the NB201 network at this config can use: cell ops and node parts per stage, fixed parts. */
export function nb201LutParts(cfg: Nb201LutConfig): LutPart[] {
  const cells = nb201StageShapes(cfg).flatMap((shape) => [
    ...CELL_OPS.map((op) => part(op, shape, 'cell_op')),
    part('node_zeros', shape, 'node'),
    part('node_sum_2', shape, 'node', 2),
    part('node_sum_3', shape, 'node', 3),
  ]);
  return [...nb201FixedParts(cfg), ...cells];
}

/** The node part each cell node needs: by how many of its incoming edges are not `none`. */
export function nb201NodeParts(arch: Nb201Arch): (typeof NODE_PARTS[number] | null)[] {
  return [1, 2, 3].map((to) => {
    const live = NB201_EDGES.filter((e, i) => e.to === to && arch[i] !== 'none').length;
    return live === 0 ? 'node_zeros' : live === 1 ? null : live === 2 ? 'node_sum_2' : 'node_sum_3';
  });
}

/**
 * The keys a child network with this cell runs, each with how often it runs. `none` has no key (it runs
 * nothing); skip_connect keeps its (0 ms) key.
 */
export function nb201NetworkTerms(cfg: Nb201LutConfig, arch: Nb201Arch): Map<string, number> {
  const terms = new Map<string, number>();
  const add = (key: string, n: number) => terms.set(key, (terms.get(key) ?? 0) + n);
  for (const p of nb201FixedParts(cfg)) add(p.key, 1);
  for (const shape of nb201StageShapes(cfg)) {
    for (const op of arch) if (op !== 'none') add(opKey(op, shape), cfg.N);
    for (const np of nb201NodeParts(arch)) if (np) add(opKey(np, shape), cfg.N);
  }
  return terms;
}

/** The 6 edges of one cell at a stage shape as one-hot relaxed edges (for expectedLatencyMs). */
export function oneHotEdges(arch: Nb201Arch, shape: OpShape): RelaxedEdge[] {
  return arch.map((op) => ({ ops: NB201_PRIMITIVES, probs: NB201_PRIMITIVES.map((p) => (p === op ? 1 : 0)), shape }));
}

function entryMs(lut: LatencyLut, key: string): number {
  const e = lut.entries[key];
  if (!e) throw new WgnasError(`LUT has no entry ${key} (adapter ${lut.adapter.description || lut.adapter.device}); build the table for this network config with \`wgnas lut\``);
  return e.medianMs;
}

/** The LUT's prediction for the whole child network (ms); see the module comment. */
export function lutNetworkMs(lut: LatencyLut, cfg: Nb201LutConfig, arch: Nb201Arch): number {
  let total = nb201FixedParts(cfg).reduce((a, p) => a + entryMs(lut, p.key), 0);
  for (const shape of nb201StageShapes(cfg)) {
    let cell = expectedLatencyMs(lut, oneHotEdges(arch, shape));
    for (const np of nb201NodeParts(arch)) if (np) cell += entryMs(lut, opKey(np, shape));
    total += cfg.N * cell;
  }
  return total;
}

/** What was measured for one key (the LUT keeps the stats; the rest is for reports and checks). */
export interface BuiltEntry<P = LutPart> {
  part: P;
  timing: ForwardTiming;
}

/** Options of a LUT build, of NB201 parts (buildLut) or of a space's parts (buildSpaceLut: P = SpaceLutPart). */
export interface BuildOptions<P = LutPart> extends TimingOptions {
  /** write the table here (atomically) when done */
  out?: string;
  /** called for each key once all are measured */
  onEntry?: (e: BuiltEntry<P>, index: number, total: number) => void;
  /** called after each interleaved round of profiled repeats */
  onRound?: (round: number, repeats: number) => void;
  seed?: number;
}

/** The forward a part runs, with the modules it needs (built from the NB201 code itself). */
function partRunner(dev: Device, p: LutPart, fixedNet: ReturnType<typeof nb201Child>, seed: number): { model?: Module; run: (xs: Tensor[]) => void } {
  switch (p.op) {
    case 'conv_bn':
      return { model: fixedNet, run: ([x]) => void fixedNet.stemBn.forward(fixedNet.stem.forward(x)) };
    case 'resnet_basic_block': {
      const block = fixedNet.stages.filter((m): m is ResNetBasicBlock => m instanceof ResNetBasicBlock).find((b) => b.cfg.cin === p.shape.c_in);
      if (!block) throw new WgnasError(`LUT build: no reduction block with cin ${p.shape.c_in} in the network`);
      return { model: block, run: ([x]) => void block.forward(x) };
    }
    case 'bn_relu_gap_linear':
      return { model: fixedNet, run: ([x]) => void fixedNet.classifier.forward(flatten(fixedNet.gap.forward(relu(fixedNet.lastBn.forward(x))))) };
    case 'node_zeros':
      return { run: ([x]) => void zeroOp(x, 1) };
    case 'node_sum_2':
    case 'node_sum_3':
      return { run: (xs) => void addN(xs) };
    default: {
      const op = CELL_OPS.find((o) => o === p.op);
      if (!op) throw new WgnasError(`LUT build: no runner for op "${p.op}"`);
      const m = NB201_OPS[op](dev, p.shape.c_in, true, seed);
      return { model: m, run: ([x]) => void m.forward(x) };
    }
  }
}

/**
 * Profiles every part of the NB201 network at `cfg` (nb201LutParts) in isolation, all parts' repeats
 * interleaved (timeInterleaved), and returns the LUT, keyed by opKey, for the adapter in use (its identity
 * and time source recorded in the table). An entry's medianMs / p10Ms / p90Ms are the part's GPU time
 * (per-dispatch quantiles summed; ForwardTiming).
 */
export async function buildLut(dev: Device, cfg: Nb201LutConfig, opts: BuildOptions = {}): Promise<LatencyLut> {
  checkLutConfig(cfg);
  const seed = opts.seed ?? 1;
  const lut = createLut(adapterIdentity(dev.adapter), dev.profiler.source);
  const parts = nb201LutParts(cfg);
  // the fixed parts are timed on the modules of a real child network (cells all `none`: no cell weights)
  const fixedNet = nb201Child(dev, { C: cfg.C, N: cfg.N, inChannels: cfg.inChannels, classes: cfg.classes, stemStride: cfg.stemStride, seed }, NB201_EDGES.map(() => 'none'));
  const cellOps: Module[] = [];
  const inputs: Tensor[] = [];
  try {
    const runs = parts.map((p, i) => {
      const { model, run } = partRunner(dev, p, fixedNet, seed + i);
      if (model && model !== fixedNet && !(model instanceof ResNetBasicBlock)) cellOps.push(model);
      const xs = Array.from({ length: p.inputs }, (_, k) => randomInput(dev, [p.shape.n, p.shape.c_in, p.shape.h, p.shape.w], seed + 17 * i + k));
      inputs.push(...xs);
      return () => run(xs);
    });
    const timings = await inEvalMode([fixedNet, ...cellOps], () => timeInterleaved(dev, runs, opts));
    parts.forEach((p, i) => {
      const t = timings[i];
      setEntry(lut, p.op, p.shape, { medianMs: t.medianMs, p10Ms: t.p10Ms, p90Ms: t.p90Ms, count: t.count });
      opts.onEntry?.({ part: p, timing: t }, i, parts.length);
    });
  } finally {
    for (const x of inputs) x.dispose();
    for (const m of cellOps) m.dispose();
    fixedNet.dispose();
  }
  if (opts.out) saveLut(opts.out, lut);
  return lut;
}

// ---- whole networks of sampled architectures against the LUT sum ----

/** k distinct NB201 cells drawn uniformly from the 15,625 (seeded). */
export function sampleNb201Archs(k: number, seed: number): Nb201Arch[] {
  if (!Number.isInteger(k) || k < 1 || k > NB201_NUM_ARCHS) throw new WgnasError(`sampleNb201Archs: k must be an integer in 1..${NB201_NUM_ARCHS}, got ${k}`);
  const rand = seededRandom(seed);
  const seen = new Set<number>();
  while (seen.size < k) seen.add(Math.floor(rand() * NB201_NUM_ARCHS));
  return [...seen].map(nb201FromCode);
}

/** One measured architecture: the CSV row (arch_str + latency columns; the predictor's table format). */
export interface LatencyRow {
  arch_str: string;
  /** GPU time of the whole forward: Σ over its dispatches of each one's median over the repeats (ms) */
  measured_ms: number;
  /** Σ over its dispatches of each one's fastest repeat (ms): a lower bound, least disturbed by other load */
  measured_min_ms: number;
  /** LUT sum (ms); NaN when no LUT was given */
  lut_ms: number;
  /** host wall time of the forward, median (ms) */
  wall_ms: number;
  dispatches: number;
}

export const LATENCY_CSV_COLUMNS = ['arch_str', 'measured_ms', 'measured_min_ms', 'lut_ms', 'wall_ms', 'dispatches'] as const;

/**
 * Builds the child network of each cell, measures them all with their repeats interleaved
 * (measureNetworkLatencies: every network is built first, so they are alive together), and adds the LUT
 * sum when a LUT is given (a missing key fails before any timing).
 */
export async function measureNb201Archs(dev: Device, cfg: Nb201LutConfig, archs: readonly Nb201Arch[],
  opts: NetworkTimingOptions & { lut?: LatencyLut; seed?: number; onRound?: (round: number, repeats: number) => void } = {}): Promise<LatencyRow[]> {
  checkLutConfig(cfg);
  const lutMs = archs.map((arch) => (opts.lut ? lutNetworkMs(opts.lut, cfg, arch) : NaN));
  const nets = archs.map((arch) => nb201Child(dev, { C: cfg.C, N: cfg.N, inChannels: cfg.inChannels, classes: cfg.classes, stemStride: cfg.stemStride, seed: opts.seed ?? 1 }, arch));
  try {
    const ms = await measureNetworkLatencies(dev, nets, [cfg.batch, cfg.inChannels, cfg.H, cfg.W], opts);
    return ms.map((m, i) => ({
      arch_str: formatNb201(archs[i]), measured_ms: m.medianMs, measured_min_ms: m.minMs, lut_ms: lutMs[i], wall_ms: m.wallMedianMs, dispatches: m.dispatches,
    }));
  } finally {
    for (const n of nets) n.dispose();
  }
}

/** The rows as CSV (header LATENCY_CSV_COLUMNS; arch strings hold no comma or quote, so no quoting). */
export function latencyCsv(rows: readonly LatencyRow[]): string {
  const num = (v: number) => (Number.isNaN(v) ? '' : String(Number(v.toPrecision(6))));
  const lines = rows.map((r) => [r.arch_str, num(r.measured_ms), num(r.measured_min_ms), num(r.lut_ms), num(r.wall_ms), String(r.dispatches)].join(','));
  return `${[LATENCY_CSV_COLUMNS.join(','), ...lines].join('\n')}\n`;
}

export interface LutErrorReport {
  n: number;
  /** mean |lut − measured| / measured, as a fraction */
  mape: number;
  spearman: number;
  kendall: number;
  within10: number;
  /** mean of lut / measured */
  meanRatio: number;
}

/** How well the LUT sum predicts the measured latency over the rows (every row needs lut_ms). */
export function lutErrorReport(rows: readonly LatencyRow[]): LutErrorReport {
  if (rows.length < 2) throw new WgnasError(`lutErrorReport: need at least 2 measured architectures, got ${rows.length}`);
  const lut = rows.map((r) => r.lut_ms);
  const meas = rows.map((r) => r.measured_ms);
  if (lut.some((v) => Number.isNaN(v))) throw new WgnasError('lutErrorReport: some rows have no LUT sum');
  const m = predictorMetrics(lut, meas);
  return { n: m.n, mape: m.mape, spearman: m.spearman, kendall: m.kendall, within10: m.within10, meanRatio: lut.reduce((a, v, i) => a + v / meas[i], 0) / lut.length };
}
