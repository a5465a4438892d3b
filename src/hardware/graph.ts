/**
 * Architecture graphs for the GNN latency predictor.
 *
 * Form: nodes are OPERATIONS (the line graph of the cell: each edge of the cell DAG becomes a node),
 * plus one `input` and one `output` node; graph edges are data flow (op a feeds op b when a's target
 * node is b's source node). The same node count holds for every architecture of a space (NB201: 8 =
 * input + 6 edge ops + output; a `none` op is still a node, its one-hot says it carries nothing), so
 * graphs batch as [B, nodes, features] + [B, nodes, nodes] and the adjacency does not depend on α.
 *
 * Node features (F = vocab.length + 5):
 *   [ op distribution over vocab | channels, spatial size, stride, FLOPs, LUT latency ]
 * - op distribution: one-hot for a discrete op; for a RELAXED node the probabilities p over its
 *   candidates (e.g. softmax(α)).
 * - channels / spatial / stride: of the op's first occurrence (input channels, input height, stride).
 * - FLOPs and latency: summed over every occurrence of the op in the network (an NB201 cell op runs in
 *   all 15 cells, at 3 shapes); for a relaxed node their expectations Σ_k p_k·value_k.
 * - latency is 0 for every node when no latency source is given (it must then be absent for all graphs
 *   that are compared); with a source, every op but `none` must have a value.
 * Normalisation divides each numeric column by a fixed scale (FeatureScales, derived from the network
 * config, never from one architecture). It is scale-only ON PURPOSE: the relaxed features are then
 * exactly linear in p, features = Σ_k p_k·basis_k (see space-graph.ts spaceRelaxedBasis), so a GPU
 * predictor can build them from α with a contraction and is differentiable in α.
 *
 * Adjacency: Â = D^-1/2 (A + I) D^-1/2 with d_i = Σ_j (A + I)_ij, A[i][j] = 1 when j feeds i
 * (row = receiving node); undirected (default) adds the reverse edges, making Â symmetric (Kipf & Welling).
 *
 * The minimal NB201 arch-string parse here is internal (src/nas/spaces/nb201.ts holds the full one).
 * NB201 graphs are here; DARTS and MBConv graphs in graph-darts.ts and graph-mbconv.ts; the layout the
 * three share (node r + 1 = α row r), their relaxed basis and map in space-graph.ts.
 */
import { ShapeError, WgnasError } from '../gpu/errors.js';
import type { OpShape } from './lut.js';

export interface OpInstance {
  shape: OpShape;
  /** how many times the op runs at this shape (e.g. cells per stage) */
  count: number;
}

export interface ArchNode {
  /** candidate ops (one for a discrete node); names from the vocabulary ('input', 'output', op names) */
  ops: readonly string[];
  /** probability of each candidate (a discrete node: [1]) */
  probs: ArrayLike<number>;
  /** where the op runs in the network */
  instances: readonly OpInstance[];
}

export interface ArchGraph {
  nodes: ArchNode[];
  /** data-flow edges [from, to] */
  edges: readonly (readonly [number, number])[];
}

export interface FeatureScales {
  channels: number;
  spatial: number;
  stride: number;
  flops: number;
  latencyMs: number;
}

export type LatencySource = (op: string, shape: OpShape) => number | undefined;
export type FlopsFn = (op: string, shape: OpShape) => number;

export interface EncodeOptions {
  vocab: readonly string[];
  scales: FeatureScales;
  flops: FlopsFn;
  latency?: LatencySource;
  /** message passing along data flow only (default false: undirected) */
  directed?: boolean;
}

export interface EncodedGraph {
  nodes: number;
  features: number;
  /** [nodes, features] */
  x: Float32Array;
  /** normalised adjacency [nodes, nodes] */
  adj: Float32Array;
}

export interface GraphBatch {
  batch: number;
  nodes: number;
  features: number;
  /** [batch, nodes, features] */
  x: Float32Array;
  /** [batch, nodes, nodes] */
  adj: Float32Array;
}

export const NUMERIC_FEATURES = ['channels', 'spatial', 'stride', 'flops', 'latency_ms'] as const;

/** Column names of the node features for a vocabulary. */
export function featureNames(vocab: readonly string[]): string[] {
  return [...vocab.map((v) => `op:${v}`), ...NUMERIC_FEATURES];
}

function opLatency(latency: LatencySource | undefined, op: string, inst: readonly OpInstance[]): number {
  if (!latency || op === 'none' || op === 'input' || op === 'output') return 0;
  let ms = 0;
  for (const { shape, count } of inst) {
    const v = latency(op, shape);
    if (v === undefined || !Number.isFinite(v)) throw new WgnasError(`graph features: no latency for ${op} at ${JSON.stringify(shape)} (the latency source must cover every op but none)`);
    ms += count * v;
  }
  return ms;
}

