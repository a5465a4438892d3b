/**
 * The architecture graphs of each search space under one network config: what the GNN latency
 * predictor (predictor.ts) needs to encode discrete architectures and relaxed ones (softmax(α)).
 *
 * One layout for every space (graph.ts conventions): nodes = rows + 2, where rows × cols is the shape of
 * the space's α (the SpaceBinding's, src/nas/space-binding.ts): node 0 = input, node r + 1 = the edge or
 * layer of α row r (its candidates = the α columns, in order), node rows + 1 = output.
 *   nb201:  α [6, 5],  8 nodes  (graph.ts; the NAS-Bench-201 network NB201_NET, no network config)
 *   darts:  α [28, 8], 30 nodes (graph-darts.ts; the search's DARTS network at `net`)
 *   mbconv: α [L, 7],  L + 2 nodes (graph-mbconv.ts; the search's MBConv chain at `net`)
 *
 * The relaxed map is the one linear map from vec(P) (P = the α-shaped probabilities, row-major) to the
 * node features: x [n·F] = weight [n·F, rows·cols] · vec(P) + bias, with node r + 1 reading row r of P
 * through its basis (graph.ts nodeBasis) and the input/output rows constant (bias). A one-hot P gives the
 * discrete encoding exactly.
 */
import { WgnasError } from '../gpu/errors.js';
import { dartsOpIsFree, mbconvChoiceKey } from './space-lut-plan.js';
import { dartsSpaceGraphs } from './graph-darts.js';
import { mbconvSpaceGraphs } from './graph-mbconv.js';
import {
  NB201_EDGES, NB201_NODES, NB201_OPS, nb201EncodeOptions, nb201Graph, nb201RelaxedGraph, nodeBasis, NUMERIC_FEATURES,
  type ArchGraph, type EncodeOptions, type LatencySource,
} from './graph.js';
import type { LutNetConfig } from './lut-build.js';
import { lutLatencyMs, type LatencyLut } from './lut.js';
import type { MbconvChoice } from '../nas/spaces/mbconv.js';
import type { DartsPrimitive } from '../nas/spaces/darts.js';

export const PREDICTOR_SPACES = ['nb201', 'darts', 'mbconv'] as const;
export type PredictorSpace = (typeof PREDICTOR_SPACES)[number];

/** The network a DARTS or MBConv table was measured on (the `wgnas lut` / `wgnas latency` flags). */
export type SpaceNet = LutNetConfig;

/** A space's graphs under one network config (layout in the module comment). */
export interface SpaceGraphs {
  readonly space: PredictorSpace;
  /** nodes of every graph: rows + 2 */
  readonly nodes: number;
  /** α shape: one row per edge or layer with its own α, one column per candidate */
  readonly rows: number;
  readonly cols: number;
  /** the candidates in α-column order */
  readonly primitives: readonly string[];
  /** data-flow edges [from, to], the same for every architecture */
  readonly edges: ArchGraph['edges'];
  readonly enc: EncodeOptions;
  /** the graph of a discrete architecture string (errors name what is wrong with it) */
  graph(arch: string): ArchGraph;
  /** the graph of probabilities probs[r][k] of candidate k on α row r */
  relaxedGraph(probs: readonly ArrayLike<number>[]): ArchGraph;
}

/** NB201 cells on NB201_NET (unchanged since the predictor knew only them). */
export function nb201SpaceGraphs(latency?: LatencySource): SpaceGraphs {
  return {
    space: 'nb201', nodes: NB201_NODES, rows: NB201_EDGES.length, cols: NB201_OPS.length, primitives: NB201_OPS,
    edges: nb201Graph(NB201_EDGES.map(() => 'none' as const)).edges,
    enc: nb201EncodeOptions(undefined, latency),
    graph: (arch) => nb201Graph(arch),
    relaxedGraph: (probs) => nb201RelaxedGraph(probs),
  };
}