/** Feature rows of a node taken as each of its candidates alone: [K, F] (the relaxed basis of the node). */
export function nodeBasis(node: ArchNode, opts: EncodeOptions): Float32Array[] {
  const { vocab, scales } = opts;
  const first = node.instances[0]?.shape;
  return node.ops.map((op) => {
    const v = vocab.indexOf(op);
    if (v < 0) throw new WgnasError(`graph features: op "${op}" is not in the vocabulary (${vocab.join(', ')})`);
    const row = new Float32Array(vocab.length + NUMERIC_FEATURES.length);
    row[v] = 1;
    let flops = 0;
    for (const { shape, count } of node.instances) flops += count * opts.flops(op, shape);
    const o = vocab.length;
    row[o] = first ? first.c_in / scales.channels : 0;
    row[o + 1] = first ? first.h / scales.spatial : 0;
    row[o + 2] = first ? first.stride / scales.stride : 0;
    row[o + 3] = flops / scales.flops;
    row[o + 4] = opLatency(opts.latency, op, node.instances) / scales.latencyMs;
    return row;
  });
}

/** Â = D^-1/2 (A + I) D^-1/2 for `n` nodes and data-flow edges (see the module comment). */
export function normalizedAdjacency(n: number, edges: ArchGraph['edges'], directed = false): Float32Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = 1;
  for (const [from, to] of edges) {
    if (!(from >= 0 && from < n && to >= 0 && to < n)) throw new WgnasError(`graph: edge ${from}→${to} is outside 0..${n - 1}`);
    a[to * n + from] = 1;
    if (!directed) a[from * n + to] = 1;
  }
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i] += a[i * n + j];
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = a[i * n + j] / Math.sqrt(d[i] * d[j]);
  return out;
}

/**
 * Feature scales from a RELAXED graph (every node with all its candidates: the network config, no
 * architecture): the largest input channels and spatial size any op runs at (as nb201Scales; the input
 * and output nodes may exceed 1), stride 2, and the largest FLOPs and latency totals of any (node,
 * candidate); latency 1 without a source.
 */
export function relaxedGraphScales(graph: ArchGraph, flops: FlopsFn, latency?: LatencySource): FeatureScales {
  let [channels, spatial, maxFlops, maxMs] = [1, 1, 0, 0];
  for (const node of graph.nodes) {
    if (node.ops.length === 1 && (node.ops[0] === 'input' || node.ops[0] === 'output')) continue;
    for (const { shape } of node.instances) [channels, spatial] = [Math.max(channels, shape.c_in), Math.max(spatial, shape.h)];
    for (const op of node.ops) {
      maxFlops = Math.max(maxFlops, node.instances.reduce((a, { shape, count }) => a + count * flops(op, shape), 0));
      maxMs = Math.max(maxMs, opLatency(latency, op, node.instances));
    }
  }
  return { channels, spatial, stride: 2, flops: maxFlops > 0 ? maxFlops : 1, latencyMs: maxMs > 0 ? maxMs : 1 };
}

/** Throws unless `probs` is rows × cols finite numbers (`what` names the caller and the α layout). */
export function checkRelaxedProbs(what: string, probs: readonly ArrayLike<number>[], rows: number, cols: number): void {
  if (probs.length !== rows || probs.some((p) => p.length !== cols)) {
    throw new WgnasError(`${what}: want ${rows} rows × ${cols} op probabilities, got [${probs.map((p) => p.length).join(', ')}]`);
  }
  probs.forEach((p, r) => {
    for (let k = 0; k < cols; k++) if (!Number.isFinite(p[k])) throw new WgnasError(`${what}: probability [${r}, ${k}] is ${p[k]}`);
  });
}

/** Node features (relaxed nodes take expectations) and normalised adjacency of one graph. */
export function encodeGraph(graph: ArchGraph, opts: EncodeOptions): EncodedGraph {
  const n = graph.nodes.length;
  const f = opts.vocab.length + NUMERIC_FEATURES.length;
  const x = new Float32Array(n * f);
  graph.nodes.forEach((node, i) => {
    if (node.probs.length !== node.ops.length) throw new WgnasError(`graph node ${i}: ${node.ops.length} ops but ${node.probs.length} probabilities`);
    const basis = nodeBasis(node, opts);
    for (let k = 0; k < basis.length; k++) {
      const p = node.probs[k];
      if (!Number.isFinite(p)) throw new WgnasError(`graph node ${i}: probability of ${node.ops[k]} is ${p}`);
      for (let c = 0; c < f; c++) x[i * f + c] += p * basis[k][c];
    }
  });
  return { nodes: n, features: f, x, adj: normalizedAdjacency(n, graph.edges, opts.directed) };
}

/** Packs graphs of one node count and feature width as [B, n, f] + [B, n, n]. */
export function batchGraphs(graphs: readonly EncodedGraph[]): GraphBatch {
  if (graphs.length === 0) throw new ShapeError('batchGraphs: no graphs');
  const { nodes, features } = graphs[0];
  const x = new Float32Array(graphs.length * nodes * features);
  const adj = new Float32Array(graphs.length * nodes * nodes);
  graphs.forEach((g, b) => {
    if (g.nodes !== nodes || g.features !== features) {
      throw new ShapeError(`batchGraphs: graph ${b} is [${g.nodes} nodes, ${g.features} features], graph 0 is [${nodes}, ${features}]; batched graphs need one node count`);
    }
    x.set(g.x, b * nodes * features);
    adj.set(g.adj, b * nodes * nodes);
  });
  return { batch: graphs.length, nodes, features, x, adj };
}

// ---------------------------------------------------------------------------------------------------
// NAS-Bench-201 cells as graphs
// ---------------------------------------------------------------------------------------------------

export const NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;
export type Nb201Op = (typeof NB201_OPS)[number];
/** The 6 cell edges [from, to] in arch-string order: 0→1 | 0→2 1→2 | 0→3 1→3 2→3. */
export const NB201_EDGES = [[0, 1], [0, 2], [1, 2], [0, 3], [1, 3], [2, 3]] as const;
/** Node vocabulary of NB201 graphs (F = 7 + 5 = 12 features). */
export const NB201_VOCAB = ['input', 'output', ...NB201_OPS] as const;
/** input (node 0), the 6 edge ops in arch-string order (nodes 1..6), output (node 7) */
export const NB201_NODES = NB201_EDGES.length + 2;

/** The NB201 TinyNetwork around the cell: `stages` stages of `cellsPerStage` cells, channels doubling. */
export interface Nb201Net {
  channels: number;
  cellsPerStage: number;
  stages: number;
  inputSize: number;
  batch: number;
}

/** The benchmark's network (C=16, N=5, CIFAR 32×32), batch 1 as the latency tables measure it. */
export const NB201_NET: Nb201Net = { channels: 16, cellsPerStage: 5, stages: 3, inputSize: 32, batch: 1 };

/** Minimal parse of `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` into the 6 edge ops in arch-string order. */
export function parseNb201Cell(arch: string): Nb201Op[] {
  const bad = (why: string): never => {
    throw new WgnasError(`NB201 arch string "${arch}": ${why} (expected |op~0|+|op~0|op~1|+|op~0|op~1|op~2|)`);
  };
  const nodes = arch.trim().split('+');
  if (nodes.length !== 3) bad(`${nodes.length} nodes, want 3`);
  const ops: Nb201Op[] = [];
  nodes.forEach((part, n) => {
    const m = /^\|(.*)\|$/.exec(part);
    if (!m) bad(`node ${n + 1} is not enclosed in |...|`);
    const tokens = m![1].split('|');
    if (tokens.length !== n + 1) bad(`node ${n + 1} has ${tokens.length} inputs, want ${n + 1}`);
    tokens.forEach((tok, j) => {
      const [op, from] = tok.split('~');
      if (from !== String(j)) bad(`input ${j} of node ${n + 1} is "${tok}", want <op>~${j}`);
      if (!(NB201_OPS as readonly string[]).includes(op)) bad(`unknown op "${op}" (ops: ${NB201_OPS.join(', ')})`);
      ops.push(op as Nb201Op);
    });
  });
  return ops;
}

/** FLOPs (a multiply-add counts 2) of an NB201 op at an input shape; same padding. */
export function nb201OpFlops(op: string, s: OpShape): number {
  const ho = Math.ceil(s.h / s.stride);
  const wo = Math.ceil(s.w / s.stride);
  switch (op) {
    case 'input': case 'output': case 'none': case 'skip_connect': return 0;
    case 'nor_conv_1x1': return 2 * s.n * s.c_in * s.c_out * ho * wo;
    case 'nor_conv_3x3': return 2 * 9 * s.n * s.c_in * s.c_out * ho * wo;
    case 'avg_pool_3x3': return 9 * s.n * s.c_in * ho * wo;
    default: throw new WgnasError(`nb201OpFlops: unknown op "${op}"`);
  }
}

/** The shapes one cell op runs at: one per stage, `cellsPerStage` times each. */
export function nb201Instances(net: Nb201Net = NB201_NET): OpInstance[] {
  const out: OpInstance[] = [];
  for (let s = 0; s < net.stages; s++) {
    const c = net.channels << s;
    const h = net.inputSize / 2 ** s;
    if (!Number.isInteger(h) || h < 1) throw new WgnasError(`NB201 net: input size ${net.inputSize} does not halve ${net.stages - 1} times`);
    out.push({ shape: { n: net.batch, c_in: c, c_out: c, h, w: h, stride: 1 }, count: net.cellsPerStage });
  }
  return out;
}