/** The graphs of a space: nb201 takes no network config (NB201_NET); darts and mbconv need one. */
export function spaceGraphs(space: PredictorSpace, net?: SpaceNet, latency?: LatencySource): SpaceGraphs {
  if (space === 'nb201') {
    if (net) throw new WgnasError('space graphs: nb201 graphs model the NAS-Bench-201 network (NB201_NET); a network config applies to darts and mbconv');
    return nb201SpaceGraphs(latency);
  }
  if (space !== 'darts' && space !== 'mbconv') throw new WgnasError(`space graphs: unknown space "${String(space)}" (supported: ${PREDICTOR_SPACES.join(', ')})`);
  if (!net) throw new WgnasError(`space graphs: ${space} graphs need the network config the table was measured on (C, N, input, stem stride, batch)`);
  return space === 'darts' ? dartsSpaceGraphs(net, latency) : mbconvSpaceGraphs(net, latency);
}

/**
 * The relaxed basis [n, K, F]: row (i, k) = node i's features when it is candidate k alone; the input and
 * output nodes repeat their one row K times. x[i] = Σ_k P[i, k]·basis[i, k] for P [n, K] with rows summing
 * to 1 equals encodeGraph(g.relaxedGraph(P[1..rows])).x.
 */
export function spaceRelaxedBasis(g: SpaceGraphs, enc: EncodeOptions = g.enc): Float32Array {
  const graph = g.relaxedGraph(Array.from({ length: g.rows }, () => new Array<number>(g.cols).fill(0)));
  const F = enc.vocab.length + NUMERIC_FEATURES.length;
  const K = g.cols;
  if (graph.nodes.length !== g.nodes) throw new WgnasError(`${g.space} graphs: the relaxed graph has ${graph.nodes.length} nodes, want ${g.nodes}`);
  const out = new Float32Array(g.nodes * K * F);
  graph.nodes.forEach((node, i) => {
    const fixed = i === 0 || i === g.nodes - 1;
    if (fixed ? node.ops.length !== 1 : node.ops.join() !== g.primitives.join()) {
      throw new WgnasError(`${g.space} graphs: relaxed node ${i} has ops [${node.ops.join(', ')}], want ${fixed ? 'one' : `[${g.primitives.join(', ')}]`}`);
    }
    const rows = nodeBasis(node, enc);
    for (let k = 0; k < K; k++) out.set(fixed ? rows[0] : rows[k], (i * K + k) * F);
  });
  return out;
}

export interface RelaxedMap {
  /** [rows, cols] row-major */
  weight: Float32Array;
  bias: Float32Array;
  rows: number;
  cols: number;
}

/** The relaxed map as a linear layer (module comment): weight [n·F, rows·cols], bias [n·F]. */
export function spaceRelaxedMap(g: SpaceGraphs, enc: EncodeOptions = g.enc): RelaxedMap {
  const F = enc.vocab.length + NUMERIC_FEATURES.length;
  const K = g.cols;
  const basis = spaceRelaxedBasis(g, enc); // [n, K, F]
  const rows = g.nodes * F;
  const cols = g.rows * K;
  const weight = new Float32Array(rows * cols);
  const bias = new Float32Array(rows);
  for (let i = 0; i < g.nodes; i++) {
    for (let c = 0; c < F; c++) {
      if (i === 0 || i === g.nodes - 1) bias[i * F + c] = basis[i * K * F + c];
      else for (let k = 0; k < K; k++) weight[(i * F + c) * cols + (i - 1) * K + k] = basis[(i * K + k) * F + c];
    }
  }
  return { weight, bias, rows, cols };
}

/**
 * A latency source for a space's graphs from a LUT of its network (`wgnas lut --space …`): ops that run
 * nothing are 0 ms (DARTS 'none' and the stride-1 skip_connect, MBConv 'skip'); MBConv choices read their
 * mbconv_e<e>|…|k=<k> keys. A missing key gives undefined (graph.ts then names it).
 */
export function lutLatencySource(lut: LatencyLut, space: PredictorSpace): LatencySource {
  if (space === 'nb201') return (op, shape) => lutLatencyMs(lut, op, shape);
  if (space === 'darts') return (op, shape) => (dartsOpIsFree(op as DartsPrimitive, shape.stride) ? 0 : lutLatencyMs(lut, op, shape));
  return (op, shape) => {
    const key = mbconvChoiceKey(op as MbconvChoice, shape);
    return key === null ? 0 : lut.entries[key]?.medianMs;
  };
}