/** Data flow between the 8 nodes: input → ops leaving cell node 0; op(k→j) → op(j→i); ops into node 3 → output. */
function nb201LineEdges(): [number, number][] {
  const edges: [number, number][] = [];
  NB201_EDGES.forEach(([from, to], e) => {
    if (from === 0) edges.push([0, e + 1]);
    NB201_EDGES.forEach(([from2], e2) => {
      if (from2 === to) edges.push([e + 1, e2 + 1]);
    });
    if (to === 3) edges.push([e + 1, NB201_NODES - 1]);
  });
  return edges;
}

function nb201GraphOf(edgeNodes: ArchNode[], net: Nb201Net): ArchGraph {
  const io = [{ shape: nb201Instances(net)[0].shape, count: 1 }];
  return {
    nodes: [{ ops: ['input'], probs: [1], instances: io }, ...edgeNodes, { ops: ['output'], probs: [1], instances: io }],
    edges: nb201LineEdges(),
  };
}

/** The graph of a discrete NB201 cell (arch string or its 6 ops). */
export function nb201Graph(arch: string | readonly Nb201Op[], net: Nb201Net = NB201_NET): ArchGraph {
  const ops = typeof arch === 'string' ? parseNb201Cell(arch) : arch;
  if (ops.length !== NB201_EDGES.length) throw new WgnasError(`nb201Graph: ${ops.length} ops, want ${NB201_EDGES.length}`);
  const inst = nb201Instances(net);
  return nb201GraphOf(ops.map((op) => ({ ops: [op], probs: [1], instances: inst })), net);
}

/** The graph of a relaxed cell: probs[e][k] = probability of NB201_OPS[k] on edge e (arch-string order). */
export function nb201RelaxedGraph(probs: readonly ArrayLike<number>[], net: Nb201Net = NB201_NET): ArchGraph {
  if (probs.length !== NB201_EDGES.length || probs.some((p) => p.length !== NB201_OPS.length)) {
    throw new WgnasError(`nb201RelaxedGraph: want ${NB201_EDGES.length} edges × ${NB201_OPS.length} op probabilities, got [${probs.map((p) => p.length).join(', ')}]`);
  }
  const inst = nb201Instances(net);
  return nb201GraphOf(probs.map((p) => ({ ops: NB201_OPS, probs: p, instances: inst })), net);
}

/** Feature scales of an NB201 network: largest channels, input size, stride 2, the largest op's FLOPs and latency. */
export function nb201Scales(net: Nb201Net = NB201_NET, latency?: LatencySource): FeatureScales {
  const inst = nb201Instances(net);
  let flops = 0;
  let latencyMs = 0;
  for (const op of NB201_OPS) {
    flops = Math.max(flops, inst.reduce((a, { shape, count }) => a + count * nb201OpFlops(op, shape), 0));
    latencyMs = Math.max(latencyMs, opLatency(latency, op, inst));
  }
  return { channels: net.channels << (net.stages - 1), spatial: net.inputSize, stride: 2, flops, latencyMs: latencyMs > 0 ? latencyMs : 1 };
}

/** Encoding options for NB201 graphs of one network (and, optionally, one latency source). */
export function nb201EncodeOptions(net: Nb201Net = NB201_NET, latency?: LatencySource): EncodeOptions {
  return { vocab: NB201_VOCAB, scales: nb201Scales(net, latency), flops: nb201OpFlops, latency };
}

/**
 * The relaxed basis of NB201 graphs, [8 nodes, 5 ops, F]: for probabilities P [8, 5] whose rows sum to 1,
 * x[i, :] = Σ_k P[i, k]·basis[i, k, :] equals encodeGraph(nb201RelaxedGraph(P[1..6])).x (rows of the
 * input/output nodes repeat their fixed features, so any distribution in P[0] and P[7] gives them).
 * The 6 edge nodes share one basis (every cell op runs at the same shapes), so on the GPU the edge rows
 * of a batch are ONE product: x_edges [B·6, F] = P_edges [B·6, 5] · basis[1] [5, F] (a linear, no bias).
 */
export function nb201RelaxedBasis(opts: EncodeOptions, net: Nb201Net = NB201_NET): Float32Array {
  const graph = nb201RelaxedGraph(NB201_EDGES.map(() => new Array<number>(NB201_OPS.length).fill(0)), net);
  const f = opts.vocab.length + NUMERIC_FEATURES.length;
  const k = NB201_OPS.length;
  const out = new Float32Array(NB201_NODES * k * f);
  graph.nodes.forEach((node, i) => {
    const rows = nodeBasis(node, opts);
    for (let j = 0; j < k; j++) out.set(rows.length === 1 ? rows[0] : rows[j], (i * k + j) * f);
  });
  return out;
}
